//! The scenarios the binding parity suites replay. Each runs in the simulation with its
//! inputs recorded; the native transcript is the engine's outputs, one line each (the
//! simulated CDM's own lines left out, since a replay feeds its events as plain inputs),
//! then one line of stats. The Python and Kotlin suites read each recording through the
//! binding, feed every input to a binding `Player`, and must print the same lines.

use playhead::drm::{DrmConfig, KeySystemSupport};
use playhead::engine::{Capabilities, Command, SeekTarget, Source, Stats};
use playhead::model::{KeySystem, Kid};
use playhead::{Micros, UnixMicros};

use crate::sim::net::{Fault, FaultKind, Trace};
use crate::sim::origin::{LiveConfig, Origin, OriginConfig, OriginFormat, SteeringConfig};
use crate::sim::{Sim, SimConfig};

const S: i64 = 1_000_000;
const HOUR: i64 = 3600 * S;

/// One scenario, run.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Short name (a file stem).
    pub name: &'static str,
    /// The recording ([`playhead::engine::record`] format).
    pub recording: Vec<u8>,
    /// The native transcript.
    pub transcript: Vec<String>,
}

/// The stats line ending every transcript; the parity suites format it the same way from
/// the binding's `Stats` record.
pub fn stats_line(s: &Stats) -> String {
    let opt = |m: Option<Micros>| m.map_or_else(|| "-".to_owned(), |m| m.0.to_string());
    let errors: Vec<String> = s
        .errors
        .iter()
        .map(|(class, n)| format!("{}:{n}", class.name()))
        .collect();
    let bytes: Vec<String> = s
        .bytes_by_cdn
        .iter()
        .map(|(cdn, n)| format!("{cdn}:{n}"))
        .collect();
    format!(
        "stats startup={} stalls={} stall_time={} play_time={} switches={} average_bitrate={} \
         retries={} location_changes={} cdn={} errors=[{}] bytes=[{}]",
        opt(s.startup_time),
        s.stall_count,
        s.stall_time.0,
        s.play_time.0,
        s.switch_count,
        s.average_bitrate,
        s.retries,
        s.location_changes,
        s.cdn.as_deref().unwrap_or("-"),
        errors.join(","),
        bytes.join(","),
    )
}

fn live(format: OriginFormat) -> OriginConfig {
    let mut c = OriginConfig::example(format);
    c.live = Some(LiveConfig {
        availability_start: UnixMicros(SimConfig::default().start_wall.0 - 3 * HOUR),
        dvr_window: Micros(2 * HOUR),
        end: None,
    });
    c
}

fn run(
    name: &'static str,
    origin: OriginConfig,
    config: SimConfig,
    until: i64,
    setup: impl FnOnce(&mut Sim),
) -> Fixture {
    let mut sim = Sim::new(Origin::new(origin), config);
    sim.record_inputs();
    setup(&mut sim);
    sim.run_until(Micros(until));
    let mut transcript: Vec<String> = sim
        .transcript()
        .iter()
        .filter(|l| !l.contains(" host-cdm "))
        .cloned()
        .collect();
    transcript.push(stats_line(sim.player.stats()));
    Fixture {
        name,
        recording: sim.recording(),
        transcript,
    }
}

