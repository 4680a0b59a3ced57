//! Writing fragmented MP4 that Media Source Extensions accept: an init segment from
//! [`CodecConfig`]s and media segments (`moof` + `mdat`) from [`AccessUnit`]s.
//!
//! This is what a browser host needs when the stream is not already fMP4: MPEG-TS remuxed
//! for a `SourceBuffer` without `video/mp2t`, and Smooth Streaming, whose fragments come
//! without an init segment (see [`smooth`](super::smooth)).
//!
//! The init segment's `ftyp` is major brand `iso6` with compatible brands `isom`, `iso6`,
//! `mp41` and `dash`: `iso6` covers every fragment feature the media segments use (`tfdt`,
//! default-base-is-moof, `trun` version 1 with signed composition offsets), `isom`/`mp41`
//! let plain MP4 readers in, and `dash` is the DASH segment brand some parsers look for.
//! MSE implementations do not check brands. The `moov` has no edit list, so presentation
//! times are the access units' own; its sample tables are empty and `mvex` holds one `trex`
//! with zero defaults per track: every sample's duration, size and flags are in its `trun`.

use super::protection::Pssh;
use super::sample::{AccessUnit, CodecConfig, CodecRecord, SampleEncryption, TrackProtection};
use super::write::BoxWriter;
use super::{MediaError, Result, aac, avc};

/// The access units of one track for [`media_segment`], in decode order.
#[derive(Debug, Clone, Copy)]
pub struct TrackFragment<'a> {
    /// The track ([`CodecConfig::track_id`] of the init segment); every unit must have it.
    pub track_id: u32,
    /// Its access units, in decode order.
    pub units: &'a [AccessUnit],
}

/// The init segment (`ftyp` + `moov`) for `configs`, one `trak` per configuration in order.
///
/// Supports H.264 (`avc1`), H.265 (`hvc1`), AAC (`mp4a`), AC-3 (`ac-3`), E-AC-3 (`ec-3`)
/// and Opus (`Opus`); a protected track gets `encv`/`enca` with `sinf` (`frma`, `schm`,
/// `schi/tenc`). [`CodecRecord::Id3`] and [`CodecRecord::Other`] are
/// [`MediaError::Unsupported`]; a zero or repeated track id is a [`MediaError::BadBox`].
pub fn init_segment(configs: &[CodecConfig]) -> Result<Vec<u8>> {
    init_segment_with_pssh(configs, &[])
}

/// [`init_segment`] with `pssh` boxes in the `moov` (version 1 when they list key ids),
/// so the browser's `encrypted` event carries the DRM systems' init data.
pub fn init_segment_with_pssh(configs: &[CodecConfig], pssh: &[Pssh]) -> Result<Vec<u8>> {
    if configs.is_empty() {
        return Err(MediaError::Missing {
            what: "a track to write",
        });
    }
    for (i, c) in configs.iter().enumerate() {
        if c.track_id == 0 {
            return Err(bad(b"tkhd", "track_ID is zero"));
        }
        if configs.iter().skip(i + 1).any(|d| d.track_id == c.track_id) {
            return Err(bad(b"tkhd", "track_ID repeated"));
        }
    }
    let mut w = BoxWriter::new();
    w.boxed(b"ftyp", |w| {
        w.bytes(b"iso6");
        w.u32(0);
        for brand in [b"isom", b"iso6", b"mp41", b"dash"] {
            w.bytes(brand);
        }
        Ok(())
    })?;
    let moov = w.begin(b"moov");
    let next_track_id = configs
        .iter()
        .map(|c| c.track_id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    w.full_boxed(b"mvhd", 0, 0, |w| {
        w.zeros(8); // creation and modification times
        w.u32(1000); // timescale
        w.u32(0); // duration: unknown (fragmented)
        w.u32(0x0001_0000); // rate 1.0
        w.u16(0x0100); // volume 1.0
        w.zeros(2 + 8);
        matrix(w);
        w.zeros(24); // pre_defined
        w.u32(next_track_id);
        Ok(())
    })?;
    for c in configs {
        write_trak(&mut w, c)?;
    }
    w.boxed(b"mvex", |w| {
        for c in configs {
            w.full_boxed(b"trex", 0, 0, |w| {
                w.u32(c.track_id);
                w.u32(1); // default_sample_description_index
                w.zeros(12); // duration, size, flags: every trun gives its own
                Ok(())
            })?;
        }
        Ok(())
    })?;
    for p in pssh {
        let version = u8::from(!p.key_ids.is_empty());
        w.full_boxed(b"pssh", version, 0, |w| {
            w.bytes(&p.system_id);
            if version == 1 {
                w.u32(len_u32(p.key_ids.len(), "pssh KID count")?);
                for kid in &p.key_ids {
                    w.bytes(kid);
                }
            }
            w.u32(len_u32(p.data.len(), "pssh data")?);
            w.bytes(&p.data);
            Ok(())
        })?;
    }
    w.end(moov)?;
    Ok(w.into_bytes())
}

/// A media segment: one `moof` (`mfhd` with `sequence`, then per track with units a `traf`
/// of `tfhd` (default-base-is-moof), `tfdt` version 1 and one `trun`) and one `mdat`
/// holding the samples track after track.
///
/// Decode times are kept exactly: a sample's `trun` duration is the next unit's `dts`
/// minus its own, and the last unit's is its [`AccessUnit::duration`], or when that is 0
/// the one before it. Composition offsets are written when any `pts` differs from its
/// `dts`, with `trun` version 1 when any is negative. Keyframes are flagged
/// sample_depends_on 2; other samples are non-sync with sample_depends_on 1. When the units
/// carry [`AccessUnit::encryption`], the `traf` also gets `senc`, `saiz` and `saio`.
///
/// Errors: no units at all, a unit of another track, a negative first `dts`, decode times
/// going backwards, a mix of clear and encrypted units in one track, and sizes beyond the
/// 32-bit fields.
pub fn media_segment(sequence: u32, tracks: &[TrackFragment<'_>]) -> Result<Vec<u8>> {
    let plans = tracks
        .iter()
        .filter(|t| !t.units.is_empty())
        .map(plan)
        .collect::<Result<Vec<_>>>()?;
    if plans.is_empty() {
        return Err(MediaError::Missing {
            what: "access units",
        });
    }
    let payload: usize = plans
        .iter()
        .flat_map(|p| p.units)
        .map(|u| u.data.len())
        .fold(0, usize::saturating_add);
    let samples: usize = plans.iter().map(|p| p.units.len()).sum();
    let room = payload.saturating_add(samples.saturating_mul(16).saturating_add(256));
    let mut w = BoxWriter::with_capacity(room);
    let moof = w.begin(b"moof");
    w.full_boxed(b"mfhd", 0, 0, |w| {
        w.u32(sequence);
        Ok(())
    })?;
    // Where each trun's data_offset goes, and where its samples start in the mdat payload.
    let mut patches = Vec::with_capacity(plans.len());
    let mut in_mdat = 0usize;
    for p in &plans {
        let at = write_traf(&mut w, p)?;
        patches.push((at, in_mdat));
        let size: usize = p.units.iter().map(|u| u.data.len()).sum();
        in_mdat = in_mdat.saturating_add(size);
    }
    w.end(moof)?;
    let header = w.len().saturating_add(8);
    for (at, start) in patches {
        // data_offset is signed: the whole segment must stay under 2 GiB.
        let offset = header
            .checked_add(start)
            .filter(|&o| i32::try_from(o).is_ok())
            .and_then(|o| u32::try_from(o).ok())
            .ok_or(MediaError::Limit {
                what: "media segment of 2 GiB or more",
            })?;
        w.set_u32(at, offset)?;
    }
    w.boxed(b"mdat", |w| {
        for u in plans.iter().flat_map(|p| p.units) {
            w.bytes(&u.data);
        }
        Ok(())
    })?;
    Ok(w.into_bytes())
}

fn bad(fourcc: &[u8; 4], reason: &'static str) -> MediaError {
    MediaError::BadBox {
        fourcc: *fourcc,
        reason,
    }
}

fn len_u32(n: usize, what: &'static str) -> Result<u32> {
    u32::try_from(n).map_err(|_| MediaError::Limit { what })
}

/// The unity matrix of `mvhd` and `tkhd`.
fn matrix(w: &mut BoxWriter) {
    for v in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        w.u32(v);
    }
}

/// How a record is stored: sample entry type, whether it is video, and its configuration box.
struct Entry<'a> {
    fourcc: [u8; 4],
    video: bool,
    config_box: [u8; 4],
    config: &'a [u8],
}

