//! MPEG-TS (ISO/IEC 13818-1): PES of the first program, ADTS frames, in-place time shifting.

use std::ops::Range;

use super::reader::Reader;
use super::{MediaError, Result, aac};

/// Bytes in a transport stream packet.
pub const PACKET_LEN: usize = 188;

/// PMT stream_type values this module names.
pub mod stream_type {
    /// H.264 video.
    pub const H264: u8 = 0x1b;
    /// H.265 video.
    pub const H265: u8 = 0x24;
    /// AAC audio in ADTS.
    pub const AAC_ADTS: u8 = 0x0f;
    /// AC-3 audio (ATSC).
    pub const AC3: u8 = 0x81;
    /// ID3 timed metadata in PES.
    pub const ID3: u8 = 0x15;
}

/// One reassembled PES packet of an elementary stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pes {
    /// The elementary stream's PID.
    pub pid: u16,
    /// Its PMT stream_type (see [`stream_type`]).
    pub stream_type: u8,
    /// Presentation time, 90 kHz ticks (33 bits).
    pub pts: Option<u64>,
    /// Decode time, 90 kHz ticks (33 bits).
    pub dts: Option<u64>,
    /// The payload after the PES header.
    pub data: Vec<u8>,
}

const TS_MASK: u64 = (1 << 33) - 1;

/// The fields of one packet header that the readers need.
struct Packet {
    pid: u16,
    pusi: bool,
    /// Adaptation field after its length byte.
    adaptation: Range<usize>,
    payload: Range<usize>,
}

fn bad_ts(reason: &'static str) -> MediaError {
    MediaError::BadTs { reason }
}

/// Errs unless `data` is whole packets.
fn whole_packets(data: &[u8]) -> Result<()> {
    if data.len() % PACKET_LEN != 0 {
        return Err(MediaError::Truncated { what: "TS packet" });
    }
    Ok(())
}

/// Reads the header of `p`, a whole packet.
fn packet(p: &[u8]) -> Result<Packet> {
    if p.len() != PACKET_LEN || p[0] != 0x47 {
        return Err(bad_ts("lost sync: packet does not start with 0x47"));
    }
    let control = p[3] >> 4 & 3;
    let (mut adaptation, mut start) = (4..4, 4);
    if control & 2 != 0 {
        start = 5 + usize::from(p[4]);
        adaptation = 5..start;
    }
    if start > PACKET_LEN {
        return Err(bad_ts("adaptation field longer than the packet"));
    }
    let payload = if control & 1 != 0 {
        start..PACKET_LEN
    } else {
        PACKET_LEN..PACKET_LEN
    };
    Ok(Packet {
        pid: u16::from_be_bytes([p[1] & 0x1f, p[2]]),
        pusi: p[1] & 0x40 != 0,
        adaptation,
        payload,
    })
}

/// The first program's PMT PID and elementary streams, as PAT and PMT tell.
#[derive(Default)]
struct Program {
    pmt_pid: Option<u16>,
    /// (PID, stream_type).
    streams: Vec<(u16, u8)>,
}

impl Program {
    /// Reads the PAT or PMT in a packet; `false` when `pid` carries neither.
    fn read_psi(&mut self, pid: u16, pusi: bool, payload: &[u8]) -> Result<bool> {
        let is_pat = pid == 0;
        if !is_pat && Some(pid) != self.pmt_pid {
            return Ok(false);
        }
        if !pusi {
            return Ok(true); // a section continuing from an earlier packet: see `section`
        }
        let Some((table_id, mut r)) = section(payload)? else {
            return Ok(true);
        };
        if is_pat && table_id == 0 {
            while r.remaining() >= 4 {
                let (program, pid) = (r.u16()?, r.u16()? & 0x1fff);
                if program != 0 {
                    self.pmt_pid = Some(pid);
                    break;
                }
            }
        } else if !is_pat && table_id == 2 {
            r.skip(2)?; // PCR_PID
            let info = r.u16()? & 0xfff;
            r.skip(info.into())?;
            self.streams.clear();
            while r.remaining() > 0 {
                let (stream_type, pid) = (r.u8()?, r.u16()? & 0x1fff);
                let info = r.u16()? & 0xfff;
                r.skip(info.into())?;
                self.streams.push((pid, stream_type));
            }
        }
        Ok(true)
    }

