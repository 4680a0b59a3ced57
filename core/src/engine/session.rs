//! One loaded presentation: loading the manifest and refreshing it, live staleness, the
//! live window, seeking within it, and where playback starts. HLS media playlists are in
//! `playlists.rs`, steering requests in `steering.rs`, clock sync in `clock.rs`.

use crate::model::{ManifestFormat, Presentation, SegmentIndex};
use crate::options::ParseOptions;
use crate::time::{Micros, UnixMicros};
use crate::{RefreshError, refresh_dash};

use super::cues::CueLog;
use super::drm::DrmState;
use super::event::{ErrorClass, Event, FatalError, LiveWindow, LocationReason};
use super::fetch::{Job, Purpose, Route};
use super::io::{Method, RequestKind, SeekTarget, Source};
use super::locations::Locations;
use super::player::Player;
use super::playlists::{Anchor, PlaylistState, hls_info};
use super::streams::Stream;
use super::timeline::{self, Placement, TOLERANCE};

#[derive(Debug)]
pub(super) struct Session {
    pub(super) load_at: Micros,
    pub(super) manifest_locs: Locations,
    pub(super) media_locs: Locations,
    /// The manifest URL at the origin location: the base every document is parsed against.
    pub(super) manifest_url: String,
    pub(super) pres: Option<Presentation>,
    pub(super) started: bool,
    pub(super) start: Option<SeekTarget>,
    pub(super) ended: bool,
    pub(super) manifest_inflight: bool,
    pub(super) next_refresh: Option<Micros>,
    pub(super) last_growth: Micros,
    pub(super) listed_end: Micros,
    pub(super) streams: Vec<Stream>,
    pub(super) playlists: Vec<PlaylistState>,
    pub(super) anchor: Option<Anchor>,
    /// Cues announced so far.
    pub(super) cues: CueLog,
    pub(super) steering_url: Option<String>,
    pub(super) steering_at: Option<Micros>,
    pub(super) clock_pending: bool,
    pub(super) eos_sent: bool,
    pub(super) window: Option<LiveWindow>,
    /// When the window last moved (monotonic).
    pub(super) window_at: Micros,
    /// Why the next location change happens, when not a failure.
    pub(super) change_reason: Option<LocationReason>,
    /// Key system, CDM sessions, HLS keys.
    pub(super) drm: DrmState,
}

impl Session {
    pub(super) fn next_wakeup(&self) -> Option<Micros> {
        let playlists = self.playlists.iter().filter_map(|p| p.next_refresh);
        let streams = self.streams.iter().filter_map(|s| s.wait_until);
        [self.next_refresh, self.steering_at, self.drm.next_wakeup()]
            .into_iter()
            .flatten()
            .chain(playlists)
            .chain(streams)
            .min()
    }

    pub(super) fn steering_failed(&mut self, now: Micros) {
        self.steering_at = Some(now.saturating_add(Micros(300_000_000)));
    }

    /// Bandwidth of the video track being fetched.
    pub(super) fn video_bandwidth(&self) -> u64 {
        let (Some(p), Some(s)) = (self.pres.as_ref(), self.streams.first()) else {
            return 0;
        };
        s.track_in(p).map_or(0, |t| t.bandwidth)
    }

    /// Live: the presentation grows and is refreshed.
    pub(super) fn is_live(&self) -> bool {
        !self.ended
            && match self.pres.as_ref() {
                Some(p)
                    if p.format == ManifestFormat::HlsMultivariant
                        || p.format == ManifestFormat::HlsMedia =>
                {
                    self.playlists.iter().any(|pl| pl.loaded && !pl.ended)
                }
                Some(p) => p.live.is_some(),
                None => false,
            }
    }

    /// Presentation time now, by the corrected wall clock (DASH live).
    pub(super) fn now_pt(&self, wall: UnixMicros) -> Option<Micros> {
        let p = self.pres.as_ref()?;
        if p.format != ManifestFormat::Dash || self.ended {
            return None;
        }
        let ast = p.live.as_ref()?.availability_start?;
        Some(Micros(wall.0.saturating_sub(ast.0)))
    }

