//! The initialization segment: per track its id, timescale, kind, codec and `trex` defaults.

use super::bmff::{Mp4Box, find};
use super::reader::Reader;
use super::sample::{CodecConfig, CodecRecord};
use super::{MediaError, Result, aac, avc, hevc};
use crate::time::Timescale;

/// What an init segment (`ftyp` + `moov`) says about its tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitInfo {
    /// One entry per `moov/trak`, in file order.
    pub tracks: Vec<TrackInfo>,
}

impl InitInfo {
    /// The track with `track_id`.
    pub fn track(&self, track_id: u32) -> Option<&TrackInfo> {
        self.tracks.iter().find(|t| t.track_id == track_id)
    }
}

/// One `trak`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// `tkhd` track_ID.
    pub track_id: u32,
    /// `mdhd` ticks per second of the track's sample times.
    pub timescale: Timescale,
    /// `hdlr` handler type.
    pub handler: Handler,
    /// The first `stsd` entry (the original format's when encrypted).
    pub sample_entry: SampleEntry,
    /// The entry was `encv`/`enca`: its original format comes from `sinf/frma`.
    pub encrypted: bool,
    /// `mvex/trex` defaults for this track (zeros without a `trex`).
    pub defaults: TrexDefaults,
    /// What a decoder is set up with: the raw configuration record, codec string, size,
    /// channels and encryption.
    pub config: CodecConfig,
}

/// The track's kind, from `hdlr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Handler {
    /// `vide`.
    Video,
    /// `soun`.
    Audio,
    /// Any other handler type (`text`, `subt`, `meta`, ...).
    Other([u8; 4]),
}

/// A sample entry this module can describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleEntry {
    /// H.264 (`avc1`, `avc3`).
    Avc {
        /// `avc1` or `avc3`.
        fourcc: [u8; 4],
        /// Visual sample entry width in pixels.
        width: u16,
        /// Visual sample entry height in pixels.
        height: u16,
        /// The `avcC` box.
        config: AvcConfig,
    },
    /// MPEG-4 audio in `mp4a` (AAC and others, per `esds`).
    Mp4a {
        /// Audio sample entry channel count.
        channels: u16,
        /// Audio sample entry sample rate in Hz (integer part of the 16.16 field).
        sample_rate: u32,
        /// `esds` DecoderConfigDescriptor objectTypeIndication (0x40: MPEG-4 audio).
        object_type_indication: u8,
        /// The DecoderSpecificInfo bytes (AudioSpecificConfig for 0x40), possibly empty.
        audio_specific_config: Vec<u8>,
    },
    /// Any other entry, by type.
    Other([u8; 4]),
}

impl SampleEntry {
    /// The RFC 6381 codecs parameter (`avc1.64001f`, `mp4a.40.2`), or `None` when unknown.
    pub fn codec(&self) -> Option<String> {
        match self {
            SampleEntry::Avc {
                fourcc, config: c, ..
            } => Some(avc::codec_string(
                fourcc,
                c.profile,
                c.compatibility,
                c.level,
            )),
            SampleEntry::Mp4a {
                object_type_indication: 0x40,
                audio_specific_config: asc,
                ..
            } => aac::codec_string(asc),
            SampleEntry::Mp4a {
                object_type_indication: oti,
                ..
            } => Some(format!("mp4a.{oti:02x}")),
            SampleEntry::Other(_) => None,
        }
    }
}

/// `avcC` (ISO/IEC 14496-15, 5.3.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// AVCProfileIndication (100 is High).
    pub profile: u8,
    /// profile_compatibility.
    pub compatibility: u8,
    /// AVCLevelIndication (31 is level 3.1).
    pub level: u8,
    /// Bytes of the length prefix of each NAL unit in samples (1, 2 or 4).
    pub nal_length_size: u8,
    /// Sequence parameter sets.
    pub sps: Vec<Vec<u8>>,
    /// Picture parameter sets.
    pub pps: Vec<Vec<u8>>,
}

/// `trex` defaults (ISO/IEC 14496-12, 8.8.3) for samples of movie fragments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrexDefaults {
    /// default_sample_duration, in track ticks.
    pub duration: u32,
    /// default_sample_size, in bytes.
    pub size: u32,
    /// default_sample_flags.
    pub flags: u32,
}

