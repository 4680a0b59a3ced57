//! Media segments: the samples of each `moof/traf`, with exact times and byte ranges.

use std::ops::Range;

use super::bmff::{Mp4Box, boxes};
use super::init::InitInfo;
use super::protection::{parse_aux_info, parse_saio, parse_saiz, parse_senc};
use super::reader::Reader;
use super::sample::{AccessUnit, SampleEncryption, Samples};
use super::{MediaError, Result};
use crate::time::Timescale;

/// The samples one `traf` describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackRun {
    /// `tfhd` track_ID.
    pub track_id: u32,
    /// The track's timescale (from the init segment).
    pub timescale: Timescale,
    /// `tfdt` baseMediaDecodeTime; when absent, times continue from the track's previous
    /// `traf` in the same buffer, or from 0.
    pub base_media_decode_time: Option<u64>,
    /// The samples, in decode order.
    pub samples: Vec<Sample>,
    /// Per-sample encryption (`senc`, else `saiz`/`saio`), in sample order, when the
    /// track is protected; empty otherwise.
    pub encryption: Vec<SampleEncryption>,
}

/// One sample of a `trun`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Decode time, in track ticks.
    pub dts: i64,
    /// Presentation time (dts plus the composition offset), in track ticks.
    pub pts: i64,
    /// Duration, in track ticks.
    pub duration: u32,
    /// `sample_is_non_sync_sample` (flag 0x10000) is clear.
    pub keyframe: bool,
    /// The sample's bytes in the buffer given.
    pub data: Range<usize>,
}

/// `tfhd` and `trun` flags (ISO/IEC 14496-12 8.8.7.1, 8.8.8.1).
pub(crate) const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
pub(crate) const TFHD_DESCRIPTION_INDEX: u32 = 0x02;
pub(crate) const TFHD_DURATION: u32 = 0x08;
pub(crate) const TFHD_SIZE: u32 = 0x10;
pub(crate) const TFHD_FLAGS: u32 = 0x20;
const TFHD_BASE_IS_MOOF: u32 = 0x02_0000;
pub(crate) const TRUN_DATA_OFFSET: u32 = 0x01;
pub(crate) const TRUN_FIRST_FLAGS: u32 = 0x04;
pub(crate) const TRUN_DURATION: u32 = 0x100;
pub(crate) const TRUN_SIZE: u32 = 0x200;
pub(crate) const TRUN_FLAGS: u32 = 0x400;
pub(crate) const TRUN_CTO: u32 = 0x800;
const NON_SYNC: u32 = 0x1_0000;

/// Reads every `moof/traf` of a media segment (`styp`, `sidx`, `prft`, ... are skipped).
///
/// Data offsets are resolved per ISO/IEC 14496-12, 8.8.7.1 and 8.8.8.1, taking the buffer
/// as the file: `data` must start where the segment starts.
pub fn parse_fragment(data: &[u8], init: &InitInfo) -> Result<Vec<TrackRun>> {
    let mut runs = Vec::new();
    for moof in boxes(data).of_type(b"moof") {
        let moof = moof?;
        // Without either tfhd base flag: the moof, then the end of the previous traf's data.
        let mut data_end = moof.start;
        for traf in moof.children().of_type(b"traf") {
            let run = parse_traf(data, &traf?, moof.start, &mut data_end, init, &runs)?;
            runs.push(run);
        }
    }
    Ok(runs)
}

