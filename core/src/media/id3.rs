//! ID3v2.3 and ID3v2.4 tags as HLS carries timed metadata: the PES payloads of MPEG-TS
//! stream type 0x15, the head of packed audio (Apple's transport stream timestamp), and the
//! message data of `emsg` boxes with scheme `https://aomedia.org/emsg/ID3`.
//!
//! Frames are decoded to text where the ID3v2 specification says they are text (ID3v2.4.0
//! "Native Frames" 4.2, ID3v2.3.0 4.2); anything else is kept as bytes.

use super::reader::Reader;
use super::{MediaError, Result};

/// One ID3v2 tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id3Tag {
    /// The frames, in order.
    pub frames: Vec<Id3Frame>,
}

/// One frame of a tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id3Frame {
    /// A text frame (`T***` but `TXXX`): `TIT2` title, `TALB` album, ... Trailing NULs are
    /// dropped; the NUL separators of an ID3v2.4 list of values are kept.
    Text {
        /// Frame id.
        id: [u8; 4],
        /// The text.
        value: String,
    },
    /// `TXXX`: user-defined text.
    UserText {
        /// What the value is.
        description: String,
        /// The text (trailing NULs dropped).
        value: String,
    },
    /// `PRIV`: private data of an owner.
    Private {
        /// Owner identifier (a URL or reverse domain name, ISO-8859-1).
        owner: String,
        /// The data.
        data: Vec<u8>,
    },
    /// A URL frame (`W***`); for `WXXX` the description is dropped and `url` is the URL.
    Url {
        /// Frame id.
        id: [u8; 4],
        /// The URL (ISO-8859-1).
        url: String,
    },
    /// Any other frame, and frames that are compressed, encrypted or unsynchronised: the
    /// frame's content as stored.
    Other {
        /// Frame id.
        id: [u8; 4],
        /// The content after the frame header.
        data: Vec<u8>,
    },
}

/// PRIV owner of Apple's packed-audio timestamp (HLS, "Packed audio" in RFC 8216 3.4).
pub const TRANSPORT_STREAM_TIMESTAMP_OWNER: &str = "com.apple.streaming.transportStreamTimestamp";

/// Tag header: "ID3", version (2), flags, size (4).
const HEADER_LEN: usize = 10;
/// Tag flags (ID3v2.4.0 3.1).
const FLAG_UNSYNCHRONISATION: u8 = 0x80;
const FLAG_EXTENDED_HEADER: u8 = 0x40;
const FLAG_FOOTER: u8 = 0x10;

/// A [`MediaError::BadMetadata`] for ID3.
fn bad(reason: &'static str) -> MediaError {
    MediaError::BadMetadata {
        format: "ID3",
        reason,
    }
}

/// Every tag of `data`, which holds one or more tags back to back (trailing bytes that do
/// not start a tag are ignored). A payload that does not start with a tag is an error.
///
/// Whole-tag unsynchronisation (ID3v2.4.0 6.1) is [`MediaError::Unsupported`]; ID3v2.2 too.
pub fn parse_id3(data: &[u8]) -> Result<Vec<Id3Tag>> {
    if !data.starts_with(b"ID3") {
        return Err(bad("no ID3v2 header (ID3v2.4.0 3.1)"));
    }
    let mut tags = Vec::new();
    let mut rest = data;
    while rest.starts_with(b"ID3") {
        let (tag, len) = parse_tag(rest)?;
        tags.push(tag);
        rest = rest.get(len..).unwrap_or_default();
    }
    Ok(tags)
}

impl Id3Tag {
    /// The 33-bit 90 kHz timestamp of Apple's `com.apple.streaming.transportStreamTimestamp`
    /// PRIV frame (8 bytes, big-endian, the upper 31 bits zero), which places packed audio
    /// and timed metadata on the MPEG-TS clock.
    pub fn transport_stream_timestamp(&self) -> Option<u64> {
        self.frames.iter().find_map(|f| match f {
            Id3Frame::Private { owner, data } if owner == TRANSPORT_STREAM_TIMESTAMP_OWNER => {
                let bytes: [u8; 8] = data.as_slice().try_into().ok()?;
                Some(u64::from_be_bytes(bytes) & ((1 << 33) - 1))
            }
            _ => None,
        })
    }
}

