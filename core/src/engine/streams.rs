//! Decoder inputs (video, audio, text): what each fetches next, seeking, and handing
//! fetched media to the host. Which track each plays is chosen in `select.rs`.

use crate::model::{ByteRange, ContentType, ManifestFormat, Period, Presentation, Track};
use crate::time::Micros;

use super::drm;
use super::event::{Event, SwitchReason};
use super::fetch::{Job, Purpose, Route};
use super::io::{Media, Output, RequestId, RequestKind, TimestampOffset};
use super::player::Player;
use super::sink::{self, Payload, StreamSink};
use super::timeline::{self, Locate, TOLERANCE};

/// One decoder input and the track feeding it.
#[derive(Debug, Clone)]
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
    /// Conversion for the host's sink mode.
    pub(super) sink: StreamSink,
    /// Segments abandoned in a row for arriving too late.
    pub(super) timeouts: u32,
    /// Start of the last segment abandoned while it downloaded (each is abandoned once).
    pub(super) abandoned: Option<Micros>,
}

/// Identifies a stream's track across manifest refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StreamKey {
    period_id: Option<String>,
    period_start: Micros,
    track_id: String,
}

impl Stream {
    pub(super) fn new(
        content_type: ContentType,
        period: usize,
        set: usize,
        track: usize,
    ) -> Stream {
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
            sink: StreamSink::default(),
            timeouts: 0,
            abandoned: None,
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

    /// What its decoder input holds: as the host reported, else the engine's own account.
    fn ranges<'a>(
        &'a self,
        host: &'a [(ContentType, Vec<(Micros, Micros)>)],
    ) -> &'a [(Micros, Micros)] {
        host.iter()
            .find(|(c, _)| *c == self.content_type)
            .map_or(&self.buffered[..], |(_, r)| &r[..])
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
pub(super) fn kind_of(c: ContentType) -> ContentType {
    match c {
        ContentType::Unknown => ContentType::Video,
        c => c,
    }
}

/// End of the buffered range holding `position`.
fn buffered_end(ranges: &[(Micros, Micros)], position: Micros) -> Option<Micros> {
    ranges
        .iter()
        .find(|(a, b)| a.0 <= position.0.saturating_add(TOLERANCE.0) && position < *b)
        .map(|(_, b)| *b)
}

/// Sorts ranges by start, then end.
fn sort_ranges(ranges: &mut Vec<(Micros, Micros)>) {
    use crate::order::{micros, pair};
    crate::order::sort_by_key(ranges, |(a, b)| pair(micros(*a), micros(*b)));
}

/// Merges `[a, b)` into sorted ranges.
fn add_range(ranges: &mut Vec<(Micros, Micros)>, a: Micros, b: Micros) {
    ranges.push((a, b));
    sort_ranges(ranges);
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
    pub(super) fn restart_streams(&mut self, position: Micros) -> Vec<RequestId> {
        let mut cancel = Vec::new();
        let host = &self.host.buffered;
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
            st.abandoned = None;
            if st.period != period {
                if let Some((set, track)) =
                    p.periods.get(period).and_then(|per| st.equivalent_in(per))
                {
                    st.period = period;
                    st.set = set;
                    st.track = track;
                }
            }
            st.next = buffered_end(st.ranges(host), position).unwrap_or(position);
            st.eos = false;
            st.wait_until = None;
        }
        // Retries waiting for their backoff are for the old position.
        self.delayed.retain(|(_, job)| {
            !matches!(job.purpose, Purpose::Segment { .. } | Purpose::Init { .. })
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
    pub(super) fn buffer_ahead(&self, st: &Stream, position: Micros) -> Micros {
        buffered_end(st.ranges(&self.host.buffered), position)
            .map_or(Micros(0), |b| Micros(b.0.saturating_sub(position.0)))
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
                let key = match drm::segment_key(&seg.keys, seg.number) {
                    Ok(k) => k,
                    Err(e) => {
                        self.fatal(drm::drm_fatal(Some(RequestKind::MediaSegment), &e));
                        return false;
                    }
                };
                if let Some(k) = key.as_ref().filter(|k| !s.drm.key_is_ready(&k.uri)) {
                    let uri = k.uri.clone();
                    self.key_ready(&uri);
                    return false;
                }
                let init = seg.init.clone().or_else(|| t.segments.init().cloned());
                let content_type = st.content_type;
                let track_id = t.id.clone();
                let read_body = sink::needs_bytes(self.config.sink, p.format, init.is_some());
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
                        job.read_body = read_body;
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
                        key: key.clone(),
                    },
                    seg.url,
                    Route::Media,
                );
                job.byte_range = seg.byte_range;
                job.content_type = Some(content_type);
                // The engine decrypts AES-128 segments, so it reads them.
                job.read_body = read_body || key.is_some();
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
        body: Vec<u8>,
    ) {
        let mode = self.config.sink;
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
        let payload = match st.sink.init(mode, body) {
            Ok(payload) => payload,
            Err(e) => {
                let skipped = Event::MediaSkipped {
                    content_type: st.content_type,
                    track,
                    start: st.next,
                    cause: format!("init segment: {e}"),
                };
                self.event(skipped);
                return;
            }
        };
        let media = Media {
            request: Some(id),
            payload,
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
        (start, end): (Micros, Micros),
        track: String,
        offset: TimestampOffset,
        new_timeline: bool,
        body: Vec<u8>,
    ) {
        let load_at = self.session.as_ref().map_or(Micros(0), |s| s.load_at);
        let mode = self.config.sink;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let pres = s.pres.as_ref();
        let Some(st) = s.streams.get_mut(stream) else {
            return;
        };
        if st.inflight != Some(id) {
            return;
        }
        st.inflight = None;
        st.timeouts = 0;
        st.abandoned = None;
        if st.content_type == ContentType::Video {
            self.frames.fetched(start, end, &track);
        }
        if new_timeline && st.last_end.is_some() {
            st.timeline = st.timeline.wrapping_add(1);
        }
        if new_timeline {
            st.sink.new_timeline();
        }
        st.next = end;
        st.last_end = Some(end);
        // Smooth: the track, this fragment's decode time, and whether its synthesized init
        // segment must go first.
        let smooth = pres
            .filter(|p| p.format == ManifestFormat::Smooth)
            .and_then(|p| st.track_in(p))
            .map(|t| {
                let media_time = match offset {
                    TimestampOffset::Offset(o) => Micros(start.0.saturating_sub(o.0)),
                    TimestampOffset::AlignToStart => start,
                };
                let key = (format!("smooth:{}", t.id), None);
                let changed = st.init.as_ref() != Some(&key);
                (t, media_time.to_ticks(t.segments.timescale()), changed, key)
            });
        let smooth_key = smooth.as_ref().map(|s| s.3.clone());
        let smooth = smooth.map(|(t, time, changed, _)| (t, time, changed));
        let pieces = match st.sink.segment(mode, body, smooth) {
            Ok(pieces) => pieces,
            Err(e) => {
                let skipped = Event::MediaSkipped {
                    content_type: st.content_type,
                    track,
                    start,
                    cause: e.to_string(),
                };
                self.event(skipped);
                return;
            }
        };
        // The synthesized init segment is recorded as in the decoder only once handed over.
        if smooth_key.is_some() {
            st.init = smooth_key;
        }
        add_range(&mut st.buffered, start, end);
        // Forget what is far behind: the account stays small over hours.
        let keep_from = Micros(start.0.saturating_sub(600_000_000));
        st.buffered.retain(|(_, b)| *b > keep_from);
        if st.buffered.len() > 64 {
            // Back-and-forth seeking leaves islands: keep those nearest the new media.
            crate::order::sort_by_key(&mut st.buffered, |(a, _)| u128::from(a.0.abs_diff(start.0)));
            st.buffered.truncate(64);
            sort_ranges(&mut st.buffered);
        }
        let (content_type, timeline) = (st.content_type, st.timeline);
        // Media time to presentation time. HLS states none: once the engine has read a
        // segment, it places the timeline's first sample at its segment's start.
        let media_offset = match offset {
            TimestampOffset::Offset(o) => Some(o),
            TimestampOffset::AlignToStart => {
                if st.sink.align.is_none() {
                    st.sink.align = st.sink.first_pts.map(|pts| Micros(start.0 - pts.0));
                }
                st.sink.align
            }
        };
        let cues: Vec<_> = match media_offset {
            Some(o) => st.sink.found.drain(..).map(|c| c.place(start, o)).collect(),
            None => {
                st.sink.found.clear();
                Vec::new()
            }
        };
        for piece in pieces {
            // The sample sink's host cannot look at timestamps: give it the offset.
            let timestamp_offset = match (&piece.payload, media_offset) {
                (Payload::Samples(_), Some(o)) => TimestampOffset::Offset(o),
                _ => offset,
            };
            self.out.push_back(Output::Media(Media {
                request: (!piece.init).then_some(id),
                payload: piece.payload,
                content_type,
                track: track.clone(),
                init: piece.init,
                start,
                end: if piece.init { start } else { end },
                timestamp_offset,
                timeline,
            }));
        }
        if self.stats.time_to_first_media.is_none() {
            self.stats.time_to_first_media =
                Some(Micros(self.now.mono.0.saturating_sub(load_at.0)));
        }
        self.announce(cues);
    }
}