    fn stream_type(&self, pid: u16) -> Option<u8> {
        self.streams.iter().find(|s| s.0 == pid).map(|s| s.1)
    }
}

/// The table_id and the syntax section's body (after the 5 bytes that follow section_length,
/// before the CRC) of a PSI payload; `None` for stuffing. The CRC is not checked.
fn section(payload: &[u8]) -> Result<Option<(u8, Reader<'_>)>> {
    let mut r = Reader::new(payload, "PSI section");
    let pointer = r.u8()?;
    r.skip(pointer.into())?;
    let table_id = r.u8()?;
    if table_id == 0xff {
        return Ok(None);
    }
    let len = usize::from(r.u16()? & 0xfff);
    let body = r.bytes(len).map_err(|_| MediaError::Unsupported {
        what: "a PSI section spanning packets".into(),
    })?;
    let body = body
        .get(5..len.saturating_sub(4))
        .ok_or(bad_ts("PSI section_length too short"))?;
    Ok(Some((table_id, Reader::new(body, "PSI section"))))
}

/// Reassembles the PES packets of the first program's elementary streams, in the order they
/// start. Payload before a stream's first unit start is dropped; memory stays below the input size.
pub fn demux(data: &[u8]) -> Result<Vec<Pes>> {
    let mut program = Program::default();
    // (index of the first packet, PES being filled)
    let mut open: Vec<(usize, Pes)> = Vec::new();
    let mut done: Vec<(usize, Pes)> = Vec::new();
    whole_packets(data)?;
    for (i, p) in data.chunks_exact(PACKET_LEN).enumerate() {
        let pk = packet(p)?;
        let payload = &p[pk.payload];
        if program.read_psi(pk.pid, pk.pusi, payload)? {
            continue;
        }
        let Some(stream_type) = program.stream_type(pk.pid) else {
            continue;
        };
        let at = open.iter().position(|(_, o)| o.pid == pk.pid);
        if pk.pusi {
            if let Some(at) = at {
                let (first, pes) = open.swap_remove(at);
                done.push((first, finish(pes)?));
            }
            let pes = Pes {
                pid: pk.pid,
                stream_type,
                pts: None,
                dts: None,
                data: payload.to_vec(),
            };
            open.push((i, pes));
        } else if let Some(at) = at {
            open[at].1.data.extend_from_slice(payload);
        }
    }
    for (first, pes) in open {
        done.push((first, finish(pes)?));
    }
    crate::order::sort_by_key(&mut done, |d| d.0 as u128);
    Ok(done.into_iter().map(|d| d.1).collect())
}

/// Stream ids whose PES carry no optional header (13818-1, Table 2-21).
fn has_optional_header(stream_id: u8) -> bool {
    !matches!(
        stream_id,
        0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff
    )
}

/// Parses the PES header at the start of `pes.data` and leaves only the payload there.
fn finish(mut pes: Pes) -> Result<Pes> {
    let mut r = Reader::new(&pes.data, "PES header");
    if r.array()? != [0, 0, 1] {
        return Err(bad_ts("PES packet_start_code_prefix missing"));
    }
    let stream_id = r.u8()?;
    let len = usize::from(r.u16()?);
    if has_optional_header(stream_id) {
        r.skip(1)?;
        let flags = r.u8()? >> 6;
        let header_len = r.u8()?;
        let mut h = Reader::new(r.bytes(header_len.into())?, "PES header");
        if flags & 2 != 0 {
            pes.pts = Some(read_ts(&h.array::<5>()?));
        }
        if flags == 3 {
            pes.dts = Some(read_ts(&h.array::<5>()?));
        }
    }
    let start = r.pos();
    let end = if len == 0 {
        pes.data.len()
    } else {
        pes.data.len().min(6 + len)
    };
    pes.data.truncate(end.max(start));
    pes.data.drain(..start);
    Ok(pes)
}

