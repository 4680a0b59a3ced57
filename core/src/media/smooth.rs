//! Smooth Streaming for Media Source Extensions, as dash.js and ExoPlayer do it: an init
//! segment synthesized from the manifest's `CodecPrivateData`, and fragments rewritten so a
//! `SourceBuffer` can place them.
//!
//! A Smooth fragment ([MS-SSTR] 2.2.4) is a `moof` + `mdat` without `tfdt`: its time is in a
//! `tfxd` `uuid` box, or only in the manifest. [`rewrite_fragment`] gives it the track id of
//! the synthesized init segment and a `tfdt`, fixing the data offsets the insertion moves,
//! and turns a PIFF sample encryption `uuid` box into the `senc`, `saiz` and `saio` that
//! browsers read.

use super::bits::nal_units;
use super::bmff::{Mp4Box, boxes};
use super::init::Handler;
use super::mux;
use super::reader::Reader;
use super::sample::{CodecConfig, CodecRecord, TrackProtection};
use super::write::BoxWriter;
use super::{MediaError, Result, aac, avc, hevc};
use crate::time::Timescale;

/// `tfxd` extended type: the fragment's absolute time and duration ([MS-SSTR] 2.2.4.4).
pub const TFXD: [u8; 16] = [
    0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6, 0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2,
];

/// `tfrf` extended type: the times of the fragments that follow, on live streams
/// ([MS-SSTR] 2.2.4.5).
pub const TFRF: [u8; 16] = [
    0xd4, 0x80, 0x7e, 0xf2, 0xca, 0x39, 0x46, 0x95, 0x8e, 0x54, 0x26, 0xcb, 0x9e, 0x46, 0xa7, 0x9f,
];

/// PIFF sample encryption extended type (PIFF 1.1, 5.3.2).
pub const PIFF_SENC: [u8; 16] = [
    0xa2, 0x39, 0x4f, 0x52, 0x5a, 0x9b, 0x4f, 0x14, 0xa2, 0x44, 0x6c, 0x42, 0x7c, 0x64, 0x8d, 0xf4,
];

/// What a Smooth manifest's `QualityLevel` says about a track, for [`codec_config`].
#[derive(Debug, Clone)]
pub struct SmoothTrack<'a> {
    /// Track id to give the init segment and the rewritten fragments (non-zero).
    pub track_id: u32,
    /// `StreamIndex@TimeScale` (10 MHz when absent).
    pub timescale: Timescale,
    /// `FourCC`: `H264`, `AVC1`, `DAVC`, `HVC1`, `HEV1`, `AACL`, `AACH`, ... (any case; an
    /// RFC 6381 codecs string such as `avc1.64001f` or `mp4a.40.2` is taken too).
    pub fourcc: &'a str,
    /// `CodecPrivateData`, hex-decoded: H.264 / H.265 parameter sets in Annex B form, or
    /// the AAC AudioSpecificConfig (may be empty for AAC).
    pub codec_private_data: &'a [u8],
    /// `MaxWidth` (or `Width`).
    pub width: Option<u32>,
    /// `MaxHeight` (or `Height`).
    pub height: Option<u32>,
    /// `SamplingRate`.
    pub sample_rate: Option<u32>,
    /// `Channels`.
    pub channels: Option<u32>,
    /// Encryption, when the stream is protected. PlayReady headers hold the KID as a
    /// little-endian GUID: the caller gives it here in `tenc` (big-endian) byte order.
    pub protection: Option<TrackProtection>,
}

/// The decoder configuration of a Smooth track.
///
/// - `H264`/`AVC1`/`DAVC`/`AVC3`: the SPS and PPS of the Annex B `CodecPrivateData` become an
///   `avcC` by [`avc::codec_config`] (4-byte NAL lengths, the Smooth default; chroma format
///   and bit depths from the SPS for AVCProfileIndication 100, 110, 122 and 144); codecs
///   `avc1.PPCCLL`. Width and height come from the manifest, else the SPS.
/// - `HVC1`/`HEV1`/`H265`: VPS, SPS and PPS become an `hvcC` by [`hevc::codec_config`];
///   codecs per ISO/IEC 14496-15 E.3. Width and height come from the manifest, else the SPS.
/// - An SPS that does not parse is an error for both.
/// - `AACL`/`AACH`/`AACP`/`MP4A`: `CodecPrivateData` is the AudioSpecificConfig; when it is
///   empty one is built from `SamplingRate` and `Channels` (AAC-LC, or for `AACH` HE-AAC
///   with explicit SBR signalling at twice the rate, as dash.js does).
///
/// Other FourCCs (`EC-3`, `AC-3`, `TTML`, `WVC1`, ...) are [`MediaError::Unsupported`].
pub fn codec_config(t: &SmoothTrack<'_>) -> Result<CodecConfig> {
    let f = t.fourcc.trim().to_ascii_uppercase();
    let family = f.split('.').next().unwrap_or_default();
    match family {
        "H264" | "AVC1" | "AVC3" | "DAVC" => avc_config(t),
        "HVC1" | "HEV1" | "H265" | "HEVC" => hevc_config(t),
        "AACL" | "AACH" | "AACP" | "MP4A" => {
            let he = matches!(f.as_str(), "AACH" | "AACP" | "MP4A.40.5" | "MP4A.40.29");
            aac_config(t, he)
        }
        _ => Err(MediaError::Unsupported {
            what: format!("Smooth FourCC '{}' for MSE", t.fourcc),
        }),
    }
}

/// The init segment of a Smooth track: [`mux::init_segment`] of its [`codec_config`].
pub fn init_segment(t: &SmoothTrack<'_>) -> Result<Vec<u8>> {
    mux::init_segment(&[codec_config(t)?])
}

fn base_config(t: &SmoothTrack<'_>, handler: Handler, record: CodecRecord) -> CodecConfig {
    CodecConfig {
        track_id: t.track_id,
        handler,
        codec: None,
        timescale: t.timescale,
        record,
        width: None,
        height: None,
        channels: None,
        sample_rate: None,
        protection: t.protection.clone(),
    }
}

