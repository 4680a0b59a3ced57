//! Deterministic simulation: the engine driven by a simulated clock, network, origin and
//! decoder. Hours of playback run in milliseconds, identically every time; the outputs
//! form a transcript that scenario tests compare with goldens.
//!
//! ```
//! use playhead::Micros;
//! use playhead_conformance::sim::{Sim, SimConfig, origin::{Origin, OriginConfig, OriginFormat}};
//!
//! let origin = Origin::new(OriginConfig::example(OriginFormat::DashTemplate));
//! let mut sim = Sim::new(origin, SimConfig::default());
//! sim.load_and_play();
//! sim.run_until(Micros(70_000_000));
//! assert!(sim.decoder.frames > 0 && sim.decoder.stalls == 0);
//! ```

pub mod cdm;
pub mod decoder;
pub mod net;
pub mod origin;

use playhead::engine::record::Recorder;
use playhead::engine::{
    Body, CdmEvent, Command, Config, FailureClass, Input, Now, Output, PlayState, Player,
    RequestKind, Response, SinkMode, Source,
};
use playhead::model::NameValue;
use playhead::{Micros, UnixMicros};

use cdm::{CdmScript, SimCdm, SimLicenseServer};
use decoder::Decoder;
use net::{Ending, Fault, FaultKind, Network, Trace};
use origin::{Origin, Served};

/// Simulation settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Engine configuration.
    pub engine: Config,
    /// Throughput.
    pub trace: Trace,
    /// Time to first byte.
    pub latency: Micros,
    /// Faults.
    pub faults: Vec<Fault>,
    /// Wall-clock time at simulated time 0 (the true time).
    pub start_wall: UnixMicros,
    /// The client's wall clock is this much off.
    pub clock_skew: Micros,
    /// How often the host reports its playback state.
    pub report_every: Micros,
    /// With each playback report, also report the bytes received so far of every download
    /// under way (`Input::Progress`), as the browser and CLI hosts do while a body streams.
    pub progress: bool,
    /// What the simulated CDM does besides answering.
    pub cdm: CdmScript,
    /// The licence server every licence request reaches.
    pub license: SimLicenseServer,
    /// Documents served at exact URLs before the origin (corpus manifests); any other URL
    /// on their hosts is a 50 kB media body.
    pub documents: Vec<(String, Vec<u8>)>,
    /// Media bodies of a known size at exact URLs, before the origin (the ABR harness's
    /// ladders).
    pub media_sizes: std::collections::HashMap<String, u64>,
}

impl Default for SimConfig {
    /// 10 Mbit/s, 50 ms latency, no faults, 2026-11-21T12:00:00Z, exact clock, 1 s reports;
    /// the engine's default configuration except [`SinkMode::AsFetched`]: the simulated
    /// origin's media bodies are sizes, not media.
    fn default() -> Self {
        SimConfig {
            engine: Config {
                sink: SinkMode::AsFetched,
                ..Config::default()
            },
            trace: Trace::constant(10_000_000),
            latency: Micros(50_000),
            faults: Vec::new(),
            start_wall: UnixMicros(1_795_262_400_000_000),
            clock_skew: Micros(0),
            report_every: Micros(1_000_000),
            progress: true,
            cdm: CdmScript::default(),
            license: SimLicenseServer::default(),
            documents: Vec::new(),
            media_sizes: std::collections::HashMap::new(),
        }
    }
}

/// A simulation in progress.
pub struct Sim {
    /// The engine.
    pub player: Player,
    /// The origin.
    pub origin: Origin,
    /// The network.
    pub net: Network,
    /// The decoder.
    pub decoder: Decoder,
    /// Simulated time.
    pub t: Micros,
    config: SimConfig,
    schedule: Vec<(Micros, Command)>,
    deadline: Option<Micros>,
    next_report: Micros,
    transcript: Vec<String>,
    recorder: Option<Recorder>,
    /// Outputs, as the engine gave them, with their time.
    pub outputs: Vec<(Micros, Output)>,
    keep_outputs: bool,
    /// CPU time spent inside the engine (`handle_input` and `poll_output`), for benchmarks.
    pub engine_time: std::time::Duration,
    /// The simulated CDM.
    pub cdm: SimCdm,
    cdm_events: std::collections::VecDeque<CdmEvent>,
}

impl Sim {
    /// A simulation of `origin` with `config`.
    pub fn new(origin: Origin, config: SimConfig) -> Sim {
        let mut net = Network::new(config.trace.clone(), config.latency);
        net.faults = config.faults.clone();
        Sim {
            player: Player::new(config.engine.clone()),
            recorder: None,
            decoder: Decoder::new(config.engine.buffer.rebuffer),
            origin,
            net,
            t: Micros(0),
            schedule: Vec::new(),
            deadline: None,
            next_report: Micros(0),
            transcript: Vec::new(),
            outputs: Vec::new(),
            keep_outputs: false,
            engine_time: std::time::Duration::ZERO,
            cdm: SimCdm::new(config.cdm.clone()),
            cdm_events: std::collections::VecDeque::new(),
            config,
        }
    }

