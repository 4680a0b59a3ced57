//! SCTE 35 (ANSI/SCTE 35 2023r1) splice information: the ad-break cues of live streams, as
//! MPEG-TS sections, HLS `EXT-X-DATERANGE` `SCTE35-OUT` / `SCTE35-IN` attributes (hex),
//! DASH `<Signal><Binary>` (base64) and `emsg` message data.
//!
//! Times are 33-bit 90 kHz ticks as the section carries them, not yet adjusted: add
//! `pts_adjustment` with [`SpliceInfo::adjusted`].

use super::reader::Reader;
use super::{MediaError, Result};

/// A splice_info_section (SCTE 35 9.6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpliceInfo {
    /// pts_adjustment: 33-bit 90 kHz ticks to add to every time of the section.
    pub pts_adjustment: u64,
    /// tier: 12-bit authorization tier (0xFFF: all tiers).
    pub tier: u16,
    /// The splice command.
    pub command: SpliceCommand,
    /// The segmentation descriptors (tag 0x02, identifier `CUEI`), in order; other
    /// descriptors (avail, DTMF, time, audio, private) are skipped.
    pub descriptors: Vec<SegmentationDescriptor>,
    /// encrypted_packet: the command and descriptors are encrypted. They are not read:
    /// `command` is then [`SpliceCommand::Unknown`] with the (encrypted) command type, and
    /// `descriptors` is empty.
    pub encrypted: bool,
}

/// A splice command (SCTE 35 9.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpliceCommand {
    /// splice_null (0x00): a heartbeat, or a carrier for descriptors.
    Null,
    /// splice_schedule (0x04), for ahead-of-time scheduling; its contents are not read.
    Schedule,
    /// splice_insert (0x05).
    Insert(SpliceInsert),
    /// time_signal (0x06): the time the descriptors apply at.
    TimeSignal {
        /// pts_time (33-bit, not adjusted); `None` when time_specified_flag is 0.
        pts: Option<u64>,
    },
    /// bandwidth_reservation (0x07).
    BandwidthReservation,
    /// private_command (0xFF).
    Private {
        /// The owner's registered identifier (ATSC A/52 registration).
        identifier: u32,
    },
    /// Another command type.
    Unknown(u8),
}

/// A splice_insert command (SCTE 35 9.7.3), program splice mode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpliceInsert {
    /// splice_event_id.
    pub event_id: u32,
    /// splice_event_cancel_indicator: cancels the event `event_id`; the fields below are
    /// then absent (false, `None`, 0).
    pub cancel: bool,
    /// out_of_network_indicator: true at an out point (the break starts), false at an in point.
    pub out_of_network: bool,
    /// splice_immediate_flag: splice at the next opportunity; `pts` is `None`.
    pub immediate: bool,
    /// splice_time pts_time (33-bit, not adjusted); `None` when immediate or unspecified.
    pub pts: Option<u64>,
    /// break_duration, when given.
    pub break_duration: Option<BreakDuration>,
    /// unique_program_id.
    pub unique_program_id: u16,
    /// avail_num: which avail of the break this is.
    pub avail_num: u8,
    /// avails_expected.
    pub avails_expected: u8,
}

/// A break_duration (SCTE 35 9.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakDuration {
    /// auto_return: the splicer returns to the network at the end of the break by itself.
    pub auto_return: bool,
    /// duration in 90 kHz ticks (33 bits).
    pub duration: u64,
}

/// A segmentation_descriptor (SCTE 35 10.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentationDescriptor {
    /// segmentation_event_id.
    pub event_id: u32,
    /// segmentation_event_cancel_indicator: cancels the event `event_id`; the fields below
    /// are then absent (`None`, 0, empty).
    pub cancel: bool,
    /// segmentation_duration in 90 kHz ticks (40 bits), when given.
    pub duration: Option<u64>,
    /// segmentation_upid_type (0x0C MPU, 0x0E ADS information, 0x0F URI, ...).
    pub upid_type: u8,
    /// segmentation_upid, raw.
    pub upid: Vec<u8>,
    /// segmentation_type_id (Table 22).
    pub type_id: u8,
    /// segment_num.
    pub segment_num: u8,
    /// segments_expected.
    pub segments_expected: u8,
}

