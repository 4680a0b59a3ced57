//! The bundled test asset (`conformance/media`, made by `media/make.sh`) turned into an
//! endless live stream: segment `k` of a track is asset segment `k mod n` with its
//! timestamps moved forward by `k div n` loops, so every format the origin speaks carries
//! real H.264 and AAC whose times match the manifests exactly.
//!
//! - fMP4 (HLS, DASH): `tfdt` patched in place; the `sidx` that ffmpeg writes is dropped.
//! - MPEG-TS: every PTS, DTS and PCR moved by the loop offset.
//! - Smooth Streaming: `moof` rebuilt with durations in the manifest's 100 ns timescale and a
//!   `tfxd` box (absolute time and duration), as IIS sends it; there is no init segment.

use std::path::{Path, PathBuf};

use playhead::Micros;
use playhead::media::{self, InitInfo, MediaError, SampleEntry};

use crate::sim::origin::{MediaRef, MediaTrack, OriginConfig, OriginFormat, Rendition};

/// Every segment of every track lasts this long (48 frames at 25 fps, 90 AAC frames at 48 kHz).
pub const SEGMENT: Micros = Micros(1_920_000);
/// Smooth Streaming's timescale (100 ns).
const HNS: u64 = 10_000_000;
/// `tfxd`: the Smooth Streaming fragment time box (MS-SSTR 2.2.4.4).
const TFXD: [u8; 16] = [
    0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2,
];

/// Why the asset cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// A file is missing or unreadable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not the media `make.sh` writes.
    #[error("{path}: {source}")]
    Media {
        /// The file.
        path: PathBuf,
        /// The error.
        source: MediaError,
    },
    /// The asset breaks an invariant the origin relies on.
    #[error("{path}: {reason}")]
    Layout {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// One track of the asset.
#[derive(Debug, Clone)]
pub struct AssetTrack {
    /// `144p`.. or `audio`.
    pub id: String,
    /// The fMP4 initialization segment.
    pub init: Vec<u8>,
    /// What it says (read once: Smooth fragments are rebuilt from it on every request).
    pub info: InitInfo,
    /// fMP4 media segments, `sidx` removed.
    pub fmp4: Vec<Vec<u8>>,
    /// MPEG-TS segments.
    pub ts: Vec<Vec<u8>>,
    /// Media timescale of the fMP4 track.
    pub timescale: u64,
    /// RFC 6381 codec string.
    pub codecs: String,
    /// Smooth `CodecPrivateData` (hex): SPS/PPS in Annex B, or the AudioSpecificConfig.
    pub codec_private: String,
    /// Pixels (0 for audio).
    pub width: u32,
    /// Pixels (0 for audio).
    pub height: u32,
    /// Peak bit/s over its fMP4 segments.
    pub bandwidth: u64,
}

/// The asset: video renditions from the lowest bitrate up, and one audio track.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Video renditions.
    pub video: Vec<AssetTrack>,
    /// The AAC track.
    pub audio: AssetTrack,
}

impl Asset {
    /// The asset committed in `conformance/media`.
    pub fn bundled() -> Result<Asset, AssetError> {
        Asset::load(&media_dir())
    }

