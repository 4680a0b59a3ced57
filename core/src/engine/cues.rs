//! Cues: ad breaks and timed metadata, from wherever the stream carries them (HLS
//! `EXT-X-DATERANGE`, DASH `EventStream`, `emsg` boxes, ID3 in MPEG-TS), each announced once
//! as an [`Event::Cue`](super::Event::Cue) with its exact presentation time. SCTE-35 payloads
//! are decoded to tell a break's start from its end.

use std::collections::{BTreeSet, VecDeque};

use crate::media::emsg::{Emsg, EmsgTime};
use crate::media::scte35::{SpliceCommand, parse_splice_info};
use crate::model::{DateRange, ManifestFormat, Presentation};
use crate::time::{Micros, Timescale, UnixMicros};

use super::event::Event;
use super::player::Player;

/// What a cue means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CueKind {
    /// An ad break (or other opportunity to leave the program) starts: SCTE-35 out point
    /// (splice_insert out of network, a segmentation descriptor that starts a break),
    /// `SCTE35-OUT`, an HLS interstitial.
    AdStart,
    /// The break ends: SCTE-35 in point, `SCTE35-IN`.
    AdEnd,
    /// Anything else: timed metadata for the app.
    Metadata,
}

/// Where a cue came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CueSource {
    /// HLS `EXT-X-DATERANGE`.
    DateRange,
    /// DASH `EventStream` in the MPD.
    EventStream,
    /// An `emsg` box in a media segment.
    Emsg,
    /// ID3 timed metadata in MPEG-TS.
    Id3,
}

/// An ad break or a piece of timed metadata, at an exact presentation time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Cue {
    /// What it means.
    pub kind: CueKind,
    /// Where it came from.
    pub source: CueSource,
    /// `schemeIdUri` (DASH, `emsg`), DATERANGE `CLASS`, or `ID3`.
    pub scheme: String,
    /// Identifies the cue within its source and scheme (DATERANGE `ID`, event `@id`,
    /// `emsg` id); repeats of one id are announced once.
    pub id: String,
    /// Presentation time it applies at.
    pub start: Micros,
    /// How long it lasts, when known (a break's duration).
    pub duration: Option<Micros>,
    /// The payload: a SCTE-35 splice_info_section, an ID3 tag, or the message data. Decode
    /// SCTE-35 with [`crate::media::scte35::parse_splice_info`], ID3 with
    /// [`crate::media::id3::parse_id3`].
    pub data: Vec<u8>,
}

/// The SCTE-35 scheme of DASH event streams and `emsg` (SCTE 214-1 and -3).
const SCTE35_SCHEMES: [&str; 2] = ["urn:scte:scte35:2013:bin", "urn:scte:scte35:2014:xml+bin"];
/// The `CLASS` of HLS interstitials (ad insertion by the client).
const INTERSTITIAL: &str = "com.apple.hls.interstitial";
/// Cues remembered for de-duplication; the oldest are forgotten first.
const REMEMBER: usize = 4096;

/// The cues already announced.
#[derive(Debug, Clone, Default)]
pub(super) struct CueLog {
    seen: BTreeSet<(CueSource, String, String)>,
    order: VecDeque<(CueSource, String, String)>,
}

