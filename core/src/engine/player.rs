//! The player: inputs in, outputs out, and the state they act on.

use std::collections::{BTreeMap, VecDeque};

use crate::model::ContentType;
use crate::time::Micros;

use super::abr::FrameWatch;
use super::config::{Capabilities, Config, Preferences};
use super::event::{Event, FatalError};
use super::fetch::{Job, Pending};
use super::io::{
    Command, Input, Now, Output, PlayState, Playback, RequestId, SeekTarget, TrackInfo,
};
use super::retry::Rng;
use super::session::Session;
use super::stats::Stats;
use crate::abr::{AbrPolicy, BandwidthEstimator};

/// A misuse of the calling contract. The input is ignored; the engine stays consistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A response or failure for a request the engine never made.
    #[error("no request {0} was ever made")]
    UnknownRequest(RequestId),
    /// `now.mono` went back.
    #[error("monotonic time went back from {last} to {now}")]
    TimeWentBack {
        /// Previous time.
        last: Micros,
        /// Time given.
        now: Micros,
    },
}

impl InputError {
    /// A stable kebab-case name for bindings: `unknown-request`, `time-went-back`.
    pub fn variant(&self) -> &'static str {
        match self {
            InputError::UnknownRequest(_) => "unknown-request",
            InputError::TimeWentBack { .. } => "time-went-back",
        }
    }
}

/// What the engine knows of the host player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HostView {
    pub(super) position: Micros,
    pub(super) reported_at: Micros,
    pub(super) state: PlayState,
    pub(super) buffered: Vec<(ContentType, Vec<(Micros, Micros)>)>,
    pub(super) first_frame: bool,
    pub(super) stall_since: Option<Micros>,
    /// A seek is in progress: waiting that follows is not a stall.
    pub(super) seeking: bool,
    pub(super) ended_reported: bool,
}

/// The engine. See the [module docs](super) for the calling contract.
#[derive(Debug)]
pub struct Player {
    pub(super) config: Config,
    pub(super) now: Now,
    pub(super) rng: Rng,
    pub(super) out: VecDeque<Output>,
    pub(super) next_id: u64,
    pub(super) pending: BTreeMap<RequestId, Pending>,
    /// Retries waiting for their backoff: (due, job).
    pub(super) delayed: Vec<(Micros, Job)>,
    pub(super) session: Option<Session>,
    pub(super) prefs: Preferences,
    pub(super) caps: Capabilities,
    pub(super) stats: Stats,
    pub(super) estimator: BandwidthEstimator,
    pub(super) policy: Box<dyn AbrPolicy>,
    pub(super) frames: FrameWatch,
    /// Server wall clock minus the host's.
    pub(super) clock_offset: Micros,
    pub(super) host: HostView,
    pub(super) playing_intent: bool,
}

impl Player {
    /// A player with `config`; nothing happens until a [`Command::Load`].
    pub fn new(config: Config) -> Player {
        Player {
            rng: Rng::new(config.seed),
            estimator: BandwidthEstimator::new(config.abr.estimator),
            policy: config.abr.algorithm.policy(),
            frames: FrameWatch::default(),
            config,
            now: Now {
                mono: Micros(i64::MIN),
                wall: crate::time::UnixMicros(0),
            },
            out: VecDeque::new(),
            next_id: 1,
            pending: BTreeMap::new(),
            delayed: Vec::new(),
            session: None,
            prefs: Preferences::default(),
            caps: Capabilities::default(),
            stats: Stats::default(),
            clock_offset: Micros(0),
            host: HostView {
                position: Micros(0),
                reported_at: Micros(0),
                state: PlayState::Paused,
                buffered: Vec::new(),
                first_frame: false,
                stall_since: None,
                seeking: false,
                ended_reported: false,
            },
            playing_intent: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// QoE statistics so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The presentation, once loaded (kept current by live refreshes).
    pub fn presentation(&self) -> Option<&crate::model::Presentation> {
        self.session.as_ref().and_then(|s| s.pres.as_ref())
    }

    /// The presentation's tracks, flattened (empty before it loads).
    pub fn tracks(&self) -> Vec<TrackInfo> {
        let Some(p) = self.presentation() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (period, sets) in p.periods.iter().enumerate() {
            for set in &sets.switching_sets {
                out.extend(set.tracks.iter().map(|t| TrackInfo {
                    period: u32::try_from(period).unwrap_or(u32::MAX),
                    id: t.id.clone(),
                    content_type: set.content_type,
                    mime_type: t.mime_type.clone().or_else(|| set.mime_type.clone()),
                    codecs: t.codecs.clone(),
                    bandwidth: t.bandwidth,
                    width: t.width,
                    height: t.height,
                    language: t.language.clone().or_else(|| set.language.clone()),
                    label: t.label.clone(),
                }));
            }
        }
        out
    }

    /// Feeds one input at time `now`.
    pub fn handle_input(&mut self, now: Now, input: Input) -> Result<(), InputError> {
        if now.mono < self.now.mono {
            return Err(InputError::TimeWentBack {
                last: self.now.mono,
                now: now.mono,
            });
        }
        self.account_time(now.mono);
        self.now = now;
        match input {
            Input::Command(c) => self.command(c),
            Input::Response(r) => self.on_response(r)?,
            Input::Progress {
                id,
                received,
                total,
            } => {
                self.check_known(id)?;
                self.on_progress(id, received, total);
            }
            Input::Failed { id, class, detail } => self.on_failed(id, class, detail)?,
            Input::Playback(p) => self.on_playback(p),
            Input::Timeout => {}
            Input::Cdm(e) => self.on_cdm(e),
        }
        self.pump();
        Ok(())
    }

    /// Replaces the ABR policy chosen by [`Config::abr`](super::Config::abr) with one of the
    /// host's (Rust hosts; the bindings offer the built-in ones through the config).
    pub fn set_abr_policy(&mut self, policy: Box<dyn AbrPolicy>) {
        self.policy = policy;
    }

    /// The next output; drain until [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        Output::Timeout(self.next_deadline())
    }

    pub(super) fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    pub(super) fn check_known(&self, id: RequestId) -> Result<(), InputError> {
        if id.0 >= self.next_id {
            return Err(InputError::UnknownRequest(id));
        }
        Ok(())
    }

    /// The host's position now, extrapolated at 1x while playing.
    pub(super) fn position(&self) -> Micros {
        if self.host.state == PlayState::Playing {
            self.host.position.saturating_add(Micros(
                self.now.mono.0.saturating_sub(self.host.reported_at.0),
            ))
        } else {
            self.host.position
        }
    }

    fn account_time(&mut self, mono: Micros) {
        if self.now.mono.0 == i64::MIN || self.host.state != PlayState::Playing {
            return;
        }
        let dt = Micros(mono.0.saturating_sub(self.now.mono.0));
        let bw = self.session.as_ref().map_or(0, |s| s.video_bandwidth());
        self.stats.played(dt, bw);
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Load { sources, start } => self.load(sources, start),
            Command::Play => self.playing_intent = true,
            Command::Pause => self.playing_intent = false,
            Command::Seek(target) => self.seek(target),
            Command::SetPreferences(p) => {
                self.prefs = p;
                self.reselect();
            }
            Command::SetCapabilities(c) => {
                self.caps = c;
                self.reselect();
            }
            Command::Stop => self.stop(),
        }
    }