    /// Loads and checks an asset folder laid out as `make.sh` writes it.
    pub fn load(dir: &Path) -> Result<Asset, AssetError> {
        let audio = load_track(&dir.join("a"), "audio")?;
        let vdir = dir.join("v");
        let entries = std::fs::read_dir(&vdir).map_err(|source| AssetError::Io {
            path: vdir.clone(),
            source,
        })?;
        let mut video = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                video.push(load_track(&e.path(), &name)?);
            }
        }
        video.sort_by_key(|t| t.bandwidth);
        let n = audio.fmp4.len();
        if video.is_empty() || video.iter().any(|v| v.fmp4.len() != n) {
            return Err(AssetError::Layout {
                path: vdir,
                reason: format!("want one or more renditions of {n} segments each"),
            });
        }
        Ok(Asset { video, audio })
    }

    /// Segments per loop.
    pub fn segments(&self) -> usize {
        self.audio.fmp4.len()
    }

    /// An origin configuration for `format` describing this asset (1.92 s segments, the
    /// asset's codecs, bitrates and timescales); hosts, scheme and live timing are left at
    /// [`OriginConfig::example`]'s for the caller to set.
    pub fn origin_config(&self, format: OriginFormat) -> OriginConfig {
        let mut c = OriginConfig::example(format);
        c.video = self
            .video
            .iter()
            .map(|v| Rendition {
                id: v.id.clone(),
                bandwidth: v.bandwidth,
                width: v.width,
                height: v.height,
                codecs: v.codecs.clone(),
                codec_private: v.codec_private.clone(),
            })
            .collect();
        c.audio_bandwidth = self.audio.bandwidth;
        c.audio_codecs = self.audio.codecs.clone();
        c.audio_private = self.audio.codec_private.clone();
        c.video_timescale = i64::try_from(self.video[0].timescale).unwrap_or(90_000);
        c.audio_timescale = i64::try_from(self.audio.timescale).unwrap_or(48_000);
        c.segment_duration = SEGMENT;
        c.vod_duration = Micros(SEGMENT.0 * self.segments() as i64);
        c
    }

    /// The bytes of `media` in `format`, or `None` when the asset has no such thing (a
    /// negative segment number, an init segment for TS or Smooth, a track it lacks).
    pub fn body(&self, format: OriginFormat, media: MediaRef) -> Option<Vec<u8>> {
        let track = match media.track {
            MediaTrack::Video(i) => self.video.get(i)?,
            MediaTrack::Audio => &self.audio,
        };
        let Some(k) = media.segment else {
            return matches!(
                format,
                OriginFormat::HlsFmp4 | OriginFormat::DashTemplate | OriginFormat::DashTimeline
            )
            .then(|| track.init.clone());
        };
        let k = u64::try_from(k).ok()?;
        let n = self.segments() as u64;
        let (i, loops) = (usize::try_from(k % n).ok()?, k / n);
        match format {
            OriginFormat::HlsTs => {
                let mut ts = track.ts.get(i)?.clone();
                let ticks_90k = loops.wrapping_mul(n).wrapping_mul(ticks(90_000));
                media::shift_ts_timestamps(&mut ts, ticks_90k).ok()?;
                Some(ts)
            }
            OriginFormat::Smooth => smooth_fragment(track, i, k),
            _ => {
                let mut seg = track.fmp4.get(i)?.clone();
                let delta = loops.wrapping_mul(n).wrapping_mul(ticks(track.timescale));
                shift_tfdt(&mut seg, delta).ok()?;
                Some(seg)
            }
        }
    }
}

/// `conformance/media`.
pub fn media_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("media")
}

/// [`SEGMENT`] in ticks of `timescale`.
fn ticks(timescale: u64) -> u64 {
    timescale * SEGMENT.0.unsigned_abs() / 1_000_000
}

fn read(path: &Path) -> Result<Vec<u8>, AssetError> {
    std::fs::read(path).map_err(|source| AssetError::Io {
        path: path.to_owned(),
        source,
    })
}