/// A 28-bit syncsafe integer (ID3v2.4.0 6.2): four bytes of 7 bits, high bits clear.
fn syncsafe(bytes: [u8; 4], what: &'static str) -> Result<usize> {
    if bytes.iter().any(|b| b & 0x80 != 0) {
        return Err(bad(what));
    }
    Ok(bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 7) | usize::from(b)))
}

/// One tag at the start of `data`, and its length with header and footer.
fn parse_tag(data: &[u8]) -> Result<(Id3Tag, usize)> {
    let mut r = Reader::new(data, "ID3 tag");
    r.skip(3)?; // "ID3"
    let version = r.u8()?;
    let _revision = r.u8()?;
    let flags = r.u8()?;
    let size = syncsafe(r.array()?, "tag size not syncsafe (ID3v2.4.0 3.1)")?;
    if version != 3 && version != 4 {
        return Err(MediaError::Unsupported {
            what: format!("ID3v2.{version}"),
        });
    }
    if flags & FLAG_UNSYNCHRONISATION != 0 {
        return Err(MediaError::Unsupported {
            what: "ID3 unsynchronisation".into(),
        });
    }
    let footer = if version == 4 && flags & FLAG_FOOTER != 0 {
        HEADER_LEN
    } else {
        0
    };
    let body = r.bytes(size)?;
    r.skip(footer)?;
    let total = r.pos();

    let mut r = Reader::new(body, "ID3 tag");
    if flags & FLAG_EXTENDED_HEADER != 0 {
        // v2.3: a plain size that excludes itself; v2.4: a syncsafe size that includes itself.
        let skip = if version == 3 {
            usize::try_from(r.u32()?).unwrap_or(usize::MAX)
        } else {
            let n = syncsafe(
                r.array()?,
                "extended header size not syncsafe (ID3v2.4.0 3.2)",
            )?;
            n.checked_sub(4).ok_or(bad(
                "extended header shorter than its size field (ID3v2.4.0 3.2)",
            ))?
        };
        r.skip(skip)?;
    }
    let mut frames = Vec::new();
    while r.remaining() >= HEADER_LEN {
        let id: [u8; 4] = r.array()?;
        if id[0] == 0 {
            break; // padding
        }
        let size_bytes = r.array()?;
        let size = if version == 4 {
            syncsafe(size_bytes, "frame size not syncsafe (ID3v2.4.0 4)")?
        } else {
            u32::from_be_bytes(size_bytes) as usize
        };
        let frame_flags = r.u16()?;
        let content = r
            .bytes(size)
            .map_err(|_| bad("frame runs past the tag (ID3v2.4.0 4)"))?;
        frames.push(parse_frame(id, version, frame_flags, content)?);
    }
    Ok((Id3Tag { frames }, total))
}

/// The frame's content once the extra bytes its format flags add are skipped, or `None`
/// when it is compressed, encrypted or unsynchronised (ID3v2.3.0 3.3.1, ID3v2.4.0 4.1.2).
fn frame_payload(version: u8, flags: u16, content: &[u8]) -> Option<&[u8]> {
    let (opaque, extra) = if version == 3 {
        // 0x80 compression (with a 4-byte size), 0x40 encryption, 0x20 grouping (1 byte).
        (flags & 0x00c0 != 0, usize::from(flags & 0x0020 != 0))
    } else {
        // 0x40 grouping (1 byte), 0x08 compression, 0x04 encryption, 0x02 unsynchronisation,
        // 0x01 data length indicator (4 bytes).
        let extra = usize::from(flags & 0x0040 != 0) + 4 * usize::from(flags & 0x0001 != 0);
        (flags & 0x000e != 0, extra)
    };
    if opaque { None } else { content.get(extra..) }
}