fn parse_traf(
    data: &[u8],
    traf: &Mp4Box<'_>,
    moof_start: usize,
    data_end: &mut usize,
    init: &InitInfo,
    earlier: &[TrackRun],
) -> Result<TrackRun> {
    let tfhd = traf
        .child(b"tfhd")?
        .ok_or(MediaError::Missing { what: "traf/tfhd" })?;
    let (_, flags, body) = tfhd.full_header()?;
    let mut r = Reader::new(body, "tfhd");
    let track_id = r.u32()?;
    let track = init.track(track_id).ok_or(MediaError::Missing {
        what: "the traf's track in the init segment",
    })?;
    let base = if flags & TFHD_BASE_DATA_OFFSET != 0 {
        usize::try_from(r.u64()?)
            .map_err(|_| tfhd.bad("base_data_offset beyond the address space"))?
    } else if flags & TFHD_BASE_IS_MOOF != 0 {
        moof_start
    } else {
        *data_end
    };
    if flags & TFHD_DESCRIPTION_INDEX != 0 {
        r.skip(4)?;
    }
    let mut defaults = track.defaults;
    defaults.duration = r.u32_or(flags & TFHD_DURATION != 0, defaults.duration)?;
    defaults.size = r.u32_or(flags & TFHD_SIZE != 0, defaults.size)?;
    defaults.flags = r.u32_or(flags & TFHD_FLAGS != 0, defaults.flags)?;

    let bmdt = traf
        .child(b"tfdt")?
        .map(|tfdt| read_tfdt(&tfdt).map(|(_, t)| t))
        .transpose()?;
    let mut dts = match bmdt {
        Some(t) => i64::try_from(t).map_err(|_| traf.bad("baseMediaDecodeTime above 2^63"))?,
        None => earlier
            .iter()
            .rev()
            .find(|r| r.track_id == track_id)
            .and_then(|r| r.samples.last())
            .map_or(0, |s| s.dts + i64::from(s.duration)),
    };

    let mut samples = Vec::new();
    let mut pos = base;
    for trun in traf.children().of_type(b"trun") {
        let trun = trun?;
        let bad = |reason| trun.bad(reason);
        let (version, flags, body) = trun.full_header()?;
        let mut r = Reader::new(body, "trun");
        let count = r.u32()?;
        if flags & TRUN_DATA_OFFSET != 0 {
            let offset = i64::from(r.u32()? as i32);
            let at = i64::try_from(base).ok().and_then(|b| b.checked_add(offset));
            pos = at
                .and_then(|p| usize::try_from(p).ok())
                .ok_or(bad("data_offset before the buffer"))?;
        }
        let first_flags = r.u32_or(flags & TRUN_FIRST_FLAGS != 0, defaults.flags)?;
        let fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO];
        let record = 4 * fields.iter().filter(|&&f| flags & f != 0).count();
        // Bound the work by the input: records must be present, and no more samples than bytes.
        let count = usize::try_from(count)
            .ok()
            .filter(|&n| n <= data.len() && n.saturating_mul(record) <= r.remaining())
            .ok_or(bad("sample_count exceeds the input"))?;
        samples.reserve(count);
        for i in 0..count {
            let duration = r.u32_or(flags & TRUN_DURATION != 0, defaults.duration)?;
            let size = r.u32_or(flags & TRUN_SIZE != 0, defaults.size)?;
            let sample_flags = r.u32_or(flags & TRUN_FLAGS != 0, defaults.flags)?;
            // first_sample_flags overrides the first sample's flags (8.8.8.1).
            let sample_flags = if i == 0 && flags & TRUN_FIRST_FLAGS != 0 {
                first_flags
            } else {
                sample_flags
            };
            let cto = match (flags & TRUN_CTO != 0, version) {
                (false, _) => 0,
                (true, 0) => i64::from(r.u32()?),
                (true, _) => i64::from(r.u32()? as i32),
            };
            let end = usize::try_from(size).ok().and_then(|s| pos.checked_add(s));
            let end = end
                .filter(|&e| e <= data.len())
                .ok_or(bad("sample data outside the buffer"))?;
            let pts = dts
                .checked_add(cto)
                .ok_or(bad("presentation time overflows"))?;
            let keyframe = sample_flags & NON_SYNC == 0;
            samples.push(Sample {
                dts,
                pts,
                duration,
                keyframe,
                data: pos..end,
            });
            dts = dts
                .checked_add(duration.into())
                .ok_or(bad("decode time overflows"))?;
            pos = end;
        }
    }
    *data_end = pos;
    let encryption = match &track.config.protection {
        Some(p) => sample_encryption(data, traf, moof_start, p.default_iv_size)?,
        None => Vec::new(),
    };
    Ok(TrackRun {
        track_id,
        timescale: track.timescale,
        base_media_decode_time: bmdt,
        samples,
        encryption,
    })
}

/// The encryption of a protected `traf`'s samples: its `senc` box, or else the auxiliary
/// information `saiz`/`saio` point at (ISO/IEC 23001-7, 7.1 and 7.2).
fn sample_encryption(
    data: &[u8],
    traf: &Mp4Box<'_>,
    moof_start: usize,
    iv_size: u8,
) -> Result<Vec<SampleEncryption>> {
    if let Some(senc) = traf.child(b"senc")? {
        return parse_senc(&senc, iv_size);
    }
    let (Some(saiz), Some(saio)) = (traf.child(b"saiz")?, traf.child(b"saio")?) else {
        return Ok(Vec::new());
    };
    let saiz = parse_saiz(&saiz)?;
    let offset = parse_saio(&saio)?
        .first()
        .copied()
        .and_then(|o| usize::try_from(o).ok())
        .and_then(|o| o.checked_add(moof_start))
        .ok_or(traf.bad("saio without a usable offset"))?;
    parse_aux_info(data, offset, &saiz, iv_size)
}

