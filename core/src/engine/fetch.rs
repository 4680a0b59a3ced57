//! Requests: issuing them to the best location, matching answers, timeouts, retries with
//! backoff, failover and the penalty box.

use crate::model::{ByteRange, ContentType, NameValue};
use crate::time::Micros;

use crate::drm::{Answer, DrmError};

use super::drm::SegmentKey;
use super::event::{ErrorClass, Event, FatalError, LocationReason};
use super::io::{
    Body, Delivery, DrmSessionId, FailureClass, Method, Output, PlayState, Request, RequestId,
    RequestKind, Response, TimestampOffset,
};
use super::player::{InputError, Player};
use super::retry::backoff;

/// Transfer time before a segment's arrival rate is judged for abandonment.
const ABANDON_AFTER: Micros = Micros(500_000);

/// Abandonment judges the rate of a download's last one to two of these, not its whole
/// transfer: after a link falls, the average of a long transfer stays high for seconds.
const RATE_WINDOW: Micros = Micros(1_000_000);

/// Two marks on a download's progress, at least [`RATE_WINDOW`] apart once the transfer is
/// long enough: the rate since `from` covers its last one to two windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RecentRate {
    from: (Micros, u64),
    next: (Micros, u64),
}

impl RecentRate {
    /// Before the first byte, expected at `first_byte`.
    fn new(first_byte: Micros) -> Self {
        RecentRate {
            from: (first_byte, 0),
            next: (first_byte, 0),
        }
    }

    /// `received` bytes in all at `now`.
    fn record(&mut self, now: Micros, received: u64) {
        if now.0.saturating_sub(self.next.0.0) >= RATE_WINDOW.0 {
            self.from = self.next;
            self.next = (now, received);
        }
    }

    /// Bits and microseconds since the older mark, with `received` bytes at `now`.
    fn since(&self, now: Micros, received: u64) -> (u128, u128) {
        let bytes = received.saturating_sub(self.from.1);
        let time = now.0.saturating_sub(self.from.0.0).max(0);
        (u128::from(bytes) * 8, u128::try_from(time).unwrap_or(0))
    }
}

/// Which location set a request is rebased on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// The load list (manifests).
    Manifest,
    /// Media locations (segments, playlists): CDNs, BaseURLs or pathways.
    Media,
    /// As is (steering, time sync, keys on their own hosts).
    Direct,
}

/// What a response is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Purpose {
    Manifest,
    Playlist {
        set: usize,
        track: usize,
    },
    Init {
        stream: usize,
        key: (String, Option<ByteRange>),
    },
    Segment {
        stream: usize,
        start: Micros,
        end: Micros,
        track: String,
        offset: TimestampOffset,
        new_timeline: bool,
        /// HLS AES-128: the key and IV to decrypt it with.
        key: Option<SegmentKey>,
    },
    Steering,
    TimeSync,
    License {
        session: DrmSessionId,
    },
    Certificate,
    Key {
        uri: String,
    },
}

/// A request the engine wants done, kept across retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Job {
    pub(super) kind: RequestKind,
    pub(super) purpose: Purpose,
    /// URL as resolved in the model (against the origin location).
    pub(super) url: String,
    pub(super) byte_range: Option<ByteRange>,
    pub(super) content_type: Option<ContentType>,
    pub(super) method: Method,
    pub(super) route: Route,
    pub(super) failures: u32,
    /// Media the engine reads itself ([`Delivery::Engine`]) for the sink mode.
    pub(super) read_body: bool,
    /// Extra headers (licence requests).
    pub(super) headers: Vec<NameValue>,
    /// Request body (licence requests).
    pub(super) body: Option<Vec<u8>>,
}