fn entry(record: &CodecRecord) -> Result<Entry<'_>> {
    let (fourcc, video, config_box, config) = match record {
        CodecRecord::Avc(b) => (*b"avc1", true, *b"avcC", b),
        CodecRecord::Hevc(b) => (*b"hvc1", true, *b"hvcC", b),
        CodecRecord::Aac(b) => (*b"mp4a", false, *b"esds", b),
        CodecRecord::Ac3(b) => (*b"ac-3", false, *b"dac3", b),
        CodecRecord::Ec3(b) => (*b"ec-3", false, *b"dec3", b),
        CodecRecord::Opus(b) => (*b"Opus", false, *b"dOps", b),
        CodecRecord::Id3 => {
            return Err(MediaError::Unsupported {
                what: "ID3 timed metadata in fMP4".into(),
            });
        }
        CodecRecord::Other { fourcc, .. } => {
            return Err(MediaError::Unsupported {
                what: format!("writing '{}' samples to fMP4", fourcc.escape_ascii()),
            });
        }
    };
    if config.is_empty() {
        return Err(MediaError::Missing {
            what: "the codec configuration record",
        });
    }
    Ok(Entry {
        fourcc,
        video,
        config_box,
        config,
    })
}

fn write_trak(w: &mut BoxWriter, c: &CodecConfig) -> Result<()> {
    let e = entry(&c.record)?;
    let (width, height) = if e.video { dimensions(c)? } else { (0, 0) };
    w.boxed(b"trak", |w| {
        w.full_boxed(b"tkhd", 0, 0x3, |w| {
            w.zeros(8); // creation and modification times
            w.u32(c.track_id);
            w.zeros(4 + 4 + 8); // reserved, duration, reserved
            w.zeros(4); // layer, alternate_group
            w.u16(if e.video { 0 } else { 0x0100 }); // volume
            w.zeros(2);
            matrix(w);
            w.u32(u32::from(width) << 16);
            w.u32(u32::from(height) << 16);
            Ok(())
        })?;
        w.boxed(b"mdia", |w| {
            w.full_boxed(b"mdhd", 0, 0, |w| {
                w.zeros(8);
                w.u32(c.timescale.get());
                w.u32(0); // duration
                w.u16(0x55c4); // ISO 639-2 "und", 5 bits a letter
                w.u16(0);
                Ok(())
            })?;
            w.full_boxed(b"hdlr", 0, 0, |w| {
                w.u32(0);
                w.bytes(if e.video { b"vide" } else { b"soun" });
                w.zeros(12);
                w.bytes(if e.video {
                    b"VideoHandler\0"
                } else {
                    b"SoundHandler\0"
                });
                Ok(())
            })?;
            w.boxed(b"minf", |w| {
                if e.video {
                    w.full_boxed(b"vmhd", 0, 1, |w| {
                        w.zeros(8); // graphicsmode, opcolor
                        Ok(())
                    })?;
                } else {
                    w.full_boxed(b"smhd", 0, 0, |w| {
                        w.zeros(4); // balance, reserved
                        Ok(())
                    })?;
                }
                w.boxed(b"dinf", |w| {
                    w.full_boxed(b"dref", 0, 0, |w| {
                        w.u32(1);
                        // Flag 1: the media data is in the same file.
                        w.full_boxed(b"url ", 0, 1, |_| Ok(()))
                    })
                })?;
                w.boxed(b"stbl", |w| {
                    w.full_boxed(b"stsd", 0, 0, |w| {
                        w.u32(1);
                        write_sample_entry(w, c, &e, width, height)
                    })?;
                    for table in [b"stts", b"stsc", b"stco"] {
                        w.full_boxed(table, 0, 0, |w| {
                            w.u32(0);
                            Ok(())
                        })?;
                    }
                    w.full_boxed(b"stsz", 0, 0, |w| {
                        w.zeros(8); // sample_size, sample_count
                        Ok(())
                    })
                })
            })
        })
    })
}