/// Reads the tracks of an init segment.
pub fn parse_init(data: &[u8]) -> Result<InitInfo> {
    let moov = find(data, &[*b"moov"])?.ok_or(MediaError::Missing { what: "moov" })?;
    let mut trex = Vec::new();
    if let Some(mvex) = moov.child(b"mvex")? {
        for b in mvex.children().of_type(b"trex") {
            let mut r = Reader::new(b?.full_header()?.2, "trex");
            let track_id = r.u32()?;
            r.skip(4)?; // default_sample_description_index
            let (duration, size, flags) = (r.u32()?, r.u32()?, r.u32()?);
            trex.push((
                track_id,
                TrexDefaults {
                    duration,
                    size,
                    flags,
                },
            ));
        }
    }
    let mut tracks = Vec::new();
    for b in moov.children().of_type(b"trak") {
        let mut track = parse_trak(&b?)?;
        if let Some((_, d)) = trex.iter().find(|(id, _)| *id == track.track_id) {
            track.defaults = *d;
        }
        tracks.push(track);
    }
    Ok(InitInfo { tracks })
}

fn need<'a>(parent: &Mp4Box<'a>, fourcc: &[u8; 4], what: &'static str) -> Result<Mp4Box<'a>> {
    parent.child(fourcc)?.ok_or(MediaError::Missing { what })
}

fn parse_trak(trak: &Mp4Box<'_>) -> Result<TrackInfo> {
    let tkhd = need(trak, b"tkhd", "trak/tkhd")?;
    let (version, _, body) = tkhd.full_header()?;
    let mut r = Reader::new(body, "tkhd");
    r.skip(if version == 1 { 16 } else { 8 })?; // creation and modification times
    let track_id = r.u32()?;

    let mdia = need(trak, b"mdia", "trak/mdia")?;
    let mdhd = need(&mdia, b"mdhd", "mdia/mdhd")?;
    let (version, _, body) = mdhd.full_header()?;
    let mut r = Reader::new(body, "mdhd");
    r.skip(if version == 1 { 16 } else { 8 })?;
    let timescale = Timescale::new(r.u32()?).ok_or(mdhd.bad("timescale is zero"))?;

    let hdlr = need(&mdia, b"hdlr", "mdia/hdlr")?;
    let mut r = Reader::new(hdlr.full_header()?.2, "hdlr");
    r.skip(4)?; // pre_defined
    let handler = match &r.array()? {
        b"vide" => Handler::Video,
        b"soun" => Handler::Audio,
        other => Handler::Other(*other),
    };

    let minf = need(&mdia, b"minf", "mdia/minf")?;
    let stbl = need(&minf, b"stbl", "minf/stbl")?;
    let stsd = need(&stbl, b"stsd", "stbl/stsd")?;
    let entry = stsd
        .children_after(8)?
        .next()
        .ok_or(MediaError::Missing { what: "stsd entry" })??;
    let (sample_entry, encrypted) = parse_sample_entry(&entry)?;
    let config = codec_config(&entry, track_id, timescale, handler, &sample_entry)?;
    Ok(TrackInfo {
        track_id,
        timescale,
        handler,
        sample_entry,
        encrypted,
        defaults: TrexDefaults::default(),
        config,
    })
}

