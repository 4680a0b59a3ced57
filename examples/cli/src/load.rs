//! `playhead load`: N real engine sessions (playlists, ABR, retries, failover, all of it)
//! against an origin, arriving over a ramp like viewers before kick-off, bounded in time and
//! count, loopback only unless told otherwise. Reports request and error rates and the
//! distribution of QoE across sessions.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use playhead::engine::Config;
use playhead_conformance::server::{OriginServer, ServerConfig};
use playhead_conformance::sim::origin::OriginFormat;

use crate::host::{self, Plan, Report};
use crate::play::runtime;

/// Hard cap on sessions.
const MAX_SESSIONS: usize = 20_000;

/// `playhead load`.
#[derive(clap::Args)]
pub(crate) struct LoadArgs {
    /// Manifest URL; none with `--local`.
    url: Option<String>,
    /// Concurrent sessions.
    #[arg(long, default_value_t = 100)]
    sessions: usize,
    /// Seconds each session plays.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds over which sessions arrive.
    #[arg(long, default_value_t = 5)]
    ramp: u64,
    /// Start the bundled origin in this process and load its HLS stream.
    #[arg(long)]
    local: bool,
    /// Allow a non-loopback origin (load testing someone else's CDN needs their consent).
    #[arg(long)]
    allow_remote: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &LoadArgs) -> ExitCode {
    match runtime().and_then(|rt| rt.block_on(load(args))) {
        Ok(ok) if ok => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("playhead load: {e}");
            ExitCode::from(2)
        }
    }
}

fn loopback(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(name, "localhost" | "[::1]") || name.starts_with("127.")
}

async fn load(args: &LoadArgs) -> Result<bool, String> {
    if args.sessions == 0 || args.sessions > MAX_SESSIONS {
        return Err(format!("--sessions must be 1..={MAX_SESSIONS}"));
    }
    let origin = if args.local {
        Some(
            OriginServer::start(ServerConfig::default())
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let url = match (&args.url, &origin) {
        (Some(u), _) => u.clone(),
        (None, Some(o)) => o.url(OriginFormat::HlsFmp4, 0),
        (None, None) => return Err("give a URL or --local".into()),
    };
    if !loopback(&url) && !args.allow_remote {
        return Err(format!(
            "{url} is not on loopback; pass --allow-remote if you own it"
        ));
    }
    let client = host::client()?;
    let plan = Plan {
        duration: Duration::from_secs(args.duration),
        ..Plan::default()
    };
    let start = Instant::now();
    let gap = Duration::from_secs(args.ramp) / args.sessions as u32;
    let mut tasks = Vec::with_capacity(args.sessions);
    for i in 0..args.sessions {
        let (client, plan, url) = (client.clone(), plan.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(gap * i as u32).await;
            host::run(
                &client,
                Config::default(),
                host::sources(&[url]),
                &plan,
                |_| {},
            )
            .await
        }));
    }
    let mut reports = Vec::with_capacity(args.sessions);
    for t in tasks {
        reports.push(t.await.map_err(|e| e.to_string())?);
    }
    let wall = start.elapsed().as_secs_f64();
    let summary = Summary::of(&reports, wall);
    let server = origin.as_ref().map(OriginServer::stats);
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "url": url, "sessions": args.sessions, "summary": summary, "origin": server })
        );
    } else {
        summary.print(args.sessions, &url);
        if let Some(s) = server {
            println!(
                "origin: {} requests ({:.0}/s), {:.1} MB sent, {} errors",
                s.requests,
                s.requests as f64 / wall,
                s.bytes as f64 / 1e6,
                s.errors
            );
        }
    }
    Ok(summary.failed_sessions == 0)
}

/// What the sessions saw, together.
#[derive(Debug, serde::Serialize)]
struct Summary {
    wall_s: f64,
    requests: u64,
    requests_per_s: f64,
    failed_requests: u64,
    error_rate: f64,
    megabytes: f64,
    failed_sessions: usize,
    startup_ms: Quantiles,
    stall_s: Quantiles,
    bitrate_kbps: Quantiles,
    sessions_with_stalls: usize,
}

#[derive(Debug, serde::Serialize)]
struct Quantiles {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl Quantiles {
    fn of(mut v: Vec<f64>) -> Quantiles {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            if v.is_empty() {
                return 0.0;
            }
            v[((v.len() - 1) as f64 * p).round() as usize]
        };
        Quantiles {
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: q(1.0),
        }
    }
}

impl Summary {
    fn of(reports: &[Report], wall: f64) -> Summary {
        let requests: u64 = reports.iter().map(|r| r.requests).sum();
        let failed: u64 = reports.iter().map(|r| r.failures).sum();
        Summary {
            wall_s: wall,
            requests,
            requests_per_s: requests as f64 / wall.max(1e-9),
            failed_requests: failed,
            error_rate: failed as f64 / requests.max(1) as f64,
            megabytes: reports.iter().map(|r| r.bytes).sum::<u64>() as f64 / 1e6,
            failed_sessions: reports.iter().filter(|r| r.fatal.is_some()).count(),
            startup_ms: Quantiles::of(
                reports
                    .iter()
                    .filter_map(|r| r.stats.startup_time)
                    .map(|m| m.0 as f64 / 1000.0)
                    .collect(),
            ),
            stall_s: Quantiles::of(
                reports
                    .iter()
                    .map(|r| r.stats.stall_time.0 as f64 / 1e6)
                    .collect(),
            ),
            bitrate_kbps: Quantiles::of(
                reports
                    .iter()
                    .map(|r| r.stats.average_bitrate as f64 / 1000.0)
                    .collect(),
            ),
            sessions_with_stalls: reports.iter().filter(|r| r.stats.stall_count > 0).count(),
        }
    }

    fn print(&self, sessions: usize, url: &str) {
        println!(
            "load: {sessions} sessions against {url}, {:.1} s",
            self.wall_s
        );
        println!(
            "requests: {} ({:.0}/s), failed {} ({:.2}%), {:.1} MB received",
            self.requests,
            self.requests_per_s,
            self.failed_requests,
            self.error_rate * 100.0,
            self.megabytes
        );
        println!(
            "sessions: {} failed, {} with stalls",
            self.failed_sessions, self.sessions_with_stalls
        );
        for (name, q) in [
            ("startup ms", &self.startup_ms),
            ("stall s", &self.stall_s),
            ("bitrate kbit/s", &self.bitrate_kbps),
        ] {
            println!(
                "{name:<15} p50 {:>8.1}  p90 {:>8.1}  p99 {:>8.1}  max {:>8.1}",
                q.p50, q.p90, q.p99, q.max
            );
        }
    }
}
