//! Decoder inputs (video, audio, text): which track each plays, what to fetch next, and
//! handing fetched media to the host.

use crate::model::{
    ByteRange, ContentType, ManifestFormat, Period, Presentation, SegmentIndex, Track,
};
use crate::time::Micros;

use super::abr;
use super::config::Capabilities;
use super::event::{ErrorClass, Event, FatalError, SwitchReason};
use super::fetch::{Job, Purpose, Route};
use super::io::{Media, Output, RequestId, RequestKind, TimestampOffset};
use super::player::Player;
use super::stats::Switch;
use super::timeline::{self, Locate, TOLERANCE};

/// One decoder input and the track feeding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stream {
    pub(super) content_type: ContentType,
    pub(super) period: usize,
    pub(super) set: usize,
    pub(super) track: usize,
    /// Presentation time of the next segment to fetch.
    pub(super) next: Micros,
    pub(super) inflight: Option<RequestId>,
    /// The init segment in the decoder.
    pub(super) init: Option<(String, Option<ByteRange>)>,
    /// End of the last segment handed over.
    pub(super) last_end: Option<Micros>,
    pub(super) timeline: u32,
    /// What was handed over (when the host does not report buffered ranges).
    pub(super) buffered: Vec<(Micros, Micros)>,
    pub(super) eos: bool,
    /// Next segment becomes available at this monotonic time.
    pub(super) wait_until: Option<Micros>,
}

/// Identifies a stream's track across manifest refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StreamKey {
    period_id: Option<String>,
    period_start: Micros,
    track_id: String,
}

impl Stream {
    fn new(content_type: ContentType, period: usize, set: usize, track: usize) -> Stream {
        Stream {
            content_type,
            period,
            set,
            track,
            next: Micros(0),
            inflight: None,
            init: None,
            last_end: None,
            timeline: 0,
            buffered: Vec::new(),
            eos: false,
            wait_until: None,
        }
    }

    pub(super) fn track_in<'a>(&self, p: &'a Presentation) -> Option<&'a Track> {
        p.periods
            .get(self.period)?
            .switching_sets
            .get(self.set)?
            .tracks
            .get(self.track)
    }

    pub(super) fn key(&self, p: &Presentation) -> StreamKey {
        let period = p.periods.get(self.period);
        StreamKey {
            period_id: period.and_then(|x| x.id.clone()),
            period_start: period.map_or(Micros(0), |x| x.start),
            track_id: self.track_in(p).map(|t| t.id.clone()).unwrap_or_default(),
        }
    }

    /// Finds the stream's track again after a refresh renumbered periods or sets; false
    /// when the refreshed presentation has nothing to continue it with.
    pub(super) fn remap(&mut self, p: &Presentation, key: &StreamKey) -> bool {
        let period = p
            .periods
            .iter()
            .position(|x| key.period_id.is_some() && x.id == key.period_id)
            .or_else(|| p.periods.iter().position(|x| x.start == key.period_start))
            .unwrap_or(0);
        self.period = period;
        if let Some(per) = p.periods.get(period) {
            for (si, set) in per.switching_sets.iter().enumerate() {
                if let Some(ti) = set.tracks.iter().position(|t| t.id == key.track_id) {
                    self.set = si;
                    self.track = ti;
                    return true;
                }
            }
            if let Some((s, t)) = self.equivalent_in(per) {
                self.set = s;
                self.track = t;
                return true;
            }
        }
        false
    }

    /// The set and track in `period` that continue this stream: same content type (and
    /// set id when there is one), the same track id or else the closest bandwidth.
    pub(super) fn equivalent_in(&self, period: &Period) -> Option<(usize, usize)> {
        let sets: Vec<usize> = (0..period.switching_sets.len())
            .filter(|&i| {
                let s = &period.switching_sets[i];
                kind_of(s.content_type) == self.content_type
                    && !s.trick_mode
                    && !s.tracks.is_empty()
            })
            .collect();
        let set = sets
            .iter()
            .copied()
            .find(|&i| i == self.set)
            .or_else(|| sets.first().copied())?;
        let tracks = &period.switching_sets[set].tracks;
        let track = if set == self.set && self.track < tracks.len() {
            self.track
        } else {
            0
        };
        Some((set, track))
    }
}

