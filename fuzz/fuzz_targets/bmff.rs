#![no_main]
//! Any bytes through the ISO BMFF readers (init, fragments, sidx, pssh, emsg, Smooth) and
//! the payload readers (SCTE-35, ID3): a value or a typed error, never a panic or hang.
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use playhead::media::{InitInfo, parse_init};

/// The test asset's 144p init segment: fragments are read against a real track.
static INIT: LazyLock<Option<InitInfo>> = LazyLock::new(|| {
    parse_init(include_bytes!("../../conformance/media/v/144p/init.mp4")).ok()
});

fuzz_target!(|data: &[u8]| playhead::media::exercise::boxes(data, INIT.as_ref()));