/// Width and height of a video track: the configuration's, else its SPS's (H.264), else 0.
fn dimensions(c: &CodecConfig) -> Result<(u16, u16)> {
    let sps = match &c.record {
        CodecRecord::Avc(avcc) if c.width.is_none() || c.height.is_none() => {
            avc::first_record_sps(avcc).and_then(|sps| avc::parse_sps(sps).ok())
        }
        _ => None,
    };
    let width = c.width.or(sps.as_ref().map(|s| s.width)).unwrap_or(0);
    let height = c.height.or(sps.as_ref().map(|s| s.height)).unwrap_or(0);
    let fit = |v: u32| {
        u16::try_from(v).map_err(|_| MediaError::Limit {
            what: "video dimension above 65535",
        })
    };
    Ok((fit(width)?, fit(height)?))
}

fn write_sample_entry(
    w: &mut BoxWriter,
    c: &CodecConfig,
    e: &Entry<'_>,
    width: u16,
    height: u16,
) -> Result<()> {
    let fourcc = match (&c.protection, e.video) {
        (None, _) => e.fourcc,
        (Some(_), true) => *b"encv",
        (Some(_), false) => *b"enca",
    };
    w.boxed(&fourcc, |w| {
        w.zeros(6);
        w.u16(1); // data_reference_index
        if e.video {
            w.zeros(16); // pre_defined, reserved, pre_defined
            w.u16(width);
            w.u16(height);
            w.u32(0x0048_0000); // 72 dpi
            w.u32(0x0048_0000);
            w.u32(0);
            w.u16(1); // frame_count
            w.zeros(32); // compressorname
            w.u16(0x0018); // depth
            w.u16(0xffff); // pre_defined -1
            w.boxed(&e.config_box, |w| {
                w.bytes(e.config);
                Ok(())
            })?;
        } else {
            let (channels, rate) = audio_params(c);
            w.zeros(8);
            w.u16(channels);
            w.u16(16); // samplesize
            w.zeros(4);
            // 16.16; rates above 65535 Hz do not fit and are left to the configuration.
            w.u32(u32::from(u16::try_from(rate).unwrap_or(0)) << 16);
            if &e.config_box == b"esds" {
                write_esds(w, e.config)?;
            } else {
                w.boxed(&e.config_box, |w| {
                    w.bytes(e.config);
                    Ok(())
                })?;
            }
        }
        if let Some(p) = &c.protection {
            write_sinf(w, &e.fourcc, p)?;
        }
        Ok(())
    })
}

/// Channel count and sample rate of an audio sample entry: the configuration's, else
/// what the record says, else stereo at the timescale.
fn audio_params(c: &CodecConfig) -> (u16, u32) {
    let (rec_channels, rec_rate) = match &c.record {
        CodecRecord::Aac(asc) => aac::params(asc),
        // dOps: Version, OutputChannelCount; Opus always runs at 48 kHz.
        CodecRecord::Opus(d) => (d.get(1).map(|&n| u32::from(n)), Some(48_000)),
        _ => (None, None),
    };
    let channels = c.channels.or(rec_channels).unwrap_or(2);
    let rate = match &c.record {
        CodecRecord::Opus(_) => 48_000,
        _ => c.sample_rate.or(rec_rate).unwrap_or(c.timescale.get()),
    };
    (u16::try_from(channels).unwrap_or(u16::MAX), rate)
}

/// Length field of an MPEG-4 descriptor (ISO/IEC 14496-1, 8.3.3): 7 bits a byte.
fn descriptor(w: &mut BoxWriter, tag: u8, body: &[u8]) -> Result<()> {
    let n = body.len();
    if n >= 1 << 28 {
        return Err(MediaError::Limit {
            what: "MPEG-4 descriptor of 256 MiB or more",
        });
    }
    w.u8(tag);
    let groups = [
        (n >> 21) & 0x7f,
        (n >> 14) & 0x7f,
        (n >> 7) & 0x7f,
        n & 0x7f,
    ];
    let first = groups.iter().position(|&g| g != 0).unwrap_or(3);
    for (i, g) in groups.iter().enumerate().skip(first) {
        let more = if i < 3 { 0x80 } else { 0 };
        w.u8(u8::try_from(*g).unwrap_or(0) | more);
    }
    w.bytes(body);
    Ok(())
}

/// `esds` (ISO/IEC 14496-14, 3.1.2): ES_Descriptor with a DecoderConfigDescriptor for
/// MPEG-4 audio (objectTypeIndication 0x40, streamType 5) holding the AudioSpecificConfig,
/// and the predefined SLConfigDescriptor of MP4 files.
fn write_esds(w: &mut BoxWriter, asc: &[u8]) -> Result<()> {
    let mut dsi = BoxWriter::new();
    descriptor(&mut dsi, 0x05, asc)?;
    let mut dc = BoxWriter::new();
    dc.u8(0x40);
    dc.u8(0x15); // streamType 5 (audio) << 2, upStream 0, reserved 1
    dc.zeros(3 + 4 + 4); // bufferSizeDB, maxBitrate, avgBitrate: unknown
    dc.bytes(&dsi.into_bytes());
    let mut es = BoxWriter::new();
    es.u16(0); // ES_ID: 0 in MP4 files
    es.u8(0); // no dependsOn, URL or OCR
    descriptor(&mut es, 0x04, &dc.into_bytes())?;
    descriptor(&mut es, 0x06, &[0x02])?;
    w.full_boxed(b"esds", 0, 0, |w| descriptor(w, 0x03, &es.into_bytes()))
}

