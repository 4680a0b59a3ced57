//! `playhead abr-eval`: every ABR policy of the engine, played by the real engine in the
//! simulator over every trace of a folder, scored with QoE_lin against the offline optimum.
//!
//! Prints one table for the folder, writes `sessions.csv` (one row per trace and policy)
//! and `session.svg` (one trace, every policy) into `--out`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use playhead::Micros;
use playhead::abr::{AbrAlgorithm, AbrPolicy, PlayheadAbr, PlayheadParams};
use playhead_conformance::abr_eval;
use playhead_conformance::abr_eval::foresight::{self, Forecast, Planner};
use playhead_conformance::abr_eval::learn::Case;
use playhead_conformance::abr_eval::optimum::{self, Model};
use playhead_conformance::abr_eval::qoe::{self, Metrics};
use playhead_conformance::abr_eval::session::{self, Outcome, Setup};
use playhead_conformance::abr_eval::traces;
use playhead_conformance::abr_eval::video::Video;

use crate::chart::{self, Panel};
use crate::host::Sample;

/// The traces, the video and the session set-up: shared by `abr-eval` and `abr-train`.
#[derive(clap::Args, Debug)]
pub(crate) struct SessionArgs {
    /// Folder of throughput traces (Pensieve text, sabre JSON, Twitch patterns).
    #[arg(long)]
    pub(crate) traces: PathBuf,
    /// Video ladder: a folder of Pensieve `video_size_<q>` files or a sabre movie JSON.
    #[arg(long)]
    video: PathBuf,
    /// Bitrates of a `video_size_<q>` folder in kbit/s, lowest first (default: Pensieve's).
    #[arg(long, value_delimiter = ',')]
    bitrates: Option<Vec<u64>>,
    /// Segments per session (Pensieve plays 48).
    #[arg(long, default_value_t = 48)]
    pub(crate) chunks: usize,
    /// Buffer goal, seconds (Pensieve's simulator: 60).
    #[arg(long, default_value_t = 60)]
    pub(crate) goal: i64,
    /// Time to first byte, ms, for traces that do not give theirs (Pensieve: 80).
    #[arg(long, default_value_t = 80)]
    latency: i64,
    /// Share of the trace's throughput that carries payload, percent (Pensieve: 95).
    #[arg(long, default_value_t = 95)]
    efficiency: u64,
    /// Only the first N traces (quick runs).
    #[arg(long)]
    limit: Option<usize>,
}

impl SessionArgs {
    /// The video and, for each trace, its payload throughput and session set-up.
    pub(crate) fn load(&self, abandon: bool) -> Result<(Video, Vec<Case>), String> {
        let kbps: Option<Vec<u64>> = self
            .bitrates
            .as_ref()
            .map(|v| v.iter().map(|k| k * 1000).collect());
        let video = Video::read(&self.video, kbps.as_deref()).map_err(|e| e.to_string())?;
        let mut all = traces::read_folder(&self.traces).map_err(|e| e.to_string())?;
        if let Some(n) = self.limit {
            all.truncate(n);
        }
        if all.is_empty() {
            return Err(format!("no traces in {}", self.traces.display()));
        }
        let cases = all
            .into_iter()
            .map(|t| Case {
                trace: t.trace.scaled(self.efficiency, 100),
                setup: Setup {
                    chunks: self.chunks.min(video.chunks()),
                    goal: Micros(self.goal * 1_000_000),
                    latency: t.latency.unwrap_or(Micros(self.latency * 1000)),
                    abandon,
                },
                name: t.name,
            })
            .collect();
        Ok((video, cases))
    }
}

