//! A real host for the engine: HTTP through reqwest on tokio, the real clock, and a virtual
//! decoder (the simulation's) whose playhead consumes the buffer at 1x.
//!
//! One [`run`] is one viewer: it loads the URLs, presses play, answers every request the
//! engine makes, reports playback state four times a second, and returns what happened.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use playhead::drm::clearkey::ClearKeyCdm;
use playhead::drm::decrypt::decrypt_samples;
use playhead::engine::{
    Body, CdmEvent, CdmRequest, Command, Config, Delivery, Event, FailureClass, FatalError, Input,
    KeyStatusEntry, Media, Method, Now, Output, Payload, Player, Request, RequestId, Response,
    SeekTarget, Source, Stats,
};
use playhead::media::{CodecConfig, Samples};
use playhead::{ContentType, Micros, NameValue, UnixMicros};
use playhead_conformance::sim::decoder::Decoder;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How often the host reports playback state.
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// Progress inputs at most this often per request.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What a session does besides playing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Stop after this long.
    pub duration: Duration,
    /// Seeks, at times from the start.
    pub seeks: Vec<(Duration, Seek)>,
    /// Keep the audio access units handed to the decoder (with [`SinkMode::Samples`]).
    pub keep_audio: bool,
    /// Log every access unit handed to the decoder (with [`SinkMode::Samples`]).
    pub log_samples: bool,
    /// Record a chart sample this often (`None`: never).
    pub chart_every: Option<Duration>,
}

/// A seek of the plan.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seek {
    /// This far behind the current position.
    Back(Duration),
    /// An absolute target.
    To(SeekTarget),
}

/// One point of the chart.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct Sample {
    /// Seconds since the start.
    pub t: f64,
    /// Playhead position, seconds.
    pub position: f64,
    /// Seconds buffered ahead of the playhead.
    pub buffer: f64,
    /// Bandwidth of the video track playing, bit/s.
    pub bitrate: u64,
    /// The engine's throughput estimate, bit/s.
    pub estimate: u64,
}

/// Audio the sample sink handed to the decoder.
#[derive(Debug, Clone, Default)]
pub(crate) struct AudioCapture {
    /// The configuration of the last audio track.
    pub config: Option<CodecConfig>,
    /// Access units in the order appended (decrypted when they were encrypted).
    pub units: Vec<Vec<u8>>,
    /// Samples as handed over, decrypted at the end of the session (the licence may come
    /// after the first segments).
    pending: Vec<Samples>,
    /// Access units decrypted with the software ClearKey CDM's keys.
    pub decrypted: usize,
    /// Why decryption failed.
    pub drm_error: Option<String>,
}

/// One access unit handed to the decoder, for `--samples`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SampleRow {
    /// `video` or `audio`.
    pub content_type: &'static str,
    /// Track id in the presentation.
    pub track: String,
    /// Presentation start of the segment it came from, microseconds.
    pub segment_start: i64,
    /// RFC 6381 codec.
    pub codec: String,
    /// Ticks per second of the times.
    pub timescale: u32,
    /// Decode time, ticks.
    pub dts: i64,
    /// Presentation time, ticks.
    pub pts: i64,
    /// Ticks.
    pub duration: u32,
    /// Random access point.
    pub keyframe: bool,
    /// Bytes.
    pub size: usize,
}

/// What happened.
#[derive(Debug)]
pub(crate) struct Report {
    /// The engine's QoE statistics.
    pub stats: Stats,
    /// Events with their time since the start.
    pub events: Vec<(Duration, Event)>,
    /// The fatal error, if the engine gave up.
    pub fatal: Option<FatalError>,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (no response, or status >= 400).
    pub failures: u64,
    /// Media segment requests that failed.
    pub segment_failures: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Seconds of media played.
    pub played: f64,
    /// Stalls seen by the virtual decoder, and the longest.
    pub stalls: u32,
    /// Longest stall, seconds.
    pub longest_stall: f64,
    /// A live playlist stopped growing.
    pub stale: bool,
    /// Chart samples.
    pub chart: Vec<Sample>,
    /// Position changes the engine ordered: (when, from, to), seconds of media time.
    pub seeks: Vec<(Duration, f64, f64)>,
    /// Audio, when the plan asked for it.
    pub audio: AudioCapture,
    /// Access units, when the plan asked for them.
    pub samples: Vec<SampleRow>,
}

enum Msg {
    Input(Input),
    /// The body of a host-delivered request, just before its response.
    Held(RequestId, Vec<u8>),
}

struct Clock {
    start: Instant,
}

impl Clock {
    fn mono(&self) -> Micros {
        Micros(i64::try_from(self.start.elapsed().as_micros()).unwrap_or(i64::MAX))
    }