/// The segmentation_type_ids that open an ad break or an ad, from SCTE 35 2023r1 Table 22:
/// 0x22 Break Start, 0x30/0x32 Provider/Distributor Advertisement Start, 0x34/0x36
/// Provider/Distributor Placement Opportunity Start, 0x38/0x3A Provider/Distributor Overlay
/// Placement Opportunity Start, 0x3C/0x3E Provider/Distributor Promo Start, 0x44/0x46
/// Provider/Distributor Ad Block Start. Each one's End is the id plus one. Program,
/// chapter, credit, unscheduled-event, alternate-content and network types are not breaks.
const BREAK_STARTS: [u8; 11] = [
    0x22, 0x30, 0x32, 0x34, 0x36, 0x38, 0x3a, 0x3c, 0x3e, 0x44, 0x46,
];

impl SegmentationDescriptor {
    /// The descriptor opens a break or an ad in it (see the type ids above); a cancel never does.
    pub fn starts_break(&self) -> bool {
        !self.cancel && BREAK_STARTS.contains(&self.type_id)
    }

    /// The descriptor closes a break or an ad in it (a start's id plus one); a cancel never does.
    pub fn ends_break(&self) -> bool {
        !self.cancel && BREAK_STARTS.iter().any(|&s| s + 1 == self.type_id)
    }
}

impl SpliceInfo {
    /// `pts` plus `pts_adjustment`, modulo 2^33 (SCTE 35 9.6.1).
    pub fn adjusted(&self, pts: u64) -> u64 {
        pts.wrapping_add(self.pts_adjustment) & PTS_MASK
    }
}

/// 33 bits.
const PTS_MASK: u64 = (1 << 33) - 1;
/// table_id of a splice_info_section.
const TABLE_ID: u8 = 0xfc;
/// splice_command_length of the standard's earlier editions: the length is not given.
const LEGACY_LENGTH: usize = 0xfff;
/// splice_descriptor_tag of a segmentation_descriptor.
const SEGMENTATION_TAG: u8 = 0x02;

/// A [`MediaError::BadMetadata`] for SCTE-35.
fn bad(reason: &'static str) -> MediaError {
    MediaError::BadMetadata {
        format: "SCTE-35",
        reason,
    }
}

