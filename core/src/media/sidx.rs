//! The segment index (`sidx`, ISO/IEC 14496-12 8.16.3): byte ranges and durations of the
//! subsegments of an on-demand file, as DASH `SegmentBase@indexRange` points at them.

use super::bmff::{Mp4Box, boxes};
use super::reader::Reader;
use super::{MediaError, Result};
use crate::time::Timescale;

/// A `sidx` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidx {
    /// reference_ID: the track (stream) the index describes.
    pub reference_id: u32,
    /// Ticks per second of the times below.
    pub timescale: Timescale,
    /// Presentation time of the first indexed sample, in ticks.
    pub earliest_presentation_time: u64,
    /// Bytes from the first byte after the `sidx` box to the first referenced byte.
    pub first_offset: u64,
    /// The references, in file and time order.
    pub references: Vec<SidxReference>,
}

/// One reference of a `sidx`: a subsegment, or a further `sidx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidxReference {
    /// reference_type 1: the bytes are another `sidx` (a hierarchical index), not media.
    pub to_index: bool,
    /// referenced_size in bytes (31 bits).
    pub size: u32,
    /// subsegment_duration in ticks.
    pub duration: u32,
    /// starts_with_SAP.
    pub starts_with_sap: bool,
    /// SAP_type (0: unknown, 1 to 6: ISO/IEC 14496-12 Annex I).
    pub sap_type: u8,
    /// SAP_delta_time in ticks (28 bits).
    pub sap_delta_time: u32,
}

/// A reference resolved to absolute bytes and times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedSegment {
    /// Offset of the first byte in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// Earliest presentation time, in ticks of [`Sidx::timescale`].
    pub start: u64,
    /// Duration in ticks.
    pub duration: u64,
    /// The bytes are a further `sidx` ([`SidxReference::to_index`]), not media.
    pub to_index: bool,
}

/// Bytes of one reference (8.16.3.2): type and size, duration, SAP fields.
const REFERENCE_LEN: usize = 12;

/// Reads a `sidx` box (version 0: 32-bit times and offset, version 1: 64-bit).
pub fn parse_sidx(sidx: &Mp4Box<'_>) -> Result<Sidx> {
    if &sidx.fourcc != b"sidx" {
        return Err(sidx.bad("not a sidx box"));
    }
    let (version, _, body) = sidx.full_header()?;
    if version > 1 {
        return Err(MediaError::Unsupported {
            what: format!("sidx version {version} (ISO/IEC 14496-12 8.16.3 defines 0 and 1)"),
        });
    }
    let mut r = Reader::new(body, "sidx");
    let reference_id = r.u32()?;
    let timescale = Timescale::new(r.u32()?)
        .ok_or(sidx.bad("timescale is zero (ISO/IEC 14496-12 8.16.3.3)"))?;
    let earliest_presentation_time = r.u32_or_u64(version == 1)?;
    let first_offset = r.u32_or_u64(version == 1)?;
    r.skip(2)?; // reserved
    let count = usize::from(r.u16()?);
    if count.saturating_mul(REFERENCE_LEN) > r.remaining() {
        return Err(sidx.bad("reference_count exceeds the box (ISO/IEC 14496-12 8.16.3.2)"));
    }
    let mut references = Vec::with_capacity(count);
    for _ in 0..count {
        let type_and_size = r.u32()?;
        let duration = r.u32()?;
        let sap = r.u32()?;
        references.push(SidxReference {
            to_index: type_and_size >> 31 == 1,
            size: type_and_size & 0x7fff_ffff,
            duration,
            starts_with_sap: sap >> 31 == 1,
            sap_type: ((sap >> 28) & 0x7) as u8,
            sap_delta_time: sap & 0x0fff_ffff,
        });
    }
    Ok(Sidx {
        reference_id,
        timescale,
        earliest_presentation_time,
        first_offset,
        references,
    })
}

/// The first top-level `sidx` of `data` (a buffer that starts at a box boundary, such as
/// the start of a file or of a DASH `indexRange`), and the offset in `data` just past it:
/// the anchor of [`Sidx::segments`] when `data` starts at the file's first byte.
///
/// `None` when the boxes before the end hold no `sidx`; a malformed box met first is an error.
pub fn find_sidx(data: &[u8]) -> Result<Option<(Sidx, u64)>> {
    let Some(sidx) = boxes(data).first_of(b"sidx")? else {
        return Ok(None);
    };
    let end = sidx.body_start() + sidx.body.len();
    Ok(Some((parse_sidx(&sidx)?, end as u64)))
}