    fn now(&self) -> Now {
        let wall = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        Now {
            mono: self.mono(),
            wall: UnixMicros(i64::try_from(wall.as_micros()).unwrap_or(i64::MAX)),
        }
    }
}

/// Plays `sources` with `config` until the plan's duration, the end, or a fatal error.
pub(crate) async fn run(
    client: &reqwest::Client,
    config: Config,
    sources: Vec<Source>,
    plan: &Plan,
    mut on_tick: impl FnMut(&Sample),
) -> Report {
    let clock = Clock {
        start: Instant::now(),
    };
    let rebuffer = config.buffer.rebuffer;
    let mut player = Player::new(config);
    let mut decoder = Decoder::new(rebuffer);
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut inflight: HashMap<RequestId, (JoinHandle<()>, Request)> = HashMap::new();
    let mut held: HashMap<RequestId, Vec<u8>> = HashMap::new();
    let mut report = Report {
        stats: Stats::default(),
        events: Vec::new(),
        fatal: None,
        requests: 0,
        failures: 0,
        segment_failures: 0,
        bytes: 0,
        played: 0.0,
        stalls: 0,
        longest_stall: 0.0,
        stale: false,
        chart: Vec::new(),
        seeks: Vec::new(),
        audio: AudioCapture::default(),
        samples: Vec::new(),
    };
    let mut seeks = plan.seeks.clone();
    seeks.sort_by_key(|(t, _)| *t);
    seeks.reverse();
    let mut deadline: Option<Micros> = None;
    let mut last_t = Micros::ZERO;
    let mut next_report = Instant::now();
    let mut next_chart = Instant::now();
    let mut current_bitrate = 0u64;
    let mut done = false;
    // The host's CDM: software ClearKey (this host decrypts in software, for ClearKey only).
    let mut cdm = ClearKeyCdm::new();
    let mut cdm_answers: Vec<Input> = Vec::new();
    // PLAYHEAD_TRACE=1: every event on stderr as it happens.
    let trace = std::env::var_os("PLAYHEAD_TRACE").is_some();

    let mut inputs = vec![
        Input::Command(Command::Load {
            sources,
            start: None,
        }),
        Input::Command(Command::Play),
    ];
    decoder.intent = true;
    loop {
        for input in inputs.drain(..) {
            if let Input::Response(r) = &input {
                report.bytes += match &r.body {
                    Body::Bytes(b) => b.len() as u64,
                    Body::Held { size } => *size,
                };
            }
            let _ = player.handle_input(clock.now(), input);
            // Drain outputs.
            loop {
                match player.poll_output() {
                    Output::Timeout(at) => {
                        deadline = at;
                        break;
                    }
                    Output::Request(r) => {
                        report.requests += 1;
                        let id = r.id;
                        let task =
                            tokio::spawn(fetch(client.clone(), r.clone(), tx.clone(), clock.start));
                        inflight.insert(id, (task, r));
                    }
                    Output::Cancel(id) => {
                        if let Some((task, _)) = inflight.remove(&id) {
                            task.abort();
                        }
                        held.remove(&id);
                    }
                    Output::Media(m) => {
                        if let Some(id) = m.request {
                            held.remove(&id);
                        }
                        if m.init {
                            decoder.expect(m.content_type);
                        } else {
                            decoder.append(m.content_type, m.start, m.end);
                        }
                        if let Payload::Samples(samples) = &m.payload {
                            capture(plan, &mut report, &m, samples);
                        }
                    }
                    Output::SetPosition(p) => {
                        report
                            .seeks
                            .push((clock.start.elapsed(), secs(decoder.position), secs(p)));
                        decoder.seek(p, clock.mono());
                    }
                    Output::EndOfStream => decoder.eos = true,
                    Output::Cdm(r) => {
                        if trace {
                            eprintln!("{:>8.3} cdm {r}", clock.start.elapsed().as_secs_f64());
                        }
                        cdm_answers.extend(cdm_answer(&mut cdm, &r).map(Input::Cdm));
                    }
                    Output::Event(e) => {
                        match &e {
                            Event::Error(f) => {
                                report.fatal = Some(f.clone());
                                done = true;
                            }
                            Event::Stale { .. } => report.stale = true,
                            Event::Ended => done = true,
                            Event::TrackSelected {
                                content_type: ContentType::Video,
                                bandwidth,
                                ..
                            } => current_bitrate = *bandwidth,
                            _ => {}
                        }
                        if trace {
                            eprintln!("{:>8.3} {e}", clock.start.elapsed().as_secs_f64());
                        }
                        report.events.push((clock.start.elapsed(), e));
                    }
                }
            }
        }
        if !cdm_answers.is_empty() {
            inputs.append(&mut cdm_answers);
            continue;
        }
        if done || clock.start.elapsed() >= plan.duration {
            break;
        }
        let wake = deadline
            .map(|d| clock.start + Duration::from_micros(d.0.max(0).unsigned_abs()))
            .unwrap_or(next_report)
            .min(next_report);
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Input(i)) => {
                    let answered = match &i {
                        Input::Response(r) => Some((r.id, r.status >= 400)),
                        Input::Failed { id, .. } => Some((*id, true)),
                        _ => None,
                    };
                    if let Some((id, failed)) = answered
                        && let Some((_, req)) = inflight.remove(&id)
                        && failed
                    {
                        report.failures += 1;
                        if req.kind == playhead::engine::RequestKind::MediaSegment {
                            report.segment_failures += 1;
                        }
                    }
                    inputs.push(i);
                }
                Some(Msg::Held(id, bytes)) => {
                    held.insert(id, bytes);
                }
                None => break,
            },
            _ = tokio::time::sleep_until(wake.into()) => {
                if deadline.is_some_and(|d| d <= clock.mono()) {
                    deadline = None;
                    inputs.push(Input::Timeout);
                }
            }
        }
        // The virtual decoder follows the clock.
        let t = clock.mono();
        if decoder.advance(last_t, t) || Instant::now() >= next_report {
            inputs.push(Input::Playback(decoder.report()));
            next_report = Instant::now() + REPORT_EVERY;
        }
        last_t = t;
        if let Some((at, _)) = seeks.last()
            && clock.start.elapsed() >= *at
        {
            if let Some((_, seek)) = seeks.pop() {
                let target = match seek {
                    Seek::To(t) => t,
                    Seek::Back(d) => SeekTarget::Position(Micros(
                        decoder.position.0 - i64::try_from(d.as_micros()).unwrap_or(0),
                    )),
                };
                inputs.push(Input::Command(Command::Seek(target)));
            }
        }
        if let Some(every) = plan.chart_every
            && Instant::now() >= next_chart
        {
            next_chart = Instant::now() + every;
            let s = Sample {
                t: clock.start.elapsed().as_secs_f64(),
                position: secs(decoder.position),
                buffer: secs(decoder.ahead()),
                bitrate: current_bitrate,
                estimate: player.stats().bandwidth_estimate,
            };
            report.chart.push(s);
            on_tick(&s);
        }
    }
    let _ = player.handle_input(clock.now(), Input::Command(Command::Stop));
    for (_, (task, _)) in inflight.drain() {
        task.abort();
    }
    let pending = std::mem::take(&mut report.audio.pending);
    for mut samples in pending {
        match decrypt_samples(&mut samples, |kid| cdm.key(kid)) {
            Ok(n) => report.audio.decrypted += n,
            Err(e) => {
                report.audio.drm_error.get_or_insert(e.to_string());
            }
        }
        report
            .audio
            .units
            .extend(samples.units.into_iter().map(|u| u.data));
    }
    report.stats = player.stats().clone();
    report.played = secs(report.stats.play_time);
    report.stalls = decoder.stalls;
    report.longest_stall = secs(decoder.longest_stall);
    report
}