/// Content type of a decoder input (unknown media is treated as video).
fn kind_of(c: ContentType) -> ContentType {
    match c {
        ContentType::Unknown => ContentType::Video,
        c => c,
    }
}

fn playable(t: &Track, caps: &Capabilities) -> bool {
    caps.max_width
        .is_none_or(|m| t.width.is_none_or(|w| w <= m))
        && caps
            .max_height
            .is_none_or(|m| t.height.is_none_or(|h| h <= m))
        && caps.max_bandwidth.is_none_or(|m| t.bandwidth <= m)
        && (caps.codecs.is_empty()
            || t.codecs.as_deref().is_none_or(|cs| {
                cs.split(',')
                    .all(|c| caps.codecs.iter().any(|p| c.trim().starts_with(p.as_str())))
            }))
}

fn lang_matches(lang: Option<&str>, want: &str) -> bool {
    lang.is_some_and(|l| {
        l.eq_ignore_ascii_case(want)
            || l.to_ascii_lowercase()
                .starts_with(&format!("{}-", want.to_ascii_lowercase()))
    })
}

/// Merges `[a, b)` into sorted ranges.
fn add_range(ranges: &mut Vec<(Micros, Micros)>, a: Micros, b: Micros) {
    ranges.push((a, b));
    ranges.sort();
    let mut out: Vec<(Micros, Micros)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges.drain(..) {
        match out.last_mut() {
            Some(last) if s.0 <= last.1.0.saturating_add(TOLERANCE.0) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    *ranges = out;
}

impl Player {
    /// Chooses the tracks to start with and creates the streams; false after a fatal error.
    pub(super) fn select_initial(&mut self) -> bool {
        let estimate = self.estimator.estimate();
        let caps = self.caps.clone();
        let prefs = self.prefs.clone();
        let Some(s) = self.session.as_mut() else {
            return false;
        };
        let Some(p) = s.pres.as_ref() else {
            return false;
        };
        let Some(period) = p.periods.first() else {
            self.fatal(FatalError {
                class: ErrorClass::NoPlayableTracks,
                kind: None,
                cause: "the presentation has no period".into(),
            });
            return false;
        };
        let usable = |i: usize| {
            let set = &period.switching_sets[i];
            !set.trick_mode && set.tracks.iter().any(|t| playable(t, &caps))
        };
        let video = (0..period.switching_sets.len()).find(|&i| {
            kind_of(period.switching_sets[i].content_type) == ContentType::Video && usable(i)
        });
        let mut streams = Vec::new();
        let mut selected = Vec::new();
        let mut audio_group = None;
        if let Some(v) = video {
            let set = &period.switching_sets[v];
            let ladder: Vec<(usize, u64)> = set
                .tracks
                .iter()
                .enumerate()
                .filter(|(_, t)| playable(t, &caps))
                .map(|(i, t)| (i, t.bandwidth))
                .collect();
            let manual = prefs
                .video_track
                .as_ref()
                .and_then(|id| set.tracks.iter().position(|t| t.id == *id));
            let t = manual
                .or_else(|| abr::choose(&ladder, estimate, Micros(0), Micros(0), None))
                .unwrap_or(0);
            audio_group = set.tracks[t]
                .hls
                .as_ref()
                .and_then(|h| h.audio_group.clone());
            streams.push(Stream::new(ContentType::Video, 0, v, t));
            selected.push((
                ContentType::Video,
                set.tracks[t].id.clone(),
                set.tracks[t].bandwidth,
            ));
        }
        let hls = matches!(p.format, ManifestFormat::HlsMultivariant);
        let audio_sets: Vec<usize> = (0..period.switching_sets.len())
            .filter(|&i| {
                let set = &period.switching_sets[i];
                set.content_type == ContentType::Audio
                    && usable(i)
                    && (!hls || (audio_group.is_some() && set.id == audio_group))
                    && set
                        .tracks
                        .iter()
                        .any(|t| t.hls.as_ref().is_none_or(|h| !h.embedded))
            })
            .collect();
        let pick_audio = audio_sets
            .iter()
            .copied()
            .find(|&i| {
                let set = &period.switching_sets[i];
                prefs.audio_language.as_deref().is_some_and(|l| {
                    lang_matches(set.language.as_deref(), l)
                        || set
                            .tracks
                            .iter()
                            .any(|t| lang_matches(t.language.as_deref(), l))
                })
            })
            .or_else(|| {
                audio_sets
                    .iter()
                    .copied()
                    .find(|&i| period.switching_sets[i].default)
            })
            .or_else(|| audio_sets.first().copied());
        if let Some(a) = pick_audio {
            let set = &period.switching_sets[a];
            let t = set
                .tracks
                .iter()
                .position(|t| {
                    prefs
                        .audio_language
                        .as_deref()
                        .is_some_and(|l| lang_matches(t.language.as_deref(), l))
                })
                .or_else(|| {
                    set.tracks
                        .iter()
                        .position(|t| t.hls.as_ref().is_some_and(|h| h.default))
                })
                .unwrap_or(0);
            streams.push(Stream::new(ContentType::Audio, 0, a, t));
            selected.push((
                ContentType::Audio,
                set.tracks[t].id.clone(),
                set.tracks[t].bandwidth,
            ));
        }
        if let Some(lang) = prefs.text_language.as_deref() {
            let text = (0..period.switching_sets.len()).find(|&i| {
                let set = &period.switching_sets[i];
                set.content_type == ContentType::Text
                    && lang_matches(set.language.as_deref(), lang)
                    && set
                        .tracks
                        .iter()
                        .any(|t| t.hls.as_ref().is_none_or(|h| !h.embedded))
            });
            if let Some(x) = text {
                let set = &period.switching_sets[x];
                streams.push(Stream::new(ContentType::Text, 0, x, 0));
                selected.push((
                    ContentType::Text,
                    set.tracks[0].id.clone(),
                    set.tracks[0].bandwidth,
                ));
            }
        }
        if streams.is_empty() {
            self.fatal(FatalError {
                class: ErrorClass::NoPlayableTracks,
                kind: None,
                cause: "no video or audio track the device can play".into(),
            });
            return false;
        }
        let playlists: Vec<(usize, usize)> = streams
            .iter()
            .filter(|st| {
                st.track_in(p)
                    .is_some_and(|t| matches!(t.segments, SegmentIndex::Unloaded))
            })
            .map(|st| (st.set, st.track))
            .collect();
        s.streams = streams;
        for (content_type, to, bandwidth) in selected {
            self.switched(content_type, None, to, bandwidth, SwitchReason::Initial);
        }
        for (set, track) in playlists {
            self.request_playlist(set, track);
        }
        true
    }

    fn switched(
        &mut self,
        content_type: ContentType,
        from: Option<String>,
        to: String,
        bandwidth: u64,
        reason: SwitchReason,
    ) {
        if content_type == ContentType::Video {
            self.stats.switch(Switch {
                at: self.now.mono,
                to: to.clone(),
                bandwidth,
                reason,
            });
        }
        self.event(Event::TrackSelected {
            content_type,
            from,
            to,
            bandwidth,
            reason,
        });
    }

    /// Preferences or capabilities changed: choose again.
    pub(super) fn reselect(&mut self) {
        let started = self.session.as_ref().is_some_and(|s| !s.streams.is_empty());
        if !started {
            return;
        }
        // Video follows on its next segment (see `choose_video`); audio is re-chosen by
        // restarting it from the playhead when the language changed. (Text streams are
        // chosen at load.)
        let position = self.position();
        let prefs = self.prefs.clone();
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        let mut changes = Vec::new();
        for (i, st) in s.streams.iter().enumerate() {
            if st.content_type != ContentType::Audio {
                continue;
            }
            let Some(lang) = prefs.audio_language.as_deref() else {
                continue;
            };
            let Some(period) = p.periods.get(st.period) else {
                continue;
            };
            let Some(set) = period.switching_sets.get(st.set) else {
                continue;
            };
            let current = st
                .track_in(p)
                .and_then(|t| t.language.clone().or(set.language.clone()));
            if lang_matches(current.as_deref(), lang) {
                continue;
            }
            if let Some(t) = set
                .tracks
                .iter()
                .position(|t| lang_matches(t.language.as_deref(), lang))
            {
                changes.push((i, st.set, t));
            } else if let Some(si) = (0..period.switching_sets.len()).find(|&k| {
                let x = &period.switching_sets[k];
                x.content_type == ContentType::Audio
                    && !x.tracks.is_empty()
                    && lang_matches(x.language.as_deref(), lang)
            }) {
                changes.push((i, si, 0));
            }
        }
        for (i, set, track) in changes {
            let (from, to, bw, hls) = {
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                let Some(p) = s.pres.as_ref() else {
                    return;
                };
                let Some(st) = s.streams.get(i) else {
                    return;
                };
                let from = st.track_in(p).map(|t| t.id.clone());
                let Some(t) = p
                    .periods
                    .get(st.period)
                    .and_then(|x| x.switching_sets.get(set)?.tracks.get(track))
                else {
                    continue;
                };
                (
                    from,
                    t.id.clone(),
                    t.bandwidth,
                    matches!(t.segments, SegmentIndex::Unloaded),
                )
            };
            let cancel = {
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                let st = &mut s.streams[i];
                st.set = set;
                st.track = track;
                st.next = position;
                st.init = None;
                st.eos = false;
                st.inflight.take()
            };
            if let Some(id) = cancel {
                if self.pending.remove(&id).is_some() {
                    self.out.push_back(Output::Cancel(id));
                }
            }
            // A retry waiting for its backoff belongs to the old track.
            self.delayed.retain(|(_, job)| match &job.purpose {
                Purpose::Segment { stream, .. } | Purpose::Init { stream, .. } => *stream != i,
                _ => true,
            });
            self.switched(ContentType::Audio, from, to, bw, SwitchReason::Manual);
            if hls {
                self.request_playlist(set, track);
            }
        }
    }

    /// Restarts every stream at `position` (seek); returns the requests to cancel.
    pub(super) fn restart_streams(&mut self, position: Micros) -> Vec<RequestId> {
        let mut cancel = Vec::new();
        let host = self.host.buffered.clone();
        let Some(s) = self.session.as_mut() else {
            return cancel;
        };
        s.eos_sent = false;
        let Some(p) = s.pres.as_ref() else {
            return cancel;
        };
        let period = p
            .periods
            .iter()
            .rposition(|x| x.start <= position)
            .unwrap_or(0);
        for st in s.streams.iter_mut() {
            if let Some(id) = st.inflight.take() {
                cancel.push(id);
            }
            if st.period != period {
                if let Some((set, track)) =
                    p.periods.get(period).and_then(|per| st.equivalent_in(per))
                {
                    st.period = period;
                    st.set = set;
                    st.track = track;
                }
            }
            let ranges = host
                .iter()
                .find(|(c, _)| *c == st.content_type)
                .map_or(&st.buffered, |(_, r)| r);
            st.next = ranges
                .iter()
                .find(|(a, b)| a.0 <= position.0.saturating_add(TOLERANCE.0) && position < *b)
                .map_or(position, |(_, b)| *b);
            st.eos = false;
            st.wait_until = None;
        }
        let streams: Vec<usize> = (0..s.streams.len()).collect();
        self.delayed.retain(|(_, job)| match &job.purpose {
            Purpose::Segment { stream, .. } | Purpose::Init { stream, .. } => {
                !streams.contains(stream)
            }
            _ => true,
        });
        cancel
    }

    /// A retried request got a new id.
    pub(super) fn track_reissue(&mut self, purpose: &Purpose, id: RequestId) {
        if let (Purpose::Segment { stream, .. } | Purpose::Init { stream, .. }, Some(s)) =
            (purpose, self.session.as_mut())
        {
            if let Some(st) = s.streams.get_mut(*stream) {
                st.inflight = Some(id);
            }
        }
    }

    /// The engine's step after every input: timers, refreshes, and fetching.
    pub(super) fn pump(&mut self) {
        self.run_timers();
        if self.session.is_none() {
            return;
        }
        self.run_refreshes();
        let n = self.session.as_ref().map_or(0, |s| s.streams.len());
        for i in 0..n {
            // Bounded: a stream skips at most a few gaps or period ends per step.
            for _ in 0..8 {
                if !self.schedule(i) {
                    break;
                }
            }
        }
        if let Some(s) = self.session.as_mut() {
            if s.started
                && !s.eos_sent
                && !s.streams.is_empty()
                && s.streams.iter().all(|st| st.eos)
            {
                s.eos_sent = true;
                self.out.push_back(Output::EndOfStream);
            }
        }
    }

    /// Buffered media ahead of `position` for a stream.
    fn buffer_ahead(&self, st: &Stream, position: Micros) -> Micros {
        let ranges = self
            .host
            .buffered
            .iter()
            .find(|(c, _)| *c == st.content_type)
            .map_or(&st.buffered, |(_, r)| r);
        ranges
            .iter()
            .find(|(a, b)| a.0 <= position.0.saturating_add(TOLERANCE.0) && position < *b)
            .map_or(Micros(0), |(_, b)| Micros(b.0.saturating_sub(position.0)))
    }

    /// Adaptive choice for the video stream before its next segment.
    fn choose_video(&mut self, i: usize, position: Micros) {
        if self.prefs.video_track.is_some()
            && self.session.as_ref().is_some_and(|s| {
                s.pres
                    .as_ref()
                    .zip(s.streams.get(i))
                    .and_then(|(p, st)| st.track_in(p))
                    .map(|t| &t.id)
                    == self.prefs.video_track.as_ref()
            })
        {
            return;
        }
        let estimate = self.estimator.estimate();
        let caps = self.caps.clone();
        let manual = self.prefs.video_track.clone();
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let (Some(p), Some(st)) = (s.pres.as_ref(), s.streams.get(i)) else {
            return;
        };
        let buffer = self.buffer_ahead(st, position);
        let Some(set) = p
            .periods
            .get(st.period)
            .and_then(|x| x.switching_sets.get(st.set))
        else {
            return;
        };
        let choice = match manual
            .as_ref()
            .and_then(|id| set.tracks.iter().position(|t| t.id == *id))
        {
            Some(t) => Some((t, SwitchReason::Manual)),
            None => {
                let ladder: Vec<(usize, u64)> = set
                    .tracks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| playable(t, &caps))
                    .map(|(k, t)| (k, t.bandwidth))
                    .collect();
                let current = ladder
                    .iter()
                    .any(|(k, _)| *k == st.track)
                    .then_some(st.track);
                // Near the live edge the buffer cannot exceed the live delay.
                let safe = match s.window.filter(|_| s.is_live()) {
                    Some(w) => Micros(8_000_000).min(Micros(w.delay.0 / 2)),
                    None => Micros(8_000_000),
                };
                abr::choose(&ladder, estimate, buffer, safe, current).map(|t| {
                    let up = set.tracks[t].bandwidth
                        > set.tracks.get(st.track).map_or(0, |x| x.bandwidth);
                    let reason = if current.is_none() {
                        SwitchReason::Capabilities
                    } else if up {
                        SwitchReason::AbrUp
                    } else {
                        SwitchReason::AbrDown
                    };
                    (t, reason)
                })
            }
        };
        let Some((t, reason)) = choice else {
            return;
        };
        if t == st.track {
            return;
        }
        let from = set.tracks.get(st.track).map(|x| x.id.clone());
        let to = set.tracks[t].id.clone();
        let bw = set.tracks[t].bandwidth;
        let set_index = st.set;
        let hls = set.tracks[t].hls.is_some();
        let live = s.is_live();
        if let Some(s) = self.session.as_mut() {
            let st = &mut s.streams[i];
            st.track = t;
            // Re-load a playlist that is not being refreshed: it is out of date.
            if hls {
                if let Some(pl) = s
                    .playlists
                    .iter_mut()
                    .find(|pl| pl.set == set_index && pl.track == t)
                {
                    if live && pl.next_refresh.is_none() && !pl.inflight && !pl.ended {
                        pl.loaded = false;
                    }
                }
            }
        }
        self.switched(ContentType::Video, from, to, bw, reason);
    }

    /// One scheduling step for stream `i`; true to run another (a gap or period end passed).
    fn schedule(&mut self, i: usize) -> bool {
        let now = self.now.mono;
        let wall = self.corrected_wall();
        let position = self.position();
        let goal = self.config.buffer.ahead;
        {
            let Some(s) = self.session.as_mut() else {
                return false;
            };
            if !s.started {
                return false;
            }
            let Some(st) = s.streams.get_mut(i) else {
                return false;
            };
            if st.inflight.is_some() || st.eos || st.wait_until.is_some_and(|t| t > now) {
                return false;
            }
            st.wait_until = None;
            if st.next < position {
                st.next = position;
            }
            if st.next.0.saturating_sub(position.0) >= goal.0 {
                return false;
            }
        }
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.streams[i].content_type == ContentType::Video)
        {
            self.choose_video(i, position);
        }
        let Some(s) = self.session.as_ref() else {
            return false;
        };
        let st = &s.streams[i];
        let (period, set, track) = (st.period, st.set, st.track);
        // HLS: the playlist must be loaded (and current, when live).
        if let Some(pl) = s
            .playlists
            .iter()
            .find(|pl| pl.set == set && pl.track == track)
        {
            if !pl.loaded {
                self.request_playlist(set, track);
                return false;
            }
        } else if s
            .pres
            .as_ref()
            .is_some_and(|p| matches!(p.format, ManifestFormat::HlsMultivariant))
        {
            self.request_playlist(set, track);
            return false;
        }
        let Some(p) = s.pres.as_ref() else {
            return false;
        };
        let Some(t) = st.track_in(p) else {
            return false;
        };
        let Some(pl) = s.placement(period, set, track, wall) else {
            return false;
        };
        let final_listing = s.final_listing(period, set, track);
        match timeline::locate(&t.segments, &pl, st.next, final_listing) {
            Locate::Segment { index, start, end } => {
                let Some(seg) = t.segments.segment(index) else {
                    return false;
                };
                if seg.gap {
                    if let Some(s) = self.session.as_mut() {
                        s.streams[i].next = end;
                    }
                    return true;
                }
                let init = seg.init.clone().or_else(|| t.segments.init().cloned());
                let content_type = st.content_type;
                let track_id = t.id.clone();
                if let Some(init) = init {
                    let key = (init.url.clone(), init.byte_range);
                    if st.init.as_ref() != Some(&key) {
                        let mut job = Job::new(
                            RequestKind::InitSegment,
                            Purpose::Init { stream: i, key },
                            init.url,
                            Route::Media,
                        );
                        job.byte_range = init.byte_range;
                        job.content_type = Some(content_type);
                        let id = self.issue(job);
                        if let Some(s) = self.session.as_mut() {
                            s.streams[i].inflight = Some(id);
                        }
                        return false;
                    }
                }
                let offset = match p.format {
                    ManifestFormat::Dash | ManifestFormat::Smooth => {
                        TimestampOffset::Offset(Micros(
                            pl.origin
                                .0
                                .saturating_sub(Micros::from_ticks(pl.pto, pl.timescale).0),
                        ))
                    }
                    _ => TimestampOffset::AlignToStart,
                };
                let new_timeline = seg.discontinuity
                    || st
                        .last_end
                        .is_none_or(|e| e.0.abs_diff(start.0) > TOLERANCE.0.unsigned_abs());
                let mut job = Job::new(
                    RequestKind::MediaSegment,
                    Purpose::Segment {
                        stream: i,
                        start,
                        end,
                        track: track_id,
                        offset,
                        new_timeline,
                    },
                    seg.url,
                    Route::Media,
                );
                job.byte_range = seg.byte_range;
                job.content_type = Some(content_type);
                let id = self.issue(job);
                if let Some(s) = self.session.as_mut() {
                    s.streams[i].inflight = Some(id);
                }
                false
            }
            Locate::NotYet { at } => {
                let now_pt = s.now_pt(wall);
                if let (Some(at), Some(now_pt), Some(s)) = (at, now_pt, self.session.as_mut()) {
                    s.streams[i].wait_until =
                        Some(now.saturating_add(Micros(at.0.saturating_sub(now_pt.0).max(1_000))));
                }
                false
            }
            Locate::End => {
                let next_period = p.periods.get(period + 1).and_then(|np| {
                    let (ns, nt) = st.equivalent_in(np)?;
                    Some((
                        ns,
                        nt,
                        np.start,
                        np.switching_sets[ns].tracks[nt].id.clone(),
                        np.switching_sets[ns].tracks[nt].bandwidth,
                    ))
                });
                let from = t.id.clone();
                let content_type = st.content_type;
                let Some(s) = self.session.as_mut() else {
                    return false;
                };
                let st = &mut s.streams[i];
                match next_period {
                    Some((ns, nt, start, to, bw)) => {
                        st.period = period + 1;
                        st.set = ns;
                        st.track = nt;
                        st.next = st.next.max(start);
                        self.switched(content_type, Some(from), to, bw, SwitchReason::Period);
                        true
                    }
                    None => {
                        if final_listing {
                            st.eos = true;
                        }
                        false
                    }
                }
            }
        }
    }

    pub(super) fn on_init(
        &mut self,
        id: RequestId,
        stream: usize,
        key: (String, Option<ByteRange>),
    ) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        let Some(st) = s.streams.get_mut(stream) else {
            return;
        };
        if st.inflight != Some(id) {
            return;
        }
        st.inflight = None;
        st.init = Some(key);
        let track = st.track_in(p).map(|t| t.id.clone()).unwrap_or_default();
        let media = Media {
            request: id,
            content_type: st.content_type,
            track,
            init: true,
            start: st.next,
            end: st.next,
            timestamp_offset: TimestampOffset::AlignToStart,
            timeline: st.timeline,
        };
        self.out.push_back(Output::Media(media));
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_segment(
        &mut self,
        id: RequestId,
        stream: usize,
        start: Micros,
        end: Micros,
        track: String,
        offset: TimestampOffset,
        new_timeline: bool,
    ) {
        let load_at = self.session.as_ref().map_or(Micros(0), |s| s.load_at);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(st) = s.streams.get_mut(stream) else {
            return;
        };
        if st.inflight != Some(id) {
            return;
        }
        st.inflight = None;
        if new_timeline && st.last_end.is_some() {
            st.timeline = st.timeline.wrapping_add(1);
        }
        st.next = end;
        st.last_end = Some(end);
        add_range(&mut st.buffered, start, end);
        // Forget what is far behind: the account stays small over hours.
        let keep_from = Micros(start.0.saturating_sub(600_000_000));
        st.buffered.retain(|(_, b)| *b > keep_from);
        if st.buffered.len() > 64 {
            // Back-and-forth seeking leaves islands: keep those nearest the new media.
            st.buffered.sort_by_key(|(a, _)| a.0.abs_diff(start.0));
            st.buffered.truncate(64);
            st.buffered.sort();
        }
        let media = Media {
            request: id,
            content_type: st.content_type,
            track,
            init: false,
            start,
            end,
            timestamp_offset: offset,
            timeline: st.timeline,
        };
        if self.stats.time_to_first_media.is_none() {
            self.stats.time_to_first_media =
                Some(Micros(self.now.mono.0.saturating_sub(load_at.0)));
        }
        self.out.push_back(Output::Media(media));
    }
}