impl Job {
    pub(super) fn new(kind: RequestKind, purpose: Purpose, url: String, route: Route) -> Job {
        Job {
            kind,
            purpose,
            url,
            byte_range: None,
            content_type: None,
            method: Method::Get,
            route,
            failures: 0,
            read_body: false,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// A request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) job: Job,
    /// The URL as sent (at the chosen location).
    pub(super) url: String,
    pub(super) location: usize,
    pub(super) sent_at: Micros,
    pub(super) deadline: Micros,
    /// The body's recent arrival rate, for abandonment.
    pub(super) rate: RecentRate,
}

impl Player {
    /// Sends `job` to the best location of its route now; returns the request id.
    pub(super) fn issue(&mut self, job: Job) -> RequestId {
        let now = self.now.mono;
        let id = RequestId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let (url, location) = match (job.route, self.session.as_mut()) {
            (Route::Direct, _) | (_, None) => (job.url.clone(), 0),
            (route, Some(s)) => {
                let locs = if route == Route::Manifest {
                    &mut s.manifest_locs
                } else {
                    &mut s.media_locs
                };
                let best = locs.best(now);
                let mut change = None;
                if best != locs.active && locs.len() > 1 {
                    let from = locs.name(locs.active).to_owned();
                    let boxed = locs
                        .list
                        .get(locs.active)
                        .and_then(|l| l.penalized_until)
                        .is_some_and(|t| t > now);
                    let reason = match s.change_reason.take() {
                        Some(r) => r,
                        None if boxed => LocationReason::Failure,
                        None => LocationReason::Recovered,
                    };
                    change = Some((from, locs.name(best).to_owned(), reason));
                    locs.active = best;
                }
                let url = locs.url_for(&job.url, best);
                if route == Route::Media {
                    self.stats.cdn = Some(locs.name(best).to_owned());
                }
                if let Some((from, to, reason)) = change {
                    self.stats.location_changes = self.stats.location_changes.saturating_add(1);
                    self.event(Event::LocationChanged { from, to, reason });
                }
                (url, best)
            }
        };
        let mut timeout = self.config.retry.of(job.kind).timeout;
        // A segment, or a live playlist refresh, slower than 1.5 times the segment duration
        // would stall playback anyway: give up on it sooner and try elsewhere (never
        // under 2 s). With nowhere else to fetch a segment from, a slow answer is better
        // than starting over.
        let elsewhere = self
            .session
            .as_ref()
            .is_some_and(|s| s.media_locs.len() > 1);
        let span = match &job.purpose {
            Purpose::Segment { start, end, .. } if elsewhere => {
                Some(Micros(end.0.saturating_sub(start.0)))
            }
            Purpose::Playlist { .. } | Purpose::Manifest => self
                .session
                .as_ref()
                .filter(|s| s.started && s.is_live())
                .map(|s| s.target_duration()),
            _ => None,
        };
        if let Some(d) = span {
            timeout = timeout.min(Micros(d.0.saturating_mul(3) / 2).max(Micros(2_000_000)));
        }
        let delivery = match job.kind {
            RequestKind::InitSegment | RequestKind::MediaSegment if !job.read_body => {
                Delivery::Host
            }
            _ => Delivery::Engine,
        };
        let priority = match job.kind {
            RequestKind::Manifest
            | RequestKind::Playlist
            | RequestKind::License
            | RequestKind::Key => 0,
            RequestKind::InitSegment | RequestKind::MediaSegment => 1,
            _ => 2,
        };
        let url_sent = url.clone();
        self.out.push_back(Output::Request(Request {
            id,
            kind: job.kind,
            content_type: job.content_type,
            method: job.method,
            url,
            byte_range: job.byte_range,
            headers: job.headers.clone(),
            body: job.body.clone(),
            priority,
            delivery,
            timeout,
        }));
        self.pending.insert(
            id,
            Pending {
                url: url_sent,
                job,
                location,
                sent_at: now,
                deadline: now.saturating_add(timeout),
                rate: RecentRate::new(now.saturating_add(self.estimator.latency())),
            },
        );
        id
    }

    pub(super) fn on_response(&mut self, r: Response) -> Result<(), InputError> {
        self.check_known(r.id)?;
        let Some(p) = self.pending.remove(&r.id) else {
            return Ok(()); // cancelled or timed out: late answers are ignored
        };
        if let Some(s) = self.session.as_ref() {
            let name = match p.job.route {
                Route::Media => s.media_locs.name(p.location).to_owned(),
                Route::Manifest => s.manifest_locs.name(p.location).to_owned(),
                Route::Direct => String::new(),
            };
            if !name.is_empty() {
                self.stats.bytes(&name, r.body.len());
            }
        }
        if matches!(p.job.purpose, Purpose::License { .. }) {
            let body = match r.body {
                Body::Bytes(b) => b,
                Body::Held { .. } => Vec::new(),
            };
            let answer = Answer::Response {
                status: r.status,
                body,
            };
            self.on_license_answer(r.id, &p, answer);
            return Ok(());
        }
        if !(200..300).contains(&r.status) {
            // An error body measures nothing, and must not stay in flight (its reported
            // progress would drag the estimate down).
            self.estimator.abort(self.now.mono, r.id.0);
            if matches!(r.status, 404 | 410)
                && let Some(target) = self.slid_past(&p.job)
            {
                // Not the CDN's fault: retrying or failing over would ask every CDN for a
                // segment none has any more.
                self.stats.error(ErrorClass::Http);
                if let (Purpose::Segment { stream, .. }, Some(s)) =
                    (&p.job.purpose, self.session.as_mut())
                    && let Some(st) = s.streams.get_mut(*stream)
                {
                    st.inflight = None;
                }
                self.host.seeking = true;
                self.event(Event::SeekClamped {
                    requested: self.position(),
                    position: target,
                });
                self.move_to(target);
                return Ok(());
            }
            let cause = format!("HTTP {} for {}", r.status, crate::url::clip_url(&p.url));
            self.fail(p, ErrorClass::Http, cause);
            return Ok(());
        }
        if matches!(
            p.job.kind,
            RequestKind::MediaSegment | RequestKind::InitSegment
        ) {
            // Video segments measure the link; the others count as parallel bytes (audio
            // alone measures when there is no video).
            let measures = p.job.kind == RequestKind::MediaSegment
                && (p.job.content_type == Some(ContentType::Video)
                    || self.session.as_ref().is_none_or(|s| {
                        !s.streams
                            .iter()
                            .any(|st| st.content_type == ContentType::Video)
                    }));
            let now = self.now.mono;
            self.estimator.complete(
                now,
                r.id.0,
                p.sent_at,
                r.first_byte_at,
                r.body.len(),
                measures,
            );
            self.stats.bandwidth_estimate = self.estimator.estimate(now);
        }
        let body = match r.body {
            Body::Bytes(b) => b,
            Body::Held { .. } => Vec::new(),
        };
        self.dispatch(r.id, p, body, &r.headers);
        Ok(())
    }

    /// Part of a body arrived: a media download feeds the throughput estimate.
    pub(super) fn on_progress(&mut self, id: RequestId, received: u64, total: Option<u64>) {
        let Some(p) = self.pending.get(&id) else {
            return;
        };
        if !matches!(
            p.job.kind,
            RequestKind::MediaSegment | RequestKind::InitSegment
        ) {
            return;
        }
        // The host reports bytes, not when the first came: assume the usual latency.
        let first = p.sent_at.saturating_add(self.estimator.latency());
        let now = self.now.mono;
        self.estimator.progress(now, id.0, first.min(now), received);
        if let Some(p) = self.pending.get_mut(&id) {
            p.rate.record(now, received);
        }
        if self.config.abr.abandon {
            self.abandon_if_late(id, received, total);
        }
    }

    /// Abandons video segment `id` when, at the rate its body is arriving, it would end
    /// after the buffer runs out and a segment of the lowest allowed rendition would arrive
    /// sooner. The stream then asks again for the same time (the estimator has seen the slow
    /// bytes, so the policy chooses lower). Each segment is abandoned at most once, so a
    /// policy that insists cannot loop.
    fn abandon_if_late(&mut self, id: RequestId, received: u64, total: Option<u64>) {
        let now = self.now.mono;
        let latency = self.estimator.latency();
        let Some(p) = self.pending.get(&id) else {
            return;
        };
        let Purpose::Segment {
            stream, start, end, ..
        } = p.job.purpose
        else {
            return;
        };
        let Some(total) = p.job.byte_range.and_then(|r| r.length).or(total) else {
            return;
        };
        // Half a second of transfer before judging its rate; only while the buffer drains
        // (not paused, starting or seeking), and never when the viewer fixed the rendition
        // (the same track would be fetched again from its first byte).
        let transfer = now.0.saturating_sub(p.sent_at.0).saturating_sub(latency.0);
        let draining = matches!(self.host.state, PlayState::Playing | PlayState::Stalled);
        if transfer < ABANDON_AFTER.0
            || !draining
            || !self.host.first_frame
            || self.host.seeking
            || self.prefs.video_track.is_some()
        {
            return;
        }
        let position = self.position();
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let (Some(pres), Some(st)) = (s.pres.as_ref(), s.streams.get(stream)) else {
            return;
        };
        if st.content_type != ContentType::Video || st.abandoned == Some(start) {
            return;
        }
        // Times in microseconds at the recent rate (bits per microsecond scaled out).
        let (bits_done, transfer) = p.rate.since(now, received);
        let at_rate = |bits: u128| -> u128 {
            bits.saturating_mul(transfer)
                .checked_div(bits_done)
                .unwrap_or(u128::MAX)
        };
        let left = at_rate(u128::from(total.saturating_sub(received)) * 8);
        let buffer = u128::try_from(self.buffer_ahead(st, position).0).unwrap_or(0);
        if left <= buffer {
            return;
        }
        // Late: would the lowest rendition the device may play arrive sooner?
        let Some(set) = pres
            .periods
            .get(st.period)
            .and_then(|x| x.switching_sets.get(st.set))
        else {
            return;
        };
        let lowest = self
            .allowed(set)
            .into_iter()
            .filter_map(|i| Some(set.tracks.get(i)?.bandwidth))
            .min();
        let current = set.tracks.get(st.track).map(|t| t.bandwidth);
        let (Some(lowest), Some(current)) = (lowest, current) else {
            return;
        };
        if lowest >= current {
            return;
        }
        let span = u128::try_from(end.0.saturating_sub(start.0)).unwrap_or(0);
        let low_bits = u128::from(lowest) * span / 1_000_000;
        let refetch = at_rate(low_bits).saturating_add(u128::try_from(latency.0).unwrap_or(0));
        if refetch >= left {
            return;
        }
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        self.out.push_back(Output::Cancel(id));
        let recent_us = i64::try_from(transfer).unwrap_or(i64::MAX);
        let recent_bytes = u64::try_from(bits_done / 8).unwrap_or(u64::MAX);
        self.estimator
            .abandoned(now, id.0, recent_bytes, Micros(recent_us));
        if let Some(st) = self
            .session
            .as_mut()
            .and_then(|s| s.streams.get_mut(stream))
        {
            st.inflight = None;
            st.abandoned = Some(start);
        }
        self.stats.retries = self.stats.retries.saturating_add(1);
        let secs = |us: u128| us as f64 / 1e6;
        self.event(Event::Retry {
            kind: p.job.kind,
            attempt: 1,
            delay: Micros(0),
            cause: format!(
                "abandoned: {:.1} s left at {} kbit/s with {:.1} s buffered ({})",
                secs(left),
                bits_done * 1000 / transfer.max(1),
                secs(buffer),
                crate::url::clip_url(&p.url)
            ),
        });
    }

    pub(super) fn on_failed(
        &mut self,
        id: RequestId,
        class: FailureClass,
        detail: String,
    ) -> Result<(), InputError> {
        self.check_known(id)?;
        let Some(p) = self.pending.remove(&id) else {
            return Ok(());
        };
        if class == FailureClass::Timeout && p.job.kind == RequestKind::MediaSegment {
            self.estimator.timed_out(self.now.mono, id.0);
        } else {
            self.estimator.abort(self.now.mono, id.0);
        }
        if matches!(p.job.purpose, Purpose::License { .. }) {
            let answer = match class {
                FailureClass::Timeout => Answer::Timeout,
                _ => Answer::Network(detail),
            };
            self.on_license_answer(id, &p, answer);
            return Ok(());
        }
        let error_class = match class {
            FailureClass::Timeout => ErrorClass::Timeout,
            _ => ErrorClass::Network,
        };
        let cause = format!("{detail} ({})", crate::url::clip_url(&p.url));
        self.fail(p, error_class, cause);
        Ok(())
    }

    /// Requests past their deadline fail as timeouts; due retries are sent.
    pub(super) fn run_timers(&mut self) {
        let now = self.now.mono;
        let expired: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(p) = self.pending.remove(&id) {
                self.out.push_back(Output::Cancel(id));
                if p.job.kind == RequestKind::MediaSegment {
                    self.estimator.timed_out(now, id.0);
                } else {
                    self.estimator.abort(now, id.0);
                }
                if matches!(p.job.purpose, Purpose::License { .. }) {
                    self.on_license_answer(id, &p, Answer::Timeout);
                    continue;
                }
                let cause = format!("no answer in time ({})", crate::url::clip_url(&p.url));
                self.fail(p, ErrorClass::Timeout, cause);
            }
        }
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.delayed)
            .into_iter()
            .partition(|(t, _)| *t <= now);
        self.delayed = later;
        self.drm_timers();
        for (_, job) in due {
            if self.session.is_some() {
                let purpose = job.purpose.clone();
                let id = self.issue(job);
                self.track_reissue(&purpose, id);
            }
        }
    }