/// A 33-bit PTS or DTS from its 5 bytes with marker bits.
fn read_ts(f: &[u8]) -> u64 {
    u64::from(f[0] >> 1 & 7) << 30
        | u64::from(f[1]) << 22
        | u64::from(f[2] >> 1) << 15
        | u64::from(f[3]) << 7
        | u64::from(f[4] >> 1)
}

/// Writes `v` into a PTS or DTS field, keeping its prefix and marker bits.
fn write_ts(f: &mut [u8], v: u64) {
    f[0] = (f[0] & 0xf1) | (v >> 29) as u8 & 0x0e;
    f[1] = (v >> 22) as u8;
    f[2] = (f[2] & 0x01) | (v >> 14) as u8 & 0xfe;
    f[3] = (v >> 7) as u8;
    f[4] = (f[4] & 0x01) | (v << 1) as u8 & 0xfe;
}

/// Adds `delta_90k` (mod 2^33) to every PES PTS and DTS and every PCR base, in place; the
/// PCR extension, OPCR and marker bits are kept. Each PES header must fit in its first packet.
pub fn shift_ts_timestamps(packets: &mut [u8], delta_90k: u64) -> Result<()> {
    whole_packets(packets)?;
    let mut program = Program::default();
    for p in packets.chunks_exact_mut(PACKET_LEN) {
        let pk = packet(p)?;
        let af = &mut p[pk.adaptation.clone()];
        if af.len() >= 7 && af[0] & 0x10 != 0 {
            let f = &mut af[1..6];
            let base = u64::from(f[0]) << 25
                | u64::from(f[1]) << 17
                | u64::from(f[2]) << 9
                | u64::from(f[3]) << 1
                | u64::from(f[4] >> 7);
            let v = base.wrapping_add(delta_90k) & TS_MASK;
            f[..4].copy_from_slice(&((v >> 1) as u32).to_be_bytes());
            f[4] = (f[4] & 0x7f) | ((v & 1) as u8) << 7;
        }
        if program.read_psi(pk.pid, pk.pusi, &p[pk.payload.clone()])? || !pk.pusi {
            continue;
        }
        if program.stream_type(pk.pid).is_some() {
            shift_pes_header(&mut p[pk.payload], delta_90k)?;
        }
    }
    Ok(())
}

fn shift_pes_header(pes: &mut [u8], delta: u64) -> Result<()> {
    let spanning = || MediaError::Unsupported {
        what: "a PES header spanning packets".into(),
    };
    if pes.len() < 9 {
        return Err(spanning());
    }
    if pes[..3] != [0, 0, 1] {
        return Err(bad_ts("PES packet_start_code_prefix missing"));
    }
    if !has_optional_header(pes[3]) {
        return Ok(());
    }
    let fields = match pes[7] >> 6 {
        2 => 1,
        3 => 2,
        _ => 0,
    };
    if usize::from(pes[8]) < 5 * fields {
        return Err(bad_ts("PES_header_data_length too short for PTS/DTS"));
    }
    let fields = pes.get_mut(9..9 + 5 * fields).ok_or_else(spanning)?;
    for f in fields.chunks_exact_mut(5) {
        write_ts(f, read_ts(f).wrapping_add(delta) & TS_MASK);
    }
    Ok(())
}