/// The NAL units of the Annex B `CodecPrivateData` of each of `types`, a unit's type being
/// `kind` of its first header byte.
fn parameter_sets<'a, const N: usize>(
    t: &SmoothTrack<'a>,
    codec: &'static str,
    kind: fn(u8) -> u8,
    types: [u8; N],
) -> Result<[Vec<&'a [u8]>; N]> {
    let nals: Vec<&'a [u8]> = nal_units(t.codec_private_data).collect();
    if nals.is_empty() {
        return Err(MediaError::BadStream {
            codec,
            reason: "CodecPrivateData holds no Annex B NAL unit",
        });
    }
    Ok(types.map(|k| {
        nals.iter()
            .copied()
            .filter(|n| n.first().map(|b| kind(*b)) == Some(k))
            .collect()
    }))
}

/// `config` with the manifest's picture size, where it gives one, and the track's
/// protection.
fn with_manifest(t: &SmoothTrack<'_>, mut config: CodecConfig) -> CodecConfig {
    config.width = t.width.or(config.width);
    config.height = t.height.or(config.height);
    config.protection = t.protection.clone();
    config
}

fn avc_config(t: &SmoothTrack<'_>) -> Result<CodecConfig> {
    let [sps, pps] = parameter_sets(t, "H.264", |b| b & 0x1f, [7, 8])?;
    let config = avc::codec_config(t.track_id, t.timescale, &sps, &pps)?;
    Ok(with_manifest(t, config))
}

fn hevc_config(t: &SmoothTrack<'_>) -> Result<CodecConfig> {
    let [vps, sps, pps] = parameter_sets(t, "H.265", |b| b >> 1 & 0x3f, [32, 33, 34])?;
    let config = hevc::codec_config(t.track_id, t.timescale, &vps, &sps, &pps)?;
    Ok(with_manifest(t, config))
}

fn aac_config(t: &SmoothTrack<'_>, he: bool) -> Result<CodecConfig> {
    let asc = if t.codec_private_data.is_empty() {
        let rate = t.sample_rate.ok_or(MediaError::Missing {
            what: "SamplingRate (no CodecPrivateData)",
        })?;
        let channels = t.channels.ok_or(MediaError::Missing {
            what: "Channels (no CodecPrivateData)",
        })?;
        build_asc(he, rate, channels)?
    } else {
        t.codec_private_data.to_vec()
    };
    let (channels, rate) = aac::params(&asc);
    let codec = aac::codec_string(&asc);
    let mut c = base_config(t, Handler::Audio, CodecRecord::Aac(asc));
    c.codec = codec;
    c.channels = t.channels.or(channels);
    c.sample_rate = t.sample_rate.or(rate);
    Ok(c)
}

/// An AudioSpecificConfig from the manifest (ISO/IEC 14496-3, 1.6.2.1): AAC-LC, or HE-AAC
/// with explicit hierarchical SBR signalling (object type 5, the core rate, the SBR rate at
/// twice it, then object type 2).
fn build_asc(he: bool, rate: u32, channels: u32) -> Result<Vec<u8>> {
    let index = |rate: u32| {
        aac::rate_index(rate).ok_or_else(|| MediaError::Unsupported {
            what: format!("AAC sampling rate {rate} Hz without CodecPrivateData"),
        })
    };
    let config = aac::channel_configuration(channels).ok_or_else(|| MediaError::Unsupported {
        what: format!("{channels} AAC channels without CodecPrivateData"),
    })?;
    Ok(if he {
        let sbr = index(rate.saturating_mul(2))?;
        aac::he_asc(index(rate)?, sbr, config).to_vec()
    } else {
        aac::asc(2, index(rate)?, config).to_vec()
    })
}

/// A `tfxd` box: the fragment's absolute time and duration, in the track's timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentTime {
    /// Absolute time of the fragment's first sample.
    pub time: u64,
    /// The fragment's duration.
    pub duration: u64,
}

/// The `tfxd` of a Smooth fragment (in its first `moof`), `None` when it has none.
pub fn tfxd(fragment: &[u8]) -> Result<Option<FragmentTime>> {
    let Some(body) = uuid_bodies(fragment, &TFXD)?.into_iter().next() else {
        return Ok(None);
    };
    let (version, _, rest) = full_header(body)?;
    let mut r = Reader::new(rest, "tfxd");
    let wide = version == 1;
    Ok(Some(FragmentTime {
        time: r.u32_or_u64(wide)?,
        duration: r.u32_or_u64(wide)?,
    }))
}

/// The absolute time in a Smooth fragment's `tfxd` box, `None` when it has none.
pub fn fragment_time(fragment: &[u8]) -> Result<Option<u64>> {
    Ok(tfxd(fragment)?.map(|t| t.time))
}

/// The fragments a live Smooth fragment announces in its `tfrf` box (times and durations
/// of the fragments after it), empty when it has none.
pub fn next_fragments(fragment: &[u8]) -> Result<Vec<FragmentTime>> {
    let mut out = Vec::new();
    for body in uuid_bodies(fragment, &TFRF)? {
        let (version, _, rest) = full_header(body)?;
        let mut r = Reader::new(rest, "tfrf");
        let count = usize::from(r.u8()?);
        let wide = version == 1;
        for _ in 0..count {
            out.push(FragmentTime {
                time: r.u32_or_u64(wide)?,
                duration: r.u32_or_u64(wide)?,
            });
        }
    }
    Ok(out)
}

/// A `uuid` body's version, flags and rest, after the 16-byte extended type.
fn full_header(body: &[u8]) -> Result<(u8, u32, &[u8])> {
    match body.get(16..) {
        Some([version, a, b, c, rest @ ..]) => {
            Ok((*version, u32::from_be_bytes([0, *a, *b, *c]), rest))
        }
        _ => Err(MediaError::Truncated { what: "uuid box" }),
    }
}

/// The bodies of the `moof/traf/uuid` boxes of extended type `id` (first `moof` only).
fn uuid_bodies<'a>(fragment: &'a [u8], id: &[u8; 16]) -> Result<Vec<&'a [u8]>> {
    let moof = boxes(fragment)
        .first_of(b"moof")?
        .ok_or(MediaError::Missing { what: "moof" })?;
    let mut out = Vec::new();
    for traf in moof.children().of_type(b"traf") {
        for b in traf?.children().of_type(b"uuid") {
            let b = b?;
            if b.body.starts_with(id) {
                out.push(b.body);
            }
        }
    }
    Ok(out)
}

