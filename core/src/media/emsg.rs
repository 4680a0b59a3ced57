//! The DASH event message box (`emsg`, ISO/IEC 23009-1 5.10.3.3): in-band events such as
//! SCTE-35 cues (`urn:scte:scte35:2013:bin`), ID3 timed metadata
//! (`https://aomedia.org/emsg/ID3`) or MPD update hints, carried in media segments.

use super::bmff::{Mp4Box, boxes};
use super::reader::Reader;
use super::{MediaError, Result};
use crate::time::Timescale;

/// An event message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Emsg {
    /// scheme_id_uri: what the message means (and how `message_data` is coded).
    pub scheme_id_uri: String,
    /// value: a sub-scheme.
    pub value: String,
    /// Ticks per second of `time` and `event_duration`.
    pub timescale: Timescale,
    /// When the event starts.
    pub time: EmsgTime,
    /// event_duration in ticks; `None` for 0xFFFFFFFF (unknown).
    pub event_duration: Option<u32>,
    /// id: equal ids of one scheme and value are the same event (repeats carry no news).
    pub id: u32,
    /// message_data, as the scheme defines it.
    pub message_data: Vec<u8>,
}

/// The start of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmsgTime {
    /// Version 0: presentation_time_delta, ticks after the earliest presentation time of the
    /// segment that carries the box.
    Delta(u32),
    /// Version 1: presentation_time, ticks on the period's media timeline.
    Absolute(u64),
}

/// event_duration of an event whose duration is unknown.
const UNKNOWN_DURATION: u32 = 0xffff_ffff;

/// A [`MediaError::BadMetadata`] for `emsg`.
fn bad(reason: &'static str) -> MediaError {
    MediaError::BadMetadata {
        format: "emsg",
        reason,
    }
}

/// A null-terminated UTF-8 string at the start of `data` (invalid UTF-8 is replaced), and
/// what follows its terminator.
fn c_string(data: &[u8]) -> Result<(String, &[u8])> {
    let end = data.iter().position(|&b| b == 0).ok_or(bad(
        "string without its terminating NUL (ISO/IEC 23009-1 5.10.3.3.2)",
    ))?;
    let text = String::from_utf8_lossy(data.get(..end).unwrap_or_default()).into_owned();
    Ok((text, data.get(end + 1..).unwrap_or_default()))
}

/// Reads an `emsg` box, version 0 or 1.
pub fn parse_emsg(b: &Mp4Box<'_>) -> Result<Emsg> {
    if &b.fourcc != b"emsg" {
        return Err(b.bad("not an emsg box"));
    }
    let (version, _, body) = b.full_header()?;
    let (scheme_id_uri, value, timescale, time, duration, id, message);
    match version {
        0 => {
            let (scheme, rest) = c_string(body)?;
            let (val, rest) = c_string(rest)?;
            let mut r = Reader::new(rest, "emsg");
            timescale = r.u32()?;
            time = EmsgTime::Delta(r.u32()?);
            duration = r.u32()?;
            id = r.u32()?;
            message = r.bytes(r.remaining())?;
            (scheme_id_uri, value) = (scheme, val);
        }
        1 => {
            let mut r = Reader::new(body, "emsg");
            timescale = r.u32()?;
            time = EmsgTime::Absolute(r.u64()?);
            duration = r.u32()?;
            id = r.u32()?;
            let (scheme, rest) = c_string(r.bytes(r.remaining())?)?;
            let (val, rest) = c_string(rest)?;
            message = rest;
            (scheme_id_uri, value) = (scheme, val);
        }
        v => {
            return Err(MediaError::Unsupported {
                what: format!("emsg version {v} (ISO/IEC 23009-1 5.10.3.3 defines 0 and 1)"),
            });
        }
    }
    let timescale =
        Timescale::new(timescale).ok_or(bad("timescale is zero (ISO/IEC 23009-1 5.10.3.3.3)"))?;
    Ok(Emsg {
        scheme_id_uri,
        value,
        timescale,
        time,
        event_duration: (duration != UNKNOWN_DURATION).then_some(duration),
        id,
        message_data: message.to_vec(),
    })
}

