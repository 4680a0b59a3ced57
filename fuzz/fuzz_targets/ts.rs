#![no_main]
//! Any bytes through the MPEG-TS demuxer and elementary-stream reader (H.264, H.265, AAC,
//! AC-3, ID3) and the remux to fMP4: samples or a typed error, never a panic or hang.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| playhead::media::exercise::ts(data));