/// `sinf` (ISO/IEC 23001-7, 4): `frma`, `schm` and `schi/tenc` (version 1 for the pattern
/// schemes `cbcs` and `cens`, or any pattern given).
fn write_sinf(w: &mut BoxWriter, original: &[u8; 4], p: &TrackProtection) -> Result<()> {
    let constant = match (p.default_iv_size, &p.default_constant_iv) {
        (8 | 16, _) => None,
        (0, Some(iv)) if matches!(iv.len(), 8 | 16) => Some(iv),
        (0, _) => {
            return Err(bad(
                b"tenc",
                "IV size 0 without an 8 or 16 byte constant IV",
            ));
        }
        _ => return Err(bad(b"tenc", "per-sample IV size not 0, 8 or 16")),
    };
    let pattern = p.crypt_byte_block != 0 || p.skip_byte_block != 0;
    let version = u8::from(pattern || matches!(&p.scheme, b"cbcs" | b"cens"));
    if p.crypt_byte_block > 15 || p.skip_byte_block > 15 {
        return Err(bad(b"tenc", "pattern block count above 15"));
    }
    w.boxed(b"sinf", |w| {
        w.boxed(b"frma", |w| {
            w.bytes(original);
            Ok(())
        })?;
        w.full_boxed(b"schm", 0, 0, |w| {
            w.bytes(&p.scheme);
            w.u32(0x0001_0000);
            Ok(())
        })?;
        w.boxed(b"schi", |w| {
            w.full_boxed(b"tenc", version, 0, |w| {
                w.u8(0);
                w.u8(if version == 0 {
                    0
                } else {
                    p.crypt_byte_block << 4 | p.skip_byte_block
                });
                w.u8(1); // default_isProtected
                w.u8(p.default_iv_size);
                w.bytes(&p.default_kid);
                if let Some(iv) = constant {
                    w.u8(u8::try_from(iv.len()).unwrap_or(0));
                    w.bytes(iv);
                }
                Ok(())
            })
        })
    })
}

/// One track's units, checked, with their `trun` fields worked out.
struct Plan<'a> {
    track_id: u32,
    units: &'a [AccessUnit],
    base: u64,
    durations: Vec<u32>,
    offsets: Option<Vec<i64>>,
    trun_version: u8,
    encryption: Option<Vec<&'a SampleEncryption>>,
}

fn stream_error(reason: &'static str) -> MediaError {
    MediaError::BadStream {
        codec: "access units",
        reason,
    }
}

fn plan<'a>(t: &TrackFragment<'a>) -> Result<Plan<'a>> {
    let units = t.units;
    if units.iter().any(|u| u.track_id != t.track_id) {
        return Err(stream_error("a unit of another track"));
    }
    let first = units.first().ok_or(MediaError::Missing {
        what: "access units",
    })?;
    let base = u64::try_from(first.dts).map_err(|_| stream_error("negative decode time"))?;
    let mut durations: Vec<u32> = Vec::with_capacity(units.len());
    for (i, u) in units.iter().enumerate() {
        let d = match units.get(i + 1) {
            Some(next) => {
                let d = next
                    .dts
                    .checked_sub(u.dts)
                    .ok_or(stream_error("decode time overflows"))?;
                if d < 0 {
                    return Err(stream_error("decode times go backwards"));
                }
                u32::try_from(d).map_err(|_| stream_error("decode time step above 2^32 ticks"))?
            }
            None if u.duration != 0 => u.duration,
            None => durations.last().copied().unwrap_or(0),
        };
        durations.push(d);
    }
    let offsets = units
        .iter()
        .map(|u| u.pts.checked_sub(u.dts))
        .collect::<Option<Vec<i64>>>()
        .ok_or(stream_error("composition offset overflows"))?;
    let negative = offsets.iter().any(|&o| o < 0);
    let fits = |&o: &i64| {
        if negative {
            i32::try_from(o).is_ok()
        } else {
            u32::try_from(o).is_ok()
        }
    };
    if !offsets.iter().all(fits) {
        return Err(stream_error("composition offset beyond 32 bits"));
    }
    let offsets = offsets.iter().any(|&o| o != 0).then_some(offsets);
    let encrypted: Vec<_> = units.iter().filter_map(|u| u.encryption.as_ref()).collect();
    let encryption = match encrypted.len() {
        0 => None,
        n if n == units.len() => Some(encrypted),
        _ => {
            return Err(MediaError::Unsupported {
                what: "clear and encrypted samples in one track fragment".into(),
            });
        }
    };
    Ok(Plan {
        track_id: t.track_id,
        units,
        base,
        durations,
        offsets,
        trun_version: u8::from(negative),
        encryption,
    })
}

const SYNC_FLAGS: u32 = 0x0200_0000; // sample_depends_on 2: depends on no other sample
const NON_SYNC_FLAGS: u32 = 0x0101_0000; // sample_depends_on 1, sample_is_non_sync_sample

