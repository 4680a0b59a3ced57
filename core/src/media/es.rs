//! MPEG-TS elementary streams to access units: the sample sink of HLS-TS.
//!
//! [`TsReader::read`] takes one segment, demultiplexes it with [`ts::demux`] and returns the
//! [`AccessUnit`]s a platform decoder takes (MediaCodec, VideoToolbox), with one
//! [`CodecConfig`] per PID built from the stream itself:
//!
//! | stream_type | access unit | configuration |
//! |---|---|---|
//! | 0x1b H.264 | a picture: NAL units, 4-byte lengths | `avcC` of the in-band SPS, PPS |
//! | 0x24 H.265 | a picture: NAL units, 4-byte lengths | `hvcC` of the in-band VPS, SPS, PPS |
//! | 0x0f AAC (ADTS) | a raw frame, header removed | AudioSpecificConfig of the header |
//! | 0x81 AC-3 | a whole sync frame | `dac3` of the sync frame's BSI |
//! | 0x15 ID3 | a PES payload (an ID3v2 tag) | [`CodecRecord::Id3`] |
//!
//! Other stream types are ignored, as is AC-3 signalled as stream type 0x06 with a
//! descriptor ([`ts::demux`] does not read descriptors). Times are 90 kHz ticks and
//! `track_id` is the PID.
//!
//! # Policies
//!
//! - **Timestamps** are unwrapped: a PID's first timestamp is taken as is (or, when another
//!   PID of the reader already has one, moved by multiples of 2^33 to land nearest that
//!   one, so that tracks stay together across the rollover); every later one is moved by
//!   multiples of 2^33 to land nearest the PID's previous one. A stream crossing the
//!   rollover (every 26.5 h) keeps increasing. [`TsReader::reset`] forgets the history.
//! - **Video access units** are delimited as ITU-T H.264 7.4.1.2.3 and H.265 7.4.2.4.4
//!   say: an AUD, a parameter set, an SEI (and the other NAL types listed there) after a
//!   slice of the current AU, or a slice that is first in its picture (`first_mb_in_slice`
//!   0, `first_slice_segment_in_pic_flag` 1) after a slice. The NAL units of a PID are read
//!   as one byte stream across PES packets, so a PES may hold several AUs and an AU or a NAL
//!   unit may span PES packets. A PES's timestamps belong to the first AU that starts in it;
//!   an AU with none gets the previous AU's DTS and PTS plus one frame duration. The
//!   duration of a video AU is the distance to the next DTS; the last one of a segment
//!   repeats the previous distance (from an earlier segment, or the SPS VUI timing for
//!   H.264, when the segment holds only one AU). NAL units before the first slice that do
//!   not belong to a picture (an AU without a slice) are left out.
//! - **Parameter sets stay in the samples**: SPS and PPS (and VPS) are kept in band, as in
//!   `avc3`/`hev1` (MediaCodec and VideoToolbox accept them), so that a change inside a
//!   segment reaches the decoder; they also make the configuration record. AUDs are
//!   dropped; SEI and everything else is kept. `keyframe` is an IDR slice (H.264) or an
//!   IRAP picture, NAL types 16 to 23 (H.265). The codec strings are still `avc1.PPCCLL` and
//!   `hvc1.…` (RFC 6381, ISO/IEC 14496-15 E.3), as playlists spell them.
//! - **The configuration** describes the start of the segment: the first parameter set of
//!   each id, the first audio frame's format. A segment without parameter sets keeps the
//!   previous segment's configuration. An audio frame whose format differs from the
//!   segment's first is dropped (a new format needs a new segment).
//! - **Audio frames**: the k-th frame starting in a PES with a PTS has time
//!   `pts + floor(k × samples × 90000 / rate)`, its duration the difference to the next, so
//!   nothing drifts (1024 samples per AAC frame, 1536 per AC-3 frame). A PES without PTS
//!   continues the count. A frame split across PES packets is joined; a frame cut off by
//!   the end of the segment is dropped (the next segment starts with a new frame in HLS).
//! - **Errors**: a transport stream that [`ts::demux`] rejects is an error. Inside an
//!   elementary stream a bad frame costs as little as is safe: an audio frame whose header
//!   is broken, or that is not followed by another sync word, loses the rest of its PES
//!   packet (reading resumes at the next one); a parameter set that does not parse is left
//!   out of the configuration; a video track without any configuration loses its units.
//!   [`TsReader::dropped`] lists what was lost; when nothing at all is left, the first of it
//!   is the error.
//! - **Bounded**: work and memory are linear in the input. Each PID's payload is copied once,
//!   NAL units and frames are found by scanning it, parameter sets are kept per id (at most
//!   32 SPS and 256 PPS for H.264, 16 VPS, 16 SPS and 64 PPS for H.265).

use std::ops::Range;

use super::bits::NalScan;
use super::init::Handler;
use super::sample::{AccessUnit, CodecConfig, CodecRecord, Samples};
use super::ts::{self, stream_type};
use super::{MediaError, Result, aac, avc, hevc};
use crate::time::Timescale;

pub use super::avc::codec_config as avc_codec_config;
pub use super::bits::nal_units;
pub use super::hevc::codec_config as hevc_codec_config;

/// MPEG-TS timestamps count 90 kHz ticks modulo 2^33.
const WRAP: i64 = 1 << 33;
/// Ticks per second of MPEG-TS timestamps.
const TICKS: u64 = 90_000;
/// Problems kept by [`TsReader::dropped`] per read.
const MAX_DROPPED: usize = 16;

/// The timescale of MPEG-TS times.
fn ninety_khz() -> Timescale {
    // 90 000 is not zero: the fallback is never taken.
    Timescale::new(90_000).unwrap_or(Timescale::MICROS)
}

/// Carries what one track's segments need from the previous one: 33-bit timestamp unwrapping
/// (rollover every 2^33 ticks = 26.5 h) per PID, and the last codec configuration.
///
/// Read a rendition's segments in order with one reader; call [`reset`](Self::reset) at a
/// discontinuity. See the [module docs](self) for the policies.
#[derive(Debug, Clone, Default)]
pub struct TsReader {
    /// What each PID seen so far carries to the next segment.
    tracks: Vec<Track>,
    /// The last unwrapped timestamp of any PID.
    last_time: Option<i64>,
    /// What the last read lost.
    dropped: Vec<MediaError>,
}

/// The elementary stream types this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Avc,
    Hevc,
    Aac,
    Ac3,
    Id3,
}

impl Kind {
    fn of(stream_type: u8) -> Option<Kind> {
        match stream_type {
            stream_type::H264 => Some(Kind::Avc),
            stream_type::H265 => Some(Kind::Hevc),
            stream_type::AAC_ADTS => Some(Kind::Aac),
            stream_type::AC3 => Some(Kind::Ac3),
            stream_type::ID3 => Some(Kind::Id3),
            _ => None,
        }
    }
}

/// One PID's state between segments.
#[derive(Debug, Clone)]
struct Track {
    pid: u16,
    kind: Kind,
    /// The last unwrapped timestamp (DTS, else PTS).
    last_time: Option<i64>,
    /// The configuration of the last segment that had one.
    config: Option<CodecConfig>,
    /// Video: the last frame duration, in ticks (0 when unknown).
    frame_duration: u32,
    /// Video and ID3: the last unit's (DTS, PTS), for PES without timestamps.
    last_unit: Option<(i64, i64)>,
    /// Audio: where frame times are counted from.
    anchor: Option<Anchor>,
}

impl Track {
    fn new(pid: u16, kind: Kind) -> Self {
        Track {
            pid,
            kind,
            last_time: None,
            config: None,
            frame_duration: 0,
            last_unit: None,
            anchor: None,
        }
    }

    fn track_id(&self) -> u32 {
        u32::from(self.pid)
    }
}