use super::fragment::{
    TFHD_BASE_DATA_OFFSET, TFHD_DESCRIPTION_INDEX, TFHD_DURATION, TFHD_FLAGS, TFHD_SIZE, TRUN_CTO,
    TRUN_DATA_OFFSET, TRUN_DURATION, TRUN_FIRST_FLAGS, TRUN_FLAGS, TRUN_SIZE,
};

/// The Smooth fragment `fragment` made MSE-ready: the `tfhd` track_ID set to `track_id`,
/// and a `tfdt` (version 1) of `decode_time` inserted after the `tfhd`, replacing any.
///
/// `decode_time` is in the track's timescale: the `tfxd` time ([`fragment_time`]) or the
/// manifest's start time of the fragment. The `moof` grows; the `trun` data offsets and a
/// `tfhd` base_data_offset are moved with the data, and `saio` offsets into the `moof`
/// follow the boxes they point at. A PIFF sample encryption `uuid` box becomes `senc`
/// with `saiz` and `saio` (unless the fragment has a `senc` already); `tfxd` and `tfrf`
/// stay. Boxes around the `moof` (`mdat`, ...) are copied as they are.
///
/// One `moof` with one `traf` is what Smooth sends; more are [`MediaError::Unsupported`].
/// Sample data that the `trun`s place outside `fragment` is an error, so a cut fragment
/// is never passed on.
pub fn rewrite_fragment(fragment: &[u8], track_id: u32, decode_time: u64) -> Result<Vec<u8>> {
    if track_id == 0 {
        return Err(MediaError::BadBox {
            fourcc: *b"tfhd",
            reason: "track_ID is zero",
        });
    }
    let top = boxes(fragment).collect::<Result<Vec<_>>>()?;
    let moofs = top.iter().filter(|b| &b.fourcc == b"moof").count();
    if moofs > 1 {
        return Err(MediaError::Unsupported {
            what: "Smooth fragment with several moof boxes".into(),
        });
    }
    let mut out = Vec::with_capacity(fragment.len().saturating_add(256));
    let mut found = false;
    for b in &top {
        if &b.fourcc == b"moof" {
            let moof = Moof::rewrite(fragment, b, track_id, decode_time)?;
            out.extend_from_slice(&moof);
            found = true;
        } else {
            out.extend_from_slice(raw(fragment, b)?);
        }
    }
    if !found {
        return Err(MediaError::Missing { what: "moof" });
    }
    Ok(out)
}

/// A box's bytes, header included.
fn raw<'a>(data: &'a [u8], b: &Mp4Box<'_>) -> Result<&'a [u8]> {
    data.get(b.start..b.body_start() + b.body.len())
        .ok_or(MediaError::Truncated { what: "box" })
}

/// A later fix-up of the rewritten `moof`, once its size is known.
enum Patch {
    /// A moof-relative `trun` data_offset at this position of the new moof.
    DataOffset { at: usize, old: i32 },
    /// A `tfhd` base_data_offset (8 bytes at `at`).
    BaseDataOffset { at: usize, old: u64 },
    /// A `saio` offset (4 or 8 bytes at `at`), relative to `base` (old file offset).
    Saio {
        at: usize,
        wide: bool,
        old: u64,
        base: u64,
    },
    /// A `saio` offset to write: the senc entries at this position of the new moof.
    NewSaio { at: usize, entries: usize },
}

/// Where a copied span of the old `moof` landed in the new one (offsets in the moofs).
struct Moved {
    old: usize,
    len: usize,
    new: usize,
}

struct Moof {
    moof_start: usize,
    w: BoxWriter,
    patches: Vec<Patch>,
    moved: Vec<Moved>,
}

impl Moof {
    fn rewrite(data: &[u8], moof: &Mp4Box<'_>, track_id: u32, time: u64) -> Result<Vec<u8>> {
        let mut m = Moof {
            moof_start: moof.start,
            w: BoxWriter::with_capacity(moof.body.len().saturating_add(64)),
            patches: Vec::new(),
            moved: Vec::new(),
        };
        let mark = m.w.begin(b"moof");
        let mut trafs = 0;
        for child in moof.children() {
            let child = child?;
            if &child.fourcc == b"traf" {
                trafs += 1;
                if trafs > 1 {
                    return Err(MediaError::Unsupported {
                        what: "Smooth fragment with several traf boxes".into(),
                    });
                }
                m.traf(data, moof, &child, track_id, time)?;
            } else {
                m.copy(data, &child)?;
            }
        }
        if trafs == 0 {
            return Err(MediaError::Missing { what: "moof/traf" });
        }
        m.w.end(mark)?;
        m.patch(moof)
    }

    /// Copies a box as it is, remembering where it went.
    fn copy(&mut self, data: &[u8], b: &Mp4Box<'_>) -> Result<()> {
        let bytes = raw(data, b)?;
        self.moved.push(Moved {
            old: b.start.saturating_sub(self.moof_start),
            len: bytes.len(),
            new: self.w.len(),
        });
        self.w.bytes(bytes);
        Ok(())
    }