/// Writes one `traf`; returns where its `trun` data_offset goes.
fn write_traf(w: &mut BoxWriter, p: &Plan<'_>) -> Result<usize> {
    let traf = w.begin(b"traf");
    w.full_boxed(b"tfhd", 0, 0x02_0000, |w| {
        w.u32(p.track_id);
        Ok(())
    })?;
    w.full_boxed(b"tfdt", 1, 0, |w| {
        w.u64(p.base);
        Ok(())
    })?;
    let flags = 0x701 | if p.offsets.is_some() { 0x800 } else { 0 };
    let trun = w.full(b"trun", p.trun_version, flags);
    w.u32(len_u32(p.units.len(), "samples in a trun")?);
    let data_offset = w.len();
    w.u32(0); // patched once the moof's size is known
    for (i, u) in p.units.iter().enumerate() {
        w.u32(p.durations.get(i).copied().unwrap_or(0));
        w.u32(len_u32(u.data.len(), "sample of 4 GiB or more")?);
        w.u32(if u.keyframe {
            SYNC_FLAGS
        } else {
            NON_SYNC_FLAGS
        });
        match p.offsets.as_ref().and_then(|o| o.get(i)) {
            // Range checked in `plan`: i32 for version 1, u32 for version 0.
            Some(&o) if p.trun_version == 1 => w.i32(o as i32),
            Some(&o) => w.u32(o as u32),
            None => {}
        }
    }
    w.end(trun)?;
    if let Some(enc) = &p.encryption {
        write_senc(w, enc)?;
    }
    w.end(traf)?;
    Ok(data_offset)
}