/// One PID's PES payloads in one segment.
struct Stream {
    /// Index in [`TsReader::tracks`].
    track: usize,
    /// The payloads back to back.
    bytes: Vec<u8>,
    /// Where each PES starts in `bytes`, in order.
    marks: Vec<Mark>,
}

impl Stream {
    /// The first (DTS, PTS) of the segment, for units that precede every timestamp.
    fn first_times(&self) -> (i64, i64) {
        self.marks.iter().find_map(|m| m.times).unwrap_or((0, 0))
    }

    /// Advances `mark` to the PES that holds byte `pos`.
    fn seek(&self, mark: &mut usize, pos: usize) {
        while self.marks.get(*mark + 1).is_some_and(|m| m.start <= pos) {
            *mark += 1;
        }
    }
}

/// One PES packet within a [`Stream`].
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// Offset of its payload in [`Stream::bytes`].
    start: usize,
    /// Unwrapped (DTS, PTS).
    times: Option<(i64, i64)>,
    /// Its index among all PES packets of the segment: orders units across tracks.
    order: usize,
}

fn note(dropped: &mut Vec<MediaError>, e: MediaError) {
    if dropped.len() < MAX_DROPPED {
        dropped.push(e);
    }
}

/// `t` (33 bits) moved by a multiple of 2^33 to land nearest `near`.
fn unwrap_near(t: u64, near: Option<i64>) -> i64 {
    let t = (t & (WRAP as u64 - 1)) as i64;
    let Some(near) = near else {
        return t;
    };
    let candidate = near.saturating_sub(near.rem_euclid(WRAP)).saturating_add(t);
    if candidate.saturating_sub(near) > WRAP / 2 {
        candidate.saturating_sub(WRAP)
    } else if near.saturating_sub(candidate) > WRAP / 2 {
        candidate.saturating_add(WRAP)
    } else {
        candidate
    }
}

impl TsReader {
    /// A reader with no history.
    pub fn new() -> Self {
        TsReader::default()
    }

    /// Every access unit of a TS segment, with each track's [`CodecConfig`] (timescale
    /// 90 kHz, `track_id` = PID), configs in PID order, units in decode order per track
    /// (tracks interleaved in file order).
    ///
    /// Errs when [`ts::demux`] does, or when the segment has units but none could be read
    /// (then the error is the first of [`dropped`](Self::dropped)).
    pub fn read(&mut self, data: &[u8]) -> Result<Samples> {
        self.dropped.clear();
        let mut streams: Vec<Stream> = Vec::new();
        for (order, pes) in ts::demux(data)?.into_iter().enumerate() {
            let Some(kind) = Kind::of(pes.stream_type) else {
                continue;
            };
            let track = self.track(pes.pid, kind);
            let times = self.times(track, pes.pts, pes.dts);
            let at = match streams.iter().position(|s| s.track == track) {
                Some(at) => at,
                None => {
                    streams.push(Stream {
                        track,
                        bytes: Vec::new(),
                        marks: Vec::new(),
                    });
                    streams.len() - 1
                }
            };
            if let Some(s) = streams.get_mut(at) {
                s.marks.push(Mark {
                    start: s.bytes.len(),
                    times,
                    order,
                });
                s.bytes.extend_from_slice(&pes.data);
            }
        }
        let mut configs = Vec::new();
        let mut units: Vec<(usize, AccessUnit)> = Vec::new();
        for s in &streams {
            let Some(track) = self.tracks.get_mut(s.track) else {
                continue;
            };
            let dropped = &mut self.dropped;
            let got = match track.kind {
                Kind::Avc | Kind::Hevc => video(track, s, dropped),
                Kind::Aac | Kind::Ac3 => audio(track, s, dropped),
                Kind::Id3 => id3(track, s),
            };
            match &track.config {
                Some(config) => {
                    configs.push(config.clone());
                    units.extend(got);
                }
                None if !got.is_empty() => {
                    let what = if track.kind == Kind::Avc {
                        "H.264 SPS and PPS"
                    } else {
                        "H.265 VPS, SPS and PPS"
                    };
                    note(dropped, MediaError::Missing { what });
                }
                None => {}
            }
        }
        crate::order::sort_by_key(&mut configs, |c| u128::from(c.track_id));
        crate::order::sort_by_key(&mut units, |u| u.0 as u128);
        if units.is_empty()
            && let Some(e) = self.dropped.first()
        {
            return Err(e.clone());
        }
        Ok(Samples {
            configs,
            units: units.into_iter().map(|u| u.1).collect(),
        })
    }

    /// Forget timing history (a discontinuity: timestamps restart). Configurations stay.
    pub fn reset(&mut self) {
        self.last_time = None;
        for t in &mut self.tracks {
            t.last_time = None;
            t.last_unit = None;
            t.anchor = None;
        }
    }

    /// What the last [`read`](Self::read) had to leave out while returning the rest (at
    /// most 16 problems): bad audio frames, parameter sets that do not parse, video without
    /// a configuration. Empty when everything was read.
    pub fn dropped(&self) -> &[MediaError] {
        &self.dropped
    }

    /// The index of the PID's track, made anew when its stream type changed.
    fn track(&mut self, pid: u16, kind: Kind) -> usize {
        match self.tracks.iter().position(|t| t.pid == pid) {
            Some(at) => {
                if let Some(t) = self.tracks.get_mut(at)
                    && t.kind != kind
                {
                    let last_time = t.last_time;
                    *t = Track::new(pid, kind);
                    t.last_time = last_time;
                }
                at
            }
            None => {
                self.tracks.push(Track::new(pid, kind));
                self.tracks.len() - 1
            }
        }
    }

    /// Unwrapped (DTS, PTS) of a PES; the DTS is the PTS when absent.
    fn times(&mut self, track: usize, pts: Option<u64>, dts: Option<u64>) -> Option<(i64, i64)> {
        let t = self.tracks.get_mut(track)?;
        let dts = unwrap_near(dts.or(pts)?, t.last_time.or(self.last_time));
        let pts = pts.map_or(dts, |p| unwrap_near(p, Some(dts)));
        t.last_time = Some(dts);
        self.last_time = Some(dts);
        Some((dts, pts))
    }
}

// ---------------------------------------------------------------------------------------
// Video
// ---------------------------------------------------------------------------------------

/// Parameter set types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParamKind {
    Vps,
    Sps,
    Pps,
}

/// How a NAL unit relates to access units (H.264 7.4.1.2.3, H.265 7.4.2.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Access unit delimiter: starts an AU; dropped from samples.
    Delimiter,
    /// Parameter sets, SEI and the like: start an AU when they follow a slice of it.
    Leading(Option<ParamKind>),
    /// A slice: starts an AU after a slice when `first` in its picture.
    Vcl { first: bool, key: bool },
    /// Anything else belongs to the current AU.
    Trailing,
}

fn avc_role(nal: &[u8]) -> Role {
    let Some(&h) = nal.first() else {
        return Role::Trailing;
    };
    match h & 0x1f {
        9 => Role::Delimiter,
        7 => Role::Leading(Some(ParamKind::Sps)),
        8 => Role::Leading(Some(ParamKind::Pps)),
        6 | 14..=18 => Role::Leading(None),
        t @ 1..=5 => Role::Vcl {
            // first_mb_in_slice, ue(v), is 0 when its first bit is 1 (partitions B and C
            // start with slice_id instead: they never start a picture).
            first: matches!(t, 1 | 2 | 5) && nal.get(1).is_some_and(|b| b & 0x80 != 0),
            key: t == 5,
        },
        _ => Role::Trailing,
    }
}