    fn traf(
        &mut self,
        data: &[u8],
        moof: &Mp4Box<'_>,
        traf: &Mp4Box<'_>,
        track_id: u32,
        time: u64,
    ) -> Result<()> {
        let tfhd = traf
            .child(b"tfhd")?
            .ok_or(MediaError::Missing { what: "traf/tfhd" })?;
        let (version, flags, body) = tfhd.full_header()?;
        let mut r = Reader::new(body, "tfhd");
        r.skip(4)?; // track_ID
        let explicit_base = flags & TFHD_BASE_DATA_OFFSET != 0;
        let old_base = if explicit_base {
            r.u64()?
        } else {
            // Without a base offset the first traf's data starts at the moof (8.8.7.1).
            u64::try_from(moof.start).unwrap_or(u64::MAX)
        };
        if flags & TFHD_DESCRIPTION_INDEX != 0 {
            r.skip(4)?;
        }
        r.u32_or(flags & TFHD_DURATION != 0, 0)?;
        let default_size = r.u32_or(flags & TFHD_SIZE != 0, 0)?;
        r.u32_or(flags & TFHD_FLAGS != 0, 0)?;
        let has_senc = traf.child(b"senc")?.is_some();

        let mark = self.w.begin(b"traf");
        let mut tfhds = 0;
        let mut data_pos = old_base;
        for child in traf.children() {
            let child = child?;
            match &child.fourcc {
                b"tfhd" => {
                    tfhds += 1;
                    if tfhds > 1 {
                        return Err(child.bad("second tfhd in a traf"));
                    }
                    let rest = body.get(4..).unwrap_or_default();
                    self.w.full_boxed(b"tfhd", version, flags, |w| {
                        w.u32(track_id);
                        w.bytes(rest);
                        Ok(())
                    })?;
                    if explicit_base {
                        // The new tfhd is as long as the old: only the track id changed.
                        let at = self.w.len() - rest.len();
                        self.patches
                            .push(Patch::BaseDataOffset { at, old: old_base });
                    }
                    self.w.full_boxed(b"tfdt", 1, 0, |w| {
                        w.u64(time);
                        Ok(())
                    })?;
                }
                b"tfdt" => {} // replaced
                b"trun" => {
                    let start = self.w.len();
                    self.copy(data, &child)?;
                    data_pos = check_trun(&child, old_base, data_pos, default_size, data.len())?;
                    let (_, trun_flags, _) = child.full_header()?;
                    if trun_flags & TRUN_DATA_OFFSET != 0 && !explicit_base {
                        let at = start + child.header_len + 8;
                        let old = Reader::new(child.body.get(8..).unwrap_or_default(), "trun")
                            .u32()? as i32;
                        self.patches.push(Patch::DataOffset { at, old });
                    }
                }
                b"saio" => {
                    let start = self.w.len();
                    self.copy(data, &child)?;
                    self.saio(&child, start, old_base)?;
                }
                b"uuid" if child.body.starts_with(&PIFF_SENC) && !has_senc => {
                    self.piff_senc(data, &child, explicit_base)?;
                }
                _ => self.copy(data, &child)?,
            }
        }
        self.w.end(mark)
    }

    /// Remembers the offsets of a copied `saio` (written at `start`) for [`Moof::patch`].
    fn saio(&mut self, saio: &Mp4Box<'_>, start: usize, base: u64) -> Result<()> {
        let (version, flags, body) = saio.full_header()?;
        let mut r = Reader::new(body, "saio");
        if flags & 1 != 0 {
            r.skip(8)?; // aux_info_type, aux_info_type_parameter
        }
        let count = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
        let wide = version == 1;
        let each = if wide { 8 } else { 4 };
        if count.saturating_mul(each) > r.remaining() {
            return Err(saio.bad("entry_count exceeds the box"));
        }
        for _ in 0..count {
            let at = start + saio.header_len + 4 + r.pos();
            let old = r.u32_or_u64(wide)?;
            self.patches.push(Patch::Saio {
                at,
                wide,
                old,
                base,
            });
        }
        Ok(())
    }

    /// A PIFF sample encryption box as `senc` + `saiz` + `saio` (CENC, 23001-7 7.2).
    fn piff_senc(&mut self, data: &[u8], b: &Mp4Box<'_>, explicit_base: bool) -> Result<()> {
        let (_, flags, rest) = full_header(b.body)?;
        let mut r = Reader::new(rest, "PIFF sample encryption box");
        let iv_size = if flags & 1 != 0 {
            r.skip(3)?; // AlgorithmID
            let size = r.u8()?;
            r.skip(16)?; // KID
            size
        } else {
            8 // PlayReady's AES-CTR IVs; PIFF leaves the default to the track
        };
        let subsamples = flags & 2 != 0;
        if explicit_base || !matches!(iv_size, 0 | 8 | 16) || (iv_size == 0 && !subsamples) {
            // saio offsets would be file offsets, or there is nothing to size: keep it.
            return self.copy(data, b);
        }
        let count = r.u32()?;
        let entries = r.bytes(r.remaining())?;
        let mut sizes = Vec::new();
        let mut e = Reader::new(entries, "PIFF sample encryption box");
        for _ in 0..count {
            let start = e.pos();
            // Every entry takes a byte or more: a count beyond the bytes runs out here.
            e.skip(iv_size.into())?;
            if subsamples {
                let n = e.u16()?;
                e.skip(usize::from(n) * 6)?;
            }
            let size = u8::try_from(e.pos() - start).map_err(|_| MediaError::Limit {
                what: "sample auxiliary information above 255 bytes",
            })?;
            sizes.push(size);
        }
        let entries = entries.get(..e.pos()).unwrap_or_default();
        let senc = self.w.full(b"senc", 0, flags & 2);
        self.w.u32(count);
        let at_entries = self.w.len();
        self.w.bytes(entries);
        self.w.end(senc)?;
        let same = sizes.first().filter(|&&s| sizes.iter().all(|&t| t == s));
        self.w.full_boxed(b"saiz", 0, 0, |w| {
            w.u8(same.copied().unwrap_or(0));
            w.u32(count);
            if same.is_none() {
                w.bytes(&sizes);
            }
            Ok(())
        })?;
        let saio = self.w.full(b"saio", 0, 0);
        self.w.u32(1);
        self.patches.push(Patch::NewSaio {
            at: self.w.len(),
            entries: at_entries,
        });
        self.w.u32(0);
        self.w.end(saio)
    }