/// The top-level `emsg` boxes of a media segment, in order (a segment carries them before
/// its first `moof`). A malformed box met on the way is an error.
pub fn emsg_boxes(data: &[u8]) -> Result<Vec<Emsg>> {
    boxes(data)
        .of_type(b"emsg")
        .map(|b| parse_emsg(&b?))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::media::id3::{Id3Frame, parse_id3};
    use crate::media::scte35::{SpliceCommand, parse_splice_info};
    use crate::media::testing::{flipped, media};

    /// A box of type `fourcc` around `body`.
    fn mp4(fourcc: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(fourcc);
        out.extend(body);
        out
    }

    /// A version 0 emsg built field by field (ISO/IEC 23009-1 5.10.3.3.2).
    fn emsg_v0(
        scheme: &str,
        value: &str,
        ts: u32,
        delta: u32,
        dur: u32,
        id: u32,
        msg: &[u8],
    ) -> Vec<u8> {
        let mut body = vec![0, 0, 0, 0];
        body.extend(scheme.as_bytes());
        body.push(0);
        body.extend(value.as_bytes());
        body.push(0);
        for field in [ts, delta, dur, id] {
            body.extend(field.to_be_bytes());
        }
        body.extend(msg);
        mp4(b"emsg", &body)
    }

    /// A version 1 emsg: the fixed fields come first, then the strings.
    fn emsg_v1(
        scheme: &str,
        value: &str,
        ts: u32,
        time: u64,
        dur: u32,
        id: u32,
        msg: &[u8],
    ) -> Vec<u8> {
        let mut body = vec![1, 0, 0, 0];
        body.extend(ts.to_be_bytes());
        body.extend(time.to_be_bytes());
        body.extend(dur.to_be_bytes());
        body.extend(id.to_be_bytes());
        body.extend(scheme.as_bytes());
        body.push(0);
        body.extend(value.as_bytes());
        body.push(0);
        body.extend(msg);
        mp4(b"emsg", &body)
    }

    fn one(data: &[u8]) -> Emsg {
        parse_emsg(&boxes(data).next().unwrap().unwrap()).unwrap()
    }

    #[test]
    fn version_0_scte35() {
        // SCTE 35 (2023) 14.2, the splice_insert sample, carried as DASH does
        // (SCTE 214-1 6.7.4: scheme urn:scte:scte35:2013:bin, message_data the section).
        let section = crate::base64::decode(
            "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=",
        )
        .unwrap();
        let data = emsg_v0(
            "urn:scte:scte35:2013:bin",
            "1",
            90_000,
            1800,
            5_426_421,
            77,
            &section,
        );
        let e = one(&data);
        assert_eq!(
            (
                e.scheme_id_uri.as_str(),
                e.value.as_str(),
                e.timescale.get()
            ),
            ("urn:scte:scte35:2013:bin", "1", 90_000)
        );
        assert_eq!(
            (e.time, e.event_duration, e.id),
            (EmsgTime::Delta(1800), Some(5_426_421), 77)
        );
        let splice = parse_splice_info(&e.message_data).unwrap();
        assert!(matches!(splice.command, SpliceCommand::Insert(_)));
    }

    #[test]
    fn version_1_id3_with_unknown_duration() {
        // An ID3v2.4 tag with one TXXX frame, as AOM's ID3-in-CMAF carries it
        // (https://aomedia.org/emsg/ID3, value empty).
        let mut tag = b"ID3\x04\x00\x00\x00\x00\x00\x11".to_vec();
        tag.extend(b"TXXX\x00\x00\x00\x07\x00\x00\x03ad\x00on\x00");
        let data = emsg_v1(
            "https://aomedia.org/emsg/ID3",
            "",
            1000,
            1 << 40,
            u32::MAX,
            5,
            &tag,
        );
        let e = one(&data);
        assert_eq!(e.time, EmsgTime::Absolute(1 << 40));
        assert_eq!((e.event_duration, e.value.as_str()), (None, ""));
        let tags = parse_id3(&e.message_data).unwrap();
        assert_eq!(
            tags[0].frames,
            [Id3Frame::UserText {
                description: "ad".into(),
                value: "on".into()
            }]
        );
    }

    #[test]
    fn segment_with_several_events() {
        // Two events before a real segment's boxes (conformance/media/a/0.m4s).
        let mut data = emsg_v0("urn:mpeg:dash:event:2012", "1", 1, 0, 0, 1, b"");
        data.extend(emsg_v1("urn:example", "x", 48_000, 5, 10, 2, b"hello"));
        data.extend(media("a/0.m4s"));
        let all = emsg_boxes(&data).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].scheme_id_uri, "urn:mpeg:dash:event:2012");
        assert_eq!(
            (all[1].value.as_str(), &all[1].message_data[..]),
            ("x", &b"hello"[..])
        );
        assert_eq!(emsg_boxes(&media("a/0.m4s")).unwrap(), []);
        // Invalid UTF-8 is replaced, not refused.
        let odd = one(&emsg_v1("urn:\u{e9}", "", 1, 0, 0, 0, b""));
        assert_eq!(odd.scheme_id_uri, "urn:\u{e9}");
        let mut latin = emsg_v0("urn:x", "", 1, 0, 0, 0, b"");
        latin[15] = 0xe9;
        assert_eq!(one(&latin).scheme_id_uri, "urn\u{fffd}x");
    }

    #[test]
    fn malformed() {
        let zero = emsg_v1("urn:x", "", 0, 0, 0, 0, b"");
        let b = boxes(&zero).next().unwrap().unwrap();
        assert!(matches!(
            parse_emsg(&b),
            Err(MediaError::BadMetadata { .. })
        ));
        let mut v2 = emsg_v1("urn:x", "", 1, 0, 0, 0, b"");
        v2[8] = 2;
        let b = boxes(&v2).next().unwrap().unwrap();
        assert!(matches!(
            parse_emsg(&b),
            Err(MediaError::Unsupported { .. })
        ));
        // A box cut anywhere inside its body: no terminator, or fields missing.
        for data in [
            emsg_v0("urn:a", "b", 1, 2, 3, 4, b""),
            emsg_v1("urn:a", "b", 1, 2, 3, 4, b""),
        ] {
            for n in 8..data.len() {
                let mut cut = data[..n].to_vec();
                cut[..4].copy_from_slice(&(n as u32).to_be_bytes());
                let b = boxes(&cut).next().unwrap().unwrap();
                assert!(parse_emsg(&b).is_err(), "{n} bytes");
            }
            for n in 0..data.len() {
                let _ = emsg_boxes(&data[..n]);
            }
            for d in flipped(&data, data.len(), 2000) {
                let _ = emsg_boxes(&d);
            }
        }
    }
}
