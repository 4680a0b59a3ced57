//! One streaming session of a video ladder over a throughput trace, played by the real
//! engine in the simulator: the engine reads a generated DASH manifest, its ABR policy
//! chooses every segment, the simulated network delivers the bytes, and the simulated
//! decoder plays and stalls. Nothing of the policy is copied here: only the engine's
//! outputs are read.

use playhead::Micros;
use playhead::abr::{AbrAlgorithm, AbrPolicy};
use playhead::engine::{
    BufferGoals, Command, Config, Event, Output, PlayState, RequestKind, Source,
};
use playhead::model::ContentType;

use crate::sim::net::Trace;
use crate::sim::origin::{Origin, OriginConfig, OriginFormat};
use crate::sim::{Sim, SimConfig};

use super::qoe::Session;
use super::video::Video;

const MPD_URL: &str = "https://abr.test/video.mpd";

/// How the harness plays a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// Segments played (Pensieve plays 48).
    pub chunks: usize,
    /// Buffer the engine fetches to (Pensieve's simulator: 60 s).
    pub goal: Micros,
    /// Time to first byte of every request (Pensieve: 80 ms round trip).
    pub latency: Micros,
    /// Let the engine abandon a segment that arrives too slowly. Off by default: Pensieve's
    /// model finishes every download, and so does the offline optimum, which stays an upper
    /// bound only for the same choices.
    pub abandon: bool,
}

impl Default for Setup {
    /// Pensieve's simulator: 48 chunks, 60 s buffer, 80 ms.
    fn default() -> Self {
        Setup {
            chunks: 48,
            goal: Micros(60_000_000),
            latency: Micros(80_000),
            abandon: false,
        }
    }
}

/// A point of the session's timeline, for charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Simulated time.
    pub t: Micros,
    /// Buffered ahead of the playhead.
    pub buffer: Micros,
    /// Bitrate of the segment on screen, bit/s.
    pub bitrate: u64,
    /// The engine's throughput estimate, bit/s.
    pub estimate: u64,
    /// The link's throughput, bit/s.
    pub link: u64,
}

/// What a session gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Levels, stalls and startup, for [`super::qoe::metrics`].
    pub session: Session,
    /// When the first media segment was requested (the optimum starts there too).
    pub first_request: Micros,
    /// The engine ended the session with a fatal error.
    pub error: Option<String>,
    /// Timeline samples (empty unless asked for).
    pub points: Vec<Point>,
    /// CPU time spent in the engine.
    pub engine_time: std::time::Duration,
}

/// The DASH manifest of `video`'s first `chunks` segments, one `SegmentList` per level
/// with byte ranges (so the sizes are known to the engine, as with byte-range addressed
/// content), and the size of every segment URL.
pub fn manifest(video: &Video, chunks: usize) -> (String, Vec<(String, u64)>) {
    let chunks = chunks.min(video.chunks());
    let ms = video.segment_duration.0 / 1000;
    let total_ms = ms * chunks as i64;
    let mut mpd = format!(
        "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" profiles=\"urn:mpeg:dash:profile:full:2011\" minBufferTime=\"PT2S\" mediaPresentationDuration=\"PT{}.{:03}S\">\n<Period id=\"0\">\n<AdaptationSet contentType=\"video\" mimeType=\"video/mp4\">\n",
        total_ms / 1000,
        total_ms % 1000
    );
    let mut sizes = Vec::new();
    for (l, bitrate) in video.bitrates.iter().enumerate() {
        mpd.push_str(&format!(
            "<Representation id=\"q{l}\" bandwidth=\"{bitrate}\" codecs=\"avc1.4d401f\">\n<SegmentList timescale=\"1000\" duration=\"{ms}\">\n"
        ));
        for (k, row) in video.sizes.iter().take(chunks).enumerate() {
            let size = row.get(l).copied().unwrap_or(0).max(1);
            let url = format!("q{l}/{k}.m4s");
            mpd.push_str(&format!(
                "<SegmentURL media=\"{url}\" mediaRange=\"0-{}\"/>\n",
                size - 1
            ));
            sizes.push((format!("https://abr.test/{url}"), size));
        }
        mpd.push_str("</SegmentList>\n</Representation>\n");
    }
    mpd.push_str("</AdaptationSet>\n</Period>\n</MPD>\n");
    (mpd, sizes)
}

/// Plays `video` over `trace` with `algorithm`; `chart` keeps a timeline sample every
/// half second.
pub fn play(
    video: &Video,
    trace: &Trace,
    setup: &Setup,
    algorithm: AbrAlgorithm,
    chart: bool,
) -> Outcome {
    play_with(video, trace, setup, algorithm, None, chart)
}