    /// Record every input from now on (see [`Sim::recording`]); call before running.
    pub fn record_inputs(&mut self) {
        self.recorder = Some(Recorder::new(&self.config.engine));
    }

    /// Keep every output (for event inspection in tests).
    pub fn keep_outputs(&mut self) {
        self.keep_outputs = true;
    }

    /// Schedules a command at simulated time `at`.
    pub fn at(&mut self, at: Micros, command: Command) {
        self.schedule.push((at, command));
        self.schedule.sort_by_key(|(t, _)| *t);
    }

    /// The load list of every origin host, in order.
    pub fn sources(&self) -> Vec<Source> {
        (0..self.origin.config().hosts.len())
            .map(|i| Source {
                url: self.origin.manifest_url(i),
                cdn: Some(origin::pathway(&self.origin.config().hosts[i]).into_owned()),
                priority: i as u32,
            })
            .collect()
    }

    /// Loads every host's manifest URL as the load list and presses play, at time 0.
    pub fn load_and_play(&mut self) {
        let sources = self.sources();
        self.at(
            Micros(0),
            Command::Load {
                sources,
                start: None,
            },
        );
        self.at(Micros(0), Command::Play);
    }

    fn now(&self) -> Now {
        Now {
            mono: self.t,
            wall: UnixMicros(self.config.start_wall.0 + self.t.0 + self.config.clock_skew.0),
        }
    }

    fn true_wall(&self) -> UnixMicros {
        UnixMicros(self.config.start_wall.0 + self.t.0)
    }

    fn input(&mut self, input: Input) {
        self.feed(input);
        self.flush_cdm();
    }

    /// The CDM answers at once, after the outputs that asked it.
    fn flush_cdm(&mut self) {
        while let Some(e) = self.cdm_events.pop_front() {
            self.transcript
                .push(format!("{} host-cdm {e:?}", stamp(self.t)));
            self.feed(Input::Cdm(e));
        }
    }

    fn feed(&mut self, input: Input) {
        let now = self.now();
        if let Some(r) = self.recorder.as_mut() {
            r.record(now, &input);
        }
        let clock = std::time::Instant::now();
        let result = self.player.handle_input(now, input);
        self.engine_time += clock.elapsed();
        if let Err(e) = result {
            self.transcript
                .push(format!("{} input refused: {e}", stamp(self.t)));
        }
        self.drain();
    }

    fn drain(&mut self) {
        loop {
            let clock = std::time::Instant::now();
            let o = self.player.poll_output();
            self.engine_time += clock.elapsed();
            if let Some(line) = o.describe() {
                self.transcript.push(format!("{} {line}", stamp(self.t)));
            }
            if self.keep_outputs {
                self.outputs.push((self.t, o.clone()));
            }
            match o {
                Output::Timeout(at) => {
                    self.deadline = at;
                    return;
                }
                Output::Request(r) => self.request(r),
                Output::Cancel(id) => self.net.cancel(id.0),
                Output::Media(m) => {
                    if m.init {
                        self.decoder.expect(m.content_type);
                    } else {
                        self.decoder.append(m.content_type, m.start, m.end);
                    }
                }
                Output::SetPosition(p) => self.decoder.seek(p, self.t),
                Output::EndOfStream => self.decoder.eos = true,
                Output::Cdm(r) => {
                    let events = self.cdm.handle(&r);
                    self.cdm_events.extend(events);
                }
                Output::Event(_) => {}
            }
        }
    }

    fn request(&mut self, r: playhead::engine::Request) {
        let t = self.t;
        if let Some(c) = r.content_type {
            self.decoder.expect(c);
        }
        let fault = self.net.fault(&r.url, t);
        let wall = match fault {
            Some((FaultKind::Freeze, from)) => UnixMicros(self.config.start_wall.0 + from.0),
            _ => self.true_wall(),
        };
        let mut refused = None;
        let served = if r.kind == RequestKind::License {
            let (status, body) = self.config.license.answer(r.body.as_deref().unwrap_or(&[]));
            if status != 200 {
                refused = Some(status);
            }
            Served::Text {
                content_type: "application/octet-stream",
                body,
            }
        } else if let Some(&size) = self.config.media_sizes.get(&r.url) {
            Served::Media {
                size,
                media: origin::MediaRef {
                    track: origin::MediaTrack::Audio,
                    segment: None,
                },
            }
        } else if let Some((_, doc)) = self.config.documents.iter().find(|(u, _)| *u == r.url) {
            Served::Text {
                content_type: "text/plain",
                body: doc.clone(),
            }
        } else if self
            .config
            .documents
            .iter()
            .any(|(u, _)| host_of(u) == host_of(&r.url))
        {
            Served::Media {
                size: 50_000,
                media: origin::MediaRef {
                    track: origin::MediaTrack::Audio,
                    segment: None,
                },
            }
        } else {
            self.origin.serve(&r.url, wall)
        };
        let (size, ending) = match (fault, served) {
            (Some((FaultKind::Status(s), _)), _) => (
                0,
                Ending::Response {
                    status: s,
                    body: Some(Vec::new()),
                },
            ),
            (Some((FaultKind::Refuse, _)), _) => (0, Ending::Refused),
            (Some((FaultKind::Blackhole | FaultKind::Stall, _)), _) => (0, Ending::Hang),
            (Some((FaultKind::Truncate, _)), Served::Media { size, .. }) => {
                (size / 2, Ending::Truncated)
            }
            (_, Served::Text { .. }) if refused.is_some() => (
                0,
                Ending::Response {
                    status: refused.unwrap_or(500),
                    body: Some(Vec::new()),
                },
            ),
            (_, Served::Text { body, .. }) => (
                body.len() as u64,
                Ending::Response {
                    status: 200,
                    body: Some(body),
                },
            ),
            (_, Served::Media { size, .. }) => (
                size,
                Ending::Response {
                    status: 200,
                    body: None,
                },
            ),
            (_, Served::NotFound) => (
                0,
                Ending::Response {
                    status: 404,
                    body: Some(Vec::new()),
                },
            ),
        };
        let delay = match fault {
            Some((FaultKind::Delay(d), _)) => d,
            _ => Micros::ZERO,
        };
        self.net.start(r.id.0, t, delay, size, ending);
    }