/// One ADTS frame (ISO/IEC 14496-3, 1.A.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtsFrame {
    /// The equivalent 2-byte AudioSpecificConfig (object type, frequency index, channels).
    pub audio_specific_config: [u8; 2],
    /// Sampling frequency in Hz.
    pub sample_rate: u32,
    /// channel_configuration (0: defined in the stream's program_config_element).
    pub channels: u8,
    /// The raw AAC bytes after the 7-byte header (9 with CRC).
    pub payload: Range<usize>,
}

/// Splits `data`, a run of back-to-back ADTS frames (one PES payload), into frames.
pub fn adts_frames(data: &[u8]) -> Result<Vec<AdtsFrame>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let bad = move |reason| MediaError::BadAdts {
            offset: pos,
            reason,
        };
        let h: [u8; 7] = Reader::new(&data[pos..], "ADTS header").array()?;
        if h[0] != 0xff || h[1] & 0xf6 != 0xf0 {
            return Err(bad("no syncword (0xFFF, layer 0)"));
        }
        let header_len = if h[1] & 1 != 0 { 7 } else { 9 };
        let object_type = (h[2] >> 6) + 1;
        let index = h[2] >> 2 & 0xf;
        let sample_rate = *aac::RATES
            .get(usize::from(index))
            .ok_or(bad("reserved sampling_frequency_index"))?;
        let channels = (h[2] & 1) << 2 | h[3] >> 6;
        let len = usize::from(h[3] & 3) << 11 | usize::from(h[4]) << 3 | usize::from(h[5] >> 5);
        if len < header_len {
            return Err(bad("frame_length shorter than the header"));
        }
        let end = pos + len;
        if end > data.len() {
            return Err(MediaError::Truncated { what: "ADTS frame" });
        }
        let audio_specific_config = aac::asc(object_type, index, channels);
        out.push(AdtsFrame {
            audio_specific_config,
            sample_rate,
            channels,
            payload: pos + header_len..end,
        });
        pos = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testing::{flipped, media};

    /// The PCR bases of a stream, in order.
    fn pcrs(data: &[u8]) -> Vec<u64> {
        let with_pcr = data
            .chunks_exact(PACKET_LEN)
            .map(|p| (p, packet(p).unwrap().adaptation));
        let fields = with_pcr.filter(|(p, af)| af.len() >= 7 && p[af.start] & 0x10 != 0);
        fields
            .map(|(p, af)| {
                u64::from_be_bytes(p[af.start + 1..af.start + 9].try_into().unwrap()) >> 31
            })
            .collect()
    }

    #[test]
    fn audio_ts() {
        for k in 0..8_u64 {
            let pes = demux(&media(&format!("a/{k}.ts"))).unwrap();
            assert!(
                pes.iter()
                    .all(|p| p.stream_type == stream_type::AAC_ADTS && p.pid == 0x100)
            );
            // 1.92 s segments: 172800 ticks apart.
            assert_eq!(pes[0].pts, Some(126000 + k * 172800));
            let frames: Vec<_> = pes
                .iter()
                .flat_map(|p| adts_frames(&p.data).unwrap())
                .collect();
            assert_eq!(frames.len(), 90, "a/{k}.ts");
            for f in frames {
                assert_eq!(
                    (f.audio_specific_config, f.sample_rate, f.channels),
                    ([0x11, 0x90], 48000, 2)
                );
            }
        }
        assert_eq!(demux(&media("a/1.ts")).unwrap()[0].pts, Some(298800));
    }

    #[test]
    fn video_ts() {
        for name in ["144p", "270p", "360p"] {
            for k in 0..8 {
                let pes = demux(&media(&format!("v/{name}/{k}.ts"))).unwrap();
                // ffprobe counts 48 packets in every video segment.
                assert_eq!(pes.len(), 48, "{name}/{k}");
                for p in &pes {
                    assert_eq!(p.stream_type, stream_type::H264);
                    assert!(p.data.starts_with(&[0, 0, 0, 1]) || p.data.starts_with(&[0, 0, 1]));
                    assert!(p.dts.is_some() || p.pts.is_some());
                }
            }
        }
        let pes = demux(&media("v/144p/0.ts")).unwrap();
        assert_eq!((pes[0].pts, pes[0].dts), (Some(133200), Some(126000))); // ffprobe
    }

    #[test]
    fn shifting_moves_every_timestamp() {
        let delta = (1 << 33) - 130_000; // wraps past 2^33 within the segment
        let wrap = |t: Option<u64>| t.map(|t| (t + delta) & TS_MASK);
        for file in ["a/0.ts", "v/144p/0.ts", "v/360p/5.ts"] {
            let data = media(file);
            let mut shifted = data.clone();
            shift_ts_timestamps(&mut shifted, delta).unwrap();
            let (before, after) = (demux(&data).unwrap(), demux(&shifted).unwrap());
            assert_eq!(before.len(), after.len());
            for (b, a) in before.iter().zip(&after) {
                assert_eq!((wrap(b.pts), wrap(b.dts)), (a.pts, a.dts), "{file}");
                assert_eq!(b.data, a.data);
            }
            let expected: Vec<_> = pcrs(&data).iter().map(|&p| (p + delta) & TS_MASK).collect();
            assert_eq!(pcrs(&shifted), expected);
            assert!(!expected.is_empty() || file.starts_with('a'));
            // Shifting back restores every byte, marker bits and PCR extensions included.
            shift_ts_timestamps(&mut shifted, (1 << 33) - delta).unwrap();
            assert!(shifted == data, "{file}");
        }
    }

    #[test]
    fn adts_headers() {
        let frame = [0xff, 0xf1, 0x4c, 0x80, 0x01, 0x1f, 0xfc, 0xaa]; // 8 bytes, LC 48 kHz stereo
        let got = adts_frames(&frame).unwrap();
        assert_eq!(
            (got[0].audio_specific_config, got[0].payload.clone()),
            ([0x11, 0x90], 7..8)
        );
        let mut crc = frame;
        crc[1] = 0xf0; // protection_absent 0: a 9-byte header, longer than the frame
        assert!(matches!(
            adts_frames(&crc),
            Err(MediaError::BadAdts { offset: 0, .. })
        ));
        assert_eq!(
            adts_frames(&frame[..5]),
            Err(MediaError::Truncated {
                what: "ADTS header"
            })
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let data = media("a/0.ts");
        assert_eq!(
            demux(&data[..187]),
            Err(MediaError::Truncated { what: "TS packet" })
        );
        let mut lost = data.clone();
        lost[3 * PACKET_LEN] = 0x46;
        assert!(matches!(demux(&lost), Err(MediaError::BadTs { .. })));
        assert!(matches!(
            shift_ts_timestamps(&mut lost, 1),
            Err(MediaError::BadTs { .. })
        ));
        for n in (0..=data.len()).step_by(PACKET_LEN) {
            let _ = demux(&data[..n]);
            let _ = shift_ts_timestamps(&mut data[..n].to_vec(), 7);
        }
        // ADTS: exactly the frame boundaries are valid ends.
        let pes = &demux(&data).unwrap()[0].data;
        let ends: Vec<_> = adts_frames(pes)
            .unwrap()
            .iter()
            .map(|f| f.payload.end)
            .collect();
        for n in 0..=pes.len() {
            assert_eq!(
                adts_frames(&pes[..n]).is_ok(),
                n == 0 || ends.contains(&n),
                "{n}"
            );
        }
        for file in ["a/0.ts", "v/144p/0.ts"] {
            let data = media(file);
            for mut d in flipped(&data, 8 * PACKET_LEN, 2000) {
                if let Ok(pes) = demux(&d) {
                    pes.iter().for_each(|p| drop(adts_frames(&p.data)));
                }
                let _ = shift_ts_timestamps(&mut d, 1 << 32);
            }
        }
    }
}