fn load_track(dir: &Path, id: &str) -> Result<AssetTrack, AssetError> {
    let media_err = |path: &Path| {
        let path = path.to_owned();
        move |source| AssetError::Media { path, source }
    };
    let init_path = dir.join("init.mp4");
    let init = read(&init_path)?;
    let info = media::parse_init(&init).map_err(media_err(&init_path))?;
    let Some(t) = info.tracks.first() else {
        return Err(AssetError::Layout {
            path: init_path,
            reason: "no track".into(),
        });
    };
    let (codec_private, width, height) = match &t.sample_entry {
        SampleEntry::Avc {
            config,
            width,
            height,
            ..
        } => {
            let mut annexb = Vec::new();
            for nal in config.sps.iter().chain(&config.pps) {
                annexb.extend_from_slice(&[0, 0, 0, 1]);
                annexb.extend_from_slice(nal);
            }
            (hex(&annexb), u32::from(*width), u32::from(*height))
        }
        SampleEntry::Mp4a {
            audio_specific_config,
            ..
        } => (hex(audio_specific_config), 0, 0),
        SampleEntry::Other(_) => (String::new(), 0, 0),
    };
    let codecs = t.sample_entry.codec().ok_or_else(|| AssetError::Layout {
        path: init_path.clone(),
        reason: "unknown codec".into(),
    })?;
    let timescale = u64::from(t.timescale.get());
    let want = ticks(timescale);
    let (mut fmp4, mut ts, mut peak) = (Vec::new(), Vec::new(), 0u64);
    for k in 0.. {
        let path = dir.join(format!("{k}.m4s"));
        if !path.exists() {
            break;
        }
        let raw = read(&path)?;
        let seg = strip_sidx(&raw).map_err(media_err(&path))?;
        let runs = media::parse_fragment(&seg, &info).map_err(media_err(&path))?;
        let span: u64 = runs
            .iter()
            .flat_map(|r| &r.samples)
            .map(|s| u64::from(s.duration))
            .sum();
        let base = runs.first().and_then(|r| r.base_media_decode_time);
        // The encoder may shorten the very last frame of the asset (AAC priming): a span
        // within one frame is fine, the next loop's `tfdt` is exact regardless.
        let frame = runs
            .first()
            .and_then(|r| r.samples.first())
            .map_or(0, |s| u64::from(s.duration));
        if span.abs_diff(want) >= frame.max(1) || base != Some(k * want) {
            return Err(AssetError::Layout {
                path,
                reason: format!(
                    "segment spans {span} ticks from {base:?}, want {want} from {}",
                    k * want
                ),
            });
        }
        peak = peak.max(seg.len() as u64 * 8 * 1_000_000 / SEGMENT.0.unsigned_abs());
        fmp4.push(seg);
        let ts_path = dir.join(format!("{k}.ts"));
        ts.push(read(&ts_path)?);
    }
    if fmp4.is_empty() {
        return Err(AssetError::Layout {
            path: dir.to_owned(),
            reason: "no segments".into(),
        });
    }
    Ok(AssetTrack {
        id: id.to_owned(),
        init,
        info,
        fmp4,
        ts,
        timescale,
        codecs,
        codec_private,
        width,
        height,
        // Round up to whole kbit/s: the declared bandwidth must cover the peak.
        bandwidth: peak.div_ceil(1000) * 1000,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The segment without its top-level `sidx` boxes.
fn strip_sidx(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::with_capacity(data.len());
    for b in media::boxes(data) {
        let b = b?;
        if &b.fourcc != b"sidx" {
            out.extend_from_slice(&data[b.start..b.start + b.header_len + b.body.len()]);
        }
    }
    Ok(out)
}

/// Adds `delta` to every `tfdt` baseMediaDecodeTime, in place.
fn shift_tfdt(seg: &mut [u8], delta: u64) -> Result<(), MediaError> {
    for (at, version) in media::tfdt_positions(seg)? {
        if version == 1 {
            let field: [u8; 8] = seg[at..at + 8].try_into().unwrap_or_default();
            let v = u64::from_be_bytes(field).wrapping_add(delta);
            seg[at..at + 8].copy_from_slice(&v.to_be_bytes());
        } else {
            let field: [u8; 4] = seg[at..at + 4].try_into().unwrap_or_default();
            let v = u64::from(u32::from_be_bytes(field)).wrapping_add(delta);
            let v = u32::try_from(v).map_err(|_| MediaError::Unsupported {
                what: "tfdt v0 overflow".into(),
            })?;
            seg[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
    }
    Ok(())
}

/// Segment `i` of `track` as Smooth fragment number `k`: `moof` (`mfhd`, `traf` with
/// `tfhd`, `trun` in 100 ns units, `tfxd`) and `mdat`.
fn smooth_fragment(track: &AssetTrack, i: usize, k: u64) -> Option<Vec<u8>> {
    let seg = track.fmp4.get(i)?;
    let runs = media::parse_fragment(seg, &track.info).ok()?;
    let run = runs.first()?;
    let scale = |t: i64| -> i64 {
        i64::try_from(i128::from(t) * i128::from(HNS) / i128::from(track.timescale)).unwrap_or(0)
    };
    // Durations from the exact cumulative times, so they add up to the fragment's span.
    let mut trun = Vec::new();
    let mut payload = Vec::new();
    let mut t = 0i64;
    for s in &run.samples {
        let next = t + i64::from(s.duration);
        let dur = scale(next) - scale(t);
        let cto = scale(s.pts - s.dts);
        let flags: u32 = if s.keyframe { 0x0200_0000 } else { 0x0101_0000 };
        trun.extend_from_slice(&u32::try_from(dur).ok()?.to_be_bytes());
        trun.extend_from_slice(&u32::try_from(s.data.len()).ok()?.to_be_bytes());
        trun.extend_from_slice(&flags.to_be_bytes());
        trun.extend_from_slice(&i32::try_from(cto).ok()?.to_be_bytes());
        payload.extend_from_slice(seg.get(s.data.clone())?);
        t = next;
    }
    let count = u32::try_from(run.samples.len()).ok()?;
    let hns_dur = ticks(HNS);
    let mfhd = full_box(b"mfhd", 0, 0, &u32::try_from(k + 1).ok()?.to_be_bytes());
    let tfhd = full_box(b"tfhd", 0, 0, &run.track_id.to_be_bytes());
    let mut tfxd_body = Vec::new();
    tfxd_body.extend_from_slice(&(k * hns_dur).to_be_bytes());
    tfxd_body.extend_from_slice(&hns_dur.to_be_bytes());
    let mut tfxd = Vec::new();
    tfxd.extend_from_slice(&TFXD);
    tfxd.extend_from_slice(&[1, 0, 0, 0]);
    tfxd.extend_from_slice(&tfxd_body);
    let tfxd = plain_box(b"uuid", &tfxd);
    // trun: data offset, then per sample duration, size, flags, composition offset (v1).
    let trun_len = 8 + 4 + 4 + 4 + trun.len();
    let traf_len = 8 + tfhd.len() + trun_len + tfxd.len();
    let moof_len = 8 + mfhd.len() + traf_len;
    let data_offset = i32::try_from(moof_len + 8).ok()?;
    let mut trun_body = Vec::with_capacity(8 + trun.len());
    trun_body.extend_from_slice(&count.to_be_bytes());
    trun_body.extend_from_slice(&data_offset.to_be_bytes());
    trun_body.extend_from_slice(&trun);
    let trun = full_box(b"trun", 1, 0x000f01, &trun_body);
    let traf = plain_box(b"traf", &[tfhd, trun, tfxd].concat());
    let moof = plain_box(b"moof", &[mfhd, traf].concat());
    debug_assert_eq!(moof.len(), moof_len);
    Some([moof, plain_box(b"mdat", &payload)].concat())
}

fn plain_box(fourcc: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let size = u32::try_from(8 + body.len()).unwrap_or(u32::MAX);
    let mut b = Vec::with_capacity(8 + body.len());
    b.extend_from_slice(&size.to_be_bytes());
    b.extend_from_slice(fourcc);
    b.extend_from_slice(body);
    b
}

fn full_box(fourcc: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + body.len());
    v.push(version);
    v.extend_from_slice(&flags.to_be_bytes()[1..]);
    v.extend_from_slice(body);
    plain_box(fourcc, &v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use playhead::Timescale;

    fn asset() -> Asset {
        Asset::bundled().unwrap()
    }

    #[test]
    fn the_bundled_asset_loads_with_its_real_codecs() {
        let a = asset();
        assert_eq!(a.segments(), 8);
        let ids: Vec<&str> = a.video.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["144p", "270p", "360p"]);
        assert_eq!(a.video[2].codecs, "avc1.64001e");
        assert_eq!((a.video[2].width, a.video[2].height), (640, 360));
        assert!(
            a.video[2].codec_private.starts_with("0000000167"),
            "SPS first"
        );
        assert_eq!(a.audio.codecs, "mp4a.40.2");
        assert_eq!(a.audio.timescale, 48_000);
        assert!(a.video.windows(2).all(|w| w[0].bandwidth < w[1].bandwidth));
    }

    fn video(segment: i64) -> MediaRef {
        MediaRef {
            track: MediaTrack::Video(0),
            segment: Some(segment),
        }
    }

    #[test]
    fn looped_fmp4_segments_carry_shifted_decode_times() {
        let a = asset();
        let init = media::parse_init(&a.video[0].init).unwrap();
        let per = ticks(a.video[0].timescale);
        for k in [0i64, 3, 8, 8 * 1000 + 5] {
            let seg = a.body(OriginFormat::DashTimeline, video(k)).unwrap();
            let runs = media::parse_fragment(&seg, &init).unwrap();
            assert_eq!(
                runs[0].base_media_decode_time,
                Some(k as u64 * per),
                "k={k}"
            );
            assert_eq!(runs[0].samples.len(), 48);
            assert!(media::find(&seg, &[*b"sidx"]).unwrap().is_none());
        }
        assert!(
            a.body(
                OriginFormat::HlsTs,
                MediaRef {
                    segment: None,
                    ..video(0)
                }
            )
            .is_none()
        );
        assert!(a.body(OriginFormat::HlsFmp4, video(-1)).is_none());
    }

    #[test]
    fn looped_ts_segments_carry_shifted_timestamps() {
        let a = asset();
        let first_pts = |k| {
            let ts = a
                .body(
                    OriginFormat::HlsTs,
                    MediaRef {
                        track: MediaTrack::Audio,
                        segment: Some(k),
                    },
                )
                .unwrap();
            media::demux(&ts).unwrap()[0].pts.unwrap()
        };
        // 1.4 s of muxer delay, then 1.92 s per segment, across the loop.
        assert_eq!(first_pts(0), 126_000);
        assert_eq!(first_pts(9), 126_000 + 9 * 172_800);
    }

    #[test]
    fn smooth_fragments_have_tfxd_and_100ns_durations() {
        let a = asset();
        for (track, per_sample) in [(MediaTrack::Video(1), 48usize), (MediaTrack::Audio, 90)] {
            let k = 8 * 3 + 2;
            let frag = a
                .body(
                    OriginFormat::Smooth,
                    MediaRef {
                        track,
                        segment: Some(k),
                    },
                )
                .unwrap();
            // What a Smooth client knows: the manifest's 100 ns timescale and
            // CodecPrivateData, from which the core synthesizes the init segment.
            let t = match track {
                MediaTrack::Video(i) => &a.video[i],
                MediaTrack::Audio => &a.audio,
            };
            let private: Vec<u8> = (0..t.codec_private.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&t.codec_private[i..i + 2], 16).unwrap())
                .collect();
            let smooth = media::smooth::SmoothTrack {
                track_id: 1,
                timescale: Timescale::HNS,
                fourcc: &t.codecs,
                codec_private_data: &private,
                width: Some(t.width),
                height: Some(t.height),
                sample_rate: Some(48_000),
                channels: Some(2),
                protection: None,
            };
            let init = media::parse_init(&media::smooth::init_segment(&smooth).unwrap()).unwrap();
            let runs = media::parse_fragment(&frag, &init).unwrap();
            let samples = &runs[0].samples;
            assert_eq!(samples.len(), per_sample);
            let span: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();
            // Exact, except the asset's shortened very last AAC frame (not in fragment 2).
            assert_eq!(span, 19_200_000);
            assert!(samples[0].keyframe);
            let traf = media::find(&frag, &[*b"moof", *b"traf"]).unwrap().unwrap();
            let uuid = traf.child(b"uuid").unwrap().unwrap();
            assert_eq!(uuid.body[..16], TFXD);
            let time = u64::from_be_bytes(uuid.body[20..28].try_into().unwrap());
            assert_eq!(time, k as u64 * 19_200_000);
            // The payload is the fMP4 segment's, byte for byte.
            let i = (k % 8) as usize;
            let src = match track {
                MediaTrack::Video(v) => &a.video[v],
                MediaTrack::Audio => &a.audio,
            };
            let src_init = media::parse_init(&src.init).unwrap();
            let src_runs = media::parse_fragment(&src.fmp4[i], &src_init).unwrap();
            for (x, y) in samples.iter().zip(&src_runs[0].samples) {
                assert_eq!(frag[x.data.clone()], src.fmp4[i][y.data.clone()]);
            }
        }
    }
}