/// Every parity scenario, run natively. `corpus` is the shared manifest corpus folder: the
/// DRM scenario plays one of its MPDs and is left out without it.
pub fn fixtures(corpus: Option<&std::path::Path>) -> std::io::Result<Vec<Fixture>> {
    let mut out = Vec::new();
    for (name, format) in [
        ("vod-hls-ts", OriginFormat::HlsTs),
        ("vod-dash-template", OriginFormat::DashTemplate),
        ("vod-smooth", OriginFormat::Smooth),
    ] {
        out.push(run(
            name,
            OriginConfig::example(format),
            SimConfig::default(),
            40 * S,
            |sim| {
                sim.load_and_play();
                if format == OriginFormat::DashTemplate {
                    let caps = Capabilities {
                        max_height: Some(480),
                        ..Capabilities::default()
                    };
                    sim.at(Micros(8 * S), Command::SetCapabilities(caps));
                    sim.at(
                        Micros(20 * S),
                        Command::Seek(SeekTarget::Position(Micros(30 * S))),
                    );
                }
            },
        ));
    }

    // Live HLS with a 2 h window: a CDN outage, two 500s, a throughput drop, start-over.
    let mut config = SimConfig::default();
    config.engine.seed = 42;
    config.faults.push(Fault::outage(
        "cdn-a.test",
        Micros(20 * S),
        Micros(50 * S),
        FaultKind::Refuse,
    ));
    config.faults.push(Fault {
        url_contains: "/7.m4s".into(),
        from: Micros(0),
        until: Micros(HOUR),
        kind: FaultKind::Status(500),
        times: Some(2),
    });
    config.trace = Trace::steps(vec![(Micros(10 * S), 5_000_000), (Micros(10 * S), 800_000)]);
    out.push(run(
        "live-hls-failover",
        live(OriginFormat::HlsFmp4),
        config,
        90 * S,
        |sim| {
            sim.load_and_play();
            sim.at(Micros(40 * S), Command::Seek(SeekTarget::WindowStart));
        },
    ));

    // Live DASH (SegmentTimeline), a client clock 30 s fast, corrected by UTCTiming; back
    // to the live edge after a seek into the window.
    let mut origin = live(OriginFormat::DashTimeline);
    origin.utc_timing = true;
    let config = SimConfig {
        clock_skew: Micros(30 * S),
        ..SimConfig::default()
    };
    out.push(run("live-dash-clock", origin, config, 45 * S, |sim| {
        sim.load_and_play();
        sim.at(
            Micros(15 * S),
            Command::Seek(SeekTarget::Position(Micros(2 * HOUR))),
        );
        sim.at(Micros(30 * S), Command::Seek(SeekTarget::LiveEdge));
    }));

    // Content steering moves live DASH to the other pathway.
    let mut origin = live(OriginFormat::DashTemplate);
    origin.steering = Some(SteeringConfig {
        ttl_s: 10,
        schedule: vec![
            (UnixMicros(0), vec!["cdn-a".into(), "cdn-b".into()]),
            (
                UnixMicros(SimConfig::default().start_wall.0 + 25 * S),
                vec!["cdn-b".into(), "cdn-a".into()],
            ),
        ],
    });
    out.push(run(
        "live-dash-steering",
        origin,
        SimConfig::default(),
        45 * S,
        Sim::load_and_play,
    ));

    // ClearKey DASH: the licence handshake through the simulated CDM and licence server.
    let Some(corpus) = corpus else {
        return Ok(out);
    };
    let url = "https://corpus.test/multi-drm.mpd";
    let mut config = SimConfig::default();
    config.engine.drm = DrmConfig {
        systems: vec![KeySystemSupport::new(KeySystem::ClearKey)],
        ..DrmConfig::default()
    };
    config.documents.push((
        url.to_owned(),
        std::fs::read(corpus.join("Eyevinn_dash-mpd/multi-drm.mpd"))?,
    ));
    if let Some(kid) = Kid::parse("121a0fca-0f1b-475b-8910-297fa8e0a07e") {
        config.license.keys = vec![(kid, *b"sixteen byte key")];
    }
    out.push(run(
        "drm-clearkey-dash",
        OriginConfig::example(OriginFormat::DashTemplate),
        config,
        12 * S,
        |sim| {
            let load = Command::Load {
                sources: vec![Source {
                    url: url.to_owned(),
                    cdn: None,
                    priority: 0,
                }],
                start: None,
            };
            sim.at(Micros(0), load);
            sim.at(Micros(0), Command::Play);
        },
    ));
    Ok(out)
}