    /// Where to carry on when `job`, a live segment, is gone because the window slid past
    /// it: the engine's window is stale (refreshes are late during an outage or on a slow
    /// link) or playback sits at its trailing edge. The window is extrapolated by the time
    /// since it last moved; a segment starting within a target duration of its start counts
    /// as gone, and playback moves two target durations past that start (never backwards,
    /// never past the live edge). `None` for anything else: a 404 inside the window is a
    /// CDN failure. HLS sliding playlists only: a DASH window already follows the clock,
    /// and an EVENT playlist's start never moves.
    fn slid_past(&self, job: &Job) -> Option<Micros> {
        let Purpose::Segment { start, .. } = job.purpose else {
            return None;
        };
        let s = self.session.as_ref()?;
        let p = s.pres.as_ref()?;
        let sliding = p.format.is_hls() && !p.live.as_ref().is_some_and(|l| l.event);
        let w = s.window.filter(|_| sliding && s.is_live())?;
        let target = s.target_duration();
        let span = w.end.0.saturating_sub(w.start.0).max(0);
        let slid = Micros(self.now.mono.0.saturating_sub(s.window_at.0).clamp(0, span));
        let trailing = w.start.saturating_add(slid);
        if start >= trailing.saturating_add(target) {
            return None;
        }
        let to = trailing
            .saturating_add(Micros(target.0.saturating_mul(2)))
            .min(w.edge);
        (to > start && to > self.position()).then_some(to)
    }

