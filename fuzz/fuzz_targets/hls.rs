#![no_main]
//! Any bytes through the hls reader: a model or a typed error, never a panic or hang.
use libfuzzer_sys::fuzz_target;
use playhead::{ManifestFormat, ParseOptions, Strictness};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = playhead::parse(data, &ParseOptions::default());
        return;
    };
    for strictness in [Strictness::Permissive, Strictness::Strict] {
        let opts = ParseOptions { strictness, url: Some("https://fuzz.example/a/b?x=1".into()), ..Default::default() };
        if let Ok(parsed) = playhead::parse_text(text, ManifestFormat::HlsMedia, &opts) {
            // Materialize the first and last segment of every track.
            for t in parsed.presentation.tracks() {
                let n = t.segments.len();
                let _ = t.segments.segment(0);
                let _ = t.segments.segment(n.saturating_sub(1));
            }
        }
    }
});