    /// Applies the patches now that the new moof's size is known (it starts where the old
    /// one did: the boxes before it are copied unchanged).
    fn patch(self, moof: &Mp4Box<'_>) -> Result<Vec<u8>> {
        let old_len = moof.header_len + moof.body.len();
        let delta = i64::try_from(self.w.len()).unwrap_or(i64::MAX)
            - i64::try_from(old_len).unwrap_or(i64::MAX);
        let moof_start = u64::try_from(moof.start).unwrap_or(u64::MAX);
        let old_end = moof_start.saturating_add(u64::try_from(old_len).unwrap_or(u64::MAX));
        let overflow = MediaError::Limit {
            what: "offset beyond 32 bits after inserting tfdt",
        };
        // An old file offset in the new file: moved with its box, or with everything after.
        let map = |p: u64| -> Option<u64> {
            if p >= old_end {
                return p.checked_add_signed(delta);
            }
            let rel = usize::try_from(p.checked_sub(moof_start)?).ok()?;
            let m = self
                .moved
                .iter()
                .find(|m| rel >= m.old && rel - m.old < m.len)?;
            let new = m.new + (rel - m.old);
            moof_start.checked_add(u64::try_from(new).ok()?)
        };
        let mut writes = Vec::with_capacity(self.patches.len());
        for p in &self.patches {
            match *p {
                Patch::DataOffset { at, old } => {
                    let new = i64::from(old)
                        .checked_add(delta)
                        .and_then(|v| i32::try_from(v).ok())
                        .ok_or(overflow.clone())?;
                    writes.push((at, new.to_be_bytes().to_vec()));
                }
                Patch::BaseDataOffset { at, old } => {
                    let new = if old >= old_end {
                        old.checked_add_signed(delta).ok_or(overflow.clone())?
                    } else {
                        old
                    };
                    writes.push((at, new.to_be_bytes().to_vec()));
                }
                Patch::Saio {
                    at,
                    wide,
                    old,
                    base,
                } => {
                    // The base itself is the moof (unmoved) or a patched base_data_offset.
                    let new_base = if base >= old_end {
                        base.checked_add_signed(delta).ok_or(overflow.clone())?
                    } else {
                        base
                    };
                    let target = base.checked_add(old).and_then(map);
                    let new = target.and_then(|t| t.checked_sub(new_base)).unwrap_or(old);
                    if wide {
                        writes.push((at, new.to_be_bytes().to_vec()));
                    } else {
                        let v = u32::try_from(new).map_err(|_| overflow.clone())?;
                        writes.push((at, v.to_be_bytes().to_vec()));
                    }
                }
                Patch::NewSaio { at, entries } => {
                    let v = u32::try_from(entries).map_err(|_| overflow.clone())?;
                    writes.push((at, v.to_be_bytes().to_vec()));
                }
            }
        }
        let mut out = self.w.into_bytes();
        for (at, bytes) in writes {
            let field = at
                .checked_add(bytes.len())
                .and_then(|end| out.get_mut(at..end))
                .ok_or(MediaError::Limit {
                    what: "patch outside the moof",
                })?;
            field.copy_from_slice(&bytes);
        }
        Ok(out)
    }
}

