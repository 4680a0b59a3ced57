//! Bytes to text: UTF-8 (with or without BOM) and UTF-16 with a BOM (Smooth manifests
//! served by IIS), and sniffing which format a manifest is.

use std::borrow::Cow;

use crate::error::ParseError;
use crate::model::ManifestFormat;

/// Decodes manifest bytes to text. UTF-16 needs a BOM; invalid UTF-8 is an error.
pub(crate) fn decode(
    bytes: &[u8],
    format_hint: Option<ManifestFormat>,
) -> Result<Cow<'_, str>, ParseError> {
    let enc_err = |detail: String| match format_hint {
        Some(format) => ParseError::Encoding { format, detail },
        None => ParseError::UnknownFormat { detail },
    };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|e| enc_err(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 3)));
    }
    let utf16 = |rest: &[u8], le: bool| -> Result<Cow<'_, str>, ParseError> {
        if rest.len() % 2 != 0 {
            return Err(enc_err("UTF-16 text with an odd number of bytes".into()));
        }
        let units = rest.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(Cow::Owned)
            .map_err(|e| enc_err(format!("invalid UTF-16: {e}")))
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| enc_err(format!("invalid UTF-8 at byte {}", e.valid_up_to())))
}

/// Decodes hex digits (an even number of them, no prefix or sign).
pub(crate) fn hex_decode(digits: &str) -> Option<Vec<u8>> {
    if digits.len() % 2 != 0 {
        return None;
    }
    let nibble = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    digits
        .as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// Sniffs the format of bytes that do not decode, from what can be read of them.
pub(crate) fn sniff_lossy(bytes: &[u8]) -> Option<ManifestFormat> {
    let le = bytes.starts_with(&[0xFF, 0xFE]);
    if le || bytes.starts_with(&[0xFE, 0xFF]) {
        let units = bytes[2..].chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        let text: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect();
        return sniff(&text);
    }
    sniff(&String::from_utf8_lossy(bytes))
}

/// Sniffs the format of decoded manifest text.
pub(crate) fn sniff(text: &str) -> Option<ManifestFormat> {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.starts_with('#') {
        // HLS, even when comments precede the #EXTM3U header (the parser then reports it).
        let mut cut = t.len().min(4096);
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        let head = &t[..cut];
        if t.starts_with("#EXTM3U")
            || head.lines().any(|l| {
                l.starts_with("#EXTM3U") || l.starts_with("#EXTINF") || l.starts_with("#EXT-X-")
            })
        {
            return Some(hls_kind(t));
        }
    }
    if t.starts_with('<') {
        return xml_root(t).and_then(|root| match root {
            "MPD" => Some(ManifestFormat::Dash),
            "SmoothStreamingMedia" => Some(ManifestFormat::Smooth),
            _ => None,
        });
    }
    None
}

/// Multivariant if it has variant or rendition tags; media otherwise.
fn hls_kind(t: &str) -> ManifestFormat {
    for line in t.lines() {
        let l = line.trim_start();
        if l.starts_with("#EXT-X-STREAM-INF")
            || l.starts_with("#EXT-X-I-FRAME-STREAM-INF")
            || l.starts_with("#EXT-X-MEDIA:")
            || l.starts_with("#EXT-X-SESSION-")
        {
            return ManifestFormat::HlsMultivariant;
        }
        if l.starts_with("#EXTINF") || l.starts_with("#EXT-X-TARGETDURATION") {
            return ManifestFormat::HlsMedia;
        }
    }
    ManifestFormat::HlsMedia
}

/// Local name of the root element of XML text, if it is XML.
pub(crate) fn xml_root_name(text: &str) -> Option<&str> {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.starts_with('<') {
        xml_root(t)
    } else {
        None
    }
}

/// Local name of the first element, skipping the XML declaration, comments, PIs and DOCTYPE.
fn xml_root(mut t: &str) -> Option<&str> {
    for _ in 0..64 {
        t = t.trim_start();
        if let Some(r) = t.strip_prefix("<?") {
            t = &r[r.find("?>")? + 2..];
        } else if let Some(r) = t.strip_prefix("<!--") {
            t = &r[r.find("-->")? + 3..];
        } else if let Some(r) = t.strip_prefix("<!") {
            t = &r[r.find('>')? + 1..];
        } else if let Some(r) = t.strip_prefix('<') {
            let end = r
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(r.len());
            let name = &r[..end];
            return Some(name.rsplit(':').next().unwrap_or(name));
        } else {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(
            sniff("#EXTM3U\n#EXTINF:1,\na.ts"),
            Some(ManifestFormat::HlsMedia)
        );
        assert_eq!(
            sniff("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8"),
            Some(ManifestFormat::HlsMultivariant)
        );
        assert_eq!(
            sniff("<?xml version=\"1.0\"?>\n<!-- x --><MPD/>"),
            Some(ManifestFormat::Dash)
        );
        assert_eq!(
            sniff("<mpd:MPD xmlns:mpd='x'/>"),
            Some(ManifestFormat::Dash)
        );
        assert_eq!(
            sniff("<SmoothStreamingMedia>"),
            Some(ManifestFormat::Smooth)
        );
        assert_eq!(sniff("<html>"), None);
        assert_eq!(sniff("hello"), None);
        // A multi-byte character across the 4 KiB sniffing window.
        let long = format!("#EXTM3U\n#{}é\n", "x".repeat(4086));
        assert!(!long.is_char_boundary(4096));
        assert_eq!(sniff(&long), Some(ManifestFormat::HlsMedia));
    }

    #[test]
    fn decodes_utf16_with_bom() {
        let s = "<SmoothStreamingMedia/>";
        let mut b = vec![0xFF, 0xFE];
        b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&b, None).unwrap(), s);
        assert!(decode(&[0xFF, 0xFE, 0x00], None).is_err());
        assert!(decode(&[0xC3, 0x28], None).is_err());
    }
}