    /// One failure of `p`: retry (elsewhere at once, or here after a backoff) or give up.
    fn fail(&mut self, p: Pending, class: ErrorClass, cause: String) {
        self.stats.error(class);
        let mut job = p.job;
        job.failures = job.failures.saturating_add(1);
        let policy = *self.config.retry.of(job.kind);
        let now = self.now.mono;
        let penalty = now.saturating_add(self.config.penalty);
        let alternative = match (job.route, self.session.as_mut()) {
            (Route::Direct, _) | (_, None) => false,
            (route, Some(s)) => {
                let locs = if route == Route::Manifest {
                    &mut s.manifest_locs
                } else {
                    &mut s.media_locs
                };
                locs.penalize(p.location, penalty);
                s.change_reason = None;
                locs.has_alternative(p.location, now)
            }
        };
        if job.failures > policy.retries {
            self.give_up(job, class, cause);
            return;
        }
        // A media segment that did not arrive in time is abandoned, not retried as it was:
        // the stream asks again for the same time with a fresh choice of rendition (the
        // estimator has seen how slow it was). The stream counts the attempts.
        if let (ErrorClass::Timeout, Purpose::Segment { stream, .. }) = (class, &job.purpose) {
            let replanned = self.session.as_mut().and_then(|s| {
                let st = s.streams.get_mut(*stream)?;
                st.inflight = None;
                st.timeouts = st.timeouts.saturating_add(1);
                Some(st.timeouts)
            });
            if let Some(attempt) = replanned {
                if attempt > policy.retries {
                    self.give_up(job, class, cause);
                    return;
                }
                self.stats.retries = self.stats.retries.saturating_add(1);
                self.event(Event::Retry {
                    kind: job.kind,
                    attempt,
                    delay: Micros(0),
                    cause,
                });
                return;
            }
        }
        let delay = if alternative {
            Micros(0)
        } else {
            backoff(&policy, job.failures, &mut self.rng)
        };
        self.stats.retries = self.stats.retries.saturating_add(1);
        self.event(Event::Retry {
            kind: job.kind,
            attempt: job.failures,
            delay,
            cause,
        });
        self.delayed.push((now.saturating_add(delay), job));
        if delay.0 == 0 {
            self.run_timers();
        }
    }