/// `senc` (ISO/IEC 23001-7, 7.2), then `saiz` and `saio` pointing at its entries. The moof
/// starts the buffer, so a buffer position is the moof-relative offset `saio` wants.
fn write_senc(w: &mut BoxWriter, enc: &[&SampleEncryption]) -> Result<()> {
    let iv_size = enc.first().map_or(0, |e| e.iv.len());
    if enc.iter().any(|e| e.iv.len() != iv_size) || !matches!(iv_size, 0 | 8 | 16) {
        return Err(bad(b"senc", "IV sizes differ or are not 0, 8 or 16"));
    }
    let subsamples = enc.iter().any(|e| !e.subsamples.is_empty());
    let mut sizes = Vec::with_capacity(enc.len());
    let senc = w.full(b"senc", 0, if subsamples { 0x2 } else { 0 });
    w.u32(len_u32(enc.len(), "senc sample count")?);
    let entries = w.len();
    for e in enc {
        w.bytes(&e.iv);
        let mut size = e.iv.len();
        if subsamples {
            let n = u16::try_from(e.subsamples.len()).map_err(|_| MediaError::Limit {
                what: "subsamples in a sample",
            })?;
            w.u16(n);
            for s in &e.subsamples {
                let clear = u16::try_from(s.clear).map_err(|_| MediaError::Limit {
                    what: "clear bytes of a subsample above 65535",
                })?;
                w.u16(clear);
                w.u32(s.protected);
            }
            size = size.saturating_add(2 + 6 * e.subsamples.len());
        }
        sizes.push(u8::try_from(size).map_err(|_| MediaError::Limit {
            what: "sample auxiliary information above 255 bytes",
        })?);
    }
    w.end(senc)?;
    let same = sizes.first().filter(|&&s| sizes.iter().all(|&t| t == s));
    w.full_boxed(b"saiz", 0, 0, |w| {
        w.u8(same.copied().unwrap_or(0));
        w.u32(len_u32(sizes.len(), "saiz sample count")?);
        if same.is_none() {
            w.bytes(&sizes);
        }
        Ok(())
    })?;
    w.full_boxed(b"saio", 0, 0, |w| {
        w.u32(1);
        w.u32(len_u32(entries, "saio offset")?);
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::Timescale;
    use crate::media::init::{Handler, SampleEntry, parse_init};
    use crate::media::sample::Subsample;
    use crate::media::testing::media;
    use crate::media::{find, parse_fragment};

    const STSD: [[u8; 4]; 6] = [*b"moov", *b"trak", *b"mdia", *b"minf", *b"stbl", *b"stsd"];

    /// The configuration of a one-track fMP4 init segment, its record read raw.
    pub(crate) fn config_of(init: &[u8]) -> CodecConfig {
        let info = parse_init(init).unwrap();
        let t = &info.tracks[0];
        let stsd = find(init, &STSD).unwrap().unwrap();
        let entry = stsd.children_after(8).unwrap().next().unwrap().unwrap();
        let mut c = CodecConfig {
            track_id: t.track_id,
            handler: t.handler,
            codec: t.sample_entry.codec(),
            timescale: t.timescale,
            record: CodecRecord::Id3,
            width: None,
            height: None,
            channels: None,
            sample_rate: None,
            protection: None,
        };
        match &t.sample_entry {
            SampleEntry::Avc { width, height, .. } => {
                let avcc = entry.children_after(78).unwrap().first_of(b"avcC");
                c.record = CodecRecord::Avc(avcc.unwrap().unwrap().body.to_vec());
                (c.width, c.height) = (Some((*width).into()), Some((*height).into()));
            }
            SampleEntry::Mp4a {
                channels,
                sample_rate,
                audio_specific_config,
                ..
            } => {
                c.record = CodecRecord::Aac(audio_specific_config.clone());
                (c.channels, c.sample_rate) = (Some((*channels).into()), Some(*sample_rate));
            }
            SampleEntry::Other(f) => panic!("{f:?}"),
        }
        c
    }

    /// The access units of a media segment, as parse_fragment reads them.
    pub(crate) fn units_of(init: &[u8], segment: &[u8], track_id: u32) -> Vec<AccessUnit> {
        let info = parse_init(init).unwrap();
        let runs = parse_fragment(segment, &info).unwrap();
        runs.iter()
            .flat_map(|r| &r.samples)
            .map(|s| AccessUnit {
                track_id,
                dts: s.dts,
                pts: s.pts,
                duration: s.duration,
                keyframe: s.keyframe,
                data: segment[s.data.clone()].to_vec(),
                encryption: None,
            })
            .collect()
    }

    /// Runs `ffprobe -v error <args> <file>` on `bytes` written to a temporary file;
    /// `None` (and a note) when ffprobe is not installed.
    pub(crate) fn ffprobe(bytes: &[u8], args: &[&str]) -> Option<String> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "playhead-mux-{}-{n}-{:?}.mp4",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, bytes).unwrap();
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error"])
            .args(args)
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        match out {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("ffprobe is not on PATH: cross-check skipped");
                None
            }
            Err(e) => panic!("ffprobe: {e}"),
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr);
                assert!(o.status.success() && stderr.is_empty(), "ffprobe: {stderr}");
                Some(String::from_utf8(o.stdout).unwrap())
            }
        }
    }

    /// pts, dts, duration, keyframe.
    pub(crate) type Packet = (i64, i64, Option<i64>, bool);

    /// ffprobe's packets of `file`: pts, dts, duration (`None` for `N/A`, as ffmpeg says of
    /// the first AAC frame) and keyframe flag.
    pub(crate) fn ffprobe_packets(file: &[u8]) -> Option<Vec<Packet>> {
        let args = [
            "-show_packets",
            "-show_entries",
            "packet=pts,dts,duration,flags",
            "-of",
            "csv=p=0",
        ];
        let out = ffprobe(file, &args)?;
        let packets = out
            .lines()
            .map(|l| {
                let f: Vec<_> = l.split(',').collect();
                let n = |i: usize| f[i].parse::<i64>().unwrap();
                let duration = (f[2] != "N/A").then(|| n(2));
                (n(0), n(1), duration, f[3].starts_with('K'))
            })
            .collect();
        Some(packets)
    }

    /// ffprobe's `-show_streams` entries of `file` as `key=value` lines.
    pub(crate) fn ffprobe_stream(file: &[u8], keys: &str) -> Option<Vec<String>> {
        let entries = format!("stream={keys}");
        let out = ffprobe(file, &["-show_entries", &entries, "-of", "default=nw=1"])?;
        Some(out.lines().map(str::to_owned).collect())
    }

    const TRACKS: [&str; 4] = ["v/144p", "v/270p", "v/360p", "a"];

    #[test]
    fn init_segments_read_back() {
        for dir in TRACKS {
            let original = media(&format!("{dir}/init.mp4"));
            let config = config_of(&original);
            let ours = init_segment(std::slice::from_ref(&config)).unwrap();
            let (a, b) = (parse_init(&original).unwrap(), parse_init(&ours).unwrap());
            let (a, b) = (&a.tracks[0], &b.tracks[0]);
            assert_eq!(b.sample_entry, a.sample_entry, "{dir}");
            assert_eq!(b.sample_entry.codec(), config.codec, "{dir}");
            assert_eq!(
                (b.track_id, b.timescale, b.handler, b.encrypted),
                (a.track_id, a.timescale, a.handler, false)
            );
            assert_eq!(b.defaults, Default::default());
            assert_eq!(config_of(&ours), config, "{dir}: records byte for byte");
            let ftyp = find(&ours, &[*b"ftyp"]).unwrap().unwrap();
            assert_eq!(ftyp.body, b"iso6\0\0\0\0isomiso6mp41dash");
        }
        // Two tracks; the dimensions of a config without them come from the SPS.
        let mut video = config_of(&media("v/270p/init.mp4"));
        (video.width, video.height) = (None, None);
        let mut audio = config_of(&media("a/init.mp4"));
        audio.track_id = 257;
        let both = init_segment(&[video, audio]).unwrap();
        let info = parse_init(&both).unwrap();
        let ids: Vec<_> = info
            .tracks
            .iter()
            .map(|t| (t.track_id, t.handler))
            .collect();
        assert_eq!(ids, [(1, Handler::Video), (257, Handler::Audio)]);
        let SampleEntry::Avc { width, height, .. } = info.tracks[0].sample_entry else {
            panic!()
        };
        assert_eq!((width, height), (480, 270));
        let mvhd = find(&both, &[*b"moov", *b"mvhd"]).unwrap().unwrap();
        assert_eq!(mvhd.body[mvhd.body.len() - 4..], 258u32.to_be_bytes());
    }

    #[test]
    fn parsed_configs_round_trip() {
        // parse_init's own CodecConfig of a track, written and read again, is unchanged.
        for dir in TRACKS {
            let original = parse_init(&media(&format!("{dir}/init.mp4"))).unwrap();
            let config = original.tracks[0].config.clone();
            assert_eq!(config, config_of(&media(&format!("{dir}/init.mp4"))));
            for protection in [
                None,
                Some(protection(b"cenc", 16)),
                Some(protection(b"cbcs", 0)),
            ] {
                let config = CodecConfig {
                    protection,
                    ..config.clone()
                };
                let ours = init_segment(std::slice::from_ref(&config)).unwrap();
                assert_eq!(parse_init(&ours).unwrap().tracks[0].config, config, "{dir}");
            }
        }
    }

    #[test]
    fn sps_dimensions_and_format() {
        for (dir, w, h) in [("144p", 256, 144), ("270p", 480, 270), ("360p", 640, 360)] {
            let CodecRecord::Avc(avcc) = config_of(&media(&format!("v/{dir}/init.mp4"))).record
            else {
                panic!()
            };
            let sps = avc::parse_sps(avc::first_record_sps(&avcc).unwrap()).unwrap();
            assert_eq!((sps.width, sps.height), (w, h));
            assert_eq!((sps.profile, sps.chroma_format_idc), (100, 1));
            assert_eq!(
                (sps.bit_depth_luma_minus8, sps.bit_depth_chroma_minus8),
                (0, 0)
            );
            assert!(avc::parse_sps(&avcc).is_err()); // not an SPS
        }
    }

    fn protection(scheme: &[u8; 4], iv: u8) -> TrackProtection {
        TrackProtection {
            scheme: *scheme,
            default_kid: [7; 16],
            default_iv_size: iv,
            default_constant_iv: (iv == 0).then(|| vec![9; 16]),
            crypt_byte_block: if scheme == b"cbcs" { 1 } else { 0 },
            skip_byte_block: if scheme == b"cbcs" { 9 } else { 0 },
        }
    }

    #[test]
    fn protected_entries() {
        for (dir, scheme, iv) in [("v/144p", b"cenc", 8), ("a", b"cbcs", 0)] {
            let clear = config_of(&media(&format!("{dir}/init.mp4")));
            let mut config = clear.clone();
            config.protection = Some(protection(scheme, iv));
            let pssh = Pssh {
                system_id: [0xed; 16],
                key_ids: vec![[7; 16]],
                data: b"init data".to_vec(),
            };
            let ours = init_segment_with_pssh(&[config], std::slice::from_ref(&pssh)).unwrap();
            let read = crate::media::protection::parse_pssh_boxes(&ours).unwrap();
            assert_eq!(read, [pssh]);
            let info = parse_init(&ours).unwrap();
            assert!(info.tracks[0].encrypted);
            let plain = parse_init(&init_segment(&[clear]).unwrap()).unwrap();
            assert_eq!(info.tracks[0].sample_entry, plain.tracks[0].sample_entry);
            let stsd = find(&ours, &STSD).unwrap().unwrap();
            let entry = stsd.children_after(8).unwrap().next().unwrap().unwrap();
            let skip = if dir == "a" { 28 } else { 78 };
            let sinf = entry.children_after(skip).unwrap().first_of(b"sinf");
            let sinf = sinf.unwrap().unwrap();
            let schm = sinf.child(b"schm").unwrap().unwrap();
            assert_eq!(schm.body[4..], [&scheme[..], &[0, 1, 0, 0]].concat());
            let tenc = sinf.child(b"schi").unwrap().unwrap().child(b"tenc");
            let tenc = tenc.unwrap().unwrap();
            let want = if iv == 8 {
                [&[0, 0, 0, 0, 0, 0, 1, 8][..], &[7; 16]].concat()
            } else {
                [&[1, 0, 0, 0, 0, 0x19, 1, 0][..], &[7; 16], &[16], &[9; 16]].concat()
            };
            assert_eq!(tenc.body, want);
            let pssh = find(&ours, &[*b"moov", *b"pssh"]).unwrap().unwrap();
            let want = [
                &[1, 0, 0, 0][..],
                &[0xed; 16],
                &[0, 0, 0, 1],
                &[7; 16],
                &[0, 0, 0, 9],
            ];
            assert_eq!(pssh.body, [&want.concat()[..], b"init data"].concat());
        }
        let mut bad = config_of(&media("a/init.mp4"));
        bad.protection = Some(TrackProtection {
            default_constant_iv: None,
            ..protection(b"cbcs", 0)
        });
        assert!(matches!(
            init_segment(&[bad]),
            Err(MediaError::BadBox { fourcc, .. }) if &fourcc == b"tenc"
        ));
    }

    #[test]
    fn media_segments_read_back() {
        for (dir, k) in [("v/144p", 1), ("v/360p", 6), ("a", 3)] {
            let init = media(&format!("{dir}/init.mp4"));
            let units = units_of(&init, &media(&format!("{dir}/{k}.m4s")), 1);
            let ours_init = init_segment(&[config_of(&init)]).unwrap();
            let tf = TrackFragment {
                track_id: 1,
                units: &units,
            };
            let seg = media_segment(42, &[tf]).unwrap();
            assert_eq!(units_of(&ours_init, &seg, 1), units, "{dir}/{k}");
            let mfhd = find(&seg, &[*b"moof", *b"mfhd"]).unwrap().unwrap();
            assert_eq!(mfhd.body, [0, 0, 0, 0, 0, 0, 0, 42]);
            let info = parse_init(&ours_init).unwrap();
            let runs = parse_fragment(&seg, &info).unwrap();
            assert_eq!(runs[0].base_media_decode_time, Some(units[0].dts as u64));
            // Unknown durations: the decode time steps, the last one repeated.
            let unknown: Vec<_> = units
                .iter()
                .map(|u| AccessUnit {
                    duration: 0,
                    ..u.clone()
                })
                .collect();
            let seg = media_segment(
                1,
                &[TrackFragment {
                    track_id: 1,
                    units: &unknown,
                }],
            )
            .unwrap();
            assert_eq!(units_of(&ours_init, &seg, 1), units, "{dir}/{k}");
        }
    }

    #[test]
    fn two_tracks_and_negative_offsets() {
        let (vi, ai) = (media("v/144p/init.mp4"), media("a/init.mp4"));
        let video = units_of(&vi, &media("v/144p/2.m4s"), 1);
        let audio = units_of(&ai, &media("a/2.m4s"), 2);
        let mut ac = config_of(&ai);
        ac.track_id = 2;
        let init = init_segment(&[config_of(&vi), ac]).unwrap();
        let tracks = [
            TrackFragment {
                track_id: 1,
                units: &video,
            },
            TrackFragment {
                track_id: 2,
                units: &[],
            },
            TrackFragment {
                track_id: 2,
                units: &audio,
            },
        ];
        let seg = media_segment(3, &tracks).unwrap();
        let info = parse_init(&init).unwrap();
        let runs = parse_fragment(&seg, &info).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(units_of(&init, &seg, 0).len(), video.len() + audio.len());
        for (run, units) in runs.iter().zip([&video, &audio]) {
            for (s, u) in run.samples.iter().zip(units.iter()) {
                assert_eq!(
                    (s.dts, s.pts, &seg[s.data.clone()]),
                    (u.dts, u.pts, &u.data[..])
                );
            }
        }
        // Presentation before decode (no B-frame delay): trun version 1, signed offsets.
        let shifted: Vec<_> = video
            .iter()
            .map(|u| AccessUnit {
                pts: u.pts - 1024,
                ..u.clone()
            })
            .collect();
        let tf = TrackFragment {
            track_id: 1,
            units: &shifted,
        };
        let seg = media_segment(4, &[tf]).unwrap();
        let trun = find(&seg, &[*b"moof", *b"traf", *b"trun"])
            .unwrap()
            .unwrap();
        assert_eq!(trun.full_header().unwrap().0, 1);
        let vinit = init_segment(&[config_of(&vi)]).unwrap();
        assert_eq!(units_of(&vinit, &seg, 1), shifted);
    }

    #[test]
    fn encrypted_units_get_senc_saiz_saio() {
        let init = media("v/144p/init.mp4");
        let mut units = units_of(&init, &media("v/144p/0.m4s"), 1);
        for (i, u) in units.iter_mut().enumerate() {
            let subsamples = (0..1 + i % 2)
                .map(|j| Subsample {
                    clear: 5 + j as u32,
                    protected: 16,
                })
                .collect();
            u.encryption = Some(SampleEncryption {
                iv: vec![i as u8; 8],
                subsamples,
            });
        }
        let tf = TrackFragment {
            track_id: 1,
            units: &units,
        };
        let seg = media_segment(1, &[tf]).unwrap();
        let traf = find(&seg, &[*b"moof", *b"traf"]).unwrap().unwrap();
        let senc = traf.child(b"senc").unwrap().unwrap();
        let saiz = traf.child(b"saiz").unwrap().unwrap();
        let saio = traf.child(b"saio").unwrap().unwrap();
        assert_eq!(senc.full_header().unwrap().1, 2);
        let n = units.len();
        // Sizes alternate 8 + 2 + 6 and 8 + 2 + 12: no default size.
        let (_, _, body) = saiz.full_header().unwrap();
        assert_eq!(body[..5], [0, 0, 0, 0, n as u8]);
        assert_eq!(body[5..7], [16, 22]);
        let (_, _, body) = saio.full_header().unwrap();
        let offset = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
        assert_eq!(offset, senc.body_start() + 8); // moof at 0: moof-relative
        let second = offset + 16;
        assert_eq!(seg[second..second + 8], [1; 8]);
        assert_eq!(
            seg[second + 8..second + 22],
            [0, 2, 0, 5, 0, 0, 0, 16, 0, 6, 0, 0, 0, 16]
        );
        // The fragment reader gets the same units back, encryption included.
        let mut config = config_of(&init);
        config.protection = Some(protection(b"cenc", 8));
        let ours = parse_init(&init_segment(&[config]).unwrap()).unwrap();
        let read = crate::media::fragment::fragment_samples(&seg, &ours).unwrap();
        assert_eq!(read.units, units);
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut config = config_of(&media("a/init.mp4"));
        for (record, want) in [
            (CodecRecord::Id3, "unsupported"),
            (
                CodecRecord::Other {
                    fourcc: *b"wvtt",
                    bytes: vec![],
                },
                "unsupported",
            ),
            (CodecRecord::Aac(vec![]), "missing"),
        ] {
            let c = CodecConfig {
                record,
                ..config.clone()
            };
            let got = init_segment(&[c]).unwrap_err().to_string();
            assert!(got.starts_with(want), "{got}");
        }
        assert!(init_segment(&[]).is_err());
        assert!(init_segment(&[config.clone(), config.clone()]).is_err());
        config.track_id = 0;
        assert!(init_segment(&[config]).is_err());

        let unit = |track_id, dts, encrypted: bool| AccessUnit {
            track_id,
            dts,
            pts: dts,
            duration: 10,
            keyframe: true,
            data: vec![1, 2, 3],
            encryption: encrypted.then(|| SampleEncryption {
                iv: vec![0; 8],
                subsamples: vec![],
            }),
        };
        let cases: [(&[AccessUnit], &str); 5] = [
            (&[], "missing"),
            (&[unit(1, -1, false)], "negative"),
            (&[unit(1, 20, false), unit(1, 10, false)], "backwards"),
            (&[unit(1, 0, false), unit(2, 10, false)], "another track"),
            (&[unit(1, 0, true), unit(1, 10, false)], "unsupported"),
        ];
        for (units, want) in cases {
            let tf = TrackFragment { track_id: 1, units };
            let got = media_segment(1, &[tf]).unwrap_err().to_string();
            assert!(got.contains(want), "{got}");
        }
        let ok = [unit(1, 0, false), unit(1, 10, false)];
        let single = media_segment(
            1,
            &[TrackFragment {
                track_id: 1,
                units: &ok[..1],
            }],
        );
        assert!(single.is_ok());
        let _ = Timescale::MICROS;
    }

    #[test]
    fn ffprobe_reads_what_we_write() {
        for (dir, k, stream) in [
            ("v/144p", 1, "codec_name=h264\nwidth=256\nheight=144"),
            ("a", 3, "codec_name=aac\nsample_rate=48000\nchannels=2"),
        ] {
            let init = media(&format!("{dir}/init.mp4"));
            let units = units_of(&init, &media(&format!("{dir}/{k}.m4s")), 1);
            let ours = init_segment(&[config_of(&init)]).unwrap();
            let tf = TrackFragment {
                track_id: 1,
                units: &units,
            };
            let file = [ours.clone(), media_segment(1, &[tf]).unwrap()].concat();
            let Some(lines) = ffprobe_stream(&file, "codec_name,width,height,sample_rate,channels")
            else {
                return;
            };
            assert_eq!(lines.join("\n"), stream, "{dir}");
            let packets = ffprobe_packets(&file).unwrap();
            assert_eq!(packets.len(), units.len());
            let want: Vec<_> = units
                .iter()
                .zip(&packets)
                .map(|(u, p)| {
                    (
                        u.pts,
                        u.dts,
                        p.2.and(Some(i64::from(u.duration))),
                        u.keyframe,
                    )
                })
                .collect();
            assert_eq!(packets, want, "{dir}/{k}");
            assert!(packets.iter().skip(1).all(|p| p.2.is_some()));
        }
    }
}