/// The decoder configuration of a sample entry: its configuration box as found, the codec
/// string, the visual size or audio format, and the `sinf` protection.
fn codec_config(
    entry: &Mp4Box<'_>,
    track_id: u32,
    timescale: Timescale,
    handler: Handler,
    parsed: &SampleEntry,
) -> Result<CodecConfig> {
    let visual = handler == Handler::Video || &entry.fourcc == b"encv";
    let skip = if visual {
        VISUAL_FIXED
    } else if handler == Handler::Audio || &entry.fourcc == b"enca" {
        audio_fixed(entry)?
    } else {
        0
    };
    let mut config = CodecConfig {
        track_id,
        handler,
        codec: parsed.codec(),
        timescale,
        record: CodecRecord::Other {
            fourcc: entry.fourcc,
            bytes: Vec::new(),
        },
        width: None,
        height: None,
        channels: None,
        sample_rate: None,
        protection: None,
    };
    let mut r = Reader::new(entry.body, "sample entry");
    if visual {
        r.skip(24)?;
        config.width = Some(r.u16()?.into());
        config.height = Some(r.u16()?.into());
    } else if skip > 0 {
        r.skip(16)?;
        config.channels = Some(r.u16()?.into());
        r.skip(6)?;
        config.sample_rate = Some(r.u32()? >> 16);
    }
    let format = match parsed {
        SampleEntry::Avc { fourcc, .. } => *fourcc,
        _ => entry.fourcc,
    };
    let children = if skip > 0 {
        entry.children_after(skip)?
    } else {
        entry.children()
    };
    for child in children {
        let child = child?;
        let record = match &child.fourcc {
            b"avcC" => CodecRecord::Avc(child.body.to_vec()),
            b"hvcC" => {
                config.codec = hevc_codec(&format, child.body);
                CodecRecord::Hevc(child.body.to_vec())
            }
            b"dac3" => {
                config.codec = Some("ac-3".into());
                CodecRecord::Ac3(child.body.to_vec())
            }
            b"dec3" => {
                config.codec = Some("ec-3".into());
                CodecRecord::Ec3(child.body.to_vec())
            }
            b"dOps" => {
                config.codec = Some("opus".into());
                CodecRecord::Opus(child.body.to_vec())
            }
            b"sinf" => {
                config.protection = Some(super::protection::parse_sinf(&child)?);
                continue;
            }
            b"esds" => match parsed {
                SampleEntry::Mp4a {
                    audio_specific_config,
                    ..
                } => CodecRecord::Aac(audio_specific_config.clone()),
                _ => continue,
            },
            _ => continue,
        };
        config.record = record;
    }
    Ok(config)
}

/// The RFC 6381 codecs parameter of an HEVC track from its `hvcC` (ISO/IEC 14496-15, E.3):
/// [`hevc::codec_string`] of the profile_tier_level the record repeats in bytes 1 to 12.
fn hevc_codec(fourcc: &[u8; 4], hvcc: &[u8]) -> Option<String> {
    let ptl: &[u8; 12] = hvcc.get(1..13)?.try_into().ok()?;
    Some(hevc::codec_string(fourcc, ptl))
}

/// Fixed fields before the child boxes of a VisualSampleEntry and an AudioSampleEntry (v0).
const VISUAL_FIXED: usize = 78;
const AUDIO_FIXED: usize = 28;

fn parse_sample_entry(entry: &Mp4Box<'_>) -> Result<(SampleEntry, bool)> {
    let encrypted = matches!(&entry.fourcc, b"encv" | b"enca");
    let format = if encrypted {
        let skip = if &entry.fourcc == b"encv" {
            VISUAL_FIXED
        } else {
            audio_fixed(entry)?
        };
        let sinf = entry.children_after(skip)?.first_of(b"sinf")?;
        let sinf = sinf.ok_or(MediaError::Missing { what: "sinf" })?;
        let frma = need(&sinf, b"frma", "sinf/frma")?;
        Reader::new(frma.body, "frma").array()?
    } else {
        entry.fourcc
    };
    let parsed = match &format {
        b"avc1" | b"avc3" => {
            let mut r = Reader::new(entry.body, "visual sample entry");
            r.skip(24)?;
            let (width, height) = (r.u16()?, r.u16()?);
            let avcc = entry
                .children_after(VISUAL_FIXED)?
                .first_of(b"avcC")?
                .ok_or(MediaError::Missing { what: "avcC" })?;
            SampleEntry::Avc {
                fourcc: format,
                width,
                height,
                config: parse_avcc(&avcc)?,
            }
        }
        b"mp4a" => {
            let mut r = Reader::new(entry.body, "audio sample entry");
            r.skip(16)?;
            let channels = r.u16()?;
            r.skip(6)?; // samplesize, pre_defined, reserved
            let sample_rate = r.u32()? >> 16;
            let esds = entry
                .children_after(audio_fixed(entry)?)?
                .first_of(b"esds")?
                .ok_or(MediaError::Missing { what: "esds" })?;
            let (object_type_indication, audio_specific_config) = parse_esds(&esds)?;
            SampleEntry::Mp4a {
                channels,
                sample_rate,
                object_type_indication,
                audio_specific_config,
            }
        }
        other => SampleEntry::Other(*other),
    };
    Ok((parsed, encrypted))
}

