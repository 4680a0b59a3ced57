//! The bundled test asset (`conformance/media`, made by `media/make.sh`) turned into an
//! endless live stream: segment `k` of a track is asset segment `k mod n` with its
//! timestamps moved forward by `k div n` loops, so every format the origin speaks carries
//! real H.264 and AAC whose times match the manifests exactly.
//!
//! - fMP4 (HLS, DASH): `tfdt` patched in place; the `sidx` that ffmpeg writes is dropped.
//! - MPEG-TS: every PTS, DTS and PCR moved by the loop offset.
//! - Smooth Streaming: `moof` rebuilt with durations in the manifest's 100 ns timescale and a
//!   `tfxd` box (absolute time and duration), as IIS sends it; there is no init segment.
//!
//! Protected presentations ([`Protection`]):
//! - CENC (`cenc`, `cbcs`): the audio and the lowest video rendition as Shaka Packager
//!   encrypted them (`media/enc/{scheme}`, key [`TEST_KEY`] of key id [`TEST_KID`]), looped
//!   like the clear fMP4. Their `saio` offsets count from the `moof` (`tfhd`
//!   default-base-is-moof), so dropping the `sidx` before it and patching `tfdt` in place
//!   keep them right. Loading checks that encrypted segment `k` has the samples (times,
//!   durations, sizes) of clear segment `k`.
//! - HLS AES-128: the clear TS or fMP4 media segment, timestamps shifted, then encrypted
//!   whole with AES-128-CBC and PKCS#7 padding under [`TEST_KEY`]; the IV is the media
//!   sequence number for TS and [`HLS_FMP4_IV`] for fMP4, as the playlists imply. Init
//!   segments stay clear.

use std::path::{Path, PathBuf};

use playhead::Micros;
use playhead::media::{self, InitInfo, MediaError, SampleEntry};

use crate::sim::origin::{
    CencScheme, HLS_FMP4_IV, MediaRef, MediaTrack, OriginConfig, OriginFormat, Protection,
    Rendition, TEST_KEY, TEST_KID,
};

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
    /// MPEG-TS segments (none for the encrypted copies).
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

/// A CENC-protected copy of the audio and of one video rendition (`media/enc/{scheme}`):
/// segment `k` holds the samples of clear segment `k`, encrypted, at the same times.
#[derive(Debug, Clone)]
pub struct EncryptedTracks {
    /// The scheme.
    pub scheme: CencScheme,
    /// The video rendition (`144p`, the clear rendition of the same id).
    pub video: AssetTrack,
    /// The audio track.
    pub audio: AssetTrack,
}

/// The asset: video renditions from the lowest bitrate up, and one audio track.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Video renditions.
    pub video: Vec<AssetTrack>,
    /// The AAC track.
    pub audio: AssetTrack,
    /// The `cenc` copy.
    pub cenc: EncryptedTracks,
    /// The `cbcs` copy.
    pub cbcs: EncryptedTracks,
}

impl Asset {
    /// The asset committed in `conformance/media`.
    pub fn bundled() -> Result<Asset, AssetError> {
        Asset::load(&media_dir())
    }

    /// Loads and checks an asset folder laid out as `make.sh` writes it: `a`, `v/{id}` and
    /// the encrypted copies `enc/{cenc,cbcs}/{a,id}`.
    pub fn load(dir: &Path) -> Result<Asset, AssetError> {
        let audio = load_track(&dir.join("a"), "audio", true)?;
        let vdir = dir.join("v");
        let entries = std::fs::read_dir(&vdir).map_err(|source| AssetError::Io {
            path: vdir.clone(),
            source,
        })?;
        let mut video = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                video.push(load_track(&e.path(), &name, true)?);
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
        let cenc = load_encrypted(dir, CencScheme::Cenc, &video, &audio)?;
        let cbcs = load_encrypted(dir, CencScheme::Cbcs, &video, &audio)?;
        Ok(Asset {
            video,
            audio,
            cenc,
            cbcs,
        })
    }