impl CueLog {
    /// True the first time a cue is offered.
    fn first(&mut self, cue: &Cue) -> bool {
        let key = (cue.source, cue.scheme.clone(), cue.id.clone());
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > REMEMBER {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

/// What a SCTE-35 section says about a break: its kind and the break duration.
pub(super) fn scte35_kind(section: &[u8]) -> (CueKind, Option<Micros>) {
    let Ok(info) = parse_splice_info(section) else {
        return (CueKind::Metadata, None);
    };
    let ticks = |t: u64| Micros::from_ticks(t, Timescale::MPEG_TS);
    match &info.command {
        SpliceCommand::Insert(i) if !i.cancel => {
            if i.out_of_network {
                (
                    CueKind::AdStart,
                    i.break_duration.map(|b| ticks(b.duration)),
                )
            } else {
                (CueKind::AdEnd, None)
            }
        }
        SpliceCommand::TimeSignal { .. } => info
            .descriptors
            .iter()
            .find_map(|d| {
                if d.starts_break() {
                    Some((CueKind::AdStart, d.duration.map(ticks)))
                } else if d.ends_break() {
                    Some((CueKind::AdEnd, None))
                } else {
                    None
                }
            })
            .unwrap_or((CueKind::Metadata, None)),
        _ => (CueKind::Metadata, None),
    }
}

/// The cue of an HLS DATERANGE placed with `pdt_zero` (the program-date-time of
/// presentation time 0).
fn date_range_cue(d: &DateRange, pdt_zero: UnixMicros) -> Cue {
    let start = Micros(d.start_date.0.saturating_sub(pdt_zero.0));
    let length = d.duration.or(d.planned_duration).or_else(|| {
        d.end_date
            .map(|e| Micros(e.0.saturating_sub(d.start_date.0)))
    });
    let (kind, data, duration) = if let Some(out) = &d.scte35_out {
        let (_, from_section) = scte35_kind(out);
        (CueKind::AdStart, out.to_vec(), length.or(from_section))
    } else if let Some(end) = &d.scte35_in {
        (CueKind::AdEnd, end.to_vec(), None)
    } else if let Some(cmd) = &d.scte35_cmd {
        let (kind, from_section) = scte35_kind(cmd);
        (kind, cmd.to_vec(), length.or(from_section))
    } else if d.class.as_deref() == Some(INTERSTITIAL) {
        (CueKind::AdStart, Vec::new(), length)
    } else {
        (CueKind::Metadata, Vec::new(), length)
    };
    Cue {
        kind,
        source: CueSource::DateRange,
        scheme: d.class.clone().unwrap_or_default(),
        id: d.id.clone(),
        start,
        duration,
        data,
    }
}

/// Every cue the manifest (and the loaded HLS media playlists) carries.
fn manifest_cues(p: &Presentation, pdt_zero: Option<UnixMicros>) -> Vec<Cue> {
    let mut out = Vec::new();
    for period in &p.periods {
        for es in &period.event_streams {
            for e in &es.events {
                let ticks = e
                    .presentation_time
                    .saturating_sub(es.presentation_time_offset);
                let offset = Micros::from_ticks(ticks, es.timescale);
                let scte35 = e.scte35.as_deref();
                let (kind, from_section) = scte35.map_or((CueKind::Metadata, None), scte35_kind);
                out.push(Cue {
                    kind,
                    source: CueSource::EventStream,
                    scheme: es.scheme_id_uri.clone(),
                    id: e
                        .id
                        .clone()
                        .unwrap_or_else(|| e.presentation_time.to_string()),
                    start: period.start.saturating_add(offset),
                    duration: e
                        .duration
                        .map(|d| Micros::from_ticks(d, es.timescale))
                        .or(from_section),
                    data: match scte35 {
                        Some(s) => s.to_vec(),
                        None => e.message.clone().unwrap_or_default().into_bytes(),
                    },
                });
            }
        }
    }
    if let (ManifestFormat::HlsMultivariant | ManifestFormat::HlsMedia, Some(zero)) =
        (p.format, pdt_zero)
    {
        let tracks = p.periods.iter().flat_map(|p| &p.switching_sets);
        for t in tracks.flat_map(|s| &s.tracks) {
            if let Some(info) = super::playlists::hls_info(t) {
                out.extend(info.date_ranges.iter().map(|d| date_range_cue(d, zero)));
            }
        }
    }
    out
}

/// A cue found in a media segment, in media time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FoundCue {
    pub(super) source: CueSource,
    pub(super) scheme: String,
    pub(super) id: String,
    /// Media time, or (`relative`) time after the segment's start.
    pub(super) ticks: u64,
    pub(super) timescale: Timescale,
    pub(super) relative: bool,
    pub(super) duration: Option<Micros>,
    pub(super) data: Vec<u8>,
}

impl FoundCue {
    /// An `emsg` box.
    pub(super) fn emsg(e: Emsg) -> FoundCue {
        let (ticks, relative) = match e.time {
            EmsgTime::Delta(d) => (u64::from(d), true),
            EmsgTime::Absolute(t) => (t, false),
        };
        FoundCue {
            source: CueSource::Emsg,
            id: e.id.to_string(),
            ticks,
            timescale: e.timescale,
            relative,
            duration: e
                .event_duration
                .map(|d| Micros::from_ticks(d.into(), e.timescale)),
            scheme: e.scheme_id_uri,
            data: e.message_data,
        }
    }

    /// The cue at its presentation time: `start` is the segment's, `offset` maps media time.
    pub(super) fn place(self, start: Micros, offset: Micros) -> Cue {
        let at = Micros::from_ticks(self.ticks, self.timescale);
        let (kind, from_section) = if SCTE35_SCHEMES.contains(&self.scheme.as_str()) {
            scte35_kind(&self.data)
        } else {
            (CueKind::Metadata, None)
        };
        Cue {
            kind,
            source: self.source,
            scheme: self.scheme,
            id: self.id,
            start: if self.relative {
                start.saturating_add(at)
            } else {
                offset.saturating_add(at)
            },
            duration: self.duration.or(from_section),
            data: self.data,
        }
    }
}

impl Player {
    /// Announces the manifest's cues not announced yet (after every manifest or playlist).
    pub(super) fn announce_manifest_cues(&mut self) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        let cues = manifest_cues(p, s.anchor.and_then(|a| a.pdt_zero));
        self.announce(cues);
    }

    /// Announces each cue the first time it is seen.
    pub(super) fn announce(&mut self, cues: Vec<Cue>) {
        for cue in cues {
            let first = self.session.as_mut().is_some_and(|s| s.cues.first(&cue));
            if first {
                self.event(Event::Cue(cue));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    /// A manifest of the shared corpus (beside the workspace), or `None` when it is absent.
    fn corpus(path: &str) -> Option<Presentation> {
        let full = format!("{}/../../shared/corpus/{path}", env!("CARGO_MANIFEST_DIR"));
        let Ok(bytes) = std::fs::read(&full) else {
            eprintln!("SKIPPED: {full} is absent");
            return None;
        };
        // Permissive: the event-stream vectors leave out what they do not test.
        let options = crate::ParseOptions {
            strictness: crate::Strictness::Permissive,
            ..Default::default()
        };
        Some(crate::parse(&bytes, &options).unwrap().presentation)
    }

    #[test]
    fn dash_event_streams_with_scte35_become_ad_breaks() {
        // Eyevinn/dash-mpd's test vector: a time_signal with a provider placement
        // opportunity start (segmentation type 0x34) at 89028119760 / 10^7 s.
        let Some(p) = corpus("Eyevinn_dash-mpd/signal_binary_xmlbin.mpd") else {
            return;
        };
        let cues = manifest_cues(&p, None);
        let [c] = &cues[..] else { panic!("{cues:?}") };
        assert_eq!(
            (c.kind, c.source),
            (CueKind::AdStart, CueSource::EventStream)
        );
        assert_eq!(
            (c.id.as_str(), c.start),
            ("872416252", Micros(8_902_811_976))
        );
        assert_eq!(c.duration, Some(Micros(1265)));
        assert_eq!(c.scheme, "urn:scte:scte35:2014:xml+bin");
        assert!(parse_splice_info(&c.data).is_ok());
    }

    #[test]
    fn hls_date_ranges_with_scte35_out_and_in_become_ad_breaks() {
        let Some(p) = corpus("Comcast_mamba/hls_variant_playlist_with_daterange_metadata.m3u8")
        else {
            return;
        };
        let zero = parse_datetime("2020-03-26T11:26:25.122Z").unwrap();
        let cues = manifest_cues(&p, Some(zero));
        let by_id = |id: &str| cues.iter().find(|c| c.id == id).unwrap();
        let end = by_id("3-0x20-1585221432");
        assert_eq!(end.kind, CueKind::AdEnd);
        // 11:17:12.170, 9 min 12.952 s before the zero.
        assert_eq!(end.start, Micros(-552_952_000));
        let start = by_id("1-0x22-1585221985");
        assert_eq!(start.kind, CueKind::AdStart);
        assert_eq!(
            (start.start, start.duration),
            (Micros(0), Some(Micros(30_000_000)))
        );
        assert_eq!(
            parse_splice_info(&start.data).unwrap().descriptors[0].type_id,
            0x22
        );
    }

    #[test]
    fn scte35_sections_tell_starts_from_ends() {
        // SCTE 35 (2023) 14.2: splice_insert, out of network, auto return, 60.293567 s break.
        let insert = crate::base64::decode(
            "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=",
        )
        .unwrap();
        assert_eq!(
            scte35_kind(&insert),
            (
                CueKind::AdStart,
                Some(Micros::from_ticks(5_426_421, Timescale::MPEG_TS))
            )
        );
        assert_eq!(scte35_kind(b"not a section"), (CueKind::Metadata, None));
    }

    #[test]
    fn emsg_cues_are_placed_on_the_presentation_timeline() {
        let found = |time| {
            FoundCue::emsg(Emsg {
                scheme_id_uri: "urn:example".into(),
                value: String::new(),
                timescale: Timescale::new(1000).unwrap(),
                time,
                event_duration: Some(500),
                id: 7,
                message_data: b"hi".to_vec(),
            })
        };
        // v0: after the carrying segment's start; v1: on the media timeline, then offset.
        let v0 = found(EmsgTime::Delta(250)).place(Micros(10_000_000), Micros(-5_000_000));
        assert_eq!(
            (v0.start, v0.duration),
            (Micros(10_250_000), Some(Micros(500_000)))
        );
        let v1 = found(EmsgTime::Absolute(12_000)).place(Micros(10_000_000), Micros(-5_000_000));
        assert_eq!(
            (v1.start, v1.kind, v1.id.as_str()),
            (Micros(7_000_000), CueKind::Metadata, "7")
        );
    }

    #[test]
    fn each_cue_is_announced_once() {
        let mut log = CueLog::default();
        let cue = |id: usize| Cue {
            kind: CueKind::Metadata,
            source: CueSource::Emsg,
            scheme: "s".into(),
            id: id.to_string(),
            start: Micros(0),
            duration: None,
            data: Vec::new(),
        };
        assert!(log.first(&cue(1)));
        assert!(!log.first(&cue(1)));
        for i in 2..=REMEMBER + 1 {
            assert!(log.first(&cue(i)));
        }
        // The oldest was forgotten; the log stays bounded.
        assert!(log.first(&cue(1)));
        assert_eq!(log.seen.len(), REMEMBER);
    }
}