/// Checks that a `trun`'s samples lie inside the fragment (`len` bytes); returns where the
/// next run's data would start. `base` is the traf's data base, `pos` the end of the
/// previous run.
fn check_trun(
    trun: &Mp4Box<'_>,
    base: u64,
    pos: u64,
    default_size: u32,
    len: usize,
) -> Result<u64> {
    let (_, flags, body) = trun.full_header()?;
    let mut r = Reader::new(body, "trun");
    let count = u64::from(r.u32()?);
    let start = if flags & TRUN_DATA_OFFSET != 0 {
        let offset = i64::from(r.u32()? as i32);
        base.checked_add_signed(offset)
            .ok_or(trun.bad("data_offset before the fragment"))?
    } else {
        pos
    };
    if flags & TRUN_FIRST_FLAGS != 0 {
        r.skip(4)?;
    }
    let fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO];
    let record = 4 * fields.iter().filter(|&&f| flags & f != 0).count() as u64;
    if count.saturating_mul(record) > r.remaining() as u64 {
        return Err(trun.bad("sample_count exceeds the box"));
    }
    let size = if flags & TRUN_SIZE != 0 {
        let mut size = 0u64;
        for _ in 0..count {
            r.u32_or(flags & TRUN_DURATION != 0, 0)?;
            size = size.saturating_add(u64::from(r.u32()?));
            r.u32_or(flags & TRUN_FLAGS != 0, 0)?;
            r.u32_or(flags & TRUN_CTO != 0, 0)?;
        }
        size
    } else {
        count.saturating_mul(u64::from(default_size))
    };
    let end = start.saturating_add(size);
    if end > u64::try_from(len).unwrap_or(u64::MAX) {
        return Err(MediaError::Truncated {
            what: "Smooth fragment sample data",
        });
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::media::init::{SampleEntry, parse_init};
    use crate::media::mux::tests::{config_of, ffprobe_packets, ffprobe_stream, units_of};
    use crate::media::testing::{flipped, media};
    use crate::media::{find, parse_fragment};

    /// The `CodecPrivateData` of an fMP4 track, as conformance/src/asset.rs makes it.
    fn private_data(init: &[u8]) -> Vec<u8> {
        let info = parse_init(init).unwrap();
        match &info.tracks[0].sample_entry {
            SampleEntry::Avc { config, .. } => config
                .sps
                .iter()
                .chain(&config.pps)
                .flat_map(|nal| [&[0, 0, 0, 1][..], nal].concat())
                .collect(),
            SampleEntry::Mp4a {
                audio_specific_config,
                ..
            } => audio_specific_config.clone(),
            SampleEntry::Other(f) => panic!("{f:?}"),
        }
    }

    fn track<'a>(fourcc: &'a str, cpd: &'a [u8]) -> SmoothTrack<'a> {
        SmoothTrack {
            track_id: 1,
            timescale: Timescale::HNS,
            fourcc,
            codec_private_data: cpd,
            width: None,
            height: None,
            sample_rate: None,
            channels: None,
            protection: None,
        }
    }

    #[test]
    fn avc_from_annex_b() {
        for dir in ["v/144p", "v/270p", "v/360p"] {
            let init = media(&format!("{dir}/init.mp4"));
            let want = config_of(&init);
            let cpd = private_data(&init);
            let got = codec_config(&track("H264", &cpd)).unwrap();
            assert_eq!(got.record, want.record, "{dir}: avcC byte for byte");
            assert_eq!(got.codec, want.codec);
            assert_eq!((got.width, got.height), (want.width, want.height));
            assert_eq!(got.timescale, Timescale::HNS);
            // 3-byte start codes, an access unit delimiter, trailing zeros; manifest size wins.
            let messy = [&[0, 0, 1, 9, 0xf0, 0, 0][..], &cpd[1..], &[0, 0]].concat();
            let mut t = track("avc1", &messy);
            (t.width, t.height) = (Some(1280), Some(720));
            let got = codec_config(&t).unwrap();
            assert_eq!(got.record, want.record, "{dir}");
            assert_eq!((got.width, got.height), (Some(1280), Some(720)));
            let info = parse_init(&init_segment(&t).unwrap()).unwrap();
            assert_eq!(info.tracks[0].sample_entry.codec(), want.codec);
            assert_eq!(info.tracks[0].timescale, Timescale::HNS);
        }
    }

    #[test]
    fn aac_from_the_config_or_the_manifest() {
        let init = media("a/init.mp4");
        let cpd = private_data(&init);
        let got = codec_config(&track("AACL", &cpd)).unwrap();
        let want = config_of(&init);
        assert_eq!((&got.record, &got.codec), (&want.record, &want.codec));
        assert_eq!((got.channels, got.sample_rate), (Some(2), Some(48000)));
        let mut t = track("AACL", &[]);
        (t.sample_rate, t.channels) = (Some(48000), Some(2));
        let got = codec_config(&t).unwrap();
        assert_eq!(got.record, CodecRecord::Aac(vec![0x11, 0x90]));
        assert_eq!(got.codec.as_deref(), Some("mp4a.40.2"));
        // HE-AAC as dash.js writes it: object type 5, 24 kHz core, 48 kHz SBR, then type 2.
        (t.fourcc, t.sample_rate) = ("AACH", Some(24000));
        let got = codec_config(&t).unwrap();
        assert_eq!(got.record, CodecRecord::Aac(vec![0x2b, 0x11, 0x88, 0x00]));
        assert_eq!(got.codec.as_deref(), Some("mp4a.40.5"));
        let info = parse_init(&init_segment(&t).unwrap()).unwrap();
        let SampleEntry::Mp4a {
            channels,
            sample_rate,
            ..
        } = info.tracks[0].sample_entry
        else {
            panic!()
        };
        assert_eq!((channels, sample_rate), (2, 24000));
        t.sample_rate = Some(1234);
        assert!(matches!(
            codec_config(&t),
            Err(MediaError::Unsupported { .. })
        ));
        t.sample_rate = None;
        assert!(matches!(codec_config(&t), Err(MediaError::Missing { .. })));
    }

    /// VPS, SPS and PPS of a 320x180 libx265 stream (Main, level 2, cropped from 184 lines),
    /// and the start of the hvcC ffmpeg wrote for it.
    const HEVC_CPD: &str = "0000000140010C01FFFF01600000030090000003000003003C95980900000001420101\
        01600000030090000003000003003CA00A080B9F796566924CAF016808000003000800000300C840000000\
        014401C172B46240";
    const FFMPEG_HVCC_HEAD: &str = "0101600000009000000000003cf000fcfdf8f800000f";

    fn unhex(s: &str) -> Vec<u8> {
        crate::text::hex_decode(s).unwrap()
    }

    #[test]
    fn hevc_from_annex_b() {
        let cpd = unhex(HEVC_CPD);
        let got = codec_config(&track("HVC1", &cpd)).unwrap();
        let CodecRecord::Hevc(hvcc) = &got.record else {
            panic!()
        };
        assert_eq!(hvcc[..22], unhex(FFMPEG_HVCC_HEAD)[..]);
        assert_eq!(hvcc[22], 3); // VPS, SPS, PPS arrays
        assert_eq!(got.codec.as_deref(), Some("hvc1.1.6.L60.90"));
        assert_eq!((got.width, got.height), (Some(320), Some(180)));
        let init = init_segment(&track("hev1", &cpd)).unwrap();
        assert_eq!(parse_init(&init).unwrap().tracks[0].config, got);
        let stream = ffprobe_stream(&init, "codec_name,codec_tag_string,width,height");
        if let Some(lines) = stream {
            assert_eq!(
                lines,
                [
                    "codec_name=hevc",
                    "codec_tag_string=hvc1",
                    "width=320",
                    "height=180"
                ]
            );
        }
        let no_pps = &cpd[..cpd.len() - 11];
        assert!(codec_config(&track("HVC1", no_pps)).is_err());
    }

    #[test]
    fn unusable_private_data() {
        for (fourcc, cpd) in [
            ("H264", &[][..]),
            ("H264", &[0x67, 0x64, 0, 0x1f]),
            ("H264", &[0, 0, 1, 0x68, 1]),
            ("H264", &[0, 0, 1, 0x67, 0x64, 0, 0, 1, 0x68, 1]),
            (
                "HVC1",
                &[0, 0, 1, 0x40, 1, 0, 0, 1, 0x42, 1, 0, 0, 1, 0x44, 1],
            ),
            ("EC-3", &[]),
            ("WVC1", &[1, 2]),
        ] {
            assert!(
                codec_config(&track(fourcc, cpd)).is_err(),
                "{fourcc} {cpd:?}"
            );
        }
    }

    /// A sample's duration, composition offset and bytes.
    type SmoothSample = (u32, i64, Vec<u8>);

    struct Options {
        /// tfhd with a base_data_offset (pointing at the mdat) instead of none.
        explicit_base: bool,
        /// A PIFF sample encryption box and a tfrf after the tfxd.
        piff: bool,
        /// A tfdt (version 0, to be replaced).
        tfdt: bool,
    }

    const PLAIN: Options = Options {
        explicit_base: false,
        piff: false,
        tfdt: false,
    };

    /// Segment `k` of `dir` as Smooth fragment `k` the way conformance/src/asset.rs builds it:
    /// `mfhd`, `traf` (`tfhd` of track 1, `trun` version 1 flags 0xf01 in 100 ns, `tfxd`)
    /// and `mdat`. Also gives each sample's duration, composition offset and bytes.
    fn smooth_fragment(dir: &str, k: u64, o: &Options) -> (Vec<u8>, Vec<SmoothSample>) {
        let init = media(&format!("{dir}/init.mp4"));
        let units = units_of(&init, &media(&format!("{dir}/{k}.m4s")), 1);
        let ts = i64::from(parse_init(&init).unwrap().tracks[0].timescale.get());
        let scale = |t: i64| t * 10_000_000 / ts;
        let first = units[0].dts;
        let samples: Vec<_> = units
            .iter()
            .map(|u| {
                let (t, next) = (u.dts - first, u.dts - first + i64::from(u.duration));
                let d = u32::try_from(scale(next) - scale(t)).unwrap();
                (d, scale(u.pts - u.dts), u.data.clone())
            })
            .collect();
        let span = 19_200_000u64;
        let mut w = BoxWriter::new();
        let moof = w.begin(b"moof");
        w.full_boxed(b"mfhd", 0, 0, |w| {
            w.u32(k as u32 + 1);
            Ok(())
        })
        .unwrap();
        let traf = w.begin(b"traf");
        let mut base_at = None;
        w.full_boxed(b"tfhd", 0, u32::from(o.explicit_base), |w| {
            w.u32(1);
            if o.explicit_base {
                base_at = Some(w.len());
                w.u64(0);
            }
            Ok(())
        })
        .unwrap();
        if o.tfdt {
            w.full_boxed(b"tfdt", 0, 0, |w| {
                w.u32(12345);
                Ok(())
            })
            .unwrap();
        }
        let trun = w.full(b"trun", 1, 0xf01);
        w.u32(samples.len() as u32);
        let offset_at = w.len();
        w.u32(0);
        for (i, (d, cto, data)) in samples.iter().enumerate() {
            w.u32(*d);
            w.u32(data.len() as u32);
            w.u32(if units[i].keyframe {
                0x0200_0000
            } else {
                0x0101_0000
            });
            w.i32(*cto as i32);
        }
        w.end(trun).unwrap();
        w.boxed(b"uuid", |w| {
            w.bytes(&TFXD);
            w.bytes(&[1, 0, 0, 0]);
            w.u64(k * span);
            w.u64(span);
            Ok(())
        })
        .unwrap();
        if o.piff {
            w.boxed(b"uuid", |w| {
                w.bytes(&PIFF_SENC);
                w.bytes(&[0, 0, 0, 2]);
                w.u32(samples.len() as u32);
                for i in 0..samples.len() {
                    w.bytes(&[i as u8; 8]);
                    w.u16(1 + (i % 2) as u16);
                    for j in 0..1 + i % 2 {
                        w.u16(5 + j as u16);
                        w.u32(16);
                    }
                }
                Ok(())
            })
            .unwrap();
            w.boxed(b"uuid", |w| {
                w.bytes(&TFRF);
                w.bytes(&[1, 0, 0, 0, 2]);
                for n in 1..=2 {
                    w.u64((k + n) * span);
                    w.u64(span);
                }
                Ok(())
            })
            .unwrap();
        }
        w.end(traf).unwrap();
        w.end(moof).unwrap();
        let moof_len = w.len() as u32;
        match base_at {
            Some(at) => {
                w.set_u32(at + 4, moof_len).unwrap();
                w.set_u32(offset_at, 8).unwrap();
            }
            None => w.set_u32(offset_at, moof_len + 8).unwrap(),
        }
        w.boxed(b"mdat", |w| {
            samples.iter().for_each(|s| w.bytes(&s.2));
            Ok(())
        })
        .unwrap();
        (w.into_bytes(), samples)
    }

    fn smooth_track(dir: &str, track_id: u32) -> Vec<u8> {
        let cpd = private_data(&media(&format!("{dir}/init.mp4")));
        let fourcc = if dir == "a" { "AACL" } else { "H264" };
        init_segment(&SmoothTrack {
            track_id,
            ..track(fourcc, &cpd)
        })
        .unwrap()
    }

    /// Checks that `out` reads back as `samples` from `time` on, in track `track_id`.
    fn check(out: &[u8], init: &[u8], track_id: u32, time: u64, samples: &[SmoothSample]) {
        let runs = parse_fragment(out, &parse_init(init).unwrap()).unwrap();
        let [run] = &runs[..] else { panic!() };
        assert_eq!(
            (run.track_id, run.base_media_decode_time),
            (track_id, Some(time))
        );
        assert_eq!(run.samples.len(), samples.len());
        let mut dts = time as i64;
        for (s, (d, cto, data)) in run.samples.iter().zip(samples) {
            assert_eq!((s.dts, s.pts, s.duration), (dts, dts + cto, *d));
            assert_eq!(&out[s.data.clone()], &data[..]);
            dts += i64::from(*d);
        }
    }

    #[test]
    fn rewritten_fragments_read_back() {
        for dir in ["v/144p", "a"] {
            for o in [
                PLAIN,
                Options {
                    explicit_base: true,
                    piff: false,
                    tfdt: true,
                },
                Options {
                    explicit_base: false,
                    piff: true,
                    tfdt: true,
                },
            ] {
                let k = 5;
                let (frag, samples) = smooth_fragment(dir, k, &o);
                let time = fragment_time(&frag).unwrap().unwrap();
                assert_eq!(time, k * 19_200_000);
                let out = rewrite_fragment(&frag, 7, time).unwrap();
                let grown = if o.tfdt { 4 } else { 20 };
                // PIFF: the uuid's 16-byte type goes; saiz (17 + a size per sample) and
                // saio (20) come.
                let piff = if o.piff {
                    17 + samples.len() + 20 - 16
                } else {
                    0
                };
                assert_eq!(out.len(), frag.len() + grown + piff);
                check(&out, &smooth_track(dir, 7), 7, time, &samples);
                assert_eq!(tfxd(&out).unwrap(), tfxd(&frag).unwrap());
                // Again: the tfdt is replaced, not added.
                let again = rewrite_fragment(&out, 7, 99).unwrap();
                assert_eq!(again.len(), out.len());
                check(&again, &smooth_track(dir, 7), 7, 99, &samples);
                if o.piff {
                    piff_became_senc(&frag, &out, samples.len());
                    // The fragment reader finds the PIFF entries as CENC sample encryption.
                    let cpd = private_data(&media(&format!("{dir}/init.mp4")));
                    let fourcc = if dir == "a" { "AACL" } else { "H264" };
                    let t = SmoothTrack {
                        track_id: 7,
                        protection: Some(TrackProtection {
                            scheme: *b"cenc",
                            default_kid: [3; 16],
                            default_iv_size: 8,
                            default_constant_iv: None,
                            crypt_byte_block: 0,
                            skip_byte_block: 0,
                        }),
                        ..track(fourcc, &cpd)
                    };
                    let info = parse_init(&init_segment(&t).unwrap()).unwrap();
                    let read = crate::media::fragment::fragment_samples(&out, &info).unwrap();
                    for (i, u) in read.units.iter().enumerate() {
                        let e = u.encryption.as_ref().unwrap();
                        assert_eq!(
                            (e.iv.len(), e.iv[0], e.subsamples.len()),
                            (8, i as u8, 1 + i % 2)
                        );
                        assert_eq!((e.subsamples[0].clear, e.subsamples[0].protected), (5, 16));
                    }
                    let next = next_fragments(&out).unwrap();
                    assert_eq!(next.len(), 2);
                    assert_eq!(next[1].time, (k + 2) * 19_200_000);
                }
            }
        }
    }

    fn piff_became_senc(frag: &[u8], out: &[u8], n: usize) {
        let traf = find(out, &[*b"moof", *b"traf"]).unwrap().unwrap();
        let senc = traf.child(b"senc").unwrap().unwrap();
        let piff = find(frag, &[*b"moof", *b"traf"]).unwrap().unwrap();
        let mut piff = piff.children().of_type(b"uuid").map(Result::unwrap);
        let piff = piff.find(|b| b.body.starts_with(&PIFF_SENC)).unwrap();
        assert_eq!(senc.body, &piff.body[16..]);
        let saiz = traf.child(b"saiz").unwrap().unwrap();
        assert_eq!(saiz.body[4..9], [0, 0, 0, 0, n as u8]);
        assert_eq!(saiz.body[9..11], [16, 22]);
        let saio = traf.child(b"saio").unwrap().unwrap();
        let offset = u32::from_be_bytes(saio.body[8..12].try_into().unwrap()) as usize;
        assert_eq!(offset, senc.body_start() + 8);
        assert_eq!(out[offset..offset + 8], [0; 8]);
        // A copied saio pointing into the moof follows its target on a second rewrite.
        let again = rewrite_fragment(out, 7, 1 << 40).unwrap();
        let traf = find(&again, &[*b"moof", *b"traf"]).unwrap().unwrap();
        let senc2 = traf.child(b"senc").unwrap().unwrap();
        let saio = traf.child(b"saio").unwrap().unwrap();
        let offset = u32::from_be_bytes(saio.body[8..12].try_into().unwrap()) as usize;
        assert_eq!(offset, senc2.body_start() + 8);
        assert_eq!(senc2.body, senc.body);
    }

    #[test]
    fn ffprobe_plays_rewritten_fragments() {
        for (dir, stream) in [
            ("v/144p", "codec_name=h264\nwidth=256\nheight=144"),
            ("a", "codec_name=aac\nsample_rate=48000\nchannels=2"),
        ] {
            let (frag, samples) = smooth_fragment(dir, 3, &PLAIN);
            let time = fragment_time(&frag).unwrap().unwrap();
            let file = [
                smooth_track(dir, 2),
                rewrite_fragment(&frag, 2, time).unwrap(),
            ]
            .concat();
            let Some(lines) = ffprobe_stream(&file, "codec_name,width,height,sample_rate,channels")
            else {
                return;
            };
            assert_eq!(lines.join("\n"), stream);
            let packets = ffprobe_packets(&file).unwrap();
            assert_eq!(packets.len(), samples.len());
            let mut dts = time as i64;
            for (p, (d, cto, _)) in packets.iter().zip(&samples) {
                assert_eq!((p.0, p.1), (dts + cto, dts), "{dir}");
                dts += i64::from(*d);
            }
        }
    }

    #[test]
    fn bad_fragments_are_errors() {
        assert!(rewrite_fragment(&[], 1, 0).is_err());
        assert_eq!(
            fragment_time(&[]),
            Err(MediaError::Missing { what: "moof" })
        );
        let variants = [
            ("v/144p", PLAIN),
            ("a", PLAIN),
            (
                "a",
                Options {
                    explicit_base: false,
                    piff: true,
                    tfdt: false,
                },
            ),
            (
                "v/144p",
                Options {
                    explicit_base: true,
                    piff: true,
                    tfdt: true,
                },
            ),
        ];
        for (dir, o) in variants {
            let (frag, _) = smooth_fragment(dir, 1, &o);
            assert!(rewrite_fragment(&frag, 0, 0).is_err());
            for n in 0..frag.len() {
                assert!(
                    rewrite_fragment(&frag[..n], 1, 0).is_err(),
                    "{dir}: prefix of {n}"
                );
                let _ = (fragment_time(&frag[..n]), next_fragments(&frag[..n]));
            }
            let moof = find(&frag, &[*b"moof"]).unwrap().unwrap();
            let span = moof.body.len() + 16;
            for d in flipped(&frag, span, 3000) {
                let _ = (rewrite_fragment(&d, 1, 0), tfxd(&d), next_fragments(&d));
            }
            // Two moofs, no traf.
            let twice = [&frag[..], &frag].concat();
            assert!(matches!(
                rewrite_fragment(&twice, 1, 0),
                Err(MediaError::Unsupported { .. })
            ));
            let mut empty = BoxWriter::new();
            empty.boxed(b"moof", |_| Ok(())).unwrap();
            assert!(rewrite_fragment(&empty.into_bytes(), 1, 0).is_err());
        }
        // Without a tfxd: None.
        let (frag, _) = smooth_fragment("a", 0, &PLAIN);
        let traf = find(&frag, &[*b"moof", *b"traf"]).unwrap().unwrap();
        let mut renamed = frag.clone();
        let uuid = traf.child(b"uuid").unwrap().unwrap();
        renamed[uuid.body_start()] ^= 0xff;
        assert_eq!(fragment_time(&renamed), Ok(None));
    }
}