    /// Where the segments of `track` in `period`/`set` sit.
    pub(super) fn placement(
        &self,
        period: usize,
        set: usize,
        track: usize,
        wall: UnixMicros,
    ) -> Option<Placement> {
        let p = self.pres.as_ref()?;
        let per = p.periods.get(period)?;
        let t = per.switching_sets.get(set)?.tracks.get(track)?;
        let (pto, availability) = match &t.segments {
            SegmentIndex::Template(x) => (x.presentation_time_offset, x.availability),
            SegmentIndex::Timeline(x) => (x.presentation_time_offset, x.availability),
            SegmentIndex::Base(x) => (x.presentation_time_offset, Default::default()),
            _ => (0, Default::default()),
        };
        let origin = match p.format {
            ManifestFormat::Dash => per.start,
            ManifestFormat::Smooth => Micros(0),
            _ => self
                .playlists
                .iter()
                .find(|pl| pl.set == set && pl.track == track)
                .map_or(Micros(0), |pl| pl.offset),
        };
        let period_end = p
            .periods
            .get(period + 1)
            .map(|n| n.start)
            .or_else(|| per.duration.map(|d| per.start.saturating_add(d)));
        Some(Placement {
            origin,
            pto,
            timescale: t.segments.timescale(),
            period_end,
            now: self.now_pt(wall),
            availability_offset: availability
                .time_offset
                .unwrap_or(Micros(0))
                .min(Micros(3_600_000_000)),
        })
    }

    /// The listing of `track` will not grow.
    pub(super) fn final_listing(&self, period: usize, set: usize, track: usize) -> bool {
        let Some(p) = self.pres.as_ref() else {
            return true;
        };
        if self.ended || period + 1 < p.periods.len() {
            return true;
        }
        match p.format {
            ManifestFormat::HlsMedia | ManifestFormat::HlsMultivariant => self
                .playlists
                .iter()
                .find(|pl| pl.set == set && pl.track == track)
                .is_none_or(|pl| pl.ended),
            _ => p.live.is_none(),
        }
    }

    /// Longest segment duration (target duration) of the reference stream.
    pub(super) fn target_duration(&self) -> Micros {
        let fallback = Micros(2_000_000);
        let (Some(p), Some(s)) = (self.pres.as_ref(), self.streams.first()) else {
            return fallback;
        };
        let Some(t) = s.track_in(p) else {
            return fallback;
        };
        if let Some(info) = hls_info(t) {
            return info.target_duration;
        }
        if let Some(d) = p.live.as_ref().and_then(|l| l.max_segment_duration) {
            return d;
        }
        t.segments.span(0).map_or(fallback, |(_, d)| {
            Micros::from_ticks(d, t.segments.timescale())
        })
    }
}

impl Player {
    pub(super) fn load(&mut self, mut sources: Vec<Source>, start: Option<SeekTarget>) {
        self.stop();
        self.stats = Default::default();
        self.host.first_frame = false;
        self.host.ended_reported = false;
        // Stable: equal priorities keep list order.
        crate::order::sort_by_key(&mut sources, |s| u128::from(s.priority));
        let Some(first) = sources.first() else {
            self.fatal(FatalError {
                class: ErrorClass::Manifest,
                kind: None,
                cause: "the load list is empty".into(),
            });
            return;
        };
        let manifest_url = first.url.clone();
        let entries: Vec<(String, String, u32)> = sources
            .iter()
            .map(|s| {
                let name = s.cdn.clone().unwrap_or_else(|| host_of(&s.url).to_owned());
                (name, s.url.clone(), s.priority)
            })
            .collect();
        let manifest_locs = Locations::from_urls(&entries);
        self.session = Some(Session {
            load_at: self.now.mono,
            media_locs: manifest_locs.clone(),
            manifest_locs,
            manifest_url: manifest_url.clone(),
            pres: None,
            started: false,
            start,
            ended: false,
            manifest_inflight: true,
            next_refresh: None,
            last_growth: self.now.mono,
            listed_end: Micros(i64::MIN),
            cues: CueLog::default(),
            streams: Vec::new(),
            playlists: Vec::new(),
            anchor: None,
            steering_url: None,
            steering_at: None,
            clock_pending: false,
            eos_sent: false,
            window: None,
            window_at: self.now.mono,
            change_reason: None,
            drm: DrmState::default(),
        });
        self.issue(Job::new(
            RequestKind::Manifest,
            Purpose::Manifest,
            manifest_url,
            Route::Manifest,
        ));
    }