impl Sidx {
    /// The references as absolute byte ranges and times. `anchor` is the file offset of the
    /// first byte after the `sidx` box (8.16.3.3): the first reference starts at
    /// `anchor + first_offset`, each next one where the previous ends, and times accumulate
    /// from `earliest_presentation_time`. Sums saturate rather than wrap.
    pub fn segments(&self, anchor: u64) -> Vec<IndexedSegment> {
        let mut offset = anchor.saturating_add(self.first_offset);
        let mut start = self.earliest_presentation_time;
        self.references
            .iter()
            .map(|r| {
                let segment = IndexedSegment {
                    offset,
                    size: r.size.into(),
                    start,
                    duration: r.duration.into(),
                    to_index: r.to_index,
                };
                offset = offset.saturating_add(r.size.into());
                start = start.saturating_add(r.duration.into());
                segment
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::media::testing::{flipped, media};

    /// The `sidx` of a conformance segment and its anchor.
    fn sidx_of(path: &str) -> (Sidx, u64) {
        find_sidx(&media(path)).unwrap().unwrap()
    }

    #[test]
    fn ffmpeg_segment_index() {
        // conformance/media/a/1.m4s (ffmpeg's HLS fMP4 muxer, make.sh): styp, then a
        // version 1 sidx of 52 bytes at offset 24 with one reference to moof + mdat:
        // 01000000 00000001 0000bb80 0000000000016800 0000000000000000 0000 0001
        // 00003e4c 00016800 80000000
        let data = media("a/1.m4s");
        let (sidx, anchor) = find_sidx(&data).unwrap().unwrap();
        assert_eq!(anchor, 76);
        assert_eq!((sidx.reference_id, sidx.timescale.get()), (1, 48000));
        assert_eq!(
            (sidx.earliest_presentation_time, sidx.first_offset),
            (92160, 0)
        );
        let reference = SidxReference {
            to_index: false,
            size: 0x3e4c,
            duration: 92160,
            starts_with_sap: true,
            sap_type: 0,
            sap_delta_time: 0,
        };
        assert_eq!(sidx.references, [reference]);
        // The one subsegment runs from the end of the sidx to the end of the file.
        let segments = sidx.segments(anchor);
        let expected = IndexedSegment {
            offset: 76,
            size: data.len() as u64 - 76,
            start: 92160,
            duration: 92160,
            to_index: false,
        };
        assert_eq!(segments, [expected]);
        // Every segment of every track: 1.92 s each, back to back, covering the file.
        for (track, timescale) in [("a", 48000), ("v/144p", 12800), ("v/360p", 12800)] {
            for k in 0..8u64 {
                let path = format!("{track}/{k}.m4s");
                let (sidx, anchor) = sidx_of(&path);
                let [seg] = sidx.segments(anchor)[..] else {
                    panic!("{path}")
                };
                let ticks = timescale * 192 / 100;
                assert_eq!(sidx.timescale.get(), timescale as u32);
                assert_eq!(seg.start, k * ticks, "{path}");
                // The asset's last audio frame is 32 ticks short (see fragment.rs).
                let short = if (track, k) == ("a", 7) { 32 } else { 0 };
                assert_eq!(seg.duration, ticks - short, "{path}");
                assert_eq!(seg.offset + seg.size, media(&path).len() as u64, "{path}");
            }
        }
    }

    /// A version 0 sidx built byte by byte: two media references and one to a further sidx.
    fn hand_built() -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0, b's', b'i', b'd', b'x', 0, 0, 0, 0];
        b.extend(2u32.to_be_bytes()); // reference_ID
        b.extend(90_000u32.to_be_bytes()); // timescale
        b.extend(900u32.to_be_bytes()); // earliest_presentation_time
        b.extend(100u32.to_be_bytes()); // first_offset
        b.extend([0, 0, 0, 3]); // reserved, reference_count
        b.extend([0, 0, 0x10, 0, 0, 2, 0xbf, 0x20, 0x90, 0, 0, 0x2a]); // 4096 B, 180000, SAP 1 delta 42
        b.extend([0, 0, 0x20, 0, 0, 2, 0xbf, 0x20, 0, 0, 0, 0]); // 8192 B, 180000, no SAP
        b.extend([0x80, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0]); // to an index of 64 B
        let len = b.len() as u32;
        b[..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    #[test]
    fn version_0_and_hierarchical_references() {
        let mut data = vec![0, 0, 0, 8, b'f', b'r', b'e', b'e'];
        data.extend(hand_built());
        let (sidx, anchor) = find_sidx(&data).unwrap().unwrap();
        assert_eq!(anchor, data.len() as u64);
        assert_eq!((sidx.reference_id, sidx.timescale.get()), (2, 90_000));
        let r = sidx.references[0];
        assert_eq!(
            (r.starts_with_sap, r.sap_type, r.sap_delta_time),
            (true, 1, 42)
        );
        let got: Vec<_> = sidx
            .segments(1000)
            .iter()
            .map(|s| (s.offset, s.size, s.start, s.duration, s.to_index))
            .collect();
        assert_eq!(
            got,
            [
                (1100, 4096, 900, 180_000, false),
                (5196, 8192, 180_900, 180_000, false),
                (13388, 64, 360_900, 0, true)
            ]
        );
    }

    #[test]
    fn absent_and_malformed() {
        assert_eq!(find_sidx(&[]).unwrap(), None);
        assert_eq!(
            find_sidx(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']).unwrap(),
            None
        );
        let mut zero = hand_built();
        zero[16..20].fill(0);
        assert!(matches!(find_sidx(&zero), Err(MediaError::BadBox { .. })));
        let mut v2 = hand_built();
        v2[8] = 2;
        assert!(matches!(
            find_sidx(&v2),
            Err(MediaError::Unsupported { .. })
        ));
        let mut many = hand_built();
        many[31] = 4; // four references, three present
        assert!(matches!(find_sidx(&many), Err(MediaError::BadBox { .. })));
        let free = boxes(&[0, 0, 0, 8, b'f', b'r', b'e', b'e'])
            .next()
            .unwrap()
            .unwrap();
        assert!(parse_sidx(&free).is_err());
    }

    #[test]
    fn truncated_and_corrupted() {
        let real = media("v/270p/2.m4s");
        for data in [hand_built(), real[..200].to_vec()] {
            for n in 0..data.len() {
                let _ = find_sidx(&data[..n]);
            }
            for d in flipped(&data, 100, 2000) {
                if let Ok(Some((sidx, anchor))) = find_sidx(&d) {
                    let _ = sidx.segments(anchor);
                    let _ = sidx.segments(u64::MAX);
                }
            }
        }
        // A prefix that cuts the sidx is an error, never a wrong index.
        let whole = hand_built();
        for n in 8..whole.len() {
            assert!(find_sidx(&whole[..n]).is_err(), "{n} bytes");
        }
    }
}