/// Arguments of `abr-eval`.
#[derive(clap::Args, Debug)]
pub(crate) struct AbrEvalArgs {
    #[command(flatten)]
    sessions: SessionArgs,
    /// Policies, comma-separated (playhead, throughput, bola, robust-mpc).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "playhead,robust-mpc,bola,throughput"
    )]
    policies: Vec<String>,
    /// Time bin of the optimum's dynamic program, ms.
    #[arg(long, default_value_t = 100)]
    resolution: i64,
    /// Threads.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Where the CSV and the chart go.
    #[arg(long, default_value = "target/abr-eval")]
    out: PathBuf,
    /// Trace to chart (default: the first).
    #[arg(long)]
    chart: Option<String>,
    /// Fix the optimum's chunk 0 at this level, as Pensieve's simulator fetches its startup
    /// chunk at a default quality (default: the program picks it too; the startup delay is
    /// not part of QoE_lin, so a slow first chunk can pay off for it).
    #[arg(long)]
    first_level: Option<usize>,
    /// Let the engine abandon segments that arrive too slowly (off: Pensieve's model, in
    /// which the optimum is an upper bound, finishes every download).
    #[arg(long)]
    abandon: bool,
    /// Also play look-ahead planners over this many chunks that know the future: every
    /// download exactly, or the true mean throughput (upper bounds for online policies of
    /// that horizon; levels^H sequences per decision, so keep H small).
    #[arg(long)]
    foresight: Option<usize>,
    /// Skip the optimum (quick tuning runs).
    #[arg(long)]
    no_optimum: bool,
    /// Override Playhead's tunables: `horizon=8,window=5,error=1.0,reserve=16,weight=0.4,`
    /// `startup=1,up=0.5,jump=3,jump-samples=1`
    /// (reserve in seconds). Tune on the training traces only.
    #[arg(long)]
    playhead: Option<String>,
}

/// Playhead's parameters with the overrides of `--playhead`.
fn params(spec: &str) -> Result<PlayheadParams, String> {
    let mut p = PlayheadParams::default();
    for kv in spec.split(',').filter(|x| !x.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("{kv}: want key=value"))?;
        let f: f64 = v.parse().map_err(|_| format!("{kv}: not a number"))?;
        match k {
            "horizon" => p.horizon = f as usize,
            "window" => p.window = f as usize,
            "error" => p.error_weight = f,
            "reserve" => p.reserve = Micros((f * 1e6) as i64),
            "weight" => p.reserve_weight = f,
            "startup" => p.startup_weight = f,
            "up" => p.up_cost = f,
            "jump" => p.jump = f,
            "jump-samples" => p.jump_samples = f as usize,
            _ => {
                return Err(format!(
                    "{k}: unknown (horizon, window, error, reserve, weight, startup, up, jump, jump-samples)"
                ));
            }
        }
    }
    Ok(p)
}

/// Everything measured on one trace.
struct TraceResult {
    name: String,
    optimum: Option<optimum::Plan>,
    /// The optimum with chunk 0 at the level the first policy started with: what a policy
    /// with a fast first frame competes against, since QoE_lin leaves the startup delay
    /// out (`None` when chunk 0 is fixed by `--first-level` already).
    started: Option<optimum::Plan>,
    /// The foresight planners' scores (exact, mean), `None` where one could not run.
    bounds: Vec<Option<f64>>,
    runs: Vec<(AbrAlgorithm, Metrics, Vec<usize>, Option<String>)>,
}