    /// The CENC-protected copy in `scheme`.
    pub fn encrypted(&self, scheme: CencScheme) -> &EncryptedTracks {
        match scheme {
            CencScheme::Cenc => &self.cenc,
            CencScheme::Cbcs => &self.cbcs,
        }
    }

    /// Segments per loop.
    pub fn segments(&self) -> usize {
        self.audio.fmp4.len()
    }

    /// An origin configuration for `format` describing this asset (1.92 s segments, the
    /// asset's codecs, bitrates and timescales); hosts, scheme and live timing are left at
    /// [`OriginConfig::example`]'s for the caller to set.
    pub fn origin_config(&self, format: OriginFormat) -> OriginConfig {
        self.tracks_config(format, &self.video, &self.audio)
    }

    /// [`Asset::origin_config`] for a protected presentation: [`Protection::Cenc`] lists
    /// only what is encrypted (one video rendition and the audio), with the codecs and
    /// bitrates of the encrypted files; [`Protection::Aes128`] the whole asset.
    pub fn protected_config(&self, format: OriginFormat, protection: Protection) -> OriginConfig {
        let mut c = match protection {
            Protection::Cenc { scheme } => {
                let e = self.encrypted(scheme);
                self.tracks_config(format, std::slice::from_ref(&e.video), &e.audio)
            }
            Protection::Aes128 => self.origin_config(format),
        };
        c.protection = Some(protection);
        c
    }

    fn tracks_config(
        &self,
        format: OriginFormat,
        video: &[AssetTrack],
        audio: &AssetTrack,
    ) -> OriginConfig {
        let mut c = OriginConfig::example(format);
        c.video = video
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
        c.audio_bandwidth = audio.bandwidth;
        c.audio_codecs = audio.codecs.clone();
        c.audio_private = audio.codec_private.clone();
        c.video_timescale = video
            .first()
            .and_then(|v| i64::try_from(v.timescale).ok())
            .unwrap_or(90_000);
        c.audio_timescale = i64::try_from(audio.timescale).unwrap_or(48_000);
        c.segment_duration = SEGMENT;
        c.vod_duration = Micros(SEGMENT.0 * self.segments() as i64);
        c
    }