/// The key systems of this host: its software ClearKey CDM; licence servers come from the
/// manifest (`dashif:Laurl`, `clearkey:Laurl`).
pub(crate) fn drm_config() -> playhead::drm::DrmConfig {
    playhead::drm::DrmConfig {
        systems: vec![playhead::drm::KeySystemSupport::new(
            playhead::model::KeySystem::ClearKey,
        )],
        ..playhead::drm::DrmConfig::default()
    }
}

/// What the software ClearKey CDM answers to a request of the engine.
fn cdm_answer(cdm: &mut ClearKeyCdm, r: &CdmRequest) -> Option<CdmEvent> {
    match r {
        CdmRequest::CreateSession {
            session,
            system,
            session_type,
            init_data_type,
            init_data,
            ..
        } => Some(
            match cdm.generate_request(system, *init_data_type, init_data, *session_type) {
                Ok(message) => CdmEvent::Message {
                    session: *session,
                    kind: playhead::drm::MessageKind::LicenseRequest,
                    message,
                },
                Err(e) => CdmEvent::Error {
                    session: *session,
                    detail: e.to_string(),
                },
            },
        ),
        CdmRequest::Update { session, license } => Some(match cdm.update(license) {
            Ok(statuses) => CdmEvent::KeyStatuses {
                session: *session,
                statuses: statuses
                    .into_iter()
                    .map(|(kid, status)| KeyStatusEntry { kid, status })
                    .collect(),
            },
            Err(e) => CdmEvent::Error {
                session: *session,
                detail: e.to_string(),
            },
        }),
        CdmRequest::SetServerCertificate { .. } | CdmRequest::Close { .. } => None,
    }
}

fn secs(m: Micros) -> f64 {
    m.0 as f64 / 1e6
}