pub(crate) fn run(args: AbrEvalArgs) -> Result<(), String> {
    let clock = Instant::now();
    let policies = args
        .policies
        .iter()
        .map(|p| AbrAlgorithm::from_name(p).ok_or_else(|| format!("unknown policy {p}")))
        .collect::<Result<Vec<_>, _>>()?;
    let (video, cases) = args.sessions.load(args.abandon)?;
    let tuned = args.playhead.as_deref().map(params).transpose()?;
    let optimum = (!args.no_optimum).then(|| OptimumSpec {
        resolution: Micros(args.resolution.max(1) * 1000),
        first: args.first_level,
    });
    let extra = Extra {
        optimum,
        tuned,
        foresight: args.foresight,
    };
    let results: Vec<TraceResult> = abr_eval::map_parallel(&cases, args.jobs, |c| {
        one_trace(&c.name, &c.trace, &c.setup, &video, &policies, &extra)
    });
    let traces = &args.sessions.traces;
    let folder = traces.file_name().map_or_else(
        || traces.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let table = table(&folder, &video, &args, &policies, &results);
    print!("{table}");
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    write(&args.out.join("sessions.csv"), &csv(&policies, &results))?;
    write(&args.out.join("table.txt"), &table)?;
    let pick = args
        .chart
        .as_deref()
        .and_then(|c| cases.iter().find(|case| case.name == *c))
        .or_else(|| cases.first());
    if let Some(Case { name, trace, setup }) = pick {
        let runs: Vec<(String, Outcome)> = policies
            .iter()
            .map(|&a| {
                (
                    a.name().to_owned(),
                    session::play_with(&video, trace, setup, a, custom(a, tuned), true),
                )
            })
            .collect();
        let samples: Vec<Vec<Sample>> = runs
            .iter()
            .map(|(_, o)| {
                o.points
                    .iter()
                    .map(|p| Sample {
                        t: p.t.0 as f64 / 1e6,
                        position: 0.0,
                        buffer: p.buffer.0 as f64 / 1e6,
                        bitrate: p.bitrate,
                        estimate: p.link,
                    })
                    .collect()
            })
            .collect();
        let titles: Vec<String> = runs
            .iter()
            .map(|(n, o)| {
                let m = qoe::metrics(&video, &o.session);
                format!("{n}: QoE {:.1}, {} stalls", m.qoe, m.stalls)
            })
            .collect();
        let panels: Vec<Panel<'_>> = titles
            .iter()
            .zip(&samples)
            .map(|(t, s)| Panel {
                title: t,
                samples: s,
                marks: &[],
            })
            .collect();
        let svg = chart::svg(
            &format!("{folder} / {name} (dashed: link throughput)"),
            &panels,
        );
        write(&args.out.join("session.svg"), &svg)?;
    }
    println!(
        "{} traces x {} policies + optimum in {:.1} s; wrote {}/sessions.csv, table.txt, session.svg",
        results.len(),
        policies.len(),
        clock.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// How the optimum is computed: its time bin, and chunk 0's level if fixed.
#[derive(Debug, Clone, Copy)]
struct OptimumSpec {
    resolution: Micros,
    first: Option<usize>,
}

fn one_trace(
    name: &str,
    trace: &playhead_conformance::sim::net::Trace,
    setup: &Setup,
    video: &Video,
    policies: &[AbrAlgorithm],
    extra: &Extra,
) -> TraceResult {
    let Extra {
        optimum,
        tuned,
        foresight,
    } = *extra;
    let mut runs = Vec::new();
    let mut start = None;
    for &a in policies {
        let o = session::play_with(video, trace, setup, a, custom(a, tuned), false);
        start.get_or_insert(o.first_request);
        runs.push((
            a,
            qoe::metrics(video, &o.session),
            o.session.levels,
            o.error,
        ));
    }
    let model = Model {
        latency: setup.latency,
        goal: setup.goal,
        start: start.unwrap_or(Micros(0)),
        chunks: setup.chunks,
        first: optimum.and_then(|o| o.first),
    };
    // The planners start like the first policy did (or as the optimum is told to), and
    // value the buffer they leave as Playhead's policy does.
    let first = model
        .first
        .or_else(|| runs.first().and_then(|r| r.2.first().copied()));
    let p = tuned.unwrap_or_default();
    let bounds = foresight.map_or_else(Vec::new, |horizon| {
        [Forecast::Exact, Forecast::Mean]
            .into_iter()
            .map(|forecast| {
                let planner = Planner {
                    horizon,
                    reserve: p.reserve,
                    reserve_weight: p.reserve_weight,
                    forecast,
                };
                foresight::play(video, trace, &Model { first, ..model }, &planner).map(|x| x.qoe)
            })
            .collect()
    });
    let plan =
        |model: &Model| optimum.and_then(|o| optimum::optimum(video, trace, model, o.resolution));
    let free = plan(&model);
    // When the free optimum already starts where the policies did, it is the answer.
    let started = match (model.first, &free) {
        (Some(_), _) | (_, None) => None,
        (None, Some(_)) if first.is_none() => None,
        (None, Some(f)) if f.levels.first() == first.as_ref() => Some(f.clone()),
        (None, Some(_)) => plan(&Model { first, ..model }),
    };
    TraceResult {
        name: name.to_owned(),
        optimum: free,
        started,
        bounds,
        runs,
    }
}

/// What a trace is measured with besides the policies.
#[derive(Debug, Clone, Copy)]
struct Extra {
    optimum: Option<OptimumSpec>,
    tuned: Option<PlayheadParams>,
    /// The foresight planners' horizon.
    foresight: Option<usize>,
}

/// The tuned Playhead policy, for `--playhead`.
fn custom(a: AbrAlgorithm, tuned: Option<PlayheadParams>) -> Option<Box<dyn AbrPolicy>> {
    match (a, tuned) {
        (AbrAlgorithm::Playhead, Some(params)) => Some(Box::new(PlayheadAbr { params })),
        _ => None,
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (n, s) = v.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    if n == 0 { 0.0 } else { s / n as f64 }
}

fn table(
    folder: &str,
    video: &Video,
    args: &AbrEvalArgs,
    policies: &[AbrAlgorithm],
    results: &[TraceResult],
) -> String {
    let opt = mean(
        results
            .iter()
            .filter_map(|r| r.optimum.as_ref().map(|p| p.qoe)),
    );
    // Only when every trace has one, so that both means are over the same traces.
    let started: Option<f64> = results
        .iter()
        .map(|r| r.started.as_ref().map(|p| p.qoe))
        .collect::<Option<Vec<f64>>>()
        .map(|v| mean(v.into_iter()));
    let pct = |q: f64, of: f64| if of > 0.0 { 100.0 * q / of } else { f64::NAN };
    let of_started = |q: f64| started.map_or("-".to_owned(), |o| format!("{:.1}", pct(q, o)));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{folder}: {} traces, video {} ({} levels, {} x {} s segments), buffer goal {} s",
        results.len(),
        video.name,
        video.bitrates.len(),
        args.sessions.chunks.min(video.chunks()),
        video.segment_duration.0 as f64 / 1e6,
        args.sessions.goal
    );
    let _ = writeln!(
        s,
        "{:<12} {:>9} {:>7} {:>7} {:>13} {:>9} {:>8} {:>9} {:>10} {:>7}",
        "policy",
        "QoE_lin",
        "% opt",
        "% s-opt",
        "bitrate Mb/s",
        "rebuf %",
        "stalls",
        "switches",
        "startup s",
        "errors"
    );
    // A row for a bound (not a policy): its score and shares, no session figures.
    let bound = |s: &mut String, name: &str, q: f64, of_started: String| {
        let _ = writeln!(
            s,
            "{name:<12} {q:>9.2} {:>7.1} {of_started:>7} {:>13} {:>9} {:>8} {:>9} {:>10} {:>7}",
            pct(q, opt),
            "-",
            "-",
            "-",
            "-",
            "-",
            "-"
        );
    };
    bound(&mut s, "optimum", opt, "-".to_owned());
    if let Some(q) = started {
        bound(&mut s, "start-opt", q, format!("{:.1}", pct(q, q)));
    }
    for (k, name) in ["foresight", "mean-rate"].iter().enumerate() {
        let Some(h) = args.foresight else { break };
        let got: Vec<f64> = results
            .iter()
            .filter_map(|r| r.bounds.get(k).copied().flatten())
            .collect();
        if got.len() != results.len() {
            let _ = writeln!(
                s,
                "{name}-{h}: not run ({} of {} traces)",
                got.len(),
                results.len()
            );
            continue;
        }
        let q = mean(got.into_iter());
        bound(&mut s, &format!("{name}-{h}"), q, of_started(q));
    }
    for (k, a) in policies.iter().enumerate() {
        let ms = || {
            results
                .iter()
                .filter_map(move |r| r.runs.get(k).map(|x| &x.1))
        };
        let q = mean(ms().map(|m| m.qoe));
        let errors = results
            .iter()
            .filter(|r| r.runs.get(k).is_some_and(|x| x.3.is_some()))
            .count();
        let _ = writeln!(
            s,
            "{:<12} {:>9.2} {:>7.1} {:>7} {:>13.3} {:>9.3} {:>8.2} {:>9.2} {:>10.3} {:>7}",
            a.name(),
            q,
            pct(q, opt),
            of_started(q),
            mean(ms().map(|m| m.bitrate_mbps)),
            100.0 * mean(ms().map(|m| m.rebuffer_ratio)),
            mean(ms().map(|m| f64::from(m.stalls))),
            mean(ms().map(|m| f64::from(m.switches))),
            mean(ms().map(|m| m.startup.0 as f64 / 1e6)),
            errors
        );
    }
    // The optimum is a bound for the chunk model; the engine's timing differs slightly
    // (reports every 250 ms, a manifest first), so say how often a policy passed it.
    let above = results
        .iter()
        .filter(|r| {
            r.optimum
                .as_ref()
                .is_some_and(|o| r.runs.iter().any(|(_, m, _, _)| m.qoe > o.qoe + 0.01))
        })
        .count();
    let _ = writeln!(
        s,
        "(QoE_lin, bitrate, rebuffer ratio, stalls, switches and startup are means over traces; % opt = mean QoE / mean optimum QoE, NaN when the optimum's mean is not positive; start-opt: the optimum with chunk 0 at the level the first policy started with, and % s-opt the share of its mean (QoE_lin leaves the startup delay out, so the free optimum may buy a slow first chunk that a fast first frame rules out); the optimum was beaten on {above} traces{})",
        args.foresight.map_or(String::new(), |h| format!(
            "; foresight-{h} and mean-rate-{h}: not policies but look-ahead planners over {h} chunks that know every download, or the true mean throughput, of the future, with Playhead's buffer reserve, in the optimum's chunk model, chunk 0 as the first policy played it"
        ))
    );
    s
}

fn csv(policies: &[AbrAlgorithm], results: &[TraceResult]) -> String {
    let mut s = String::from(
        "trace,policy,qoe_lin,optimum_qoe_lin,bitrate_mbps,rebuffer_ratio,stalls,switches,startup_s,error,levels,start_optimum_qoe_lin\n",
    );
    for r in results {
        let opt = r.optimum.as_ref().map(|p| p.qoe);
        let started = r
            .started
            .as_ref()
            .map_or(String::new(), |p| format!("{:.4}", p.qoe));
        for (a, m, levels, e) in &r.runs {
            let _ = writeln!(
                s,
                "{},{},{:.4},{},{:.4},{:.6},{},{},{:.3},{},{},{started}",
                r.name.replace(',', ";"),
                a.name(),
                m.qoe,
                opt.map_or(String::new(), |o| format!("{o:.4}")),
                m.bitrate_mbps,
                m.rebuffer_ratio,
                m.stalls,
                m.switches,
                m.startup.0 as f64 / 1e6,
                e.as_deref().unwrap_or("").replace([',', '\n'], ";"),
                digits(levels)
            );
        }
        if let Some(p) = &r.optimum {
            let _ = writeln!(
                s,
                "{},optimum,{:.4},{:.4},,,,,,,{},{started}",
                r.name.replace(',', ";"),
                p.qoe,
                p.qoe,
                digits(&p.levels)
            );
        }
        if let Some(p) = &r.started {
            let _ = writeln!(
                s,
                "{},start-optimum,{:.4},{},,,,,,,{},{started}",
                r.name.replace(',', ";"),
                p.qoe,
                opt.map_or(String::new(), |o| format!("{o:.4}")),
                digits(&p.levels)
            );
        }
        let _ = policies;
    }
    s
}

/// Levels as one digit-or-number per chunk, space-separated.
fn digits(levels: &[usize]) -> String {
    levels
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