fn parse_frame(id: [u8; 4], version: u8, flags: u16, content: &[u8]) -> Result<Id3Frame> {
    let Some(payload) = frame_payload(version, flags, content) else {
        return Ok(Id3Frame::Other {
            id,
            data: content.to_vec(),
        });
    };
    Ok(match &id {
        b"TXXX" => {
            let (encoding, text) = split_encoding(payload)?;
            let (description, value) = split_terminated(encoding, text);
            Id3Frame::UserText {
                description: decode(encoding, description)?,
                value: trim_nuls(decode(encoding, value)?),
            }
        }
        [b'T', ..] => {
            let (encoding, text) = split_encoding(payload)?;
            Id3Frame::Text {
                id,
                value: trim_nuls(decode(encoding, text)?),
            }
        }
        b"WXXX" => {
            let (encoding, text) = split_encoding(payload)?;
            let (_, url) = split_terminated(encoding, text);
            Id3Frame::Url {
                id,
                url: latin1(split_terminated(0, url).0),
            }
        }
        [b'W', ..] => Id3Frame::Url {
            id,
            url: latin1(split_terminated(0, payload).0),
        },
        b"PRIV" => {
            let (owner, data) = split_terminated(0, payload);
            Id3Frame::Private {
                owner: latin1(owner),
                data: data.to_vec(),
            }
        }
        _ => Id3Frame::Other {
            id,
            data: payload.to_vec(),
        },
    })
}

/// The text encoding byte and the bytes after it.
fn split_encoding(payload: &[u8]) -> Result<(u8, &[u8])> {
    match payload {
        [encoding @ 0..=3, rest @ ..] => Ok((*encoding, rest)),
        [_, ..] => Err(bad("text encoding not 0 to 3 (ID3v2.4.0 4.2)")),
        [] => Err(bad("text frame without its encoding byte (ID3v2.4.0 4.2)")),
    }
}