/// The access units of a media segment, for the sample sink: every `traf` of every `moof`,
/// with the configurations of the tracks they belong to (from `init`).
pub fn fragment_samples(data: &[u8], init: &InitInfo) -> Result<Samples> {
    let runs = parse_fragment(data, init)?;
    let mut out = Samples::default();
    for run in runs {
        let Some(track) = init.track(run.track_id) else {
            continue;
        };
        if !out.configs.iter().any(|c| c.track_id == run.track_id) {
            out.configs.push(track.config.clone());
        }
        out.units.reserve(run.samples.len());
        let mut encryption = run.encryption.into_iter();
        for s in run.samples {
            out.units.push(AccessUnit {
                track_id: run.track_id,
                dts: s.dts,
                pts: s.pts,
                duration: s.duration,
                keyframe: s.keyframe,
                data: data.get(s.data).unwrap_or_default().to_vec(),
                encryption: encryption.next(),
            });
        }
    }
    Ok(out)
}

/// `tfdt` version and baseMediaDecodeTime.
fn read_tfdt(tfdt: &Mp4Box<'_>) -> Result<(u8, u64)> {
    let (version, _, body) = tfdt.full_header()?;
    if version > 1 {
        return Err(tfdt.bad("unknown version"));
    }
    Ok((version, Reader::new(body, "tfdt").u32_or_u64(version == 1)?))
}

