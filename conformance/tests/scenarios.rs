//! Scenario tests: the engine in deterministic simulation (simulated clock, network, origin
//! and decoder). Each checks behaviour with assertions; the short ones also compare their
//! transcript (the engine's outputs, one line each) with a golden snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use playhead::engine::record;
use playhead::engine::{Command, ErrorClass, Event, Output, SeekTarget};
use playhead::{Micros, UnixMicros};
use playhead_conformance::sim::net::{Fault, FaultKind};
use playhead_conformance::sim::origin::{
    LiveConfig, Origin, OriginConfig, OriginFormat, SteeringConfig,
};
use playhead_conformance::sim::{Sim, SimConfig};

const S: i64 = 1_000_000;
const MIN: i64 = 60 * S;
const HOUR: i64 = 60 * MIN;

const VOD_FORMATS: [OriginFormat; 5] = [
    OriginFormat::HlsFmp4,
    OriginFormat::HlsTs,
    OriginFormat::DashTemplate,
    OriginFormat::DashTimeline,
    OriginFormat::Smooth,
];
const LIVE_FORMATS: [OriginFormat; 4] = [
    OriginFormat::HlsFmp4,
    OriginFormat::DashTemplate,
    OriginFormat::DashTimeline,
    OriginFormat::Smooth,
];

/// A live origin with a `dvr` window whose stream started `started_ago` before the session.
fn live(format: OriginFormat, dvr: i64, started_ago: i64) -> OriginConfig {
    let mut c = OriginConfig::example(format);
    c.live = Some(LiveConfig {
        availability_start: UnixMicros(SimConfig::default().start_wall.0 - started_ago),
        dvr_window: Micros(dvr),
        end: None,
    });
    c
}

fn run(config: OriginConfig, sim: SimConfig, until: i64, setup: impl FnOnce(&mut Sim)) -> Sim {
    let mut sim = Sim::new(Origin::new(config), sim);
    sim.keep_outputs();
    sim.load_and_play();
    setup(&mut sim);
    sim.run_until(Micros(until));
    sim
}

fn events(sim: &Sim) -> Vec<(Micros, Event)> {
    sim.outputs
        .iter()
        .filter_map(|(t, o)| match o {
            Output::Event(e) => Some((*t, e.clone())),
            _ => None,
        })
        .collect()
}

fn positions(sim: &Sim) -> Vec<(Micros, Micros)> {
    sim.outputs
        .iter()
        .filter_map(|(t, o)| match o {
            Output::SetPosition(p) => Some((*t, *p)),
            _ => None,
        })
        .collect()
}