/// A QuickTime sound description version 1 adds 16 bytes; version 2 moves the channel count
/// and rate into new fields, which this module does not read.
fn audio_fixed(entry: &Mp4Box<'_>) -> Result<usize> {
    let mut r = Reader::new(entry.body, "audio sample entry");
    r.skip(8)?;
    match r.u16()? {
        0 => Ok(AUDIO_FIXED),
        1 => Ok(AUDIO_FIXED + 16),
        2 => Err(MediaError::Unsupported {
            what: "QuickTime sound sample description version 2".into(),
        }),
        _ => Err(entry.bad("unknown sound sample description version")),
    }
}

fn parse_avcc(avcc: &Mp4Box<'_>) -> Result<AvcConfig> {
    let mut r = Reader::new(avcc.body, "avcC");
    if r.u8()? != 1 {
        return Err(avcc.bad("configurationVersion is not 1"));
    }
    let (profile, compatibility, level) = (r.u8()?, r.u8()?, r.u8()?);
    let nal_length_size = (r.u8()? & 3) + 1;
    if nal_length_size == 3 {
        return Err(avcc.bad("lengthSizeMinusOne is 2"));
    }
    let count = r.u8()? & 0x1f;
    let sps = parameter_sets(&mut r, count)?;
    let count = r.u8()?;
    let pps = parameter_sets(&mut r, count)?;
    Ok(AvcConfig {
        profile,
        compatibility,
        level,
        nal_length_size,
        sps,
        pps,
    })
}

/// `count` parameter sets, each behind a 16-bit length.
fn parameter_sets(r: &mut Reader<'_>, count: u8) -> Result<Vec<Vec<u8>>> {
    (0..count)
        .map(|_| r.u16().and_then(|n| r.bytes(n.into())).map(<[u8]>::to_vec))
        .collect()
}

/// One descriptor (ISO/IEC 14496-1, 8.3.3): tag and body, whose size is 7 bits per byte.
fn descriptor<'a>(r: &mut Reader<'a>) -> Result<(u8, &'a [u8])> {
    let tag = r.u8()?;
    let mut size = 0usize;
    for _ in 0..4 {
        let b = r.u8()?;
        size = size << 7 | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Ok((tag, r.bytes(size)?));
        }
    }
    Err(MediaError::BadBox {
        fourcc: *b"esds",
        reason: "descriptor size longer than 4 bytes",
    })
}

/// The first descriptor with `tag` among those that fill `r`.
fn find_descriptor<'a>(r: &mut Reader<'a>, tag: u8, what: &'static str) -> Result<&'a [u8]> {
    while r.remaining() > 0 {
        match descriptor(r)? {
            (t, body) if t == tag => return Ok(body),
            _ => {}
        }
    }
    Err(MediaError::Missing { what })
}

