//! `playhead demo`: the bundled origin on loopback, its live stream played in every format at
//! once over real HTTP (one origin per format, each on its own shaped link), with a DVR seek,
//! a bandwidth drop, a CDN failure and a return to live; then the audio each session fetched
//! is decoded with symphonia, the QoE table printed and a chart written.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use playhead::Micros;
use playhead::engine::{Config, Event, SeekTarget, SinkMode};
use playhead_conformance::server::{LiveSpec, OriginServer, ServerConfig, prefix};
use playhead_conformance::sim::net::Trace;
use playhead_conformance::sim::origin::OriginFormat;

use crate::audio;
use crate::chart::{self, Panel};
use crate::host::{self, Plan, Report, Sample, Seek};
use crate::play::{runtime, summary};

/// `playhead demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Where to write the chart.
    #[arg(long, default_value = "playhead-demo.svg")]
    chart: std::path::PathBuf,
    /// Print the results as JSON as well.
    #[arg(long)]
    json: bool,
}

const FORMATS: [(OriginFormat, &str); 5] = [
    (OriginFormat::HlsFmp4, "HLS fMP4"),
    (OriginFormat::HlsTs, "HLS TS"),
    (OriginFormat::DashTemplate, "DASH template"),
    (OriginFormat::DashTimeline, "DASH timeline"),
    (OriginFormat::Smooth, "Smooth"),
];

/// The script, in seconds from the start.
const SEEK_BACK_AT: u64 = 4;
const SEEK_BACK_BY: u64 = 40;
const SLOW_FROM: u64 = 12;
const SLOW_UNTIL: u64 = 20;
const CDN_DOWN_AT: u64 = 22;
const CDN_DOWN_FOR: u64 = 15;
const LIVE_AT: u64 = 32;
const END: u64 = 38;