/// CRC-32/MPEG-2 (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value all ones,
/// no reflection, no final XOR.
fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Reads a splice_info_section: table_id 0xFC, section length, CRC_32, command and
/// descriptors. Bytes after the section (MPEG-TS stuffing) are ignored.
///
/// A splice_insert in component mode (program_splice_flag 0) is [`MediaError::Unsupported`],
/// as are sections of another protocol_version and the legacy splice_command_length 0xFFF
/// with a command whose length only the length field could give (schedule, private, unknown).
pub fn parse_splice_info(data: &[u8]) -> Result<SpliceInfo> {
    const WHAT: &str = "SCTE-35 splice_info_section";
    let mut r = Reader::new(data, WHAT);
    if r.u8()? != TABLE_ID {
        return Err(bad("table_id is not 0xFC (SCTE 35 9.6.1)"));
    }
    let section_length = usize::from(r.u16()? & 0x0fff);
    let section = data
        .get(..3 + section_length)
        .ok_or(MediaError::Truncated { what: WHAT })?;
    // After the 3 header bytes: the fixed fields (11), descriptor_loop_length (2), CRC_32 (4).
    let (signed, crc) = section
        .split_last_chunk::<4>()
        .filter(|(signed, _)| signed.len() >= 3 + 13)
        .ok_or(bad("section_length below the fixed fields (SCTE 35 9.6)"))?;
    if crc32_mpeg2(signed) != u32::from_be_bytes(*crc) {
        return Err(bad("CRC_32 mismatch (SCTE 35 9.6.1)"));
    }
    let body = signed.get(3..).unwrap_or_default();
    let mut r = Reader::new(body, WHAT);
    let protocol_version = r.u8()?;
    if protocol_version != 0 {
        return Err(MediaError::Unsupported {
            what: format!("SCTE-35 protocol_version {protocol_version}"),
        });
    }
    let flags = r.u8()?;
    let encrypted = flags & 0x80 != 0;
    let pts_adjustment = (u64::from(flags & 1) << 32) | u64::from(r.u32()?);
    r.skip(1)?; // cw_index
    let [t0, t1, t2] = r.array()?;
    let tier = (u16::from(t0) << 4) | u16::from(t1 >> 4);
    let command_length = (usize::from(t1 & 0x0f) << 8) | usize::from(t2);
    let command_type = r.u8()?;
    let mut info = SpliceInfo {
        pts_adjustment,
        tier,
        command: SpliceCommand::Unknown(command_type),
        descriptors: Vec::new(),
        encrypted,
    };
    if encrypted {
        return Ok(info);
    }
    let rest = r.bytes(r.remaining())?;
    let after = if command_length == LEGACY_LENGTH {
        let mut c = Reader::new(rest, "SCTE-35 splice command");
        info.command = read_command(command_type, &mut c, true)?;
        rest.get(c.pos()..)
    } else {
        let bytes = rest.get(..command_length).ok_or(bad(
            "splice_command_length beyond the section (SCTE 35 9.6.1)",
        ))?;
        let mut c = Reader::new(bytes, "SCTE-35 splice command");
        info.command = read_command(command_type, &mut c, false)?;
        rest.get(command_length..)
    };
    let mut r = Reader::new(after.unwrap_or_default(), WHAT);
    let loop_length = usize::from(r.u16()?);
    let descriptors = r
        .bytes(loop_length)
        .map_err(|_| bad("descriptor_loop_length beyond the section (SCTE 35 9.6.1)"))?;
    info.descriptors = read_descriptors(descriptors)?;
    Ok(info)
}