fn hevc_role(nal: &[u8]) -> Role {
    let (Some(&h), Some(&l)) = (nal.first(), nal.get(1)) else {
        return Role::Trailing;
    };
    if (h & 1) << 5 | l >> 3 != 0 {
        // nuh_layer_id > 0: an enhancement layer's NAL unit goes with the base layer's AU.
        return Role::Trailing;
    }
    match h >> 1 & 0x3f {
        35 => Role::Delimiter,
        32 => Role::Leading(Some(ParamKind::Vps)),
        33 => Role::Leading(Some(ParamKind::Sps)),
        34 => Role::Leading(Some(ParamKind::Pps)),
        39 | 41..=44 | 48..=55 => Role::Leading(None),
        t @ 0..=31 => Role::Vcl {
            first: nal.get(2).is_some_and(|b| b & 0x80 != 0),
            key: (16..=23).contains(&t),
        },
        _ => Role::Trailing,
    }
}

/// An access unit being assembled.
struct Au {
    /// Offset of its first start code in the stream.
    at: usize,
    data: Vec<u8>,
    vcl: bool,
    key: bool,
}

/// The first parameter set of each id seen in a segment.
#[derive(Default)]
struct ParamSets {
    vps: Vec<(u32, Vec<u8>)>,
    sps: Vec<(u32, Vec<u8>)>,
    pps: Vec<(u32, Vec<u8>)>,
    /// H.264: the first SPS's VUI frame duration.
    frame_duration: Option<u32>,
}

impl ParamSets {
    fn is_empty(&self) -> bool {
        self.vps.is_empty() && self.sps.is_empty() && self.pps.is_empty()
    }

    fn add(&mut self, kind: ParamKind, nal: &[u8], hevc: bool) -> Result<()> {
        let id = match (hevc, kind) {
            (false, ParamKind::Sps) => {
                let sps = avc::parse_sps(nal)?;
                if self.sps.is_empty() {
                    self.frame_duration = sps.frame_duration;
                }
                sps.id
            }
            (false, ParamKind::Pps) => avc::pps_id(nal)?,
            (false, ParamKind::Vps) => return Ok(()),
            (true, ParamKind::Vps) => hevc::vps_id(nal)?,
            (true, ParamKind::Sps) => hevc::parse_sps(nal)?.id,
            (true, ParamKind::Pps) => hevc::pps_id(nal)?,
        };
        let list = match kind {
            ParamKind::Vps => &mut self.vps,
            ParamKind::Sps => &mut self.sps,
            ParamKind::Pps => &mut self.pps,
        };
        if !list.iter().any(|(i, _)| *i == id) {
            list.push((id, nal.to_vec()));
        }
        Ok(())
    }

    fn config(&self, track_id: u32, hevc: bool) -> Result<CodecConfig> {
        let (vps, sps, pps) = (nals(&self.vps), nals(&self.sps), nals(&self.pps));
        if hevc {
            hevc::codec_config(track_id, ninety_khz(), &vps, &sps, &pps)
        } else {
            avc::codec_config(track_id, ninety_khz(), &sps, &pps)
        }
    }
}

/// The NAL units of a parameter set list.
fn nals(list: &[(u32, Vec<u8>)]) -> Vec<&[u8]> {
    list.iter().map(|p| p.1.as_slice()).collect()
}

/// Splits a video PID's stream into access units, times them and updates the configuration.
fn video(track: &mut Track, s: &Stream, dropped: &mut Vec<MediaError>) -> Vec<(usize, AccessUnit)> {
    let hevc = track.kind == Kind::Hevc;
    let mut sets = ParamSets::default();
    let mut aus: Vec<Au> = Vec::new();
    let mut current: Option<Au> = None;
    let scan = NalScan::new(&s.bytes);
    for (at, range) in scan {
        let Some(nal) = s.bytes.get(range) else {
            continue;
        };
        let Ok(len) = u32::try_from(nal.len()) else {
            continue;
        };
        let role = if hevc { hevc_role(nal) } else { avc_role(nal) };
        let after_vcl = current.as_ref().is_some_and(|a| a.vcl);
        let starts = match role {
            Role::Delimiter => true,
            Role::Leading(_) => after_vcl,
            Role::Vcl { first, .. } => after_vcl && first,
            Role::Trailing => false,
        };
        if starts || current.is_none() {
            aus.extend(current.take().filter(|a| a.vcl));
            current = Some(Au {
                at,
                data: Vec::new(),
                vcl: false,
                key: false,
            });
        }
        match role {
            Role::Delimiter => continue,
            Role::Leading(Some(kind)) => {
                if let Err(e) = sets.add(kind, nal, hevc) {
                    note(dropped, e);
                }
            }
            _ => {}
        }
        if let Some(au) = current.as_mut() {
            if let Role::Vcl { key, .. } = role {
                au.vcl = true;
                au.key |= key;
            }
            au.data.extend_from_slice(&len.to_be_bytes());
            au.data.extend_from_slice(nal);
        }
    }
    aus.extend(current.filter(|a| a.vcl));

    if !sets.is_empty() {
        match sets.config(track.track_id(), hevc) {
            Ok(config) => track.config = Some(config),
            Err(e) => note(dropped, e),
        }
    }
    let mut est = if track.frame_duration > 0 {
        track.frame_duration
    } else {
        sets.frame_duration.unwrap_or(0)
    };
    let mut out: Vec<(usize, AccessUnit)> = Vec::with_capacity(aus.len());
    let (mut mark, mut used) = (0, None);
    for au in aus {
        s.seek(&mut mark, au.at);
        let m = s.marks.get(mark);
        let fresh = m.and_then(|m| m.times).filter(|_| used != Some(mark));
        let (dts, pts) = match (fresh, track.last_unit) {
            (Some(t), _) => {
                used = Some(mark);
                t
            }
            (None, Some((d, p))) => (d.saturating_add(est.into()), p.saturating_add(est.into())),
            (None, None) => s.first_times(),
        };
        if let Some((_, prev)) = out.last_mut() {
            match u32::try_from(dts.saturating_sub(prev.dts)) {
                Ok(d) if d > 0 => {
                    prev.duration = d;
                    est = d;
                }
                _ => prev.duration = est,
            }
        }
        track.last_unit = Some((dts, pts));
        let unit = AccessUnit {
            track_id: track.track_id(),
            dts,
            pts,
            duration: 0,
            keyframe: au.key,
            data: au.data,
            encryption: None,
        };
        out.push((m.map_or(0, |m| m.order), unit));
    }
    if let Some((_, last)) = out.last_mut() {
        last.duration = est;
    }
    track.frame_duration = est;
    out
}

// ---------------------------------------------------------------------------------------
// Audio
// ---------------------------------------------------------------------------------------

/// Where audio frame times are counted from: frame k is at `time + k × samples / rate`.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    time: i64,
    frames: u64,
    rate: u32,
    samples: u32,
}

impl Anchor {
    fn at(&self, k: u64) -> i64 {
        let ticks = u128::from(k) * u128::from(self.samples) * u128::from(TICKS)
            / u128::from(self.rate.max(1));
        self.time
            .saturating_add(i64::try_from(ticks).unwrap_or(i64::MAX))
    }
}

/// The decoder-relevant format of an audio frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AudioFormat {
    Aac {
        asc: [u8; 2],
        rate: u32,
        channel_configuration: u8,
    },
    Ac3 {
        dac3: [u8; 3],
        rate: u32,
        channels: u32,
    },
}

impl AudioFormat {
    fn rate(&self) -> u32 {
        match self {
            AudioFormat::Aac { rate, .. } | AudioFormat::Ac3 { rate, .. } => *rate,
        }
    }

    fn samples(&self) -> u32 {
        match self {
            AudioFormat::Aac { .. } => 1024,
            AudioFormat::Ac3 { .. } => 1536,
        }
    }

    /// Whether frames of `other` can go to a decoder set up for `self` (the AC-3 bit rate
    /// may change).
    fn same(&self, other: &AudioFormat) -> bool {
        match (self, other) {
            (AudioFormat::Ac3 { dac3: a, .. }, AudioFormat::Ac3 { dac3: b, .. }) => {
                let mask = |d: &[u8; 3]| [d[0], d[1] & 0xfc, d[2] & 0x1f];
                mask(a) == mask(b)
            }
            _ => self == other,
        }
    }