/// Performs one request and reports it as inputs.
async fn fetch(
    client: reqwest::Client,
    r: Request,
    tx: mpsc::UnboundedSender<Msg>,
    start: Instant,
) {
    let mono = || Micros(i64::try_from(start.elapsed().as_micros()).unwrap_or(i64::MAX));
    let failed = |class, detail: String| {
        Msg::Input(Input::Failed {
            id: r.id,
            class,
            detail,
        })
    };
    let method = match r.method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
    };
    let mut rb = client.request(method, &r.url);
    let timeout = Duration::from_micros(r.timeout.0.max(1).unsigned_abs());
    for h in &r.headers {
        rb = rb.header(&h.name, &h.value);
    }
    if let Some(range) = &r.byte_range {
        rb = rb.header("range", range.http_header());
    }
    if let Some(body) = &r.body {
        rb = rb.body(body.clone());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let sent = tokio::time::timeout_at(deadline, rb.send()).await;
    let mut resp = match sent {
        Err(_) => {
            let _ = tx.send(failed(FailureClass::Timeout, "no answer in time".into()));
            return;
        }
        Ok(Err(e)) => {
            let _ = tx.send(failed(FailureClass::Network, describe(&e)));
            return;
        }
        Ok(Ok(resp)) => resp,
    };
    let first_byte_at = mono();
    let status = resp.status().as_u16();
    let total = resp.content_length();
    let headers = ["date", "content-type", "age"]
        .iter()
        .filter_map(|n| {
            let v = resp.headers().get(*n)?.to_str().ok()?;
            Some(NameValue {
                name: (*n).to_owned(),
                value: v.to_owned(),
            })
        })
        .collect();
    let final_url = Some(resp.url().as_str().to_owned()).filter(|u| *u != r.url);
    let mut body = Vec::with_capacity(total.unwrap_or(0).min(64 << 20) as usize);
    let mut last_progress = Instant::now();
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => {
                let _ = tx.send(failed(FailureClass::Timeout, "body too slow".into()));
                return;
            }
            Ok(Err(e)) => {
                let _ = tx.send(failed(FailureClass::Truncated, describe(&e)));
                return;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                body.extend_from_slice(&chunk);
                if last_progress.elapsed() >= PROGRESS_EVERY {
                    last_progress = Instant::now();
                    let _ = tx.send(Msg::Input(Input::Progress {
                        id: r.id,
                        received: body.len() as u64,
                        total,
                    }));
                }
            }
        }
    }
    if total.is_some_and(|t| t != body.len() as u64) {
        let _ = tx.send(failed(
            FailureClass::Truncated,
            "body shorter than its length".into(),
        ));
        return;
    }
    let body = if r.delivery == Delivery::Host && status < 400 {
        let size = body.len() as u64;
        let _ = tx.send(Msg::Held(r.id, body));
        Body::Held { size }
    } else {
        Body::Bytes(body)
    };
    let _ = tx.send(Msg::Input(Input::Response(Response {
        id: r.id,
        status,
        headers,
        body,
        first_byte_at,
        final_url,
    })));
}

/// An error and its causes on one line.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// The HTTP client every session shares: connection pooling, no overall timeout (each
/// request carries the engine's).
pub(crate) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("playhead/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(8)
        .build()
        .map_err(|e| describe(&e))
}

/// The load list of several URLs, in order of preference: each one a CDN named as content
/// steering names pathways (the host up to its first dot; `cdn{port}` for an IPv4 host).
pub(crate) fn sources(urls: &[String]) -> Vec<Source> {
    urls.iter()
        .enumerate()
        .map(|(i, u)| Source {
            url: u.clone(),
            cdn: (urls.len() > 1)
                .then(|| {
                    let host = u.split("://").nth(1)?.split('/').next()?;
                    Some(playhead_conformance::sim::origin::pathway(host).into_owned())
                })
                .flatten(),
            priority: i as u32,
        })
        .collect()
}

/// Keeps what the plan asks for of the access units handed to the decoder.
fn capture(plan: &Plan, report: &mut Report, m: &Media, samples: &Samples) {
    if plan.keep_audio && m.content_type == ContentType::Audio {
        if let Some(c) = samples.configs.first() {
            report.audio.config = Some(c.clone());
        }
        report.audio.pending.push(samples.clone());
    }
    if plan.log_samples {
        for u in &samples.units {
            let config = samples.configs.iter().find(|c| c.track_id == u.track_id);
            report.samples.push(SampleRow {
                content_type: match m.content_type {
                    ContentType::Video => "video",
                    ContentType::Audio => "audio",
                    _ => "other",
                },
                track: m.track.clone(),
                segment_start: m.start.0,
                codec: config.and_then(|c| c.codec.clone()).unwrap_or_default(),
                timescale: config.map_or(0, |c| c.timescale.get()),
                dts: u.dts,
                pts: u.pts,
                duration: u.duration,
                keyframe: u.keyframe,
                size: u.data.len(),
            });
        }
    }
}