/// `esds` -> ES_Descriptor -> DecoderConfigDescriptor -> DecoderSpecificInfo.
fn parse_esds(esds: &Mp4Box<'_>) -> Result<(u8, Vec<u8>)> {
    let mut r = Reader::new(esds.full_header()?.2, "esds");
    let mut es = Reader::new(
        find_descriptor(&mut r, 3, "ES_Descriptor")?,
        "ES_Descriptor",
    );
    es.skip(2)?; // ES_ID
    let flags = es.u8()?;
    if flags & 0x80 != 0 {
        es.skip(2)?; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        let len = es.u8()?;
        es.skip(len.into())?; // URL
    }
    if flags & 0x20 != 0 {
        es.skip(2)?; // OCR_ES_Id
    }
    let mut dc = Reader::new(
        find_descriptor(&mut es, 4, "DecoderConfigDescriptor")?,
        "DecoderConfigDescriptor",
    );
    let oti = dc.u8()?;
    dc.skip(12)?; // streamType, bufferSizeDB, maxBitrate, avgBitrate
    let asc = if dc.remaining() > 0 {
        find_descriptor(&mut dc, 5, "DecoderSpecificInfo")?.to_vec()
    } else {
        Vec::new()
    };
    Ok((oti, asc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testing::{flipped, media};

    #[test]
    fn audio_track() {
        let info = parse_init(&media("a/init.mp4")).unwrap();
        let [t] = &info.tracks[..] else {
            panic!("{info:?}")
        };
        assert_eq!(
            (t.track_id, t.timescale.get(), t.handler),
            (1, 48000, Handler::Audio)
        );
        assert_eq!(t.sample_entry.codec().as_deref(), Some("mp4a.40.2"));
        let SampleEntry::Mp4a {
            channels,
            sample_rate,
            object_type_indication,
            audio_specific_config,
        } = &t.sample_entry
        else {
            panic!("{t:?}")
        };
        assert_eq!(
            (*channels, *sample_rate, *object_type_indication),
            (2, 48000, 0x40)
        );
        // AAC LC, 48 kHz, 2 channels; ffmpeg appends a 3-byte SBR sync extension (5 in all).
        assert_eq!(audio_specific_config[..2], [0x11, 0x90]);
        assert_eq!(audio_specific_config.len(), 5);
        assert!(!t.encrypted);
        assert_eq!(info.track(1), Some(t));
    }

    #[test]
    fn video_tracks_match_ffprobe() {
        // ffprobe: profile High, level 12 / 21 / 30.
        for (name, width, height, codec) in [
            ("144p", 256, 144, "avc1.64000c"),
            ("270p", 480, 270, "avc1.640015"),
            ("360p", 640, 360, "avc1.64001e"),
        ] {
            let info = parse_init(&media(&format!("v/{name}/init.mp4"))).unwrap();
            let [t] = &info.tracks[..] else {
                panic!("{info:?}")
            };
            assert_eq!((t.timescale.get(), t.handler), (12800, Handler::Video));
            assert_eq!(t.sample_entry.codec().as_deref(), Some(codec));
            let SampleEntry::Avc {
                fourcc,
                width: w,
                height: h,
                config,
            } = &t.sample_entry
            else {
                panic!("{t:?}")
            };
            assert_eq!((fourcc, *w, *h), (b"avc1", width, height));
            assert_eq!((config.profile, config.nal_length_size), (100, 4));
            assert_eq!((config.sps.len(), config.sps[0][0] & 0x1f), (1, 7));
            assert_eq!((config.pps.len(), config.pps[0][0] & 0x1f), (1, 8));
            assert_eq!(
                config.sps[0][1..4],
                [config.profile, config.compatibility, config.level]
            );
        }
    }

    /// `init` with its first sample entry renamed `encv` and given a `sinf/frma` of `avc1`.
    fn encrypted(init: &[u8]) -> Vec<u8> {
        let path = [*b"moov", *b"trak", *b"mdia", *b"minf", *b"stbl", *b"stsd"];
        let stsd = find(init, &path).unwrap().unwrap();
        let entry = stsd.children_after(8).unwrap().next().unwrap().unwrap();
        // sinf(frma avc1, schm cenc 1.0, schi(tenc: protected, 8-byte IVs, KID 0x11...)).
        let sinf = [
            &[0, 0, 0, 80][..],
            b"sinf",
            &[0, 0, 0, 12],
            b"frma",
            b"avc1",
            &[0, 0, 0, 20],
            b"schm",
            &[0, 0, 0, 0],
            b"cenc",
            &[0, 1, 0, 0],
            &[0, 0, 0, 40],
            b"schi",
            &[0, 0, 0, 32],
            b"tenc",
            &[0, 0, 0, 0, 0, 0, 1, 8],
            &[0x11; 16],
        ]
        .concat();
        let mut out = init.to_vec();
        let end = entry.body_start() + entry.body.len();
        out.splice(end..end, sinf.iter().copied());
        out[entry.start + 4..entry.start + 8].copy_from_slice(b"encv");
        let starts = (1..=path.len()).map(|n| find(init, &path[..n]).unwrap().unwrap().start);
        for at in starts.chain([entry.start]) {
            let size = u32::from_be_bytes(out[at..at + 4].try_into().unwrap());
            out[at..at + 4].copy_from_slice(&(size + 80).to_be_bytes());
        }
        out
    }

    #[test]
    fn codec_configs_carry_the_raw_records() {
        let data = media("v/270p/init.mp4");
        let info = parse_init(&data).unwrap();
        let c = &info.tracks[0].config;
        let avcc = find(
            &data,
            &[*b"moov", *b"trak", *b"mdia", *b"minf", *b"stbl", *b"stsd"],
        )
        .unwrap()
        .unwrap();
        let entry = avcc.children_after(8).unwrap().next().unwrap().unwrap();
        let avcc = entry
            .children_after(VISUAL_FIXED)
            .unwrap()
            .first_of(b"avcC");
        assert_eq!(
            c.record,
            CodecRecord::Avc(avcc.unwrap().unwrap().body.to_vec())
        );
        assert_eq!(c.codec.as_deref(), Some("avc1.640015"));
        assert_eq!(
            (c.width, c.height, c.channels),
            (Some(480), Some(270), None)
        );
        let a = parse_init(&media("a/init.mp4")).unwrap();
        let c = &a.tracks[0].config;
        assert_eq!((c.channels, c.sample_rate), (Some(2), Some(48_000)));
        assert!(matches!(&c.record, CodecRecord::Aac(asc) if asc[..2] == [0x11, 0x90]));
    }

    #[test]
    fn hevc_codec_strings_follow_iso_14496_15_annex_e() {
        // Main profile, compatibility flags 0x60000000 (reversed: 0x6), Main tier, level
        // 93 (3.1), constraint byte 0xB0: the example of RFC 6381 section 3.4 style strings.
        let mut hvcc = vec![1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93];
        assert_eq!(
            hevc_codec(b"hvc1", &hvcc).as_deref(),
            Some("hvc1.1.6.L93.B0")
        );
        hvcc[1] = 0x22; // High tier, Main 10
        hvcc[2] = 0x20;
        assert_eq!(
            hevc_codec(b"hev1", &hvcc).as_deref(),
            Some("hev1.2.4.H93.B0")
        );
        assert_eq!(hevc_codec(b"hvc1", &hvcc[..5]), None);
    }

    #[test]
    fn encrypted_entries_carry_their_original_format() {
        let clear = parse_init(&media("v/144p/init.mp4")).unwrap();
        let info = parse_init(&encrypted(&media("v/144p/init.mp4"))).unwrap();
        assert!(info.tracks[0].encrypted);
        assert_eq!(info.tracks[0].sample_entry, clear.tracks[0].sample_entry);
        let p = info.tracks[0].config.protection.as_ref().unwrap();
        assert_eq!(
            (&p.scheme, p.default_kid, p.default_iv_size),
            (b"cenc", [0x11; 16], 8)
        );
        let mut clear_config = info.tracks[0].config.clone();
        clear_config.protection = None;
        assert_eq!(clear_config, clear.tracks[0].config);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert_eq!(parse_init(b""), Err(MediaError::Missing { what: "moov" }));
        let mut zero = media("a/init.mp4");
        let mdhd = find(&zero, &[*b"moov", *b"trak", *b"mdia", *b"mdhd"])
            .unwrap()
            .unwrap();
        let at = mdhd.body_start() + 12; // version 0: after flags, creation and modification times
        zero[at..at + 4].fill(0);
        assert_eq!(
            parse_init(&zero),
            Err(MediaError::BadBox {
                fourcc: *b"mdhd",
                reason: "timescale is zero"
            })
        );
        for file in ["a/init.mp4", "v/360p/init.mp4"] {
            let data = encrypted(&media(file));
            for n in 0..data.len() {
                assert!(
                    parse_init(&data[..n]).is_err(),
                    "{file}: prefix of {n} bytes"
                );
            }
            flipped(&data, usize::MAX, 1000).for_each(|d| drop(parse_init(&d)));
        }
    }
}