pub(crate) fn run(args: &DemoArgs) -> ExitCode {
    match runtime().and_then(|rt| rt.block_on(demo(args))) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("playhead demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(args: &DemoArgs) -> Result<bool, String> {
    let s = |n: u64| Micros(n as i64 * 1_000_000);
    // 2.5 Mbit/s, down to 350 kbit/s for 8 s, then back.
    let trace = Trace::steps(vec![
        (s(SLOW_FROM), 2_500_000),
        (s(SLOW_UNTIL - SLOW_FROM), 350_000),
        (s(3600), 2_500_000),
    ]);
    println!(
        "playhead demo: a live stream from the bundled origin (loopback), played for {END} s in five formats at once."
    );
    println!(
        "script: t={SEEK_BACK_AT}s seek back {SEEK_BACK_BY} s into the DVR window; t={SLOW_FROM}-{SLOW_UNTIL}s the link drops to 350 kbit/s;"
    );
    println!(
        "        t={CDN_DOWN_AT}s the first CDN goes down for {CDN_DOWN_FOR} s; t={LIVE_AT}s back to live.\n"
    );
    let mut servers = Vec::new();
    for (format, _) in FORMATS {
        let server = OriginServer::start(ServerConfig {
            live: Some(LiveSpec {
                dvr_window: s(120),
                preroll: s(120),
                end_after: None,
            }),
            trace: Some(trace.clone()),
            latency: Micros(20_000),
            ..ServerConfig::default()
        })
        .await
        .map_err(|e| e.to_string())?;
        println!("  {:<14} {}", prefix(format), server.url(format, 0));
        servers.push(server);
    }
    println!();
    let client = host::client()?;
    let plan = Plan {
        duration: Duration::from_secs(END),
        seeks: vec![
            (
                Duration::from_secs(SEEK_BACK_AT),
                Seek::Back(Duration::from_secs(SEEK_BACK_BY)),
            ),
            (Duration::from_secs(LIVE_AT), Seek::To(SeekTarget::LiveEdge)),
        ],
        keep_audio: true,
        log_samples: false,
        chart_every: Some(Duration::from_millis(250)),
    };
    let latest: Arc<Mutex<Vec<Option<Sample>>>> = Arc::new(Mutex::new(vec![None; FORMATS.len()]));
    let mut sessions = Vec::new();
    for (i, ((format, _), server)) in FORMATS.iter().zip(&servers).enumerate() {
        let urls: Vec<String> = (0..2).map(|c| server.url(*format, c)).collect();
        let (client, plan, latest) = (client.clone(), plan.clone(), latest.clone());
        sessions.push(tokio::spawn(async move {
            host::run(
                &client,
                Config {
                    sink: SinkMode::Samples,
                    ..Config::default()
                },
                host::sources(&urls),
                &plan,
                |smp| {
                    if let Ok(mut l) = latest.lock() {
                        l[i] = Some(*smp);
                    }
                },
            )
            .await
        }));
    }
    // The script's CDN failure, and a status line every 2 s.
    let start = tokio::time::Instant::now();
    let mut failed = false;
    while start.elapsed() < Duration::from_secs(END) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if !failed && start.elapsed() >= Duration::from_secs(CDN_DOWN_AT) {
            failed = true;
            for srv in &servers {
                srv.fail_cdn(0, Duration::from_secs(CDN_DOWN_FOR));
            }
            println!(
                "t={:>4.1}s  CDN 0 down for {CDN_DOWN_FOR} s",
                start.elapsed().as_secs_f64()
            );
        }
        let line: Vec<String> = latest
            .lock()
            .map(|l| {
                l.iter()
                    .zip(FORMATS)
                    .map(|(smp, (_, name))| match smp {
                        Some(x) => format!(
                            "{name}: {:>4} kb/s buf {:>4.1}s",
                            x.bitrate / 1000,
                            x.buffer
                        ),
                        None => format!("{name}: -"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "t={:>4.1}s  {}",
            start.elapsed().as_secs_f64(),
            line.join(" | ")
        );
    }
    let mut reports = Vec::new();
    for s in sessions {
        reports.push(s.await.map_err(|e| e.to_string())?);
    }
    Ok(finish(args, &reports))
}

/// Decodes, prints, charts; true when every format played, failed over and decoded.
fn finish(args: &DemoArgs, reports: &[Report]) -> bool {
    println!("\nQoE");
    let mut ok = true;
    for ((_, name), r) in FORMATS.iter().zip(reports) {
        println!("{}", summary(name, r));
        if let Some(f) = &r.fatal {
            println!("{:<14} error ({}): {}", "", f.class.name(), f.cause);
            ok = false;
        }
    }
    println!("\nWhat happened");
    for ((_, name), r) in FORMATS.iter().zip(reports) {
        let mut seen = Vec::new();
        for (t, e) in &r.events {
            let what = match e {
                Event::SeekClamped { .. } | Event::LiveWindow(_) | Event::ClockSynced { .. } => {
                    continue;
                }
                Event::TrackSelected { .. } | Event::Retry { .. } | Event::Steered { .. } => {
                    continue;
                }
                Event::LocationChanged { from, to, reason } => {
                    format!("CDN {from} -> {to} ({reason:?})")
                }
                Event::StallStarted { .. } => "stall".into(),
                Event::StallEnded { duration } => {
                    format!("stall ended after {:.2} s", duration.0 as f64 / 1e6)
                }
                other => other.to_string(),
            };
            seen.push(format!("{:.1}s {what}", t.as_secs_f64()));
        }
        for (t, from, to) in &r.seeks {
            if (to - from).abs() > 1.0 {
                seen.push(format!(
                    "{:.1}s seek {from:.1} -> {to:.1} ({:+.1} s)",
                    t.as_secs_f64(),
                    to - from
                ));
            }
        }
        seen.sort_by(|a, b| {
            let t = |s: &str| {
                s.split('s')
                    .next()
                    .and_then(|x| x.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            t(a).total_cmp(&t(b))
        });
        let switches = r.stats.switches.iter().skip(1).count();
        println!(
            "{name:<14} {} | {switches} bitrate switch(es)",
            seen.join("; ")
        );
        if !r.seeks.iter().any(|(_, from, to)| from - to > 30.0) {
            println!("{:<14} no DVR seek seen", "");
            ok = false;
        }
        if r.stats.location_changes == 0 {
            println!("{:<14} no CDN failover seen", "");
            ok = false;
        }
    }
    println!("\nAudio decoded with symphonia from the fetched segments");
    let mut decoded = Vec::new();
    for ((_, name), r) in FORMATS.iter().zip(reports) {
        match audio::decode(&r.audio) {
            Ok(d) => {
                println!(
                    "{name:<14} {:<9} {:>4} AAC frames -> {:>5.1} s of {} Hz x{} PCM, level {:.2}, {:.0}% of the energy at 440 Hz",
                    d.codec,
                    d.frames,
                    d.seconds,
                    d.sample_rate,
                    d.channels,
                    d.rms,
                    d.tone_440 * 100.0
                );
                decoded.push(Some(d));
            }
            Err(e) => {
                println!("{name:<14} audio: {e}");
                decoded.push(None);
                ok = false;
            }
        }
    }
    let marks = |r: &Report| -> Vec<(f64, String)> {
        let mut m = vec![
            (SEEK_BACK_AT as f64, format!("seek -{SEEK_BACK_BY}s")),
            (SLOW_FROM as f64, "350 kbit/s".to_owned()),
            (SLOW_UNTIL as f64, "2.5 Mbit/s".to_owned()),
            (CDN_DOWN_AT as f64, "CDN 0 down".to_owned()),
            (LIVE_AT as f64, "go live".to_owned()),
        ];
        if let Some((t, _)) = r
            .events
            .iter()
            .find(|(_, e)| matches!(e, Event::LocationChanged { .. }))
        {
            m.push((t.as_secs_f64(), "failover".to_owned()));
        }
        m
    };
    let all_marks: Vec<Vec<(f64, String)>> = reports.iter().map(marks).collect();
    let panels: Vec<Panel<'_>> = FORMATS
        .iter()
        .zip(reports)
        .zip(&all_marks)
        .map(|(((_, name), r), m)| Panel {
            title: name,
            samples: &r.chart,
            marks: m,
        })
        .collect();
    let svg = chart::svg("playhead demo: bitrate and buffer over time", &panels);
    match std::fs::write(&args.chart, svg) {
        Ok(()) => println!("\nchart: {}", args.chart.display()),
        Err(e) => {
            println!("\nchart: {}: {e}", args.chart.display());
            ok = false;
        }
    }
    if args.json {
        let j: Vec<serde_json::Value> = FORMATS
            .iter()
            .zip(reports)
            .zip(&decoded)
            .map(|(((_, name), r), d)| {
                serde_json::json!({
                    "format": name,
                    "report": crate::play::report_json(&[], r, None),
                    "audio": d,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(j));
    }
    println!("\n{}", if ok { "demo: OK" } else { "demo: FAILED" });
    ok
}