    /// [`Asset::body`] of a presentation protected by `protection` (`None`: clear): the
    /// encrypted files for [`Protection::Cenc`] (fMP4 formats; one video rendition, index 0,
    /// and the audio), the clear media encrypted whole for [`Protection::Aes128`] (HLS
    /// formats; init segments clear).
    pub fn body_with(
        &self,
        format: OriginFormat,
        protection: Option<Protection>,
        media: MediaRef,
    ) -> Option<Vec<u8>> {
        match protection {
            None => self.body(format, media),
            Some(Protection::Cenc { scheme }) => {
                if !matches!(
                    format,
                    OriginFormat::HlsFmp4 | OriginFormat::DashTemplate | OriginFormat::DashTimeline
                ) {
                    return None;
                }
                let e = self.encrypted(scheme);
                let track = match media.track {
                    MediaTrack::Video(0) => &e.video,
                    MediaTrack::Video(_) => return None,
                    MediaTrack::Audio => &e.audio,
                };
                let Some(k) = media.segment else {
                    return Some(track.init.clone());
                };
                self.fmp4_segment(track, k)
            }
            Some(Protection::Aes128) => {
                let iv = match format {
                    OriginFormat::HlsTs => crate::aes128::sequence_iv(media.segment?),
                    OriginFormat::HlsFmp4 => HLS_FMP4_IV,
                    _ => return None,
                };
                let clear = self.body(format, media)?;
                if media.segment.is_none() {
                    return Some(clear);
                }
                Some(crate::aes128::encrypt(&TEST_KEY, &iv, &clear))
            }
        }
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
            _ => self.fmp4_segment(track, i64::try_from(k).ok()?),
        }
    }

    /// fMP4 segment `k` of `track`: asset segment `k mod n`, `tfdt` moved by `k div n` loops.
    fn fmp4_segment(&self, track: &AssetTrack, k: i64) -> Option<Vec<u8>> {
        let k = u64::try_from(k).ok()?;
        let n = self.segments() as u64;
        let (i, loops) = (usize::try_from(k % n).ok()?, k / n);
        let mut seg = track.fmp4.get(i)?.clone();
        let delta = loops.wrapping_mul(n).wrapping_mul(ticks(track.timescale));
        shift_tfdt(&mut seg, delta).ok()?;
        Some(seg)
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

/// `media/enc/{scheme}`: the audio (`a`) and one video rendition named as its clear source,
/// each checked against the clear track sample by sample, and protected with [`TEST_KID`].
fn load_encrypted(
    dir: &Path,
    scheme: CencScheme,
    video: &[AssetTrack],
    audio: &AssetTrack,
) -> Result<EncryptedTracks, AssetError> {
    let sdir = dir.join("enc").join(scheme.name());
    let layout = |path: &Path, reason: String| AssetError::Layout {
        path: path.to_owned(),
        reason,
    };
    let entries = std::fs::read_dir(&sdir).map_err(|source| AssetError::Io {
        path: sdir.clone(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "a")
        .collect();
    names.sort();
    let [name] = &names[..] else {
        return Err(layout(
            &sdir,
            format!("want `a` and one video rendition, found {names:?} beside `a`"),
        ));
    };
    let Some(clear_video) = video.iter().find(|v| v.id == *name) else {
        return Err(layout(&sdir, format!("{name}: no such clear rendition")));
    };
    let enc_audio = load_track(&sdir.join("a"), "audio", false)?;
    let enc_video = load_track(&sdir.join(name), name, false)?;
    for (enc, clear, sub) in [(&enc_audio, audio, "a"), (&enc_video, clear_video, name)] {
        let path = sdir.join(sub);
        let p = enc
            .info
            .tracks
            .first()
            .and_then(|t| t.config.protection.as_ref())
            .ok_or_else(|| layout(&path, "init segment without encryption (tenc)".into()))?;
        if p.scheme != scheme.name().as_bytes() || p.default_kid != TEST_KID {
            return Err(layout(
                &path,
                format!(
                    "encrypted as {} with key id {:02x?}, want {} with the test key id",
                    p.scheme.escape_ascii(),
                    p.default_kid,
                    scheme.name()
                ),
            ));
        }
        same_samples(enc, clear).map_err(|reason| layout(&path, reason))?;
    }
    Ok(EncryptedTracks {
        scheme,
        video: enc_video,
        audio: enc_audio,
    })
}

/// Every segment of `enc` has the samples of the same segment of `clear`: count, decode and
/// presentation times, durations, keyframes and sizes (the origin shifts both alike).
pub(crate) fn same_samples(enc: &AssetTrack, clear: &AssetTrack) -> Result<(), String> {
    if enc.fmp4.len() != clear.fmp4.len() || enc.timescale != clear.timescale {
        return Err(format!(
            "{} segments at {} Hz, the clear track has {} at {} Hz",
            enc.fmp4.len(),
            enc.timescale,
            clear.fmp4.len(),
            clear.timescale
        ));
    }
    let key = |s: &media::Sample| (s.dts, s.pts, s.duration, s.keyframe, s.data.len());
    for (k, (e, c)) in enc.fmp4.iter().zip(&clear.fmp4).enumerate() {
        let runs = |seg: &[u8], info: &InitInfo| -> Result<_, String> {
            let runs = media::parse_fragment(seg, info).map_err(|e| format!("{k}.m4s: {e}"))?;
            let base: Vec<_> = runs.iter().map(|r| r.base_media_decode_time).collect();
            let samples: Vec<_> = runs.iter().flat_map(|r| &r.samples).map(key).collect();
            Ok((base, samples))
        };
        let (eb, es) = runs(e, &enc.info)?;
        let (cb, cs) = runs(c, &clear.info)?;
        if eb != cb || es != cs {
            let first = es.iter().zip(&cs).position(|(a, b)| a != b);
            return Err(format!(
                "{k}.m4s: tfdt {eb:?} vs clear {cb:?}, {} samples vs {}, first difference at \
                 sample {first:?}: (dts, pts, duration, keyframe, size) {:?} vs {:?}",
                es.len(),
                cs.len(),
                first.and_then(|i| es.get(i)),
                first.and_then(|i| cs.get(i)),
            ));
        }
    }
    Ok(())
}

fn load_track(dir: &Path, id: &str, with_ts: bool) -> Result<AssetTrack, AssetError> {
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
        if with_ts {
            ts.push(read(&dir.join(format!("{k}.ts")))?);
        }
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

    /// The (dts, pts, duration, keyframe, size) of every sample, and the encryption info.
    fn samples_of(seg: &[u8], init: &[u8]) -> media::Samples {
        media::fragment_samples(seg, &media::parse_init(init).unwrap()).unwrap()
    }

    #[test]
    fn encrypted_segments_have_the_clear_samples_and_carry_encryption_info() {
        let a = asset();
        for scheme in [CencScheme::Cenc, CencScheme::Cbcs] {
            let e = a.encrypted(scheme);
            assert_eq!(e.scheme, scheme);
            assert_eq!(e.video.id, "144p");
            for (enc, clear) in [(&e.video, &a.video[0]), (&e.audio, &a.audio)] {
                let ctx = format!("{}/{}", scheme.name(), enc.id);
                // The codecs are the clear track's (the sample entry's original format).
                assert_eq!(enc.codecs, clear.codecs, "{ctx}");
                assert_eq!(enc.fmp4.len(), 8, "{ctx}");
                let init = media::parse_init(&enc.init).unwrap();
                let p = init.tracks[0].config.protection.clone().unwrap();
                assert_eq!(&p.scheme, scheme.name().as_bytes(), "{ctx}");
                assert_eq!(p.default_kid, TEST_KID, "{ctx}");
                // The init segment's pssh is the CommonSystem box the MPD repeats.
                let pssh = media::find(&enc.init, &[*b"moov", *b"pssh"])
                    .unwrap()
                    .unwrap();
                assert_eq!(
                    enc.init[pssh.start..pssh.body_start() + pssh.body.len()],
                    crate::sim::origin::common_pssh(TEST_KID),
                    "{ctx}"
                );
                let video = enc.width > 0;
                for k in 0..8 {
                    let es = samples_of(&enc.fmp4[k], &enc.init);
                    let cs = samples_of(&clear.fmp4[k], &clear.init);
                    assert!(!cs.units.is_empty());
                    assert_eq!(es.units.len(), cs.units.len(), "{ctx} {k}");
                    let tfdt = |seg: &[u8], init: &[u8]| {
                        media::parse_fragment(seg, &media::parse_init(init).unwrap()).unwrap()[0]
                            .base_media_decode_time
                    };
                    assert_eq!(
                        tfdt(&enc.fmp4[k], &enc.init),
                        tfdt(&clear.fmp4[k], &clear.init)
                    );
                    for (i, (u, c)) in es.units.iter().zip(&cs.units).enumerate() {
                        let at = format!("{ctx} segment {k} sample {i}");
                        assert_eq!(
                            (u.dts, u.pts, u.duration, u.keyframe, u.data.len()),
                            (c.dts, c.pts, c.duration, c.keyframe, c.data.len()),
                            "{at}"
                        );
                        assert!(c.encryption.is_none(), "{at}");
                        let info = u.encryption.as_ref().unwrap();
                        match scheme {
                            // cenc: a per-sample IV; cbcs: the tenc's constant IV.
                            CencScheme::Cenc => assert_eq!(info.iv.len(), 8, "{at}"),
                            CencScheme::Cbcs => {
                                assert!(info.iv.is_empty(), "{at}");
                                assert_eq!(p.default_constant_iv.as_ref().map(Vec::len), Some(16));
                            }
                        }
                        // Video: subsamples (NAL headers clear) covering the sample exactly.
                        if video {
                            assert!(!info.subsamples.is_empty(), "{at}");
                            let total: usize = info
                                .subsamples
                                .iter()
                                .map(|s| s.clear as usize + s.protected as usize)
                                .sum();
                            assert_eq!(total, u.data.len(), "{at}");
                        }
                    }
                    assert!(
                        es.units
                            .iter()
                            .zip(&cs.units)
                            .any(|(u, c)| u.data != c.data),
                        "{ctx} {k}: encrypted"
                    );
                }
            }
        }
    }

    /// Reads `saio` the way a decryptor that ignores `senc` does: the first offset, counted
    /// from the `moof` (`tfhd` default-base-is-moof, no explicit base offset); and where the
    /// `senc` entries start. `None` when there is no `saio`: then no sample has any
    /// auxiliary information (cbcs audio: a constant IV and no subsamples).
    fn saio_target(seg: &[u8]) -> Option<(usize, usize)> {
        let moof = media::find(seg, &[*b"moof"]).unwrap().unwrap();
        let traf = media::find(seg, &[*b"moof", *b"traf"]).unwrap().unwrap();
        let (_, tfhd_flags, _) = traf.child(b"tfhd").unwrap().unwrap().full_header().unwrap();
        assert_eq!(tfhd_flags & 0x02_0001, 0x02_0000, "base is the moof");
        let senc = traf.child(b"senc").unwrap().unwrap();
        let Some(saio) = traf.child(b"saio").unwrap() else {
            assert_eq!(senc.body.len(), 8, "senc without per-sample entries");
            return None;
        };
        let (version, flags, body) = saio.full_header().unwrap();
        let body = if flags & 1 != 0 { &body[8..] } else { body };
        assert_eq!(u32::from_be_bytes(body[..4].try_into().unwrap()), 1);
        let offset = if version == 0 {
            u64::from(u32::from_be_bytes(body[4..8].try_into().unwrap()))
        } else {
            u64::from_be_bytes(body[4..12].try_into().unwrap())
        };
        // senc: version and flags, sample count, then the per-sample info saio points at.
        Some((moof.start + offset as usize, senc.body_start() + 8))
    }

    #[test]
    fn served_encrypted_segments_keep_saio_pointing_at_the_sample_info() {
        let a = asset();
        for scheme in [CencScheme::Cenc, CencScheme::Cbcs] {
            let e = a.encrypted(scheme);
            let raw = std::fs::read(media_dir().join(format!("enc/{}/144p/3.m4s", scheme.name())))
                .unwrap();
            assert!(media::find(&raw, &[*b"sidx"]).unwrap().is_some());
            for track in [MediaTrack::Video(0), MediaTrack::Audio] {
                for k in [3i64, 8 + 3, 8 * 500 + 3] {
                    let seg = a
                        .body_with(
                            OriginFormat::DashTemplate,
                            Some(Protection::Cenc { scheme }),
                            MediaRef {
                                track,
                                segment: Some(k),
                            },
                        )
                        .unwrap();
                    assert!(media::find(&seg, &[*b"sidx"]).unwrap().is_none());
                    let target = saio_target(&seg);
                    let audio_cbcs = track == MediaTrack::Audio && scheme == CencScheme::Cbcs;
                    assert_eq!(target.is_none(), audio_cbcs, "{scheme:?} {track:?}");
                    if let Some((saio, senc)) = target {
                        assert_eq!(saio, senc, "{scheme:?} {track:?} {k}");
                    }
                    let src = match track {
                        MediaTrack::Video(_) => &e.video,
                        MediaTrack::Audio => &e.audio,
                    };
                    let served = samples_of(&seg, &src.init);
                    let stored = samples_of(&src.fmp4[3], &src.init);
                    let shift = (k as u64 / 8) * 8 * ticks(src.timescale);
                    for (x, y) in served.units.iter().zip(&stored.units) {
                        assert_eq!(x.dts, y.dts + shift as i64);
                        assert_eq!((&x.data, &x.encryption), (&y.data, &y.encryption));
                    }
                }
            }
            // In the raw file (sidx first), too: the offsets never depended on it.
            let (saio, senc) = saio_target(&raw).unwrap();
            assert_eq!(saio, senc);
        }
        // Only what was encrypted exists; TS and Smooth have no CENC copy.
        let cenc = Some(Protection::Cenc {
            scheme: CencScheme::Cenc,
        });
        assert!(
            a.body_with(OriginFormat::DashTemplate, cenc, video(0))
                .is_some()
        );
        let v1 = MediaRef {
            track: MediaTrack::Video(1),
            segment: Some(0),
        };
        assert!(a.body_with(OriginFormat::DashTemplate, cenc, v1).is_none());
        assert!(a.body_with(OriginFormat::HlsTs, cenc, video(0)).is_none());
        assert!(a.body_with(OriginFormat::Smooth, cenc, video(0)).is_none());
    }

    #[test]
    fn aes128_segments_decrypt_to_the_clear_ones_with_the_playlists_iv() {
        use cbc::cipher::block_padding::Pkcs7;
        use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
        let a = asset();
        for (format, track) in [
            (OriginFormat::HlsTs, MediaTrack::Video(2)),
            (OriginFormat::HlsTs, MediaTrack::Audio),
            (OriginFormat::HlsFmp4, MediaTrack::Video(1)),
        ] {
            for k in [0i64, 5, 8 * 7 + 1] {
                let m = MediaRef {
                    track,
                    segment: Some(k),
                };
                let enc = a.body_with(format, Some(Protection::Aes128), m).unwrap();
                let iv = match format {
                    OriginFormat::HlsTs => (k as u128).to_be_bytes(),
                    _ => HLS_FMP4_IV,
                };
                let dec = cbc::Decryptor::<aes::Aes128>::new(&TEST_KEY.into(), &iv.into())
                    .decrypt_padded_vec::<Pkcs7>(&enc)
                    .unwrap();
                assert_eq!(dec, a.body(format, m).unwrap(), "{format:?} {track:?} {k}");
            }
        }
        // Init segments stay clear; DASH has no AES-128.
        let init = MediaRef {
            track: MediaTrack::Audio,
            segment: None,
        };
        assert_eq!(
            a.body_with(OriginFormat::HlsFmp4, Some(Protection::Aes128), init),
            a.body(OriginFormat::HlsFmp4, init)
        );
        assert!(
            a.body_with(
                OriginFormat::DashTemplate,
                Some(Protection::Aes128),
                video(0)
            )
            .is_none()
        );
    }

    #[test]
    fn protected_configs_list_what_is_encrypted() {
        let a = asset();
        let c = a.protected_config(
            OriginFormat::DashTimeline,
            Protection::Cenc {
                scheme: CencScheme::Cbcs,
            },
        );
        assert_eq!(
            c.protection,
            Some(Protection::Cenc {
                scheme: CencScheme::Cbcs
            })
        );
        let ids: Vec<&str> = c.video.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["144p"]);
        assert_eq!(c.video[0].bandwidth, a.cbcs.video.bandwidth);
        assert_eq!(c.video[0].codecs, "avc1.64000c");
        assert_eq!(c.audio_bandwidth, a.cbcs.audio.bandwidth);
        let c = a.protected_config(OriginFormat::HlsTs, Protection::Aes128);
        assert_eq!(c.video.len(), 3);
        assert_eq!(c.protection, Some(Protection::Aes128));
        assert_eq!(a.origin_config(OriginFormat::HlsTs).protection, None);
    }

    #[test]
    fn a_stale_encrypted_copy_does_not_load() {
        let a = asset();
        let mut clear = a.video[0].clone();
        clear.fmp4.swap(1, 2);
        let err = same_samples(&a.cenc.video, &clear).unwrap_err();
        assert!(err.starts_with("1.m4s: tfdt"), "{err}");
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
