#![no_main]
//! Any bytes through the hls reader: a model or a typed error, never a panic or hang.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| playhead_fuzz::parse_as(playhead::ManifestFormat::HlsMedia, data));