    fn config(&self, track_id: u32) -> CodecConfig {
        let (record, codec, channels) = match *self {
            AudioFormat::Aac {
                asc,
                channel_configuration: c,
                ..
            } => (
                CodecRecord::Aac(asc.to_vec()),
                aac::codec_string(&asc),
                aac::channel_count(c.into()),
            ),
            AudioFormat::Ac3 { dac3, channels, .. } => (
                CodecRecord::Ac3(dac3.to_vec()),
                Some("ac-3".into()),
                Some(channels),
            ),
        };
        CodecConfig {
            track_id,
            handler: Handler::Audio,
            codec,
            timescale: ninety_khz(),
            record,
            width: None,
            height: None,
            channels,
            sample_rate: Some(self.rate()),
            protection: None,
        }
    }
}

/// One audio frame at the start of the remaining stream.
struct Frame {
    len: usize,
    /// The access unit's bytes within the frame.
    payload: Range<usize>,
    format: AudioFormat,
}

enum Parsed {
    Frame(Frame),
    /// The stream ends inside the frame.
    Short,
    Bad(MediaError),
}

fn adts_sync(b: &[u8]) -> bool {
    matches!(b, [0xff, b1, ..] if b1 & 0xf6 == 0xf0)
}

/// The ADTS frame at the start of `data`, `offset` bytes into the PID's stream.
fn adts_at(data: &[u8], offset: usize) -> Parsed {
    let bad = |reason| Parsed::Bad(MediaError::BadAdts { offset, reason });
    let Some(&[_, _, _, b3, b4, b5, b6]) = data.get(..7) else {
        return Parsed::Short;
    };
    if !adts_sync(data) {
        return bad("no syncword (0xFFF, layer 0)");
    }
    if b6 & 3 != 0 {
        return Parsed::Bad(MediaError::Unsupported {
            what: "ADTS frames of several raw data blocks".into(),
        });
    }
    let len = usize::from(b3 & 3) << 11 | usize::from(b4) << 3 | usize::from(b5 >> 5);
    let Some(frame) = data.get(..len) else {
        return Parsed::Short;
    };
    match ts::adts_frames(frame).as_deref() {
        Ok([f]) => Parsed::Frame(Frame {
            len,
            payload: f.payload.clone(),
            format: AudioFormat::Aac {
                asc: f.audio_specific_config,
                rate: f.sample_rate,
                channel_configuration: f.channels,
            },
        }),
        Ok(_) => bad("frame_length shorter than the header"),
        Err(MediaError::BadAdts { reason, .. }) => bad(reason),
        Err(e) => Parsed::Bad(e.clone()),
    }
}

/// Nominal bit rates of AC-3 in kbit/s by frmsizecod / 2 (ETSI TS 102 366 Table 4.13).
const AC3_KBPS: [u32; 19] = [
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
];

/// The AC-3 sync frame at the start of `data` (ETSI TS 102 366 4.3).
fn ac3_at(data: &[u8]) -> Parsed {
    let bad = |reason| {
        Parsed::Bad(MediaError::BadStream {
            codec: "AC-3",
            reason,
        })
    };
    let Some(&[s0, s1, _, _, b4, b5, b6, b7]) = data.get(..8) else {
        return Parsed::Short;
    };
    if [s0, s1] != [0x0b, 0x77] {
        return bad("no syncword 0x0B77");
    }
    let (fscod, frmsizecod) = (b4 >> 6, b4 & 0x3f);
    let Some(rate) = [48000, 44100, 32000].get(usize::from(fscod)) else {
        return bad("reserved fscod");
    };
    let Some(kbps) = AC3_KBPS.get(usize::from(frmsizecod >> 1)) else {
        return bad("reserved frmsizecod");
    };
    let (bsid, bsmod) = (b5 >> 3, b5 & 7);
    if bsid > 10 {
        return bad("bsid above 10: not AC-3");
    }
    // 16-bit words per frame: 1536 samples at the bit rate; 44.1 kHz rounds down and odd
    // frmsizecod adds a word.
    let words = match fscod {
        0 => kbps * 2,
        1 => kbps * 96_000 / 44_100 + u32::from(frmsizecod & 1),
        _ => kbps * 3,
    };
    let bits = u16::from_be_bytes([b6, b7]);
    let acmod = (bits >> 13) as u8;
    let mut used = 3;
    if acmod & 1 != 0 && acmod != 1 {
        used += 2; // cmixlev
    }
    if acmod & 4 != 0 {
        used += 2; // surmixlev
    }
    if acmod == 2 {
        used += 2; // dsurmod
    }
    let lfeon = (bits >> (15 - used) & 1) as u8;
    let len = words as usize * 2;
    if data.len() < len {
        return Parsed::Short;
    }
    let front = [2, 1, 2, 3, 3, 4, 4, 5]
        .get(usize::from(acmod))
        .unwrap_or(&2);
    let channels = front + u32::from(lfeon);
    // dac3: fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1) bit_rate_code(5) reserved(5).
    let v = u32::from(fscod) << 22
        | u32::from(bsid) << 17
        | u32::from(bsmod) << 14
        | u32::from(acmod) << 11
        | u32::from(lfeon) << 10
        | u32::from(frmsizecod >> 1) << 5;
    let [_, d0, d1, d2] = v.to_be_bytes();
    Parsed::Frame(Frame {
        len,
        payload: 0..len,
        format: AudioFormat::Ac3 {
            dac3: [d0, d1, d2],
            rate: *rate,
            channels,
        },
    })
}

/// Splits an audio PID's stream into frames and times them.
fn audio(track: &mut Track, s: &Stream, dropped: &mut Vec<MediaError>) -> Vec<(usize, AccessUnit)> {
    let aac = track.kind == Kind::Aac;
    let mut out = Vec::new();
    let (mut pos, mut mark, mut used) = (0, 0, None);
    let mut first: Option<AudioFormat> = None;
    while let Some(rest) = s.bytes.get(pos..).filter(|r| !r.is_empty()) {
        s.seek(&mut mark, pos);
        let next_pes = s.marks.get(mark + 1).map_or(s.bytes.len(), |m| m.start);
        let parsed = if aac {
            adts_at(rest, pos)
        } else {
            ac3_at(rest)
        };
        let frame = match parsed {
            Parsed::Frame(f) => f,
            Parsed::Short => break,
            Parsed::Bad(e) => {
                note(dropped, e);
                pos = next_pes;
                continue;
            }
        };
        // A frame must be followed by the next frame's sync word (or the end).
        let after = rest.get(frame.len..).unwrap_or_default();
        let synced = if aac {
            adts_sync(after)
        } else {
            after.starts_with(&[0x0b, 0x77])
        };
        if after.len() >= 2 && !synced {
            let reason = "frame not followed by a syncword";
            note(
                dropped,
                if aac {
                    MediaError::BadAdts {
                        offset: pos,
                        reason,
                    }
                } else {
                    MediaError::BadStream {
                        codec: "AC-3",
                        reason,
                    }
                },
            );
            pos = next_pes;
            continue;
        }
        let format = frame.format;
        let m = s.marks.get(mark);
        let fresh = m.and_then(|m| m.times).filter(|_| used != Some(mark));
        let new_anchor = |time| Anchor {
            time,
            frames: 0,
            rate: format.rate(),
            samples: format.samples(),
        };
        let mut anchor = match (fresh, track.anchor) {
            (Some((_, pts)), _) => {
                used = Some(mark);
                new_anchor(pts)
            }
            (None, Some(a)) if a.rate == format.rate() && a.samples == format.samples() => a,
            (None, Some(a)) => new_anchor(a.at(a.frames)),
            (None, None) => new_anchor(s.first_times().1),
        };
        let (time, end) = (anchor.at(anchor.frames), anchor.at(anchor.frames + 1));
        anchor.frames += 1;
        track.anchor = Some(anchor);
        pos += frame.len;
        match first {
            None => first = Some(format),
            Some(f) if !f.same(&format) => {
                note(
                    dropped,
                    MediaError::Unsupported {
                        what: "a change of audio format inside a segment".into(),
                    },
                );
                continue;
            }
            Some(_) => {}
        }
        let data = rest.get(frame.payload).unwrap_or_default().to_vec();
        let unit = AccessUnit {
            track_id: track.track_id(),
            dts: time,
            pts: time,
            duration: u32::try_from(end.saturating_sub(time)).unwrap_or(0),
            keyframe: true,
            data,
            encryption: None,
        };
        out.push((m.map_or(0, |m| m.order), unit));
    }
    if let Some(f) = first {
        track.config = Some(f.config(track.track_id()));
    }
    out
}