/// The transcript without per-segment lines: what a golden should pin.
fn skeleton(sim: &Sim) -> String {
    sim.transcript()
        .iter()
        .filter(|l| {
            !l.contains(" media ")
                && !l.contains(" init ")
                && !l.contains(" segment ")
                && !l.contains("live-window")
        })
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

fn no_failures(sim: &Sim) {
    let bad: Vec<_> = sim
        .transcript()
        .iter()
        .filter(|l| {
            l.contains("event retry") || l.contains("event error") || l.contains("event stale")
        })
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Media handed over for one content type, as merged ranges.
fn media_ranges(sim: &Sim, video: bool) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (_, o) in &sim.outputs {
        if let Output::Media(m) = o {
            let is_video = m.content_type == playhead::model::ContentType::Video;
            if m.init || is_video != video {
                continue;
            }
            match out.last_mut() {
                Some(l) if (m.start.0 - l.1).abs() < 100_000 => l.1 = m.end.0,
                _ => out.push((m.start.0, m.end.0)),
            }
        }
    }
    out
}

#[test]
fn vod_startup_plays_to_the_end_in_every_format() {
    for f in VOD_FORMATS {
        let sim = run(
            OriginConfig::example(f),
            SimConfig::default(),
            75 * S,
            |_| {},
        );
        no_failures(&sim);
        let ev = events(&sim);
        assert!(
            matches!(
                ev.iter().find(|(_, e)| matches!(e, Event::Loaded { .. })),
                Some((_, Event::Loaded { live: false, .. }))
            ),
            "{f:?}"
        );
        let (t, startup) = ev
            .iter()
            .find_map(|(t, e)| match e {
                Event::FirstFrame { startup } => Some((*t, *startup)),
                _ => None,
            })
            .expect("first frame");
        assert!(
            startup < Micros(S) && t < Micros(S),
            "{f:?}: startup {startup}"
        );
        assert!(ev.iter().any(|(_, e)| matches!(e, Event::Ended)), "{f:?}");
        assert!(
            sim.transcript()
                .iter()
                .any(|l| l.ends_with("end-of-stream")),
            "{f:?}"
        );
        assert_eq!(media_ranges(&sim, true), vec![(0, 60 * S)], "{f:?} video");
        assert_eq!(media_ranges(&sim, false), vec![(0, 60 * S)], "{f:?} audio");
        assert_eq!(
            (sim.decoder.stalls, sim.decoder.position),
            (0, Micros(60 * S)),
            "{f:?}"
        );
        let stats = sim.player.stats();
        assert_eq!(stats.stall_count, 0);
        assert!(
            stats.average_bitrate > 400_000,
            "{f:?}: {}",
            stats.average_bitrate
        );
        assert!(
            stats.switch_count >= 2,
            "initial choice and an up-switch on a 10 Mbit/s link"
        );
    }
    // The startup sequence, pinned.
    let sim = run(
        OriginConfig::example(OriginFormat::DashTemplate),
        SimConfig::default(),
        2 * S,
        |_| {},
    );
    insta::assert_snapshot!("vod_startup_dash", sim.transcript().join("\n"));
    let sim = run(
        OriginConfig::example(OriginFormat::HlsTs),
        SimConfig::default(),
        2 * S,
        |_| {},
    );
    insta::assert_snapshot!("vod_startup_hls_ts", sim.transcript().join("\n"));
}

#[test]
fn live_join_at_the_edge() {
    for f in LIVE_FORMATS {
        let sim = run(
            live(f, 2 * HOUR, 3 * HOUR),
            SimConfig::default(),
            40 * S,
            |_| {},
        );
        no_failures(&sim);
        let ev = events(&sim);
        let window = ev
            .iter()
            .find_map(|(_, e)| match e {
                Event::LiveWindow(w) => Some(*w),
                _ => None,
            })
            .expect("window");
        assert_eq!(window.delay, Micros(6 * S), "{f:?}: three target durations");
        let (_, start) = positions(&sim)[0];
        assert_eq!(start, window.edge, "{f:?}");
        // DASH places the edge by the clock: 3 h in, minus the 6 s delay.
        if matches!(f, OriginFormat::DashTemplate | OriginFormat::DashTimeline) {
            assert_eq!(start, Micros(3 * HOUR - 6 * S), "{f:?}");
            assert!(
                (window.start.0 - HOUR).abs() < S,
                "{f:?}: 2 h time-shift buffer"
            );
        } else {
            assert_eq!(
                window.end.0 - window.start.0,
                2 * HOUR,
                "{f:?}: the listed window"
            );
        }
        assert_eq!(sim.decoder.stalls, 0, "{f:?}");
        // Still near the edge: latency stays about the delay (plus one segment).
        let latency = sim.player.stats().live_latency.expect("latency");
        assert!(latency <= Micros(9 * S), "{f:?}: {latency}");
    }
    let sim = run(
        live(OriginFormat::DashTemplate, 2 * HOUR, 3 * HOUR),
        SimConfig::default(),
        7 * S,
        |_| {},
    );
    insta::assert_snapshot!("live_join_dash", skeleton(&sim));
}

#[test]
fn dvr_seek_back_30_minutes_then_return_to_live() {
    for f in [OriginFormat::DashTemplate, OriginFormat::HlsFmp4] {
        let edge0 = positions(&run(
            live(f, 2 * HOUR, 3 * HOUR),
            SimConfig::default(),
            S,
            |_| {},
        ))[0]
            .1;
        let back = Micros(edge0.0 + 20 * S - 30 * MIN);
        let sim = run(
            live(f, 2 * HOUR, 3 * HOUR),
            SimConfig::default(),
            120 * S,
            |sim| {
                sim.at(Micros(20 * S), Command::Seek(SeekTarget::Position(back)));
                sim.at(Micros(80 * S), Command::Seek(SeekTarget::LiveEdge));
            },
        );
        no_failures(&sim);
        let pos = positions(&sim);
        assert_eq!(pos.len(), 3, "{f:?}: {pos:?}");
        assert_eq!(pos[1], (Micros(20 * S), back), "{f:?}");
        // Media from 30 minutes back was fetched.
        let ranges = media_ranges(&sim, true);
        assert!(
            ranges
                .iter()
                .any(|(a, b)| *a <= back.0 + 2 * S && *b > back.0 + 50 * S),
            "{f:?}: {ranges:?}"
        );
        // Back to live: the edge has moved on by the 80 s that passed (give or take a
        // segment and a refresh: an HLS edge is as old as the last playlist).
        let (t, edge) = pos[2];
        assert_eq!(t, Micros(80 * S));
        assert!(
            (edge.0 - (edge0.0 + 80 * S)).abs() <= 4 * S,
            "{f:?}: {edge} vs {edge0}"
        );
        assert_eq!(sim.decoder.stalls, 0, "{f:?}");
        assert!(
            (sim.decoder.position.0 - (edge.0 + 40 * S)).abs() <= 3 * S,
            "{f:?}: playing live again at {} (went live at {edge})",
            sim.decoder.position
        );
    }
}

#[test]
fn dvr_seek_outside_the_window_is_clamped_and_start_over_starts_at_the_window() {
    let sim = run(
        live(OriginFormat::DashTemplate, 2 * HOUR, 3 * HOUR),
        SimConfig::default(),
        40 * S,
        |sim| {
            sim.at(
                Micros(10 * S),
                Command::Seek(SeekTarget::Position(Micros(0))),
            );
            sim.at(
                Micros(20 * S),
                Command::Seek(SeekTarget::Position(Micros(10 * HOUR))),
            );
            sim.at(Micros(30 * S), Command::Seek(SeekTarget::WindowStart));
        },
    );
    no_failures(&sim);
    let pos = positions(&sim);
    // The window starts at 1 h + t; the engine keeps one segment's margin from its start.
    assert_eq!(pos[1], (Micros(10 * S), Micros(HOUR + 10 * S + 2 * S)));
    assert_eq!(pos[2], (Micros(20 * S), Micros(3 * HOUR + 20 * S - 6 * S)));
    assert_eq!(pos[3], (Micros(30 * S), Micros(HOUR + 30 * S + 2 * S)));
    let clamps = events(&sim)
        .into_iter()
        .filter(|(_, e)| matches!(e, Event::SeekClamped { .. }))
        .count();
    assert_eq!(clamps, 2);
    assert_eq!(sim.decoder.stalls, 0);
}

#[test]
fn live_to_vod_without_a_restart() {
    for f in LIVE_FORMATS {
        let mut c = live(f, 2 * HOUR, 3 * HOUR);
        if let Some(l) = c.live.as_mut() {
            l.end = Some(UnixMicros(SimConfig::default().start_wall.0 + 30 * S));
        }
        let sim = run(c, SimConfig::default(), 90 * S, |_| {});
        no_failures(&sim);
        let ev = events(&sim);
        assert!(
            ev.iter().any(|(t, e)| matches!(e, Event::LiveEnded { .. })
                && *t >= Micros(30 * S)
                && *t < Micros(40 * S)),
            "{f:?}: {:#?}",
            sim.lines("event")
        );
        assert!(ev.iter().any(|(_, e)| matches!(e, Event::Ended)), "{f:?}");
        assert!(
            sim.transcript()
                .iter()
                .any(|l| l.ends_with("end-of-stream")),
            "{f:?}"
        );
        // One load, one start: no restart.
        assert_eq!(sim.lines("set-position").len(), 1, "{f:?}");
        assert_eq!(sim.decoder.stalls, 0, "{f:?}");
    }
}

#[test]
fn periods_and_discontinuities_get_their_timestamp_mapping() {
    // DASH: three periods of 20 s; each segment carries its period's offset.
    let mut c = OriginConfig::example(OriginFormat::DashTemplate);
    c.period_every = Some(Micros(20 * S));
    let sim = run(c, SimConfig::default(), 70 * S, |_| {});
    no_failures(&sim);
    let period_switches = sim.lines("period)").len();
    assert_eq!(period_switches, 4, "2 boundaries x (video, audio)");
    let mut timelines = Vec::new();
    for (_, o) in &sim.outputs {
        if let Output::Media(m) = o {
            if !m.init && m.content_type == playhead::model::ContentType::Video {
                timelines.push((m.start.0 / S, m.timeline, m.timestamp_offset));
            }
        }
    }
    assert!(
        timelines
            .iter()
            .all(|(_, _, o)| *o == playhead::engine::TimestampOffset::Offset(Micros(0))),
        "{timelines:?}"
    );
    assert_eq!(media_ranges(&sim, true), vec![(0, 60 * S)]);
    // HLS: discontinuities every 20 s start a new timeline for the host.
    let mut c = OriginConfig::example(OriginFormat::HlsTs);
    c.period_every = Some(Micros(20 * S));
    let sim = run(c, SimConfig::default(), 70 * S, |_| {});
    no_failures(&sim);
    let mut tl = Vec::new();
    for (_, o) in &sim.outputs {
        if let Output::Media(m) = o {
            if !m.init && m.content_type == playhead::model::ContentType::Video {
                tl.push((m.start.0 / S, m.timeline));
            }
        }
    }
    let at = |s: i64| tl.iter().find(|(x, _)| *x == s).map(|(_, t)| *t).unwrap();
    assert_eq!(
        (at(0), at(18), at(20), at(38), at(40)),
        (0, 0, 1, 1, 2),
        "{tl:?}"
    );
}

#[test]
fn vod_seek_restarts_fetching_at_the_target() {
    let sim = run(
        OriginConfig::example(OriginFormat::DashTemplate),
        SimConfig::default(),
        30 * S,
        |sim| {
            sim.at(
                Micros(S / 2),
                Command::Seek(SeekTarget::Position(Micros(41 * S))),
            );
        },
    );
    no_failures(&sim);
    assert_eq!(positions(&sim)[1], (Micros(S / 2), Micros(41 * S)));
    let r = media_ranges(&sim, true);
    assert!(r.iter().any(|(a, b)| *a == 40 * S && *b == 60 * S), "{r:?}");
    assert_eq!(sim.decoder.stalls, 0);
}

#[test]
fn buffer_goal_bounds_the_fetching() {
    let mut c = OriginConfig::example(OriginFormat::DashTemplate);
    c.vod_duration = Micros(10 * MIN);
    let mut config = SimConfig::default();
    config.engine.buffer.ahead = Micros(20 * S);
    let sim = run(c, config, 3 * MIN, |_| {});
    for (t, o) in &sim.outputs {
        if let Output::Media(m) = o {
            // Startup took under a second: the playhead is at least t - 1 s.
            assert!(
                m.end.0 - (t.0 - S).max(0) <= 20 * S + 2 * S + S,
                "{} ahead at {t}",
                m.end
            );
        }
    }
}

#[test]
fn primary_cdn_dies_mid_session_and_playback_fails_over() {
    for (f, kind) in [
        (OriginFormat::DashTemplate, FaultKind::Refuse),
        (OriginFormat::HlsFmp4, FaultKind::Blackhole),
        (OriginFormat::Smooth, FaultKind::Status(503)),
    ] {
        let mut config = SimConfig::default();
        config.faults.push(Fault::outage(
            "cdn-a.test",
            Micros(30 * S),
            Micros(HOUR),
            kind,
        ));
        let sim = run(live(f, 2 * HOUR, 3 * HOUR), config, 90 * S, |_| {});
        assert!(
            !sim.lines("location-changed cdn-a -> cdn-b (failure)")
                .is_empty(),
            "{f:?}: {:#?}",
            sim.lines("event")
        );
        assert!(sim.lines("event error").is_empty(), "{f:?}");
        // Segment duration is 2 s: no stall may be longer.
        assert!(
            sim.decoder.longest_stall <= Micros(2 * S),
            "{f:?}: {}",
            sim.decoder.longest_stall
        );
        // After the failover cdn-a is only probed when its 30 s penalty ends.
        let late = |host: &str| {
            sim.transcript()
                .iter()
                .filter(|l| l.contains("request") && l.contains(host))
                .filter(|l| {
                    l.trim_start()
                        .split('.')
                        .next()
                        .unwrap()
                        .parse::<i64>()
                        .unwrap()
                        > 45
                })
                .count()
        };
        assert!(
            late("cdn-a.test") * 5 < late("cdn-b.test"),
            "{f:?}: cdn-a still used: {} vs {}",
            late("cdn-a.test"),
            late("cdn-b.test")
        );
        let stats = sim.player.stats();
        assert_eq!(stats.cdn.as_deref(), Some("cdn-b"));
        assert!(stats.location_changes >= 1);
    }
}

#[test]
fn a_single_404_is_retried() {
    let mut c = OriginConfig::example(OriginFormat::DashTemplate);
    c.hosts.truncate(1);
    let mut config = SimConfig::default();
    config.faults.push(Fault {
        url_contains: "/a/5.m4s".into(),
        from: Micros(0),
        until: Micros(HOUR),
        kind: FaultKind::Status(404),
        times: Some(1),
    });
    let sim = run(c, config, 70 * S, |_| {});
    let retries = sim.lines("event retry");
    assert_eq!(retries.len(), 1, "{retries:#?}");
    assert!(
        retries[0].contains("retry segment attempt 1 in 0.2") && retries[0].contains("HTTP 404"),
        "{}",
        retries[0]
    );
    assert_eq!(
        sim.lines("/a/5.m4s")
            .iter()
            .filter(|l| l.contains("request"))
            .count(),
        2
    );
    assert!(sim.lines("event error").is_empty());
    assert_eq!(media_ranges(&sim, false), vec![(0, 60 * S)]);
    assert_eq!(sim.decoder.stalls, 0);
    assert_eq!(sim.player.stats().errors, vec![(ErrorClass::Http, 1)]);
}

#[test]
fn all_cdns_down_is_a_clear_fatal_error_after_the_documented_retries() {
    let mut config = SimConfig::default();
    for h in ["cdn-a.test", "cdn-b.test"] {
        config.faults.push(Fault::outage(
            h,
            Micros(10 * S),
            Micros(HOUR),
            FaultKind::Refuse,
        ));
    }
    let sim = run(
        live(OriginFormat::DashTemplate, 2 * HOUR, 3 * HOUR),
        config,
        60 * S,
        |_| {},
    );
    let errors = sim.lines("event error");
    assert_eq!(errors.len(), 1, "{:#?}", sim.lines("event"));
    assert!(errors[0].contains("network error on"), "{}", errors[0]);
    assert!(errors[0].contains("connection refused"), "{}", errors[0]);
    // The failing request was tried 1 + 4 times (segment policy), then given up.
    let kind = if errors[0].contains("on manifest") {
        "retry manifest"
    } else {
        "retry segment"
    };
    let attempts: Vec<_> = sim
        .lines(kind)
        .iter()
        .map(|l| {
            l.split("attempt ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        attempts.iter().any(|a| a == "4") && !attempts.iter().any(|a| a == "5"),
        "{attempts:?}"
    );
    // After the error: nothing more is requested.
    let after = sim
        .transcript()
        .iter()
        .skip_while(|l| !l.contains("event error"))
        .skip(1)
        .filter(|l| l.contains("request"))
        .count();
    assert_eq!(after, 0);
    insta::assert_snapshot!(
        "all_cdns_down",
        sim.transcript()
            .iter()
            .filter(|l| l.contains("event"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_stale_playlist_is_refreshed_from_another_cdn() {
    let mut config = SimConfig::default();
    config.faults.push(Fault {
        url_contains: "://cdn-a.test/live/".into(),
        from: Micros(20 * S),
        until: Micros(HOUR),
        kind: FaultKind::Freeze,
        times: None,
    });
    // Only playlists freeze; segments listed stay available.
    config.faults[0].url_contains = "cdn-a.test/live/v/".into();
    let mut c = live(OriginFormat::HlsFmp4, 2 * HOUR, 3 * HOUR);
    c.video.truncate(1);
    let sim = run(c, config, 60 * S, |_| {});
    let stale = sim.lines("event stale cdn-a");
    assert!(!stale.is_empty(), "{:#?}", sim.lines("event"));
    assert_eq!(
        sim.lines("location-changed cdn-a -> cdn-b (stale)").len(),
        1,
        "{:#?}",
        sim.lines("event")
    );
    assert!(sim.lines("playlist https://cdn-b.test").len() > 5);
    assert!(sim.lines("event error").is_empty());
    assert!(
        (sim.decoder.position.0 - (2 * HOUR + 60 * S - 6 * S)).abs() < 10 * S,
        "still live: {}",
        sim.decoder.position
    );
}

#[test]
fn steering_moves_traffic_to_another_pathway() {
    for f in [OriginFormat::HlsFmp4, OriginFormat::DashTemplate] {
        let mut c = live(f, 2 * HOUR, 3 * HOUR);
        let wall = SimConfig::default().start_wall.0;
        c.steering = Some(SteeringConfig {
            ttl_s: 10,
            schedule: vec![
                (UnixMicros(0), vec!["cdn-a".into(), "cdn-b".into()]),
                (
                    UnixMicros(wall + 25 * S),
                    vec!["cdn-b".into(), "cdn-a".into()],
                ),
            ],
        });
        let sim = run(c, SimConfig::default(), 60 * S, |_| {});
        no_failures(&sim);
        let steered = sim.lines("event steered");
        assert!(steered.len() >= 5, "{f:?}: TTL 10 s: {steered:#?}");
        assert!(steered[0].ends_with("steered cdn-a,cdn-b"), "{f:?}");
        assert!(
            steered.last().unwrap().ends_with("steered cdn-b,cdn-a"),
            "{f:?}"
        );
        let changes = sim.lines("location-changed");
        assert_eq!(changes.len(), 1, "{f:?}: {changes:#?}");
        assert!(
            changes[0].contains("cdn-a -> cdn-b (steering)"),
            "{f:?}: {}",
            changes[0]
        );
        let steering_requests = sim
            .lines("request")
            .into_iter()
            .filter(|l| l.contains("steering.test"))
            .collect::<Vec<_>>();
        let tag = if f == OriginFormat::HlsFmp4 {
            "_HLS_pathway=cdn-a"
        } else {
            "_DASH_pathway=cdn-a"
        };
        assert!(
            steering_requests[0].contains(tag),
            "{f:?}: {}",
            steering_requests[0]
        );
        let late_a = sim
            .transcript()
            .iter()
            .filter(|l| {
                l.contains("request") && l.contains("cdn-a.test") && !l.contains("manifest")
            })
            .filter(|l| {
                l.trim_start()
                    .split('.')
                    .next()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
                    > 40
            })
            .count();
        assert_eq!(late_a, 0, "{f:?}: media still from cdn-a");
        assert_eq!(sim.decoder.stalls, 0, "{f:?}");
    }
}

#[test]
fn a_client_clock_30_seconds_off_is_corrected_by_utc_timing() {
    for skew in [30 * S, -30 * S] {
        let mut c = live(OriginFormat::DashTemplate, 2 * HOUR, 3 * HOUR);
        c.utc_timing = true;
        let config = SimConfig {
            clock_skew: Micros(skew),
            ..Default::default()
        };
        let sim = run(c, config.clone(), 30 * S, |_| {});
        no_failures(&sim);
        let synced = events(&sim)
            .into_iter()
            .find_map(|(_, e)| match e {
                Event::ClockSynced { offset } => Some(offset),
                _ => None,
            })
            .expect("synced");
        assert!(
            (synced.0 + skew).abs() < 100_000,
            "offset {synced} for skew {skew}"
        );
        assert_eq!(
            positions(&sim)[0].1,
            Micros(3 * HOUR - 6 * S),
            "the true edge"
        );
        assert_eq!(sim.decoder.stalls, 0);
        // Without the time source, a clock 30 s fast asks for segments that do not exist yet.
        if skew > 0 {
            let mut c = live(OriginFormat::DashTemplate, 2 * HOUR, 3 * HOUR);
            c.utc_timing = false;
            let sim = run(c, config, 10 * S, |_| {});
            assert!(!sim.lines("HTTP 404").is_empty());
        }
    }
}

#[test]
fn same_scenario_twice_gives_identical_transcripts_and_compact_recordings() {
    // The parity scenarios (`playhead_conformance::parity`); that each recording replays to
    // its transcript is checked by `parity_fixtures_replay_natively_to_their_transcripts`.
    let a = playhead_conformance::parity::fixtures(None).unwrap();
    let b = playhead_conformance::parity::fixtures(None).unwrap();
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.transcript, b.transcript, "{}", a.name);
        assert_eq!(a.recording, b.recording, "{}", a.name);
    }
    let live = a.iter().find(|f| f.name == "live-hls-failover").unwrap();
    let bytes = &live.recording;
    let rec = record::read(bytes).unwrap();
    println!(
        "recording: {} bytes, {} inputs, 90 s of live HLS with a 2 h window",
        bytes.len(),
        rec.inputs.len()
    );
    assert!(live.transcript.len() > 100);
    // Compact: manifests dominate; media bodies are recorded by size only.
    assert!(bytes.len() < 2_000_000, "{} bytes", bytes.len());
    assert!(
        record::read(&bytes[..bytes.len() - 3]).is_err(),
        "a cut recording is refused"
    );
    assert!(record::read(b"nope").is_err());
}

#[test]
fn two_hour_live_session_with_cdn_outages() {
    let mut config = SimConfig {
        report_every: Micros(2 * S),
        ..Default::default()
    };
    // cdn-a is down 5 minutes in every 30.
    for k in 0..4 {
        let from = k * 30 * MIN + 10 * MIN;
        config.faults.push(Fault::outage(
            "cdn-a.test",
            Micros(from),
            Micros(from + 5 * MIN),
            FaultKind::Refuse,
        ));
    }
    let sim = run(
        live(OriginFormat::DashTemplate, 2 * HOUR, 3 * HOUR),
        config,
        2 * HOUR,
        |_| {},
    );
    assert!(sim.lines("event error").is_empty());
    assert!(sim.decoder.longest_stall <= Micros(2 * S));
    assert!(
        sim.decoder.frames >= (2 * HOUR / 40_000) as u64 - 100,
        "{}",
        sim.decoder.frames
    );
    let changes = sim.lines("location-changed");
    assert!(changes.len() >= 4, "{changes:#?}");
}

#[test]
fn a_media_playlist_loaded_directly_plays_live() {
    let mut sim = Sim::new(
        Origin::new(live(OriginFormat::HlsFmp4, 5 * MIN, 3 * HOUR)),
        SimConfig::default(),
    );
    sim.keep_outputs();
    let url = "https://cdn-a.test/live/v/720p/index.m3u8".to_owned();
    sim.at(
        Micros(0),
        Command::Load {
            sources: vec![playhead::engine::Source {
                url,
                cdn: None,
                priority: 0,
            }],
            start: None,
        },
    );
    sim.at(Micros(0), Command::Play);
    sim.run_until(Micros(30 * S));
    no_failures(&sim);
    assert!(
        sim.lines("request")
            .iter()
            .filter(|l| l.contains("index.m3u8"))
            .count()
            > 10,
        "refreshed"
    );
    assert_eq!(sim.decoder.stalls, 0);
    assert!(sim.decoder.frames > 25 * 25);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    use playhead::engine::{Config, Input, InputError, Player, RequestId};
    let mut p = Player::new(Config::default());
    let answer = direct::response(7, b"#EXTM3U");
    assert_eq!(
        p.handle_input(direct::now(10), answer),
        Err(InputError::UnknownRequest(RequestId(7)))
    );
    assert!(matches!(
        p.handle_input(direct::now(5), Input::Timeout),
        Err(InputError::TimeWentBack { .. })
    ));
    // Garbage as a manifest: a fatal manifest error event.
    direct::load(&mut p, direct::now(20));
    p.handle_input(direct::now(30), direct::response(1, b"<html>"))
        .unwrap();
    let mut fatal = None;
    loop {
        match p.poll_output() {
            Output::Event(Event::Error(e)) => fatal = Some(e),
            Output::Timeout(t) => {
                assert_eq!(t, None, "nothing scheduled after a fatal error");
                break;
            }
            _ => {}
        }
    }
    assert_eq!(fatal.unwrap().class, ErrorClass::Manifest);
}

#[test]
fn hls_event_playlist_grows_from_its_start() {
    // An EVENT playlist 10 minutes in: join at the edge, then start over from the very start.
    let sim = run(
        live(OriginFormat::HlsFmp4, i64::MAX, 10 * MIN),
        SimConfig::default(),
        60 * S,
        |sim| {
            sim.at(Micros(20 * S), Command::Seek(SeekTarget::WindowStart));
        },
    );
    no_failures(&sim);
    let pos = positions(&sim);
    assert_eq!(
        pos[0].1,
        Micros(10 * MIN - 6 * S),
        "edge of a 10-minute event"
    );
    assert_eq!(
        pos[1],
        (Micros(20 * S), Micros(2 * S)),
        "start-over: the first segment kept, one segment of margin"
    );
    let windows: Vec<_> = events(&sim)
        .into_iter()
        .filter_map(|(_, e)| match e {
            Event::LiveWindow(w) => Some(w),
            _ => None,
        })
        .collect();
    assert!(
        windows.len() > 20 && windows.iter().all(|w| w.start == Micros(0)),
        "the window only grows"
    );
    assert!(windows.last().unwrap().end >= Micros(10 * MIN + 56 * S));
    assert_eq!(sim.decoder.stalls, 0);
}

#[test]
fn manifest_ad_breaks_reach_the_host_as_cues() {
    use playhead::engine::{Config, CueKind, CueSource, Player};
    // A VOD MPD with a SCTE-35 EventStream: the SCTE 35 (2023) 14.2 splice_insert (out of
    // network) at 30 s into a period that starts at 10 s.
    let mpd = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT60S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="p0" duration="PT10S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate timescale="1" duration="2" media="a$Number$.m4s" initialization="i.mp4"/><Representation id="v" bandwidth="100000" codecs="avc1.64001e"/></AdaptationSet></Period>
  <Period id="p1" start="PT10S" duration="PT50S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:bin" timescale="90000" presentationTimeOffset="900000">
      <Event presentationTime="3600000" duration="2700000" id="42"><Signal xmlns="http://www.scte.org/schemas/35/2016"><Binary>/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=</Binary></Signal></Event>
    </EventStream>
    <AdaptationSet mimeType="video/mp4"><SegmentTemplate timescale="1" duration="2" media="b$Number$.m4s" initialization="i.mp4"/><Representation id="v" bandwidth="100000" codecs="avc1.64001e"/></AdaptationSet>
  </Period>
</MPD>"#;
    let mut p = Player::new(Config::default());
    direct::load(&mut p, direct::now(0));
    p.handle_input(direct::now(10), direct::response(1, mpd.as_bytes()))
        .unwrap();
    let mut cues = Vec::new();
    loop {
        match p.poll_output() {
            Output::Event(Event::Cue(c)) => cues.push(c),
            Output::Timeout(_) => break,
            _ => {}
        }
    }
    let [c] = &cues[..] else { panic!("{cues:?}") };
    assert_eq!(
        (c.kind, c.source, c.id.as_str()),
        (CueKind::AdStart, CueSource::EventStream, "42")
    );
    // Period start 10 s + (3,600,000 - 900,000) / 90,000 s = 40 s; 30 s long.
    assert_eq!(
        (c.start, c.duration),
        (Micros(40 * S), Some(Micros(30 * S)))
    );
    assert_eq!(c.data[0], 0xfc, "the raw splice_info_section");
}

/// Driving a `Player` by hand, without the simulation: the first request is #1.
mod direct {
    use playhead::Micros;
    use playhead::engine::{
        Body, Command, Input, Now, Output, Player, RequestId, Response, Source,
    };

    /// Loads `https://a.test/x.mpd` and drains the outputs (the manifest request, #1).
    pub(super) fn load(p: &mut Player, now: Now) {
        let load = Command::Load {
            sources: vec![Source {
                url: "https://a.test/x.mpd".into(),
                cdn: None,
                priority: 0,
            }],
            start: None,
        };
        p.handle_input(now, Input::Command(load)).unwrap();
        while !matches!(p.poll_output(), Output::Timeout(_)) {}
    }

    /// A 200 answer to request `id` with `body`.
    pub(super) fn response(id: u64, body: &[u8]) -> Input {
        Input::Response(Response {
            id: RequestId(id),
            status: 200,
            headers: Vec::new(),
            body: Body::Bytes(body.to_vec()),
            first_byte_at: Micros(0),
            final_url: None,
        })
    }

    /// Both clocks at `t` microseconds.
    pub(super) fn now(t: i64) -> Now {
        Now {
            mono: Micros(t),
            wall: playhead::UnixMicros(t),
        }
    }
}

#[test]
fn parity_fixtures_replay_natively_to_their_transcripts() {
    let corpus = playhead_conformance::corpus_dir();
    let fixtures = playhead_conformance::parity::fixtures(corpus.as_deref()).unwrap();
    assert_eq!(fixtures.len(), if corpus.is_some() { 7 } else { 6 });
    for f in fixtures {
        let rec = record::read(&f.recording).unwrap();
        let mut lines = Vec::new();
        let player = record::replay(&rec, |now, o| {
            if let Some(l) = o.describe() {
                lines.push(format!(
                    "{:>5}.{:03} {l}",
                    now.mono.0 / S,
                    (now.mono.0 % S) / 1000
                ));
            }
        })
        .unwrap();
        lines.push(playhead_conformance::parity::stats_line(player.stats()));
        assert_eq!(lines, f.transcript, "{}", f.name);
        assert!(lines.len() > 20, "{}: {} lines", f.name, lines.len());
        println!("{}: {} lines", f.name, lines.len());
    }
}

#[test]
fn a_live_segment_the_window_slid_past_moves_playback_forward() {
    // Live HLS, 2 h window; cdn-a down from 20 s to 50 s; start-over at 40 s; the link
    // alternates 5 Mbit/s and 800 kbit/s every 10 s. The engine's window is stale (cdn-a
    // cannot refresh), so the start-over target's segment (1814, [28, 30)) is already gone
    // from cdn-b: its 404 moves playback past the extrapolated window start instead of
    // retrying the gone segment on every CDN until playback fails (which it did, at
    // 43.8 s). Later, at 800 kbit/s, playback at the trailing edge falls out of the
    // window again; each time it moves forward instead of ending in a fatal 404 (which it
    // did, at 58.9 s).
    let fixtures = playhead_conformance::parity::fixtures(None).unwrap();
    let f = fixtures
        .iter()
        .find(|f| f.name == "live-hls-failover")
        .unwrap();
    let at = |l: &String| {
        l.trim_start()
            .split(' ')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let clamp = f
        .transcript
        .iter()
        .find(|l| l.contains("seek-clamped") && at(l) >= 40.0)
        .unwrap();
    let to: f64 = clamp
        .split(" -> ")
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap();
    // The origin's window starts at 38-40 s then (the next refresh says so); playback
    // moves into it, a little past its start.
    assert!((38.0..=46.0).contains(&to), "{clamp}");
    // The window the host is told about never goes back, even while a rendition switched
    // to still has an old playlist.
    let windows: Vec<(f64, f64)> = f
        .transcript
        .iter()
        .filter_map(|l| l.split("live-window [").nth(1))
        .filter_map(|x| {
            let (a, rest) = x.split_once(", ")?;
            Some((a.parse().ok()?, rest.split(']').next()?.parse().ok()?))
        })
        .collect();
    assert!(windows.len() > 10);
    assert!(
        windows
            .windows(2)
            .all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1),
        "{windows:?}"
    );
    let gone = f
        .transcript
        .iter()
        .filter(|l| l.contains("request") && l.contains("/1814.m4s"))
        .map(at)
        .fold(0.0, f64::max);
    assert!(gone <= at(clamp), "segment 1814 asked for again at {gone}");
    assert!(
        !f.transcript.iter().any(|l| l.contains("event error")),
        "a fatal error"
    );
    // Every move is forward, and playback reaches the end of the scenario.
    let moves = f
        .transcript
        .iter()
        .filter(|l| l.contains("seek-clamped"))
        .count();
    assert!(moves >= 2, "{moves} moves");
    let last = f
        .transcript
        .iter()
        .rev()
        .find(|l| l.contains(" media #"))
        .unwrap();
    assert!(at(last) > 85.0, "{last}");
}

#[test]
fn a_404_for_a_segment_the_window_slid_past_skips_forward_instead_of_failing_over() {
    // Live HLS with a 30 s window; the packager is stuck from 10 s to 40 s on both CDNs
    // (playlists stop moving, segments still expire). A start-over at 30 s aims at the
    // start of the stale window, whose segments are gone: the 404 moves playback past the
    // window start, extrapolated by the time since the window last moved, instead of being
    // retried on every CDN as a CDN failure.
    let mut config = SimConfig::default();
    config.faults.push(Fault {
        url_contains: "index.m3u8".into(),
        from: Micros(10 * S),
        until: Micros(40 * S),
        kind: FaultKind::Freeze,
        times: None,
    });
    let sim = run(
        live(OriginFormat::HlsFmp4, 30 * S, HOUR),
        config,
        60 * S,
        |sim| {
            sim.at(Micros(30 * S), Command::Seek(SeekTarget::WindowStart));
        },
    );
    // The start-over aims at the stale window's start (10 s + 2 s); its first segment's
    // 404 moves playback into the true window, which starts at 30 s then.
    let clamp = sim.lines("seek-clamped 12.000 -> ");
    assert_eq!(clamp.len(), 1, "{:#?}", sim.lines("seek-clamped"));
    let to: f64 = clamp[0].rsplit(' ').next().unwrap().parse().unwrap();
    assert!((30.0..=36.0).contains(&to), "{}", clamp[0]);
    let retried: Vec<_> = sim
        .lines("event retry")
        .into_iter()
        .filter(|l| l.contains("HTTP 404"))
        .collect();
    assert!(retried.is_empty(), "{retried:#?}");
    assert!(
        sim.lines("(failure)").is_empty(),
        "{:#?}",
        sim.lines("(failure)")
    );
    assert!(sim.lines("event error").is_empty());
}