/// [`play`], with the engine's policy replaced by `policy` when given (tuning runs).
pub fn play_with(
    video: &Video,
    trace: &Trace,
    setup: &Setup,
    algorithm: AbrAlgorithm,
    policy: Option<Box<dyn AbrPolicy>>,
    chart: bool,
) -> Outcome {
    let (mpd, sizes) = manifest(video, setup.chunks);
    let mut engine = Config {
        buffer: BufferGoals {
            ahead: setup.goal,
            // Playback resumes as soon as a segment is in (Pensieve's model).
            rebuffer: Micros(100_000),
        },
        ..SimConfig::default().engine
    };
    engine.abr.algorithm = algorithm;
    engine.abr.abandon = setup.abandon;
    // Pensieve's model has no request timeout: a download on a collapsed link is a long
    // stall, not an error. (The engine's 20 s default would end such sessions.)
    engine.retry.segment.timeout = Micros(600_000_000);
    let config = SimConfig {
        engine,
        trace: trace.clone(),
        latency: setup.latency,
        report_every: Micros(250_000),
        documents: vec![(MPD_URL.to_owned(), mpd.into_bytes())],
        media_sizes: sizes.into_iter().collect(),
        ..SimConfig::default()
    };
    let mut sim = Sim::new(
        Origin::new(OriginConfig::example(OriginFormat::DashTemplate)),
        config,
    );
    if let Some(p) = policy {
        sim.player.set_abr_policy(p);
    }
    sim.keep_outputs();
    sim.at(
        Micros(0),
        Command::Load {
            sources: vec![Source {
                url: MPD_URL.to_owned(),
                cdn: None,
                priority: 0,
            }],
            start: None,
        },
    );
    sim.at(Micros(0), Command::Play);
    let step = Micros(500_000);
    // A session cannot last longer than the media plus a day of stalls.
    let limit = Micros(video.segment_duration.0 * setup.chunks as i64 + 86_400_000_000);
    let mut points = Vec::new();
    let mut t = Micros(0);
    let mut error = None;
    let mut seen = 0;
    while t < limit {
        t = Micros(t.0 + step.0);
        sim.run_until(t);
        for (_, o) in &sim.outputs[seen..] {
            if let Output::Event(Event::Error(e)) = o {
                error = Some(e.cause.clone());
            }
        }
        seen = sim.outputs.len();
        if chart {
            let level = on_screen(&sim.outputs, sim.decoder.position);
            points.push(Point {
                t,
                buffer: sim.decoder.ahead(),
                bitrate: level
                    .and_then(|l| video.bitrates.get(l).copied())
                    .unwrap_or(0),
                estimate: sim.player.stats().bandwidth_estimate,
                link: trace.at(t).0,
            });
        }
        if sim.decoder.state == PlayState::Ended || error.is_some() {
            break;
        }
    }
    let mut levels = Vec::new();
    let mut first_request = None;
    let mut startup = Micros(0);
    for (at, o) in &sim.outputs {
        match o {
            Output::Request(r) if r.kind == RequestKind::MediaSegment => {
                first_request.get_or_insert(*at);
            }
            Output::Media(m) if m.content_type == ContentType::Video && !m.init => {
                if let Some(l) = m.track.strip_prefix('q').and_then(|x| x.parse().ok()) {
                    levels.push(l);
                }
            }
            Output::Event(Event::FirstFrame { startup: s }) => startup = *s,
            _ => {}
        }
    }
    Outcome {
        session: Session {
            played: Micros(video.segment_duration.0 * levels.len() as i64),
            levels,
            stall: sim.decoder.stalled,
            stalls: sim.decoder.stalls,
            startup,
        },
        first_request: first_request.unwrap_or(Micros(0)),
        error,
        points,
        engine_time: sim.engine_time,
    }
}

/// Level of the video segment covering `position`, from the media outputs.
fn on_screen(outputs: &[(Micros, Output)], position: Micros) -> Option<usize> {
    outputs
        .iter()
        .rev()
        .find_map(|(_, o)| match o {
            Output::Media(m)
                if m.content_type == ContentType::Video
                    && !m.init
                    && m.start <= position
                    && position < m.end =>
            {
                Some(m.track.clone())
            }
            _ => None,
        })
        .and_then(|t| t.strip_prefix('q').and_then(|x| x.parse::<usize>().ok()))
}