// ---------------------------------------------------------------------------------------
// ID3
// ---------------------------------------------------------------------------------------

/// One unit per non-empty PES payload.
fn id3(track: &mut Track, s: &Stream) -> Vec<(usize, AccessUnit)> {
    let mut out = Vec::new();
    for (i, m) in s.marks.iter().enumerate() {
        let end = s.marks.get(i + 1).map_or(s.bytes.len(), |n| n.start);
        let data = s.bytes.get(m.start..end).unwrap_or_default();
        if data.is_empty() {
            continue;
        }
        let (_, pts) = m
            .times
            .or(track.last_unit)
            .unwrap_or_else(|| s.first_times());
        track.last_unit = Some((pts, pts));
        let unit = AccessUnit {
            track_id: track.track_id(),
            dts: pts,
            pts,
            duration: 0,
            keyframe: true,
            data: data.to_vec(),
            encryption: None,
        };
        out.push((m.order, unit));
    }
    track.config = Some(CodecConfig {
        track_id: track.track_id(),
        handler: Handler::Other(*b"meta"),
        codec: None,
        timescale: ninety_khz(),
        record: CodecRecord::Id3,
        width: None,
        height: None,
        channels: None,
        sample_rate: None,
        protection: None,
    });
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::media::testing::{flipped, hex, media};
    use crate::media::ts::{PACKET_LEN, shift_ts_timestamps};
    use crate::media::{SampleEntry, find, parse_fragment, parse_init};

    const RENDITIONS: [(&str, u32, u32); 3] =
        [("144p", 256, 144), ("270p", 480, 270), ("360p", 640, 360)];

    fn read(file: &str) -> Samples {
        TsReader::new().read(&media(file)).unwrap()
    }

    /// The NAL units of a sample (4-byte lengths).
    fn nals_of(data: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            out.push(&rest[4..4 + len]);
            rest = &rest[4 + len..];
        }
        out
    }

    fn avc_types(data: &[u8]) -> Vec<u8> {
        nals_of(data).iter().map(|n| n[0] & 0x1f).collect()
    }

    /// A sample without its SPS and PPS (what an `avc1` sample holds).
    fn without_parameter_sets(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for nal in nals_of(data) {
            if !matches!(nal[0] & 0x1f, 7 | 8) {
                out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                out.extend_from_slice(nal);
            }
        }
        out
    }

    /// The `avcC` body of an init segment's first track.
    fn avcc(init: &[u8]) -> Vec<u8> {
        let path = [*b"moov", *b"trak", *b"mdia", *b"minf", *b"stbl", *b"stsd"];
        let stsd = find(init, &path).unwrap().unwrap();
        let avc1 = stsd.children_after(8).unwrap().next().unwrap().unwrap();
        assert_eq!(&avc1.fourcc, b"avc1");
        let avcc = avc1.children_after(78).unwrap().first_of(b"avcC").unwrap();
        avcc.unwrap().body.to_vec()
    }

    /// A PES to [`mux`]: PID, PTS, DTS, payload.
    type TestPes = (u16, Option<u64>, Option<u64>, Vec<u8>);

    /// A transport stream of one program with `streams` (PID, stream_type), then `pes` in
    /// order, each in its own packets.
    fn mux(streams: &[(u16, u8)], pes: &[TestPes]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cc = [0u8; 0x2000];
        let mut packet = |out: &mut Vec<u8>, pid: u16, pusi: bool, chunk: &[u8], stuff: bool| {
            let c = &mut cc[usize::from(pid)];
            let mut p = vec![0x47, u8::from(pusi) << 6 | (pid >> 8) as u8, pid as u8];
            if chunk.len() < 184 && stuff {
                p.push(0x30 | *c);
                let af = 183 - chunk.len();
                p.push(af as u8);
                if af > 0 {
                    p.push(0);
                    p.resize(p.len() + af - 1, 0xff);
                }
            } else {
                p.push(0x10 | *c);
            }
            p.extend_from_slice(chunk);
            p.resize(PACKET_LEN, 0xff);
            *c = (*c + 1) & 0xf;
            out.extend_from_slice(&p);
        };
        let pat = [0, 0, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0, 0, 0, 0, 0];
        packet(&mut out, 0, true, &pat, false);
        let mut pmt = vec![
            0,
            2,
            0xb0,
            (9 + 5 * streams.len() + 4) as u8,
            0,
            1,
            0xc1,
            0,
            0,
        ];
        pmt.extend_from_slice(&[0xe1, 0x00, 0xf0, 0x00]);
        for (pid, st) in streams {
            pmt.extend_from_slice(&[*st, 0xe0 | (pid >> 8) as u8, *pid as u8, 0xf0, 0]);
        }
        pmt.extend_from_slice(&[0, 0, 0, 0]);
        packet(&mut out, 0x1000, true, &pmt, false);
        let field = |prefix: u8, v: u64| {
            [
                prefix << 4 | (v >> 29) as u8 & 0x0e | 1,
                (v >> 22) as u8,
                (v >> 14) as u8 & 0xfe | 1,
                (v >> 7) as u8,
                (v << 1) as u8 | 1,
            ]
        };
        for (pid, pts, dts, data) in pes {
            let st = streams.iter().find(|s| s.0 == *pid).unwrap().1;
            let stream_id = match st {
                stream_type::H264 | stream_type::H265 => 0xe0,
                stream_type::AAC_ADTS => 0xc0,
                _ => 0xbd,
            };
            let mut p = vec![0, 0, 1, stream_id, 0, 0, 0x80];
            match (pts, dts) {
                (Some(pts), Some(dts)) => {
                    p.extend_from_slice(&[0xc0, 10]);
                    p.extend_from_slice(&field(3, *pts));
                    p.extend_from_slice(&field(1, *dts));
                }
                (Some(pts), None) => {
                    p.extend_from_slice(&[0x80, 5]);
                    p.extend_from_slice(&field(2, *pts));
                }
                _ => p.extend_from_slice(&[0, 0]),
            }
            p.extend_from_slice(data);
            for (i, chunk) in p.chunks(184).enumerate() {
                packet(&mut out, *pid, i == 0, chunk, true);
            }
        }
        out
    }

    /// An ADTS frame: AAC LC, stereo, sampling_frequency_index `index`.
    fn adts(index: u8, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() + 7;
        let mut f = vec![
            0xff,
            0xf1,
            0x40 | index << 2,
            0x80 | (len >> 11) as u8,
            (len >> 3) as u8,
            (len << 5) as u8 | 0x1f,
            0xfc,
        ];
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn h264_segments_match_the_fmp4_encode() {
        for (name, width, height) in RENDITIONS {
            let init = media(&format!("v/{name}/init.mp4"));
            let info = parse_init(&init).unwrap();
            let mut reader = TsReader::new();
            let mut next_dts = None;
            for k in 0..8 {
                let got = reader.read(&media(&format!("v/{name}/{k}.ts"))).unwrap();
                assert!(reader.dropped().is_empty(), "{:?}", reader.dropped());
                let [config] = got.configs.as_slice() else {
                    panic!("{name}/{k}: {:?}", got.configs);
                };
                assert_eq!(config.track_id, 0x100);
                assert_eq!(config.handler, Handler::Video);
                assert_eq!((config.width, config.height), (Some(width), Some(height)));
                assert_eq!(config.timescale.get(), 90_000);
                // The same record as the fMP4 encode's, High profile extension included.
                assert_eq!(config.record, CodecRecord::Avc(avcc(&init)), "{name}");
                assert_eq!(config.codec, info.tracks[0].sample_entry.codec());
                assert!(config.codec.as_deref().unwrap().starts_with("avc1.64"));

                let units = &got.units;
                assert_eq!(units.len(), 48, "{name}/{k}");
                assert!(units[0].keyframe && units[1..].iter().all(|u| !u.keyframe));
                // SPS and PPS in band before the IDR (after x264's SEI in the first
                // segment), no AUD anywhere.
                let first: &[u8] = if k == 0 { &[6, 7, 8, 5] } else { &[7, 8, 5] };
                assert_eq!(avc_types(&units[0].data), first);
                assert!(units[1..].iter().all(|u| avc_types(&u.data) == [1]));
                assert!(
                    units
                        .iter()
                        .all(|u| u.duration == 3600 && u.track_id == 0x100)
                );
                assert!(units.windows(2).all(|w| w[1].dts - w[0].dts == 3600));
                if let Some(d) = next_dts {
                    assert_eq!(units[0].dts, d, "{name}/{k} continues {name}/{}", k - 1);
                }
                next_dts = Some(units[47].dts + 3600);

                // The fMP4 segment of the same encode holds the same NAL units, less the
                // in-band SPS and PPS (its avc1 keeps them in avcC only), with the same
                // keyframes and composition offsets.
                let m4s = media(&format!("v/{name}/{k}.m4s"));
                let run = &parse_fragment(&m4s, &info).unwrap()[0];
                assert_eq!(run.samples.len(), 48);
                let scale = i64::from(run.timescale.get());
                let (u0, s0) = (&units[0], &run.samples[0]);
                for (u, s) in units.iter().zip(&run.samples) {
                    assert_eq!(without_parameter_sets(&u.data), m4s[s.data.clone()]);
                    assert_eq!(u.keyframe, s.keyframe);
                    assert_eq!((u.pts - u.dts) * scale, (s.pts - s.dts) * 90_000);
                    assert_eq!((u.dts - u0.dts) * scale, (s.dts - s0.dts) * 90_000);
                }
            }
        }
    }

    #[test]
    fn h264_times_are_ffprobes() {
        // ffprobe -show_entries packet=pts,dts,flags conformance/media/v/270p/{0,1}.ts
        let s0 = read("v/270p/0.ts");
        let times: Vec<_> = s0
            .units
            .iter()
            .map(|u| (u.pts, u.dts, u.keyframe))
            .collect();
        assert_eq!(
            times[..4],
            [
                (133200, 126000, true),
                (147600, 129600, false),
                (140400, 133200, false),
                (136800, 136800, false)
            ]
        );
        assert_eq!(times[47], (298800, 295200, false));
        let s1 = read("v/270p/1.ts");
        assert_eq!((s1.units[0].pts, s1.units[0].dts), (306000, 298800));
        assert_eq!((s1.units[1].pts, s1.units[1].dts), (320400, 302400));
    }

    #[test]
    fn aac_segments_match_the_fmp4_encode() {
        let init = media("a/init.mp4");
        let info = parse_init(&init).unwrap();
        let SampleEntry::Mp4a {
            audio_specific_config: asc,
            ..
        } = &info.tracks[0].sample_entry
        else {
            panic!("{:?}", info.tracks[0].sample_entry);
        };
        let mut reader = TsReader::new();
        for k in 0..8 {
            let got = reader.read(&media(&format!("a/{k}.ts"))).unwrap();
            assert!(reader.dropped().is_empty());
            let [config] = got.configs.as_slice() else {
                panic!("{:?}", got.configs);
            };
            assert_eq!(config.record, CodecRecord::Aac(vec![0x11, 0x90]));
            assert_eq!(asc[..2], [0x11, 0x90]);
            assert_eq!(config.codec.as_deref(), Some("mp4a.40.2"));
            assert_eq!(
                (config.channels, config.sample_rate),
                (Some(2), Some(48000))
            );
            assert_eq!(config.handler, Handler::Audio);
            assert_eq!(got.units.len(), 90);
            // 1.92 s segments from 1.4 s; 1024 samples at 48 kHz are 1920 ticks.
            let start = 126_000 + k * 172_800;
            for (i, u) in got.units.iter().enumerate() {
                assert_eq!((u.dts, u.pts), (start + 1920 * i as i64, u.dts));
                assert!(u.keyframe && u.duration == 1920);
            }
            // Raw frames, byte for byte the fMP4 samples.
            let m4s = media(&format!("a/{k}.m4s"));
            let run = &parse_fragment(&m4s, &info).unwrap()[0];
            assert_eq!(run.samples.len(), 90);
            for (u, s) in got.units.iter().zip(&run.samples) {
                assert_eq!(u.data, m4s[s.data.clone()]);
            }
        }
        // ffprobe: the first packet of a/0.ts and the last of a/7.ts.
        assert_eq!(read("a/0.ts").units[0].pts, 126000);
        assert_eq!(read("a/7.ts").units[89].pts, 1506480);
    }

    #[test]
    fn timestamps_unwrap_across_the_rollover() {
        // Segment 0 starts 74000 ticks before 2^33 and crosses it; segment 1 is past it.
        let delta = (1u64 << 33) - 200_000;
        for files in [["v/270p/0.ts", "v/270p/1.ts"], ["a/0.ts", "a/1.ts"]] {
            let mut plain = TsReader::new();
            let plain = files.map(|f| plain.read(&media(f)).unwrap());
            let shifted = files.map(|f| {
                let mut d = media(f);
                shift_ts_timestamps(&mut d, delta).unwrap();
                d
            });
            let mut reader = TsReader::new();
            let got = shifted.clone().map(|d| reader.read(&d).unwrap());
            for (p, g) in plain.iter().zip(&got) {
                assert_eq!(p.units.len(), g.units.len());
                for (a, b) in p.units.iter().zip(&g.units) {
                    assert_eq!((b.dts, b.pts), (a.dts + delta as i64, a.pts + delta as i64));
                    assert_eq!((&b.data, b.duration), (&a.data, a.duration));
                }
            }
            assert_eq!(got[0].units[0].dts, WRAP - 74_000, "{files:?}");
            assert!(got[0].units.last().unwrap().dts > WRAP);
            // After a reset, timestamps are taken as they come.
            reader.reset();
            let again = reader.read(&shifted[1]).unwrap();
            assert_eq!(again.units[0].dts, got[1].units[0].dts - WRAP);
        }
    }

    #[test]
    fn unwrapping_picks_the_nearest_lap() {
        assert_eq!(unwrap_near(5, None), 5);
        assert_eq!(unwrap_near(5, Some(WRAP - 10)), WRAP + 5);
        assert_eq!(unwrap_near((WRAP - 10) as u64, Some(WRAP + 5)), WRAP - 10);
        assert_eq!(unwrap_near((WRAP - 50) as u64, Some(-100)), -50);
        assert_eq!(unwrap_near(1000, Some(3 * WRAP + 900)), 3 * WRAP + 1000);
        // Only the low 33 bits count.
        assert_eq!(unwrap_near(WRAP as u64 + 7, None), 7);
        // Saturates rather than overflows at the ends of i64.
        assert!(unwrap_near(9, Some(i64::MIN + 3)) < 0);
        assert!(unwrap_near(9, Some(i64::MAX - 3)) > 0);
    }

    #[test]
    fn h264_access_units_are_found_across_pes_boundaries() {
        let data = media("v/270p/0.ts");
        let want = read("v/270p/0.ts").units;
        let pes = ts::demux(&data).unwrap();
        let streams = [(0x100, stream_type::H264)];
        // Three access units per PES, timed as the first.
        let grouped: Vec<TestPes> = pes
            .chunks(3)
            .map(|c| (0x100, c[0].pts, c[0].dts, c.concat_data()))
            .collect();
        let got = TsReader::new().read(&mux(&streams, &grouped)).unwrap();
        assert_eq!(got.units.len(), 48);
        for (i, (g, w)) in got.units.iter().zip(&want).enumerate() {
            assert_eq!(
                (&g.data, g.keyframe, g.duration),
                (&w.data, w.keyframe, 3600)
            );
            let lead = &want[i - i % 3];
            let n = (i % 3) as i64 * 3600;
            assert_eq!((g.dts, g.pts), (lead.dts + n, lead.pts + n), "{i}");
        }
        // PES cut every 1000 bytes, wherever that falls (inside NAL units and start codes),
        // only the first timed: times follow from the SPS's VUI frame rate.
        let stream = pes.concat_data();
        let cut: Vec<TestPes> = stream
            .chunks(1000)
            .enumerate()
            .map(|(i, c)| {
                let t = if i == 0 {
                    (pes[0].pts, pes[0].dts)
                } else {
                    (None, None)
                };
                (0x100, t.0, t.1, c.to_vec())
            })
            .collect();
        let got = TsReader::new().read(&mux(&streams, &cut)).unwrap();
        assert_eq!(got.units.len(), 48);
        for (i, (g, w)) in got.units.iter().zip(&want).enumerate() {
            assert_eq!(
                (&g.data, g.keyframe, g.duration),
                (&w.data, w.keyframe, 3600)
            );
            let n = i as i64 * 3600;
            assert_eq!((g.dts, g.pts), (want[0].dts + n, want[0].pts + n));
        }
    }

    trait ConcatData {
        fn concat_data(&self) -> Vec<u8>;
    }

    impl ConcatData for [ts::Pes] {
        fn concat_data(&self) -> Vec<u8> {
            self.iter().flat_map(|p| p.data.iter().copied()).collect()
        }
    }

    #[test]
    fn aac_frames_split_across_pes_are_joined() {
        let data = media("a/0.ts");
        let want = read("a/0.ts").units;
        let pes = ts::demux(&data).unwrap();
        let stream = pes.concat_data();
        let streams = [(0x100, stream_type::AAC_ADTS)];
        // PES of 700 bytes: frames straddle them; only the first has a PTS.
        let cut: Vec<TestPes> = stream
            .chunks(700)
            .enumerate()
            .map(|(i, c)| (0x100, pes[0].pts.filter(|_| i == 0), None, c.to_vec()))
            .collect();
        let mut reader = TsReader::new();
        let got = reader.read(&mux(&streams, &cut)).unwrap();
        assert_eq!(got.units, want);
        assert!(reader.dropped().is_empty());
        // A partial frame at the end of the segment is dropped quietly.
        let short = mux(
            &streams,
            &[(0x100, pes[0].pts, None, stream[..1000].to_vec())],
        );
        let got = reader.read(&short).unwrap();
        assert_eq!(got.units[..], want[..got.units.len()]);
        assert!(reader.dropped().is_empty() && got.units.len() < 10);
    }

    #[test]
    fn aac_frame_times_do_not_drift() {
        // 44.1 kHz: 1024 samples are 2089.795... ticks.
        let frames: Vec<u8> = (0..5).flat_map(|i| adts(4, &[i; 9])).collect();
        let ts = mux(
            &[(0x101, stream_type::AAC_ADTS)],
            &[(0x101, Some(1000), None, frames)],
        );
        let got = TsReader::new().read(&ts).unwrap();
        let times: Vec<_> = got.units.iter().map(|u| (u.pts, u.duration)).collect();
        assert_eq!(
            times,
            [
                (1000, 2089),
                (3089, 2090),
                (5179, 2090),
                (7269, 2090),
                (9359, 2089)
            ]
        );
        assert_eq!(got.units[2].data, [2; 9]);
        assert_eq!(got.configs[0].record, CodecRecord::Aac(vec![0x12, 0x10]));
        assert_eq!(got.configs[0].sample_rate, Some(44100));
    }

    #[test]
    fn a_bad_audio_frame_costs_the_rest_of_its_pes() {
        let data = media("a/0.ts");
        let want = read("a/0.ts").units;
        let stream = ts::demux(&data).unwrap().concat_data();
        let frames = ts::adts_frames(&stream).unwrap();
        let starts: Vec<usize> = frames.iter().map(|f| f.payload.start - 7).collect();
        // PES of 3 frames each, each timed; frame 5's sync word broken.
        let mut pes: Vec<TestPes> = Vec::new();
        for (i, c) in starts.chunks(3).enumerate() {
            let end = starts.get(3 * i + 3).copied().unwrap_or(stream.len());
            pes.push((
                0x100,
                Some(want[3 * i].pts as u64),
                None,
                stream[c[0]..end].to_vec(),
            ));
        }
        pes[1].3[starts[5] - starts[3]] = 0x00;
        let mut reader = TsReader::new();
        let got = reader
            .read(&mux(&[(0x100, stream_type::AAC_ADTS)], &pes))
            .unwrap();
        // Frame 4 is not followed by a sync word: it goes with the rest of its PES (frame
        // 5); reading resumes with the next PES, the other frames keep their times.
        let kept = want.iter().enumerate().filter(|(i, _)| !matches!(i, 4 | 5));
        assert_eq!(got.units, kept.map(|(_, u)| u.clone()).collect::<Vec<_>>());
        let at = starts[4];
        assert_eq!(
            reader.dropped(),
            [MediaError::BadAdts {
                offset: at,
                reason: "frame not followed by a syncword"
            }]
        );
        // When nothing is left, the problem is the error.
        let bad = mux(
            &[(0x100, stream_type::AAC_ADTS)],
            &[(0x100, Some(0), None, vec![1; 50])],
        );
        assert!(matches!(
            reader.read(&bad),
            Err(MediaError::BadAdts { offset: 0, .. })
        ));
    }

    #[test]
    fn h265_fixture() {
        // ffmpeg -f lavfi -i testsrc=size=320x180:rate=25 -t 0.4 -pix_fmt yuv420p
        //   -c:v libx265 -x265-params log-level=error -f mpegts extra/hevc.ts
        let mut reader = TsReader::new();
        let got = reader.read(&media("extra/hevc.ts")).unwrap();
        assert!(reader.dropped().is_empty());
        let [config] = got.configs.as_slice() else {
            panic!("{:?}", got.configs);
        };
        assert_eq!(config.codec.as_deref(), Some("hvc1.1.6.L60.90"));
        assert_eq!((config.width, config.height), (Some(320), Some(180)));
        // As `ffmpeg -i extra/hevc.ts -c copy -tag:v hvc1 hevc.mp4` writes it.
        let hvcc = hex(concat!(
            "0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff016000000300",
            "90000003000003003c959809a10001002b42010101600000030090000003000003003ca00a080b9f",
            "796566924caf016808000003000800000300c840a2000100074401c172b46240"
        ));
        assert_eq!(config.record, CodecRecord::Hevc(hvcc));
        // ffprobe -show_entries packet=pts,dts,flags extra/hevc.ts
        let want = [
            (133200, 126000),
            (147600, 129600),
            (140400, 133200),
            (136800, 136800),
            (144000, 140400),
            (165600, 144000),
            (158400, 147600),
            (151200, 151200),
            (154800, 154800),
            (162000, 158400),
        ];
        let times: Vec<_> = got.units.iter().map(|u| (u.pts, u.dts)).collect();
        assert_eq!(times, want);
        assert!(got.units[0].keyframe && got.units[1..].iter().all(|u| !u.keyframe));
        assert!(got.units.iter().all(|u| u.duration == 3600));
        let types = |u: &AccessUnit| -> Vec<u8> {
            nals_of(&u.data).iter().map(|n| n[0] >> 1 & 0x3f).collect()
        };
        let first = types(&got.units[0]);
        assert_eq!(first[..3], [32, 33, 34], "{first:?}");
        assert!(first.contains(&19) || first.contains(&20));
        assert!(got.units.iter().all(|u| !types(u).contains(&35)));
    }

    #[test]
    fn ac3_fixture() {
        // ffmpeg -f lavfi -i sine -c:a ac3 -t 0.2 -f mpegts extra/ac3.ts: 44.1 kHz mono
        // 96 kbit/s, six frames in one PES.
        let mut reader = TsReader::new();
        let got = reader.read(&media("extra/ac3.ts")).unwrap();
        assert!(reader.dropped().is_empty());
        let [config] = got.configs.as_slice() else {
            panic!("{:?}", got.configs);
        };
        // `dac3` as `ffmpeg -i extra/ac3.ts -c copy ac3.mp4` writes it.
        assert_eq!(config.record, CodecRecord::Ac3(vec![0x50, 0x08, 0xc0]));
        assert_eq!(config.codec.as_deref(), Some("ac-3"));
        assert_eq!(
            (config.channels, config.sample_rate),
            (Some(1), Some(44100))
        );
        // ffprobe's sizes: 44.1 kHz frames alternate 208 and 209 words.
        let sizes: Vec<_> = got.units.iter().map(|u| u.data.len()).collect();
        assert_eq!(sizes, [416, 418, 418, 418, 418, 418]);
        assert!(got.units.iter().all(|u| u.data.starts_with(&[0x0b, 0x77])));
        // ffprobe prints 126000, 129134, 132268, 135402, ...: it adds whole-tick durations
        // (3134) and drifts; exact times are 126000 + floor(k × 1536 × 90000 / 44100).
        let times: Vec<_> = got.units.iter().map(|u| (u.pts, u.duration)).collect();
        assert_eq!(
            times,
            [
                (126000, 3134),
                (129134, 3135),
                (132269, 3135),
                (135404, 3134),
                (138538, 3135),
                (141673, 3135)
            ]
        );
    }

    #[test]
    fn id3_units_and_a_new_pid_near_the_rollover() {
        let streams = [(0x100, stream_type::AAC_ADTS), (0x102, stream_type::ID3)];
        let tag = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
        let pes = [
            (0x100, Some((1 << 33) - 1000), None, adts(3, &[7; 20])),
            (0x102, Some(500), None, tag.clone()),
            (0x102, None, None, tag.clone()),
        ];
        let got = TsReader::new().read(&mux(&streams, &pes)).unwrap();
        assert_eq!(got.configs.len(), 2);
        let meta = &got.configs[1];
        assert_eq!(
            (meta.track_id, meta.handler),
            (0x102, Handler::Other(*b"meta"))
        );
        assert_eq!((&meta.record, &meta.codec), (&CodecRecord::Id3, &None));
        let ids: Vec<_> = got.units.iter().map(|u| (u.track_id, u.pts)).collect();
        // The ID3 PID's first time lands next to the audio's, past the rollover; a PES
        // without PTS repeats the previous time.
        assert_eq!(
            ids,
            [
                (0x100, WRAP - 1000),
                (0x102, WRAP + 500),
                (0x102, WRAP + 500)
            ]
        );
        assert_eq!(got.units[1].data, tag);
    }

    #[test]
    fn video_without_parameter_sets_is_an_error_until_configured() {
        let data = media("v/144p/0.ts");
        let pes = ts::demux(&data).unwrap();
        let streams = [(0x100, stream_type::H264)];
        let tail: Vec<TestPes> = pes[1..]
            .iter()
            .map(|p| (0x100, p.pts, p.dts, p.data.clone()))
            .collect();
        let tail = mux(&streams, &tail);
        let mut reader = TsReader::new();
        assert_eq!(
            reader.read(&tail),
            Err(MediaError::Missing {
                what: "H.264 SPS and PPS"
            })
        );
        // Once a segment configured the track, the next one without SPS/PPS keeps it.
        let first = reader.read(&data).unwrap();
        let got = reader.read(&tail).unwrap();
        assert_eq!(got.configs, first.configs);
        assert_eq!(got.units[..], first.units[1..]);
    }

    #[test]
    fn nal_units_split_on_both_start_codes() {
        let stream = [
            0xaa, 0, 0, 1, 9, 0xf0, 0, 0, 0, 1, 0x67, 1, 0, 0, 0, 0, 1, 0x68, 0, 0, 1,
        ];
        let got: Vec<&[u8]> = nal_units(&stream).collect();
        assert_eq!(got, [&[9, 0xf0][..], &[0x67, 1], &[0x68]]);
        assert_eq!(nal_units(&[0, 0, 1]).count(), 0);
        assert_eq!(nal_units(&[1, 2, 3, 0, 0]).count(), 0);
    }

    /// Corrupted copies per file in [`bad_input_never_panics`].
    const FUZZ_ROUNDS: usize = 200;

    #[test]
    fn bad_input_never_panics() {
        for file in ["v/144p/0.ts", "a/0.ts", "extra/hevc.ts", "extra/ac3.ts"] {
            let data = media(file);
            let full = read(file).units;
            // Cut at every packet: a prefix of the units (the last video AU may be cut).
            for n in (0..=data.len()).step_by(PACKET_LEN) {
                let Ok(got) = TsReader::new().read(&data[..n]) else {
                    continue;
                };
                let whole = got
                    .units
                    .len()
                    .saturating_sub(usize::from(!file.starts_with('a')));
                assert_eq!(got.units[..whole], full[..whole], "{file} at {n}");
            }
            let mut reader = TsReader::new();
            for d in flipped(&data, data.len(), 300) {
                let _ = reader.read(&d);
            }
            for d in flipped(&data, 8 * PACKET_LEN, 300) {
                let _ = reader.read(&d);
            }
        }
        // Bit flips inside the elementary streams, packed again into valid TS.
        for (file, st) in [
            ("v/144p/0.ts", stream_type::H264),
            ("a/0.ts", stream_type::AAC_ADTS),
            ("extra/hevc.ts", stream_type::H265),
            ("extra/ac3.ts", stream_type::AC3),
        ] {
            let pes = ts::demux(&media(file)).unwrap();
            let stream = pes.concat_data();
            let mut reader = TsReader::new();
            for bad in flipped(&stream, stream.len(), FUZZ_ROUNDS) {
                let mut rest = &bad[..];
                let mut again: Vec<TestPes> = Vec::new();
                for p in &pes {
                    let (chunk, tail) = rest.split_at(p.data.len());
                    again.push((0x100, p.pts, p.dts, chunk.to_vec()));
                    rest = tail;
                }
                if let Ok(got) = reader.read(&mux(&[(0x100, st)], &again)) {
                    assert!(got.units.len() <= 2 * pes.len() + 100, "{file}");
                }
            }
        }
        // Garbage as each stream type's payload.
        let mut reader = TsReader::new();
        for st in [0x1b, 0x24, 0x0f, 0x81, 0x15] {
            for seed in 0..50u8 {
                let junk: Vec<u8> = (0..3000u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> (seed % 24)) as u8 & (seed | 3))
                    .collect();
                let ts = mux(&[(0x100, st)], &[(0x100, Some(9), None, junk)]);
                let _ = reader.read(&ts);
            }
        }
    }
}