    pub(super) fn parse_options(&self, url: String) -> ParseOptions {
        let variables = self
            .session
            .as_ref()
            .and_then(|s| s.pres.as_ref())
            .map(|p| p.variables.clone())
            .unwrap_or_default();
        ParseOptions {
            url: Some(url),
            variables,
            ..Default::default()
        }
    }

    pub(super) fn on_manifest(
        &mut self,
        _location: usize,
        body: &[u8],
        _headers: &[crate::model::NameValue],
    ) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        s.manifest_inflight = false;
        let url = s.manifest_url.clone();
        let opts = self.parse_options(url);
        let first = self.session.as_ref().is_some_and(|s| s.pres.is_none());
        if first {
            match crate::parse(body, &opts) {
                Ok(parsed) => self.setup(parsed.presentation),
                Err(e) => self.fatal(FatalError {
                    class: ErrorClass::Manifest,
                    kind: Some(RequestKind::Manifest),
                    cause: e.to_string(),
                }),
            }
        } else {
            self.refresh_manifest(body, &opts);
        }
    }

    fn setup(&mut self, pres: Presentation) {
        let now = self.now.mono;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        // Media locations: DASH BaseURLs, HLS pathways or redundant variants, else the load list.
        if pres.base_urls.len() > 1 {
            let entries: Vec<_> = pres
                .base_urls
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let name = b
                        .service_location
                        .clone()
                        .unwrap_or_else(|| host_of(&b.url).to_owned());
                    (name, b.url.clone(), b.priority.unwrap_or(i as u32))
                })
                .collect();
            s.media_locs = Locations::from_urls(&entries);
        } else if let Some(refs) = pres
            .tracks()
            .filter_map(|t| t.hls.as_ref())
            .map(|h| &h.playlists)
            .find(|r| r.len() > 1)
        {
            let entries: Vec<_> = refs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let name = r
                        .pathway_id
                        .clone()
                        .unwrap_or_else(|| format!("backup-{i}"));
                    (name, r.url.clone(), i as u32)
                })
                .collect();
            s.media_locs = Locations::from_urls(&entries);
        }
        if let Some(st) = pres.steering.as_ref() {
            s.steering_url = Some(st.server_url.clone());
            s.steering_at = Some(now);
            if let Some(d) = st.default_pathway.as_ref() {
                s.media_locs.steer(vec![d.clone()]);
            }
        }
        // DASH clock sync.
        let mut sync = None;
        if let Some(l) = pres.live.as_ref() {
            for u in &l.utc_timing {
                let scheme = u.scheme_id_uri.as_str();
                if scheme.ends_with(":http-iso:2014") || scheme.ends_with(":http-xsdate:2014") {
                    sync = Some((Method::Get, u.value.clone()));
                    break;
                }
                if scheme.ends_with(":http-head:2014") {
                    sync = Some((Method::Head, u.value.clone()));
                    break;
                }
                if scheme.ends_with(":direct:2014") {
                    if let Ok(t) = crate::time::parse_datetime(&u.value) {
                        self.clock_offset = Micros(t.0.saturating_sub(self.now.wall.0));
                    }
                    break;
                }
            }
        }
        let hls_media = pres.format == ManifestFormat::HlsMedia;
        s.pres = Some(pres);
        if hls_media {
            // A media playlist loaded directly: it is its own (only) playlist.
            s.playlists.push(PlaylistState {
                set: 0,
                track: 0,
                inflight: false,
                loaded: true,
                next_refresh: None,
                last_growth: now,
                offset: Micros(0),
                ended: false,
            });
        }
        if let Some((method, url)) = sync {
            if let Some(s) = self.session.as_mut() {
                s.clock_pending = true;
            }
            let mut job = Job::new(RequestKind::TimeSync, Purpose::TimeSync, url, Route::Direct);
            job.method = method;
            self.issue(job);
        }
        if self.select_initial() {
            if hls_media {
                self.after_playlist(0, 0, true, false, false);
            }
            self.schedule_manifest_refresh();
            self.try_start();
        }
    }

    /// DASH and Smooth: the next manifest refresh.
    fn schedule_manifest_refresh(&mut self) {
        let now = self.now.mono;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        s.next_refresh = match (p.format, p.live.as_ref()) {
            (ManifestFormat::Dash, Some(l)) if !s.ended => l
                .update_period
                .map(|u| now.saturating_add(u.max(Micros(500_000)))),
            (ManifestFormat::Smooth, Some(_)) if !s.ended => {
                let t = s.target_duration();
                Some(now.saturating_add(t.max(Micros(500_000))))
            }
            _ => None,
        };
    }

    fn refresh_manifest(&mut self, body: &[u8], opts: &ParseOptions) {
        let now = self.now.mono;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(pres) = s.pres.as_mut() else {
            return;
        };
        let keys: Vec<_> = s.streams.iter().map(|st| st.key(pres)).collect();
        let result = match pres.format {
            ManifestFormat::Dash => refresh_dash(pres, body, opts).map(|o| o.added > 0 || o.ended),
            _ => match crate::parse(body, opts) {
                Ok(parsed) if parsed.presentation.format == pres.format => {
                    *pres = parsed.presentation;
                    Ok(true)
                }
                Ok(_) => Err(RefreshError::Mismatch {
                    detail: "the refreshed manifest changed format".into(),
                }),
                Err(e) => Err(e.into()),
            },
        };
        match result {
            Ok(_) => {
                let mut lost = None;
                for (st, key) in s.streams.iter_mut().zip(keys) {
                    if !st.remap(pres, &key) {
                        lost = Some(st.content_type);
                    }
                }
                if let Some(c) = lost {
                    self.fatal(FatalError {
                        class: ErrorClass::Manifest,
                        kind: Some(RequestKind::Manifest),
                        cause: format!(
                            "the refreshed manifest has no {c:?} track to continue with"
                        ),
                    });
                    return;
                }
                let ended = match pres.live.as_ref() {
                    None => true,
                    Some(l) => {
                        pres.duration.is_some()
                            && l.update_period.is_none()
                            && pres.format == ManifestFormat::Dash
                    }
                };
                if ended && !s.ended {
                    s.ended = true;
                    let duration = pres.duration.unwrap_or_default();
                    self.event(Event::LiveEnded { duration });
                }
            }
            Err(e) => {
                self.stats.error(ErrorClass::Manifest);
                let _ = e;
            }
        }
        self.schedule_manifest_refresh();
        self.check_growth(now);
    }

    /// Staleness of DASH and Smooth live manifests: the reference track's listing must grow.
    fn check_growth(&mut self, now: Micros) {
        let wall = self.corrected_wall();
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(st) = s.streams.first() else {
            return;
        };
        let (period, set, track) = (st.period, st.set, st.track);
        let end = s.pres.as_ref().and_then(|p| {
            let t = p
                .periods
                .get(period)?
                .switching_sets
                .get(set)?
                .tracks
                .get(track)?;
            let pl = s.placement(period, set, track, wall)?;
            let (_, e) = t.segments.time_span()?;
            Some(pl.to_pt(e))
        });
        let grows = matches!(
            s.pres
                .as_ref()
                .and_then(|p| p.tracks().next())
                .map(|t| &t.segments),
            Some(SegmentIndex::Timeline(_) | SegmentIndex::List(_))
        );
        if let Some(e) = end {
            if e > s.listed_end {
                s.listed_end = e;
                s.last_growth = now;
            }
        }
        if grows && !s.ended && s.pres.as_ref().is_some_and(|p| p.live.is_some()) {
            let bound = Micros(
                s.target_duration()
                    .0
                    .saturating_mul(i64::from(self.config.stale_after_targets)),
            );
            if now.0.saturating_sub(s.last_growth.0)
                > bound
                    .0
                    .max(s.next_refresh.map_or(0, |r| r.0.saturating_sub(now.0)))
            {
                s.last_growth = now;
                self.stale(Route::Manifest);
            }
        }
    }

    /// A live listing stopped growing at the active location: box it and refresh elsewhere.
    pub(super) fn stale(&mut self, route: Route) {
        let now = self.now.mono;
        let until = now.saturating_add(self.config.penalty);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let locs = if route == Route::Manifest {
            &mut s.manifest_locs
        } else {
            &mut s.media_locs
        };
        let location = locs.name(locs.active).to_owned();
        let active = locs.active;
        let alternative = locs.has_alternative(active, now);
        if alternative {
            locs.penalize(active, until);
            s.change_reason = Some(LocationReason::Stale);
            if route == Route::Manifest {
                s.next_refresh = Some(now);
            } else {
                for p in s.playlists.iter_mut().filter(|p| p.next_refresh.is_some()) {
                    p.next_refresh = Some(now);
                }
            }
        }
        self.stats.error(ErrorClass::Stale);
        self.event(Event::Stale { location });
    }

    /// Refreshes and steering that are due.
    pub(super) fn run_refreshes(&mut self) {
        let now = self.now.mono;
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let manifest_due = s.next_refresh.is_some_and(|t| t <= now) && !s.manifest_inflight;
        let steering_due = s.steering_at.is_some_and(|t| t <= now);
        let playlists: Vec<(usize, usize)> = s
            .playlists
            .iter()
            .filter(|p| p.next_refresh.is_some_and(|t| t <= now) && !p.inflight)
            .map(|p| (p.set, p.track))
            .collect();
        if manifest_due {
            if let Some(s) = self.session.as_mut() {
                s.manifest_inflight = true;
                s.next_refresh = None;
                let url = s.manifest_url.clone();
                self.issue(Job::new(
                    RequestKind::Manifest,
                    Purpose::Manifest,
                    url,
                    Route::Manifest,
                ));
            }
        }
        for (set, track) in playlists {
            self.request_playlist(set, track);
        }
        if steering_due {
            self.request_steering();
        }
        self.update_window();
    }

    /// Recomputes the live window and reports it when it moved; pulls the playhead back into
    /// the window when the window left it behind.
    pub(super) fn update_window(&mut self) {
        let wall = self.corrected_wall();
        let position = self.position();
        let delay_override = self.config.live_delay;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(w) = compute_window(s, wall, delay_override) else {
            return;
        };
        // A live HLS window does not move back within itself: a rendition switched to has
        // a playlist last fetched a while ago until its refresh arrives, and the window it
        // gives is an older view of the same timeline. One that ends before the known
        // window starts is another timeline (the stream restarted) and is followed. (A DASH
        // window may move back when the clock is corrected.)
        let hls = s.pres.as_ref().is_some_and(|p| p.format.is_hls());
        let older = s.window.is_some_and(|o| w.end < o.end && w.end > o.start);
        if hls && s.is_live() && older {
            return;
        }
        let moved = s.window.is_none_or(|o| o.end != w.end) && (s.is_live() || s.ended);
        s.window = Some(w);
        if moved {
            s.window_at = self.now.mono;
        }
        let started = s.started;
        if moved {
            self.stats.live_latency = Some(Micros(w.end.0.saturating_sub(position.0)));
            self.event(Event::LiveWindow(w));
        }
        // Also during a seek: a start-over target can fall out of the window before its
        // first segment arrives (a stale playlist during an outage); waiting on would only
        // retry a segment that is gone.
        if started && position < w.start {
            self.host.seeking = true;
            let target = w
                .start
                .saturating_add(
                    self.session
                        .as_ref()
                        .map_or(Micros(0), Session::target_duration),
                )
                .min(w.edge);
            self.event(Event::SeekClamped {
                requested: position,
                position: target,
            });
            self.move_to(target);
        }
    }

    /// Resolves a seek target to a position, clamped to what can be played.
    pub(super) fn resolve_seek(&mut self, target: SeekTarget) -> Option<Micros> {
        self.update_window();
        let s = self.session.as_ref()?;
        let p = s.pres.as_ref()?;
        let (lo, hi) = match (s.is_live(), s.window) {
            (true, Some(w)) => (
                w.start.saturating_add(s.target_duration()).min(w.edge),
                w.edge,
            ),
            _ => {
                let end = p
                    .duration
                    .or_else(|| s.window.map(|w| w.end))
                    .unwrap_or(Micros(i64::MAX));
                let lo = s
                    .window
                    .filter(|_| p.format != ManifestFormat::Dash)
                    .map_or(Micros(0), |w| w.start);
                (lo, Micros(end.0.saturating_sub(TOLERANCE.0 * 2)).max(lo))
            }
        };
        let requested = match target {
            SeekTarget::Position(t) => t,
            SeekTarget::LiveEdge => {
                if s.is_live() {
                    hi
                } else {
                    lo
                }
            }
            SeekTarget::WindowStart => lo,
        };
        let position = requested.clamp(lo, hi);
        if position != requested && matches!(target, SeekTarget::Position(_)) {
            self.event(Event::SeekClamped {
                requested,
                position,
            });
        }
        Some(position)
    }

    /// Starts playback once everything needed is known: manifest, playlists, clock.
    pub(super) fn try_start(&mut self) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        if s.started || s.clock_pending || s.streams.is_empty() {
            return;
        }
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        let ready = s.streams.iter().all(|st| {
            st.track_in(p)
                .is_some_and(|t| !matches!(t.segments, SegmentIndex::Unloaded))
                && s.playlists
                    .iter()
                    .filter(|pl| pl.set == st.set && pl.track == st.track)
                    .all(|pl| pl.loaded)
        });
        if !ready {
            return;
        }
        let target = s
            .start
            .unwrap_or_else(|| match (s.is_live(), p.start_offset) {
                (true, _) => SeekTarget::LiveEdge,
                (false, Some(o)) if o.0 < 0 => {
                    SeekTarget::Position(p.duration.unwrap_or_default().saturating_add(o))
                }
                (false, Some(o)) => SeekTarget::Position(o),
                (false, None) => SeekTarget::WindowStart,
            });
        let loaded = Event::Loaded {
            format: p.format,
            live: s.is_live(),
            duration: p.duration,
        };
        let Some(position) = self.resolve_seek(target) else {
            return;
        };
        self.event(loaded);
        if let Some(s) = self.session.as_mut() {
            s.started = true;
        }
        self.move_to(position);
    }
}