    /// Runs until simulated time `end`.
    pub fn run_until(&mut self, end: Micros) {
        // Bounded: every turn advances time or handles at least one input.
        while self.t < end {
            if let Some((at, _)) = self.schedule.first() {
                if *at <= self.t {
                    let (_, c) = self.schedule.remove(0);
                    if c == Command::Play {
                        self.decoder.intent = true;
                    } else if c == Command::Pause {
                        self.decoder.intent = false;
                    }
                    self.input(Input::Command(c));
                    continue;
                }
            }
            let mut next = end;
            for x in [
                self.schedule.first().map(|(t, _)| *t),
                self.deadline,
                self.net.next_event(self.t),
                self.decoder.next_event(self.t),
                self.cdm.next_event(self.t),
                Some(self.next_report),
            ]
            .into_iter()
            .flatten()
            {
                next = next.min(x.max(self.t));
            }
            let done = self.net.advance(self.t, next);
            let changed = self.decoder.advance(self.t, next);
            let scripted = self.cdm.due(self.t, next);
            self.t = next;
            self.cdm_events.extend(scripted);
            for x in done {
                let id = playhead::engine::RequestId(x.id);
                let input = match x.ending {
                    Ending::Response { status, body } => Input::Response(Response {
                        id,
                        status,
                        headers: vec![NameValue {
                            name: "content-type".into(),
                            value: "application/octet-stream".into(),
                        }],
                        body: match body {
                            Some(b) => Body::Bytes(b),
                            None => Body::Held { size: x.size },
                        },
                        first_byte_at: x.first_byte,
                        final_url: None,
                    }),
                    Ending::Refused => Input::Failed {
                        id,
                        class: FailureClass::Network,
                        detail: "connection refused".into(),
                    },
                    Ending::Truncated => Input::Failed {
                        id,
                        class: FailureClass::Truncated,
                        detail: "body cut short".into(),
                    },
                    Ending::Hang => continue,
                };
                self.input(input);
            }
            let report_due = self.t >= self.next_report;
            if changed || report_due {
                if report_due {
                    self.next_report = self.t.saturating_add(self.config.report_every);
                    if self.config.progress {
                        for (id, received, size) in self.net.progress(self.t) {
                            self.input(Input::Progress {
                                id: playhead::engine::RequestId(id),
                                received,
                                total: Some(size),
                            });
                        }
                    }
                }
                let report = self.decoder.report();
                self.input(Input::Playback(report));
            }
            if self.deadline.is_some_and(|d| d <= self.t) {
                self.deadline = None;
                self.input(Input::Timeout);
            }
            self.flush_cdm();
        }
    }

    /// The transcript so far: one line per output (timeouts left out).
    pub fn transcript(&self) -> &[String] {
        &self.transcript
    }

    /// The recording of every input so far (empty unless [`Sim::record_inputs`] was called).
    pub fn recording(&self) -> Vec<u8> {
        self.recorder
            .as_ref()
            .map(|r| r.bytes().to_vec())
            .unwrap_or_default()
    }

    /// Lines of the transcript that contain `needle`.
    pub fn lines(&self, needle: &str) -> Vec<&str> {
        self.transcript
            .iter()
            .filter(|l| l.contains(needle))
            .map(String::as_str)
            .collect()
    }

    /// True while the decoder plays.
    pub fn playing(&self) -> bool {
        self.decoder.state == PlayState::Playing
    }
}

fn host_of(url: &str) -> &str {
    url.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

/// `12.345` seconds, fixed width.
fn stamp(t: Micros) -> String {
    format!("{:>5}.{:03}", t.0 / 1_000_000, (t.0 % 1_000_000) / 1000)
}
