//! What every parser fuzz target does with its input.

use playhead::{ManifestFormat, ParseOptions, Strictness};

/// Parses `data` as `format` at both ends of the strictness range and materializes the
/// first and last segment of every track: a model or a typed error, never a panic or hang.
pub fn parse_as(format: ManifestFormat, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = playhead::parse(data, &ParseOptions::default());
        return;
    };
    for strictness in [Strictness::Permissive, Strictness::Strict] {
        let opts = ParseOptions { strictness, url: Some("https://fuzz.example/a/b?x=1".into()), ..Default::default() };
        if let Ok(parsed) = playhead::parse_text(text, format, &opts) {
            for t in parsed.presentation.tracks() {
                let n = t.segments.len();
                let _ = t.segments.segment(0);
                let _ = t.segments.segment(n.saturating_sub(1));
            }
        }
    }
}