    fn give_up(&mut self, job: Job, class: ErrorClass, cause: String) {
        match job.purpose {
            Purpose::Steering => {
                if let Some(s) = self.session.as_mut() {
                    s.steering_failed(self.now.mono);
                }
            }
            Purpose::TimeSync => {
                // Carry on with the local clock.
                if let Some(s) = self.session.as_mut() {
                    s.clock_pending = false;
                }
                self.try_start();
            }
            Purpose::Key { .. } | Purpose::Certificate => {
                let e = DrmError::KeyFetch { cause };
                self.fatal(FatalError {
                    class: ErrorClass::Drm,
                    kind: Some(job.kind),
                    cause: e.to_string(),
                });
            }
            _ => self.fatal(FatalError {
                class,
                kind: Some(job.kind),
                cause,
            }),
        }
    }

    fn dispatch(&mut self, id: RequestId, p: Pending, body: Vec<u8>, headers: &[NameValue]) {
        match p.job.purpose {
            Purpose::Manifest => {
                self.on_manifest(p.location, &body, headers);
                self.announce_manifest_cues();
                self.drm_scan();
            }
            Purpose::Playlist { set, track } => {
                self.on_playlist(set, track, &body);
                self.announce_manifest_cues();
                self.drm_scan();
            }
            Purpose::Init { stream, key } => {
                self.drm_scan_media(&body);
                self.on_init(id, stream, key, body);
            }
            Purpose::Segment {
                stream,
                start,
                end,
                track,
                offset,
                new_timeline,
                key,
            } => {
                let body = match key {
                    Some(key) => match self.decrypt_segment(&key, body) {
                        Some(b) => b,
                        None => return,
                    },
                    None => {
                        self.drm_scan_media(&body);
                        body
                    }
                };
                self.on_segment(id, stream, (start, end), track, offset, new_timeline, body);
            }
            Purpose::Steering => self.on_steering(&body),
            Purpose::TimeSync => self.on_time_sync(&body, headers),
            Purpose::License { .. } => {}
            Purpose::Certificate => self.on_certificate(body),
            Purpose::Key { uri } => self.on_key(&uri, &body),
        }
    }
}