    /// Cancels everything and forgets the session.
    pub(super) fn stop(&mut self) {
        let ids: Vec<RequestId> = self.pending.keys().copied().collect();
        for id in ids {
            self.out.push_back(Output::Cancel(id));
            self.estimator.abort(self.now.mono, id.0);
        }
        self.drm_close_all();
        self.pending.clear();
        self.delayed.clear();
        self.session = None;
    }

    /// Ends the session with a fatal error.
    pub(super) fn fatal(&mut self, error: FatalError) {
        self.stats.error(error.class);
        self.stop();
        self.event(Event::Error(error));
    }

    fn on_playback(&mut self, p: Playback) {
        let now = self.now.mono;
        let was = self.host.state;
        self.stats.dropped_frames = p.dropped_frames;
        self.stats.decoded_frames = p.decoded_frames;
        self.watch_frames(p.position, p.dropped_frames, p.decoded_frames);
        self.host.position = p.position;
        self.host.reported_at = now;
        self.host.state = p.state;
        self.host.buffered = p
            .buffered
            .into_iter()
            .map(|b| (b.content_type, b.ranges))
            .collect();
        match (was, p.state) {
            (_, PlayState::Playing) => {
                if !self.host.first_frame {
                    self.host.first_frame = true;
                    let startup = self
                        .session
                        .as_ref()
                        .map_or(Micros(0), |s| Micros(now.0.saturating_sub(s.load_at.0)));
                    self.stats.startup_time = Some(startup);
                    self.event(Event::FirstFrame { startup });
                }
                if let Some(since) = self.host.stall_since.take() {
                    let duration = Micros(now.0.saturating_sub(since.0));
                    self.stats.stall_time = self.stats.stall_time.saturating_add(duration);
                    self.event(Event::StallEnded { duration });
                }
                self.host.seeking = false;
            }
            (PlayState::Playing, PlayState::Stalled) if !self.host.seeking => {
                self.host.stall_since = Some(now);
                self.stats.stall_count = self.stats.stall_count.saturating_add(1);
                self.event(Event::StallStarted {
                    position: p.position,
                });
            }
            (_, PlayState::Ended) if !self.host.ended_reported => {
                self.host.ended_reported = true;
                self.event(Event::Ended);
            }
            _ => {}
        }
    }

    fn seek(&mut self, target: SeekTarget) {
        if self.session.as_ref().is_none_or(|s| !s.started) {
            if let Some(s) = self.session.as_mut() {
                s.start = Some(target);
            }
            return;
        }
        let Some(position) = self.resolve_seek(target) else {
            return;
        };
        self.host.seeking = true;
        self.host.ended_reported = false;
        self.move_to(position);
    }

    /// Moves the playhead: tells the host, and restarts fetching from `position`.
    pub(super) fn move_to(&mut self, position: Micros) {
        self.host.position = position;
        self.host.reported_at = self.now.mono;
        self.out.push_back(Output::SetPosition(position));
        let cancelled = self.restart_streams(position);
        for id in cancelled {
            self.pending.remove(&id);
            self.out.push_back(Output::Cancel(id));
            self.estimator.abort(self.now.mono, id.0);
        }
    }

    /// The earliest deadline: timeouts of requests, retries, refreshes, the tick.
    fn next_deadline(&self) -> Option<Micros> {
        let session = self.session.as_ref()?;
        let mut at: Option<Micros> = None;
        let mut add = |t: Option<Micros>| {
            if let Some(t) = t {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        };
        for p in self.pending.values() {
            add(Some(p.deadline));
        }
        for (t, _) in &self.delayed {
            add(Some(*t));
        }
        add(session.next_wakeup());
        if session.started {
            add(Some(self.now.mono.saturating_add(self.config.tick)));
        }
        at
    }
}