/// The live window of the reference stream (or the whole span, for VOD).
fn compute_window(
    s: &Session,
    wall: UnixMicros,
    delay_override: Option<Micros>,
) -> Option<LiveWindow> {
    let p = s.pres.as_ref()?;
    let st = s.streams.first()?;
    let mut span: Option<(Micros, Micros)> = None;
    for (pi, period) in p.periods.iter().enumerate() {
        let Some((set, track)) = st.equivalent_in(period) else {
            continue;
        };
        let t = &period.switching_sets[set].tracks[track];
        let pl = s.placement(pi, set, track, wall)?;
        if let Some((a, b)) = timeline::available_span(&t.segments, &pl) {
            span = Some(span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
    }
    let (mut start, end) = span?;
    let live = p.live.clone().unwrap_or_default();
    if let (Some(now), Some(depth)) = (s.now_pt(wall), live.time_shift_depth) {
        start = start.max(Micros(now.0.saturating_sub(depth.0)));
    }
    let hold_back = st
        .track_in(p)
        .and_then(hls_info)
        .and_then(|h| h.server_control.as_ref())
        .and_then(|c| c.hold_back);
    let delay = timeline::live_delay(delay_override, &live, hold_back, s.target_duration());
    let edge = Micros(end.0.saturating_sub(delay.0)).max(start);
    let wall_at_zero = match p.format {
        ManifestFormat::Dash => live.availability_start,
        _ => s.anchor.and_then(|a| a.pdt_zero),
    };
    Some(LiveWindow {
        start,
        edge,
        end,
        delay,
        wall_at_zero,
    })
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}
