//! HLS (RFC 8216 and its 2nd-edition draft, with Low-Latency HLS): a line scanner of our own
//! for multivariant and media playlists.
//!
//! Why not `m3u8-rs` on the hot path: compiled to WebAssembly it alone is ~52 KB gzip of a
//! 120 KB engine budget, it reads durations as `f32`, and it does not model the LL-HLS,
//! steering and variable tags. It stays as the differential-test oracle
//! (`conformance/tests/hls_oracle.rs`).

mod attrs;
mod media;
mod multivariant;
pub(crate) mod refresh;
mod tags;

use crate::diag::Diag;
use crate::error::ParseError;
use crate::model::{ManifestFormat, Presentation};
use crate::options::ParseOptions;
use crate::{Parsed, text};

pub(crate) use attrs::{AttrList, Vars};

/// Parses an HLS playlist (multivariant or media) into the model.
pub(crate) fn parse(text: &str, base: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let format = text::sniff(text).unwrap_or(ManifestFormat::HlsMedia);
    let mut diag = Diag::new(format, opts);
    diag.check_size(text.len())?;
    let mut vars = Vars::for_playlist(opts);
    let presentation: Presentation = match format {
        ManifestFormat::HlsMultivariant => multivariant::parse(text, base, &mut diag, &mut vars)?,
        _ => media::parse_presentation(text, base, &mut diag, &mut vars)?,
    };
    Ok(Parsed {
        presentation,
        warnings: diag.warnings,
    })
}

/// Lines of a playlist with 1-based numbers, `\r` and surrounding blanks removed. Lines end
/// with `\n` or `\r\n`; a playlist with lone `\r` endings (and no `\n`) is split on `\r`.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    let sep = if !text.contains('\n') && text.contains('\r') {
        b'\r'
    } else {
        b'\n'
    };
    Lines {
        rest: Some(text),
        sep,
        n: 0,
    }
}

/// The pieces of a text between separators, as `str::split` gives them, numbered from 1
/// and trimmed. A byte loop: playlist lines are short, and the searcher behind `split`
/// cost more to set up than the scan itself (a third of a long playlist's parse).
struct Lines<'t> {
    rest: Option<&'t str>,
    sep: u8,
    n: u32,
}

impl<'t> Iterator for Lines<'t> {
    type Item = (u32, &'t str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        // Splitting at an ASCII byte keeps both sides valid UTF-8.
        let line = match rest.bytes().position(|b| b == self.sep) {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i).unwrap_or_default()
            }
            None => {
                self.rest = None;
                rest
            }
        };
        self.n = self.n.saturating_add(1);
        Some((self.n, line.trim_ascii()))
    }
}

/// Checks the `#EXTM3U` header (RFC 8216 §4.3.1.1).
pub(crate) fn check_header(text: &str, diag: &mut Diag) -> Result<(), ParseError> {
    let first = text.trim_start_matches('\u{feff}').trim_start();
    if !first.starts_with("#EXTM3U") {
        diag.shall(
            1,
            "RFC 8216 §4.3.1.1: the first line MUST be #EXTM3U",
            "missing #EXTM3U header",
        )?;
    }
    Ok(())
}

/// Splits `#EXT-X-NAME:value` into (`EXT-X-NAME`, `value`).
pub(crate) fn split_tag(line: &str) -> (&str, &str) {
    let body = &line[1..];
    match body.split_once(':') {
        Some((n, v)) => (n, v),
        None => (body, ""),
    }
}

/// A tag's name and its value with variables substituted: they apply to every attribute
/// value (RFC 8216bis §4.3), but not to `EXT-X-DEFINE` itself.
pub(crate) fn tag_value<'l>(
    line: &'l str,
    vars: &mut Vars,
    n: u32,
    diag: &mut Diag,
) -> Result<(&'l str, std::borrow::Cow<'l, str>), ParseError> {
    let (tag, raw) = split_tag(line);
    if tag == "EXT-X-DEFINE" {
        return Ok((tag, std::borrow::Cow::Borrowed(raw)));
    }
    Ok((tag, vars.substitute(raw, n, diag)?))
}

/// Decodes `0x`-prefixed hex (DATERANGE SCTE35 attributes, key IVs).
pub(crate) fn hex(text: &str) -> Option<Vec<u8>> {
    let t = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    text::hex_decode(t)
}

/// Reads a decimal-integer attribute or tag value.
pub(crate) fn int(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn lines_are_what_split_gives() {
        for text in [
            "",
            "a",
            "a\n",
            "\n\n",
            "#EXTM3U\r\n#EXTINF:2,\r\n  seg.ts  \r\n",
            "a\rb\rc",
            "a\rb\nc\r\n",
            "é\nü\u{2028}x\n",
        ] {
            let sep = if !text.contains('\n') && text.contains('\r') {
                '\r'
            } else {
                '\n'
            };
            let want: Vec<(u32, &str)> = text
                .split(sep)
                .enumerate()
                .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l.trim_ascii()))
                .collect();
            assert_eq!(lines(text).collect::<Vec<_>>(), want, "{text:?}");
        }
    }
}