/// The text before the first terminator of `encoding` (one NUL byte, or two at an even
/// offset for UTF-16), and the bytes after it; all of `data` when there is no terminator.
fn split_terminated(encoding: u8, data: &[u8]) -> (&[u8], &[u8]) {
    let end = if encoding == 1 || encoding == 2 {
        data.chunks_exact(2)
            .position(|p| p == [0, 0])
            .map(|i| (2 * i, 2 * i + 2))
    } else {
        data.iter().position(|&b| b == 0).map(|i| (i, i + 1))
    };
    match end {
        Some((text, after)) => (
            data.get(..text).unwrap_or_default(),
            data.get(after..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}

/// Text in `encoding` (ID3v2.4.0 4.2): 0 ISO-8859-1, 1 UTF-16 with a byte order mark (big
/// endian without one), 2 UTF-16BE, 3 UTF-8. Invalid sequences are replaced.
fn decode(encoding: u8, data: &[u8]) -> Result<String> {
    Ok(match encoding {
        0 => latin1(data),
        1 => match data {
            [0xff, 0xfe, rest @ ..] => utf16(rest, u16::from_le_bytes),
            [0xfe, 0xff, rest @ ..] => utf16(rest, u16::from_be_bytes),
            _ => utf16(data, u16::from_be_bytes),
        },
        2 => utf16(data, u16::from_be_bytes),
        3 => String::from_utf8_lossy(data).into_owned(),
        _ => return Err(bad("text encoding not 0 to 3 (ID3v2.4.0 4.2)")),
    })
}

fn latin1(data: &[u8]) -> String {
    data.iter().map(|&b| char::from(b)).collect()
}

fn utf16(data: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = data
        .chunks_exact(2)
        .filter_map(|p| <[u8; 2]>::try_from(p).ok())
        .map(unit);
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn trim_nuls(mut text: String) -> String {
    let kept = text.trim_end_matches('\0').len();
    text.truncate(kept);
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::media::testing::flipped;

    /// A frame: id, size (syncsafe in v2.4, plain in v2.3), flags, content.
    fn frame(version: u8, id: &[u8; 4], flags: u16, content: &[u8]) -> Vec<u8> {
        let n = content.len() as u32;
        let size = if version == 4 {
            syncsafe_bytes(n)
        } else {
            n.to_be_bytes()
        };
        let mut out = id.to_vec();
        out.extend(size);
        out.extend(flags.to_be_bytes());
        out.extend(content);
        out
    }

    fn syncsafe_bytes(n: u32) -> [u8; 4] {
        [
            (n >> 21) as u8 & 0x7f,
            (n >> 14) as u8 & 0x7f,
            (n >> 7) as u8 & 0x7f,
            n as u8 & 0x7f,
        ]
    }

    /// A tag of `version` around `body` (frames, padding, extended header).
    fn tag(version: u8, flags: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![b'I', b'D', b'3', version, 0, flags];
        out.extend(syncsafe_bytes(body.len() as u32));
        out.extend(body);
        out
    }

    /// The Apple timestamp frame, as the HLS packed-audio rules write it.
    fn apple_priv(version: u8, pts: u64) -> Vec<u8> {
        let mut content = TRANSPORT_STREAM_TIMESTAMP_OWNER.as_bytes().to_vec();
        content.push(0);
        content.extend(pts.to_be_bytes());
        frame(version, b"PRIV", 0, &content)
    }

    #[test]
    fn apple_transport_stream_timestamp() {
        // 2^33 - 1 ticks: every one of the 33 bits set.
        let data = tag(4, 0, &apple_priv(4, 0x1_ffff_ffff));
        let tags = parse_id3(&data).unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].transport_stream_timestamp(), Some(0x1_ffff_ffff));
        let Id3Frame::Private { owner, data: bytes } = &tags[0].frames[0] else {
            panic!()
        };
        assert_eq!(
            (owner.as_str(), bytes.len()),
            (TRANSPORT_STREAM_TIMESTAMP_OWNER, 8)
        );
        // v2.3, with padding after the frame; 10 s at 90 kHz.
        let mut body = apple_priv(3, 900_000);
        body.extend([0; 32]);
        let tags = parse_id3(&tag(3, 0, &body)).unwrap();
        assert_eq!(tags[0].transport_stream_timestamp(), Some(900_000));
        assert_eq!(tags[0].frames.len(), 1);
        // Another owner, or a length other than 8: no timestamp.
        let other = frame(4, b"PRIV", 0, b"com.example\0\0\0\0\0\0\0\0\x01");
        let short = frame(
            4,
            b"PRIV",
            0,
            b"com.apple.streaming.transportStreamTimestamp\0\x01",
        );
        for f in [other, short] {
            let tags = parse_id3(&tag(4, 0, &f)).unwrap();
            assert_eq!(tags[0].transport_stream_timestamp(), None);
        }
    }

    #[test]
    fn text_in_every_encoding() {
        let cases: [(u8, &[u8], &str); 6] = [
            (0, b"caf\xe9", "caf\u{e9}"),
            (1, b"\xff\xfec\0a\0f\0\xe9\0", "caf\u{e9}"),
            (1, b"\xfe\xff\0c\0a\0f\0\xe9\0\0", "caf\u{e9}"),
            (2, b"\0c\0a\0f\0\xe9", "caf\u{e9}"),
            (3, b"caf\xc3\xa9\0", "caf\u{e9}"),
            // A UTF-16 surrogate pair: U+1F3B5.
            (1, b"\xff\xfe\x3c\xd8\xb5\xdf", "\u{1f3b5}"),
        ];
        for version in [3, 4] {
            for (encoding, text, want) in cases {
                let mut content = vec![encoding];
                content.extend(text);
                let data = tag(version, 0, &frame(version, b"TIT2", 0, &content));
                let frames = &parse_id3(&data).unwrap()[0].frames;
                let expected = Id3Frame::Text {
                    id: *b"TIT2",
                    value: want.into(),
                };
                assert_eq!(frames, &[expected], "v2.{version} encoding {encoding}");
            }
        }
    }

    #[test]
    fn user_text_urls_and_other_frames() {
        let mut body = frame(4, b"TXXX", 0, b"\x03ad-id\x00abc123");
        // UTF-16 with BOMs: the description ends at an aligned double NUL.
        body.extend(frame(4, b"TXXX", 0, b"\x01\xff\xfek\0\0\0\xff\xfev\0"));
        body.extend(frame(4, b"WOAF", 0, b"https://example.com/a"));
        body.extend(frame(
            4,
            b"WXXX",
            0,
            b"\x00home\x00https://example.com/\x00",
        ));
        body.extend(frame(4, b"GEOB", 0, &[1, 2, 3]));
        let frames = &parse_id3(&tag(4, 0, &body)).unwrap()[0].frames;
        assert_eq!(
            frames,
            &[
                Id3Frame::UserText {
                    description: "ad-id".into(),
                    value: "abc123".into()
                },
                Id3Frame::UserText {
                    description: "k".into(),
                    value: "v".into()
                },
                Id3Frame::Url {
                    id: *b"WOAF",
                    url: "https://example.com/a".into()
                },
                Id3Frame::Url {
                    id: *b"WXXX",
                    url: "https://example.com/".into()
                },
                Id3Frame::Other {
                    id: *b"GEOB",
                    data: vec![1, 2, 3]
                },
            ]
        );
    }

    #[test]
    fn headers_flags_and_several_tags() {
        // v2.3 extended header: size 6 (excluding itself), then 6 bytes; v2.4: syncsafe 6
        // including itself, then 2 bytes.
        let mut v3 = vec![0, 0, 0, 6, 0, 0, 0, 0, 0, 0];
        v3.extend(frame(3, b"TIT2", 0, b"\x00three"));
        let mut v4 = vec![0, 0, 0, 6, 1, 0];
        v4.extend(frame(4, b"TIT2", 0, b"\x00four"));
        // v2.4 frame flags: grouping byte and data length indicator before the text.
        v4.extend(frame(4, b"TPE1", 0x0041, b"\x07\x00\x00\x00\x04\x00abc"));
        // Compressed: kept as stored.
        v4.extend(frame(4, b"TALB", 0x0009, b"\x00\x00\x00\x10xyz"));
        let mut data = tag(3, FLAG_EXTENDED_HEADER, &v3);
        data.extend(tag(4, FLAG_EXTENDED_HEADER, &v4));
        // A v2.4 footer is part of the tag.
        let mut footed = tag(4, FLAG_FOOTER, &apple_priv(4, 7));
        footed.extend(b"3DI\x04\x00\x10\x00\x00\x00\x00");
        data.extend(&footed);
        data.extend([0; 5]); // trailing stuffing
        let tags = parse_id3(&data).unwrap();
        assert_eq!(tags.len(), 3);
        let text = |t: &Id3Tag| -> Vec<String> {
            t.frames
                .iter()
                .map(|f| match f {
                    Id3Frame::Text { value, .. } => value.clone(),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(text(&tags[0]), ["three"]);
        assert_eq!(
            text(&tags[1]),
            [
                "four".to_string(),
                "abc".to_string(),
                format!(
                    "{:?}",
                    Id3Frame::Other {
                        id: *b"TALB",
                        data: b"\x00\x00\x00\x10xyz".to_vec()
                    }
                )
            ]
        );
        assert_eq!(tags[2].transport_stream_timestamp(), Some(7));
    }

    #[test]
    fn refused_input() {
        let good = tag(4, 0, &apple_priv(4, 1));
        assert!(matches!(
            parse_id3(b"xID3"),
            Err(MediaError::BadMetadata { .. })
        ));
        assert!(parse_id3(&[]).is_err());
        let mut unsync = good.clone();
        unsync[5] = FLAG_UNSYNCHRONISATION;
        assert!(matches!(
            parse_id3(&unsync),
            Err(MediaError::Unsupported { .. })
        ));
        let mut v2 = good.clone();
        v2[3] = 2;
        assert!(matches!(
            parse_id3(&v2),
            Err(MediaError::Unsupported { .. })
        ));
        let mut not_syncsafe = good.clone();
        not_syncsafe[9] |= 0x80;
        assert!(matches!(
            parse_id3(&not_syncsafe),
            Err(MediaError::BadMetadata { .. })
        ));
        let bad_encoding = tag(4, 0, &frame(4, b"TIT2", 0, b"\x09x"));
        assert!(parse_id3(&bad_encoding).is_err());
        let empty_text = tag(4, 0, &frame(4, b"TIT2", 0, b""));
        assert!(parse_id3(&empty_text).is_err());
        // A frame longer than its tag.
        let mut long = good.clone();
        long[17] = 0x7f;
        assert!(parse_id3(&long).is_err());
    }

    #[test]
    fn truncated_and_corrupted() {
        let mut body = apple_priv(4, 123);
        body.extend(frame(4, b"TXXX", 0, b"\x01\xff\xfek\0\0\0\xff\xfev\0"));
        body.extend(frame(4, b"TIT2", 0x0041, b"\x07\x00\x00\x00\x04\x00abc"));
        let data = tag(4, 0, &body);
        for n in 0..data.len() {
            assert!(parse_id3(&data[..n]).is_err(), "{n} bytes");
        }
        for d in flipped(&data, data.len(), 3000) {
            let _ = parse_id3(&d)
                .map(|tags| tags.iter().map(Id3Tag::transport_stream_timestamp).count());
        }
        let v3 = tag(3, FLAG_EXTENDED_HEADER, &[0, 0, 0, 6, 0, 0, 0, 0, 0, 0]);
        for d in flipped(&v3, v3.len(), 1000) {
            let _ = parse_id3(&d);
        }
    }
}