/// Reads `parse_splice_info`'s input from hex, as HLS `EXT-X-DATERANGE` carries it in
/// `SCTE35-CMD`, `SCTE35-OUT` and `SCTE35-IN` (`0xFC30...`; the `0x` is optional).
pub fn parse_splice_info_hex(s: &str) -> Result<SpliceInfo> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
        .as_bytes();
    if digits.len() % 2 != 0 {
        return Err(bad("odd number of hexadecimal digits"));
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let bytes = digits
        .chunks_exact(2)
        .map(|p| match p {
            [h, l] => Some((nibble(*h)? << 4) | nibble(*l)?),
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(bad("not hexadecimal"))?;
    parse_splice_info(&bytes)
}

/// The command of type `kind`. `unbounded`: the reader runs past the command (legacy length
/// 0xFFF), so only commands whose syntax gives their own length can be read.
fn read_command(kind: u8, r: &mut Reader<'_>, unbounded: bool) -> Result<SpliceCommand> {
    let unknown_length = || MediaError::Unsupported {
        what: format!("SCTE-35 splice command 0x{kind:02x} with splice_command_length 0xFFF"),
    };
    Ok(match kind {
        0x00 => SpliceCommand::Null,
        0x04 if unbounded => return Err(unknown_length()),
        0x04 => SpliceCommand::Schedule,
        0x05 => SpliceCommand::Insert(read_insert(r)?),
        0x06 => SpliceCommand::TimeSignal {
            pts: read_splice_time(r)?,
        },
        0x07 => SpliceCommand::BandwidthReservation,
        0xff if unbounded => return Err(unknown_length()),
        0xff => SpliceCommand::Private {
            identifier: r.u32()?,
        },
        _ if unbounded => return Err(unknown_length()),
        other => SpliceCommand::Unknown(other),
    })
}

/// A splice_time() (SCTE 35 9.8.1): the pts_time when time_specified_flag is set.
fn read_splice_time(r: &mut Reader<'_>) -> Result<Option<u64>> {
    let first = r.u8()?;
    if first & 0x80 == 0 {
        return Ok(None);
    }
    Ok(Some((u64::from(first & 1) << 32) | u64::from(r.u32()?)))
}

/// A splice_insert() (SCTE 35 9.7.3).
fn read_insert(r: &mut Reader<'_>) -> Result<SpliceInsert> {
    let event_id = r.u32()?;
    let cancel = r.u8()? & 0x80 != 0;
    let mut insert = SpliceInsert {
        event_id,
        cancel,
        out_of_network: false,
        immediate: false,
        pts: None,
        break_duration: None,
        unique_program_id: 0,
        avail_num: 0,
        avails_expected: 0,
    };
    if cancel {
        return Ok(insert);
    }
    let flags = r.u8()?;
    insert.out_of_network = flags & 0x80 != 0;
    let program_splice = flags & 0x40 != 0;
    let has_duration = flags & 0x20 != 0;
    insert.immediate = flags & 0x10 != 0;
    if !program_splice {
        return Err(MediaError::Unsupported {
            what: "SCTE-35 splice_insert in component mode (program_splice_flag 0)".into(),
        });
    }
    if !insert.immediate {
        insert.pts = read_splice_time(r)?;
    }
    if has_duration {
        let first = r.u8()?;
        insert.break_duration = Some(BreakDuration {
            auto_return: first & 0x80 != 0,
            duration: (u64::from(first & 1) << 32) | u64::from(r.u32()?),
        });
    }
    insert.unique_program_id = r.u16()?;
    insert.avail_num = r.u8()?;
    insert.avails_expected = r.u8()?;
    Ok(insert)
}

/// The segmentation descriptors of a descriptor loop (SCTE 35 10.1); others are skipped.
fn read_descriptors(data: &[u8]) -> Result<Vec<SegmentationDescriptor>> {
    let mut r = Reader::new(data, "SCTE-35 splice_descriptor");
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let tag = r.u8()?;
        let length = usize::from(r.u8()?);
        let body = r.bytes(length)?;
        if tag == SEGMENTATION_TAG && body.starts_with(b"CUEI") {
            out.push(read_segmentation(body.get(4..).unwrap_or_default())?);
        }
    }
    Ok(out)
}

/// A segmentation_descriptor() after its tag, length and identifier (SCTE 35 10.3.3).
/// Fields after segments_expected (sub_segment_num, sub_segments_expected) are not read.
fn read_segmentation(body: &[u8]) -> Result<SegmentationDescriptor> {
    let mut r = Reader::new(body, "SCTE-35 segmentation_descriptor");
    let event_id = r.u32()?;
    let cancel = r.u8()? & 0x80 != 0;
    let mut d = SegmentationDescriptor {
        event_id,
        cancel,
        duration: None,
        upid_type: 0,
        upid: Vec::new(),
        type_id: 0,
        segment_num: 0,
        segments_expected: 0,
    };
    if cancel {
        return Ok(d);
    }
    let flags = r.u8()?;
    let program_segmentation = flags & 0x80 != 0;
    let has_duration = flags & 0x40 != 0;
    if !program_segmentation {
        // component_count, then per component: component_tag (8), reserved (7), pts_offset (33).
        let count = usize::from(r.u8()?);
        r.skip(count * 6)?;
    }
    if has_duration {
        let [a, rest @ ..] = r.array::<5>()?;
        let low = u32::from_be_bytes(rest);
        d.duration = Some((u64::from(a) << 32) | u64::from(low));
    }
    d.upid_type = r.u8()?;
    let upid_length = usize::from(r.u8()?);
    d.upid = r.bytes(upid_length)?.to_vec();
    d.type_id = r.u8()?;
    d.segment_num = r.u8()?;
    d.segments_expected = r.u8()?;
    Ok(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::media::testing::flipped;

    fn b64(text: &str) -> Vec<u8> {
        crate::base64::decode(text).unwrap()
    }

    /// A segmentation descriptor with the fields a test checks.
    fn seg(
        event_id: u32,
        duration: Option<u64>,
        upid: (u8, &[u8]),
        type_num: [u8; 3],
    ) -> SegmentationDescriptor {
        SegmentationDescriptor {
            event_id,
            cancel: false,
            duration,
            upid_type: upid.0,
            upid: upid.1.to_vec(),
            type_id: type_num[0],
            segment_num: type_num[1],
            segments_expected: type_num[2],
        }
    }

    // SCTE 35 2023r1 section 14 samples. Expected values are the standard's printed decodes,
    // as transcribed in Comcast/scte35-go pkg/scte35/scte35_test.go and threefive's README.
    const SAMPLE_14_1: &str =
        "/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==";
    const SAMPLE_14_2: &str =
        "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=";
    const SAMPLE_14_3: &str =
        "/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g=";
    const SAMPLE_14_4: &str = "/DBIAAAAAAAA///wBQb+ek2ItgAyAhdDVUVJSAAAGH+fCAgAAAAALMvDRBEAAAIXQ1VFSUgAABl/nwgIAAAAACyk26AQAACZcuND";

    #[test]
    fn sample_14_1_time_signal_placement_opportunity_start() {
        let info = parse_splice_info(&b64(SAMPLE_14_1)).unwrap();
        assert_eq!(
            (info.pts_adjustment, info.tier, info.encrypted),
            (0, 0xfff, false)
        );
        assert_eq!(
            info.command,
            SpliceCommand::TimeSignal {
                pts: Some(0x0_72bd_0050)
            }
        );
        let upid = [0, 0, 0, 0, 0x2c, 0xa0, 0xa1, 0x8a];
        // 0x0001A599B0 = 27630000 ticks = 307 s; UPID type 8 (Turner Identifier), 0x34.
        let expected = seg(0x4800_008e, Some(0x00_01a5_99b0), (8, &upid), [0x34, 2, 0]);
        assert_eq!(info.descriptors, [expected]);
        assert!(info.descriptors[0].starts_break() && !info.descriptors[0].ends_break());
        assert_eq!(info.descriptors[0].duration, Some(307 * 90_000));
    }

    #[test]
    fn sample_14_2_splice_insert() {
        let info = parse_splice_info(&b64(SAMPLE_14_2)).unwrap();
        // threefive: pts_time 21514.559089 s, break_duration 60.293567 s, auto return.
        let insert = SpliceInsert {
            event_id: 0x4800_008f,
            cancel: false,
            out_of_network: true,
            immediate: false,
            pts: Some(0x0_7369_c02e),
            break_duration: Some(BreakDuration {
                auto_return: true,
                duration: 0x0_0052_ccf5,
            }),
            unique_program_id: 0,
            avail_num: 0,
            avails_expected: 0,
        };
        assert_eq!(info.command, SpliceCommand::Insert(insert));
        // Its one descriptor is an avail_descriptor (tag 0): skipped.
        assert_eq!(info.descriptors, []);
        assert_eq!(info.adjusted(0x0_7369_c02e), 1_936_310_318);
    }

    #[test]
    fn samples_14_3_and_14_4() {
        let end = parse_splice_info(&b64(SAMPLE_14_3)).unwrap();
        assert_eq!(
            end.command,
            SpliceCommand::TimeSignal {
                pts: Some(0x0_7462_90a0)
            }
        );
        let upid = [0, 0, 0, 0, 0x2c, 0xa0, 0xa1, 0x8a];
        assert_eq!(
            end.descriptors,
            [seg(0x4800_008e, None, (8, &upid), [0x35, 2, 0])]
        );
        assert!(end.descriptors[0].ends_break() && !end.descriptors[0].starts_break());

        // Program End then Program Start: neither is a break.
        let program = parse_splice_info(&b64(SAMPLE_14_4)).unwrap();
        assert_eq!(
            program.command,
            SpliceCommand::TimeSignal {
                pts: Some(0x0_7a4d_88b6)
            }
        );
        let ids: Vec<_> = program
            .descriptors
            .iter()
            .map(|d| (d.event_id, d.type_id))
            .collect();
        assert_eq!(ids, [(0x4800_0018, 0x11), (0x4800_0019, 0x10)]);
        assert!(
            program
                .descriptors
                .iter()
                .all(|d| !d.starts_break() && !d.ends_break())
        );
    }

    #[test]
    fn scte35_go_vectors() {
        // Comcast/scte35-go scte35_test.go "Legacy splice_command_length: 0xFFF".
        let legacy =
            "/DA8AAAAAAAAAP///wb+06ACpQAmAiRDVUVJAACcHX//AACky4AMEERJU0NZTVdGMDQ1MjAwMEgxAQEMm4c0";
        let info = parse_splice_info(&b64(legacy)).unwrap();
        assert_eq!(
            info.command,
            SpliceCommand::TimeSignal {
                pts: Some(3_550_479_013)
            }
        );
        let d = seg(
            39_965,
            Some(10_800_000),
            (0x0c, b"DISCYMWF0452000H"),
            [0x31, 1, 1],
        );
        assert_eq!(info.descriptors, [d]);
        assert!(info.descriptors[0].ends_break());
        // "Signal with non-CUEI descriptor": an avail descriptor with identifier SAPS first;
        // a 33-bit pts above 2^32.
        let other = "/DBPAAAAAAAAAP/wBQb/Gq9LggA5AAVTQVBTCwIwQ1VFSf////9//wAAFI4PDxx1cm46bmJjdW5pLmNvbTpicmM6NDk5ODY2NDM0MQoBbM98zw==";
        let info = parse_splice_info(&b64(other)).unwrap();
        assert_eq!(
            info.command,
            SpliceCommand::TimeSignal {
                pts: Some(4_742_663_042)
            }
        );
        let d = seg(
            u32::MAX,
            Some(0x148e0f),
            (0x0f, b"urn:nbcuni.com:brc:499866434"),
            [0x31, 10, 1],
        );
        assert_eq!(info.descriptors, [d]);
        // "SpliceInsert With DTMF": unique_program_id 45, avails_expected 127, 60 s break.
        let dtmf = "/DAxAAAAAAAAAP/wFAVAAIeuf+/+0AWRK/4AUmXAAC0AfwAMAQpDVUVJUJ81MTkqo5/+gA==";
        let SpliceCommand::Insert(insert) = parse_splice_info(&b64(dtmf)).unwrap().command else {
            panic!("not a splice_insert")
        };
        assert_eq!(
            (insert.event_id, insert.pts),
            (1_073_776_558, Some(3_490_025_771))
        );
        assert_eq!(
            (
                insert.unique_program_id,
                insert.avail_num,
                insert.avails_expected
            ),
            (45, 0, 127)
        );
        assert_eq!(insert.break_duration.map(|b| b.duration), Some(5_400_000));
    }

    #[test]
    fn hls_playlists_from_the_corpus() {
        // Comcast/mamba hls_variant_playlist_with_daterange_metadata.m3u8: the OUT and IN of
        // DATERANGE "1-0x22-1585221985", a 30 s break (PLANNED-DURATION=30.000).
        let out = "0xFC303E000000000000000000050680888462C900280226435545490000000100E000002932E00E1270636B5F4550303036373934303130333138220404EDA3A9F9";
        let out = parse_splice_info_hex(out).unwrap();
        assert_eq!(
            (out.tier, out.command.clone()),
            (
                0,
                SpliceCommand::TimeSignal {
                    pts: Some(0x8884_62c9)
                }
            )
        );
        let d = &out.descriptors[0];
        assert_eq!(
            (d.event_id, d.type_id, d.duration),
            (1, 0x22, Some(30 * 90_000))
        );
        assert_eq!(
            (d.upid_type, d.upid.as_slice()),
            (0x0e, &b"pck_EP006794010318"[..])
        );
        assert!(d.starts_break());
        let back = "0xFC303900000000000000000005068088AD947A00230221435545490000000100A00E1270636B5F455030303637393430313033313823040432668403";
        let back = parse_splice_info_hex(back).unwrap();
        let SpliceCommand::TimeSignal { pts: Some(at) } = back.command else {
            panic!()
        };
        assert!(back.descriptors[0].ends_break());
        assert_eq!(back.descriptors[0].duration, None);
        // END-DATE minus START-DATE is 29.997 s.
        assert_eq!(at - 0x8884_62c9, 2_699_697);
        // DATERANGE "2-0x10-1585219520": Program Start, 2713 s.
        let program = "0xFC303E0000000000000000000506807B4C487A00280226435545490000000200E0000E8DBD100E1270636B5F45503030363739343031303331381001018E5BFFD0";
        let d = &parse_splice_info_hex(program).unwrap().descriptors[0];
        assert_eq!((d.type_id, d.duration), (0x10, Some(2713 * 90_000)));

        // rutgersc/m3u8-rs media-playlist-with-cues-1.m3u8 SCTE35-OUT (PLANNED-DURATION=19):
        // an immediate splice_insert.
        let immediate = "0xFC302000000000000000FFF00F05000000147FFFFE001A17B0C0000000000061DFD67D";
        let SpliceCommand::Insert(insert) = parse_splice_info_hex(immediate).unwrap().command
        else {
            panic!()
        };
        assert_eq!(
            (
                insert.event_id,
                insert.out_of_network,
                insert.immediate,
                insert.pts
            ),
            (20, true, true, None)
        );
        let duration = BreakDuration {
            auto_return: true,
            duration: 19 * 90_000,
        };
        assert_eq!(insert.break_duration, Some(duration));
        assert_eq!(insert.unique_program_id, 0xc000);

        // grafov/m3u8 media-playlist-with-oatcls-scte35.m3u8 (#EXT-OATCLS-SCTE35, base64):
        // a 15 s break (#EXT-X-CUE-OUT:15.000).
        let oatcls = "/DAlAAAAAAAAAP/wFAUAAAABf+/+ANgNkv4AFJlwAAEBAQAA5xULLA==";
        let SpliceCommand::Insert(insert) = parse_splice_info(&b64(oatcls)).unwrap().command else {
            panic!()
        };
        assert_eq!((insert.event_id, insert.pts), (1, Some(0xd8_0d92)));
        assert_eq!(insert.break_duration.map(|b| b.duration), Some(15 * 90_000));
        assert_eq!(
            (
                insert.unique_program_id,
                insert.avail_num,
                insert.avails_expected
            ),
            (1, 1, 1)
        );

        // Eyevinn/dash-mpd signal_binary_xmlbin.mpd <Binary>: an MPU UPID and the optional
        // sub_segment fields of a Provider Placement Opportunity Start.
        let dash = "/DBIAAAAAAAAAP/wBQb+RPVwgAAyAjBDVUVJNAAD/H/AAAFbcVAMGlRWU1Q6ZnJhbmNlMl8yMDI2MDYwNF8xMDIwNAEBAADstgk/";
        let info = parse_splice_info(&b64(dash)).unwrap();
        let d = &info.descriptors[0];
        assert_eq!(
            (d.event_id, d.type_id, d.segment_num, d.segments_expected),
            (0x3400_03fc, 0x34, 1, 1)
        );
        assert_eq!(
            (d.upid_type, d.upid.as_slice()),
            (0x0c, &b"TVST:france2_20260604_1020"[..])
        );

        // rutgersc/m3u8-rs media-playlist-with-scte35.m3u8 #EXT-SCTE35 CUE: its
        // section_length (8) is too short for a section: refused, not misread.
        let broken = "/DAIAAAAAAAAAAAQAAZ/I0VniQAQAgBDVUVJQAAAAH+cAAAAAA==";
        assert!(parse_splice_info(&b64(broken)).is_err());
    }

    #[test]
    fn adjustment_wraps_at_33_bits() {
        let mut info = parse_splice_info(&b64(SAMPLE_14_1)).unwrap();
        info.pts_adjustment = PTS_MASK;
        assert_eq!(info.adjusted(1), 0);
        assert_eq!(info.adjusted(10), 9);
        info.pts_adjustment = 5;
        assert_eq!(info.adjusted(PTS_MASK), 4);
    }

    /// `section` with its CRC_32 recomputed.
    fn with_crc(mut section: Vec<u8>) -> Vec<u8> {
        let n = section.len().saturating_sub(4);
        let crc = crc32_mpeg2(&section[..n]);
        section.truncate(n);
        section.extend(crc.to_be_bytes());
        section
    }

    #[test]
    fn header_errors() {
        let good = b64(SAMPLE_14_2);
        let mut table = good.clone();
        table[0] = 0xfd;
        assert!(matches!(
            parse_splice_info(&with_crc(table)),
            Err(MediaError::BadMetadata { .. })
        ));
        let mut crc = good.clone();
        crc[20] ^= 1;
        assert_eq!(
            parse_splice_info(&crc),
            Err(bad("CRC_32 mismatch (SCTE 35 9.6.1)"))
        );
        let mut version = good.clone();
        version[3] = 1;
        assert!(matches!(
            parse_splice_info(&with_crc(version)),
            Err(MediaError::Unsupported { .. })
        ));
        // Component mode splice_insert: program_splice_flag cleared.
        let mut component = good.clone();
        component[19] &= !0x40;
        assert!(matches!(
            parse_splice_info(&with_crc(component)),
            Err(MediaError::Unsupported { .. })
        ));
        // Encrypted: header only.
        let mut encrypted = good.clone();
        encrypted[4] |= 0x80;
        let info = parse_splice_info(&with_crc(encrypted)).unwrap();
        assert_eq!(
            (info.encrypted, info.command, info.descriptors),
            (true, SpliceCommand::Unknown(5), vec![])
        );
        // Trailing stuffing after the section is ignored.
        let mut stuffed = good.clone();
        stuffed.extend([0xff; 10]);
        assert_eq!(parse_splice_info(&stuffed), parse_splice_info(&good));
        for bad_hex in ["0xFC3", "0xZZ", "FC30 25"] {
            assert!(parse_splice_info_hex(bad_hex).is_err(), "{bad_hex}");
        }
        assert_eq!(
            parse_splice_info_hex(
                "fc302500000000000000fff01405000000017feffe00d80d92fe00149970000101010000e7150b2c"
            ),
            parse_splice_info(&b64(
                "/DAlAAAAAAAAAP/wFAUAAAABf+/+ANgNkv4AFJlwAAEBAQAA5xULLA=="
            ))
        );
        assert!(parse_splice_info(&[]).is_err());
    }

    #[test]
    fn truncated_and_corrupted() {
        let legacy =
            "/DA8AAAAAAAAAP///wb+06ACpQAmAiRDVUVJAACcHX//AACky4AMEERJU0NZTVdGMDQ1MjAwMEgxAQEMm4c0";
        for text in [SAMPLE_14_1, SAMPLE_14_2, SAMPLE_14_4, legacy] {
            let data = b64(text);
            for n in 0..data.len() {
                assert!(parse_splice_info(&data[..n]).is_err(), "{n} bytes");
                // The same cut with the lengths and CRC made consistent: still no panic.
                let mut cut = data[..n].to_vec();
                if n >= 3 {
                    let len = (n - 3) as u16 | 0x3000;
                    cut[1..3].copy_from_slice(&len.to_be_bytes());
                    let _ = parse_splice_info(&with_crc(cut));
                }
            }
            for d in flipped(&data, data.len(), 3000) {
                let _ = parse_splice_info(&d);
                // With a fixed CRC the flipped fields reach the command and descriptor readers.
                let _ = parse_splice_info(&with_crc(d));
            }
        }
    }
}