/// Where each `moof/traf/tfdt` keeps its baseMediaDecodeTime: the offset of the field in
/// `data` and the box version (1: 64-bit field, 0: 32-bit), so a server can shift times in place.
pub fn tfdt_positions(data: &[u8]) -> Result<Vec<(usize, u8)>> {
    let mut out = Vec::new();
    for moof in boxes(data).of_type(b"moof") {
        for traf in moof?.children().of_type(b"traf") {
            if let Some(tfdt) = traf?.child(b"tfdt")? {
                let (version, _) = read_tfdt(&tfdt)?;
                out.push((tfdt.body_start() + 4, version));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::init::parse_init;
    use crate::media::testing::{flipped, media};

    /// Walks the 4-byte length-prefixed NAL units of an AVC sample: they must fill it exactly.
    fn nal_units_fill(mut sample: &[u8]) -> bool {
        while let [a, b, c, d, rest @ ..] = sample {
            let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
            let Some(next) = rest.get(len..) else {
                return false;
            };
            sample = next;
        }
        sample.is_empty()
    }

    #[test]
    fn video_segments() {
        for name in ["144p", "270p", "360p"] {
            let init = parse_init(&media(&format!("v/{name}/init.mp4"))).unwrap();
            for k in 0..8 {
                let data = media(&format!("v/{name}/{k}.m4s"));
                let runs = parse_fragment(&data, &init).unwrap();
                let [run] = &runs[..] else {
                    panic!("{name}/{k}: {} runs", runs.len())
                };
                let start = k * 24576;
                assert_eq!((run.track_id, run.timescale.get()), (1, 12800));
                assert_eq!(run.base_media_decode_time, Some(start as u64));
                assert_eq!(run.samples.len(), 48, "{name}/{k}");
                for (i, s) in run.samples.iter().enumerate() {
                    assert_eq!((s.dts, s.duration), (start + 512 * i as i64, 512));
                    assert_eq!(s.keyframe, i == 0, "{name}/{k} sample {i}");
                    assert!(
                        nal_units_fill(&data[s.data.clone()]),
                        "{name}/{k} sample {i}"
                    );
                }
            }
        }
        // ffprobe: the first presentation times of v/144p/1.m4s (B-frames reorder them).
        let init = parse_init(&media("v/144p/init.mp4")).unwrap();
        let runs = parse_fragment(&media("v/144p/1.m4s"), &init).unwrap();
        let pts: Vec<_> = runs[0].samples[..3].iter().map(|s| s.pts).collect();
        assert_eq!(pts, [25600, 27648, 26624]);
    }

    #[test]
    fn audio_segments() {
        let init = parse_init(&media("a/init.mp4")).unwrap();
        for k in 0..8 {
            let runs = parse_fragment(&media(&format!("a/{k}.m4s")), &init).unwrap();
            let [run] = &runs[..] else {
                panic!("{k}: {} runs", runs.len())
            };
            assert_eq!(
                (run.timescale.get(), run.base_media_decode_time),
                (48000, Some(k * 92160))
            );
            assert_eq!(run.samples.len(), 90);
            let start = k as i64 * 92160;
            for (i, s) in run.samples.iter().enumerate() {
                // The trun gives the asset's very last frame 992 ticks: it ends at 15.359333 s
                // (ffprobe's format duration), 32 ticks short of 720 whole frames.
                let duration = if (k, i) == (7, 89) { 992 } else { 1024 };
                assert_eq!(
                    (s.dts, s.pts, s.duration, s.keyframe),
                    (start + 1024 * i as i64, s.dts, duration, true)
                );
            }
        }
    }

    #[test]
    fn several_moofs_and_the_implicit_base() {
        let init = parse_init(&media("a/init.mp4")).unwrap();
        let (first, second) = (media("a/0.m4s"), media("a/1.m4s"));
        let alone = parse_fragment(&second, &init).unwrap();
        let both = parse_fragment(&[&first[..], &second].concat(), &init).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[1].base_media_decode_time, Some(92160));
        for (a, b) in alone[0].samples.iter().zip(&both[1].samples) {
            assert_eq!(a.data.start + first.len(), b.data.start);
        }
        // Without default-base-is-moof, the first traf's base is its moof all the same.
        let mut implicit = second.clone();
        let tfhd = find_in_traf(&implicit, b"tfhd");
        assert_eq!(implicit[tfhd + 1], 0x02);
        implicit[tfhd + 1] = 0;
        assert_eq!(parse_fragment(&implicit, &init).unwrap(), alone);
    }

    /// Offset of the full-box header of the first `moof/traf/<fourcc>`.
    fn find_in_traf(data: &[u8], fourcc: &[u8; 4]) -> usize {
        crate::media::find(data, &[*b"moof", *b"traf", *fourcc])
            .unwrap()
            .unwrap()
            .body_start()
    }

    #[test]
    fn tfdt_patched_in_place() {
        let init = parse_init(&media("v/270p/init.mp4")).unwrap();
        let mut data = media("v/270p/3.m4s");
        let [(at, version)] = tfdt_positions(&data).unwrap()[..] else {
            panic!()
        };
        assert_eq!(at, find_in_traf(&data, b"tfdt") + 4);
        assert_eq!(version, 1);
        let field = &mut data[at..at + 8];
        assert_eq!(u64::from_be_bytes(field.try_into().unwrap()), 3 * 24576);
        field.copy_from_slice(&(3 * 24576 + 1_000_000_u64).to_be_bytes());
        let runs = parse_fragment(&data, &init).unwrap();
        assert_eq!(runs[0].samples[0].dts, 3 * 24576 + 1_000_000);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let init = parse_init(&media("a/init.mp4")).unwrap();
        let data = media("a/0.m4s");
        let none = InitInfo { tracks: Vec::new() };
        let missing = MediaError::Missing {
            what: "the traf's track in the init segment",
        };
        assert_eq!(parse_fragment(&data, &none), Err(missing));
        // Any prefix fails, or holds no moof whose samples it could resolve.
        for n in 0..data.len() {
            let got = parse_fragment(&data[..n], &init);
            assert!(
                got.as_ref().map_or(true, Vec::is_empty),
                "prefix of {n} bytes: {got:?}"
            );
            let _ = tfdt_positions(&data[..n]);
        }
        let moof_end = find_in_traf(&data, b"trun") + 1024;
        for d in flipped(&data, moof_end, 3000) {
            let _ = (parse_fragment(&d, &init), tfdt_positions(&d));
        }
    }

    #[test]
    fn cenc_fragments_carry_per_sample_encryption() {
        // Shaka Packager's cenc output of the 144p video (conformance/media/make.sh).
        let init = parse_init(&media("enc/cenc/144p/init.mp4")).unwrap();
        let p = init.tracks[0].config.protection.clone().unwrap();
        assert_eq!(&p.scheme, b"cenc");
        assert_eq!(
            p.default_kid,
            0x0011_2233_4455_6677_8899_aabb_ccdd_eeff_u128.to_be_bytes()
        );
        let enc = fragment_samples(&media("enc/cenc/144p/1.m4s"), &init).unwrap();
        let clear_init = parse_init(&media("v/144p/init.mp4")).unwrap();
        let clear = fragment_samples(&media("v/144p/1.m4s"), &clear_init).unwrap();
        assert_eq!(enc.units.len(), 48);
        for (e, c) in enc.units.iter().zip(&clear.units) {
            let info = e.encryption.as_ref().unwrap();
            assert_eq!(info.iv.len(), usize::from(p.default_iv_size));
            // Subsamples cover the sample exactly; the clear ranges are the clear stream's bytes.
            let total: u64 = info
                .subsamples
                .iter()
                .map(|s| u64::from(s.clear) + u64::from(s.protected))
                .sum();
            assert_eq!(total, e.data.len() as u64);
            assert_eq!(e.data.len(), c.data.len());
            let mut at = 0;
            for s in &info.subsamples {
                let clear_end = at + s.clear as usize;
                assert_eq!(e.data[at..clear_end], c.data[at..clear_end]);
                at = clear_end + s.protected as usize;
            }
            assert_ne!(e.data, c.data, "the protected ranges are encrypted");
        }
    }
}
