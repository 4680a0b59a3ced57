//! `playhead abr-train`: fits the experimental learned ABR policy's network by imitation of
//! the offline optimum (DAgger, `playhead_conformance::abr_eval::learn`) on a folder of
//! training traces, and scores it in the engine, in-sample and on held-out traces.

use std::path::PathBuf;
use std::time::Instant;

use playhead::Micros;
use playhead::abr::{AbrPolicy, PlayheadAbr};
use playhead_conformance::abr_eval::fit::{self, TrainConfig};
use playhead_conformance::abr_eval::learn::{self, Case, Decision, Rollout};
use playhead_conformance::abr_eval::learned::Net;

use crate::abr_eval::SessionArgs;

/// Arguments of `abr-train`.
#[derive(clap::Args, Debug)]
pub(crate) struct AbrTrainArgs {
    /// The training traces, the video and the session set-up (as `abr-eval`).
    #[command(flatten)]
    sessions: SessionArgs,
    /// DAgger rounds after the first (each plays the traces with the newest network).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Time bin of the labelling optimum, ms.
    #[arg(long, default_value_t = 200)]
    resolution: i64,
    /// Hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "32,16")]
    hidden: Vec<usize>,
    /// Passes over the data per fit.
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Softmax temperature of the labels, QoE_lin units.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Adam's step size.
    #[arg(long, default_value_t = 0.003)]
    rate: f64,
    /// Weight of the expected regret in the loss, beside the cross-entropy.
    #[arg(long, default_value_t = 0.0)]
    regret: f64,
    /// Weight of the cross-entropy in the loss.
    #[arg(long, default_value_t = 1.0)]
    cross: f64,
    /// Regrets above this count as this (QoE_lin units).
    #[arg(long, default_value_t = f64::INFINITY)]
    clip: f64,
    /// Weight of the look-ahead's own values in each rung's score (0: the network alone).
    #[arg(long, default_value_t = 0.0)]
    skip: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = 1e-5)]
    decay: f64,
    /// Start each round from random weights instead of the last round's.
    #[arg(long)]
    fresh: bool,
    /// Held-out check: fit on all traces but every `folds`-th, score on those (0: off).
    #[arg(long, default_value_t = 0)]
    folds: usize,
    /// Keeps playhead's labelled sessions here (JSON) and reads them back when present.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Threads.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
}

pub(crate) fn run(args: &AbrTrainArgs) -> Result<(), String> {
    let clock = Instant::now();
    let (video, cases) = args.sessions.load(false)?;
    let [h0, h1] = match args.hidden[..] {
        [a, b] => [a.max(1), b.max(1)],
        _ => return Err("--hidden wants two widths".to_owned()),
    };
    let config = TrainConfig {
        hidden: [h0, h1],
        epochs: args.epochs,
        temperature: args.temperature,
        rate: args.rate,
        regret: args.regret,
        skip: args.skip,
        cross: args.cross,
        clip: args.clip,
        decay: args.decay,
        ..TrainConfig::default()
    };
    let resolution = Micros(args.resolution.max(1) * 1000);
    let base = || Box::new(PlayheadAbr::default()) as Box<dyn AbrPolicy>;
    // Playhead's own sessions, labelled: the slow part, kept in `--cache` when given.
    let cached: Option<Vec<Rollout>> = args
        .cache
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|r: &Vec<Rollout>| r.len() == cases.len());
    let first = match cached {
        Some(r) => r,
        None => {
            let r = learn::rollouts(&video, &cases, &base, true, resolution, args.jobs);
            if let Some(p) = &args.cache {
                let json = serde_json::to_vec(&r).map_err(|e| e.to_string())?;
                std::fs::write(p, json).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            r
        }
    };
    let held_out = |i: usize| args.folds > 1 && i % args.folds == 0;
    let (train, held): (Vec<Case>, Vec<Case>) =
        (pick(&cases, |i| !held_out(i)), pick(&cases, held_out));
    let (first, held_first) = (pick(&first, |i| !held_out(i)), pick(&first, held_out));
    println!(
        "{} training traces, {} held out; video {} ({} levels)",
        train.len(),
        held.len(),
        video.name,
        video.levels()
    );
    let optimum = mean(first.iter().filter_map(|r| r.optimum));
    let base_qoe = mean(first.iter().map(|r| r.qoe));
    let mut data: Vec<Decision> = first.into_iter().flat_map(|r| r.decisions).collect();
    let held_optimum = (!held.is_empty()).then(|| {
        (
            mean(held_first.iter().filter_map(|x| x.optimum)),
            mean(held_first.iter().map(|x| x.qoe)),
        )
    });
    println!(
        "round 0 (playhead): {} decisions (regret {:.3}), plays {:.2} = {:.1} % of the optimum {:.2}; {:.0} s",
        data.len(),
        fit::played_regret(&data),
        base_qoe,
        100.0 * base_qoe / optimum,
        optimum,
        clock.elapsed().as_secs_f64()
    );
    if args.skip != 0.0 {
        let idle = fit::train(
            &data,
            &TrainConfig {
                epochs: 0,
                ..config
            },
            None,
        );
        println!(
            "the look-ahead alone (skip {}): regret {:.3}",
            args.skip,
            fit::regret(&idle, &data)
        );
    }
    let mut net: Option<Net> = None;
    for round in 0..=args.rounds {
        let fitted = fit::train(&data, &config, net.as_ref().filter(|_| !args.fresh));
        let make = || learn::policy(&fitted);
        let label = round < args.rounds;
        let played = learn::rollouts(&video, &train, &make, label, resolution, args.jobs);
        let qoe = mean(played.iter().map(|r| r.qoe));
        let mut line = format!(
            "round {}: fitted on {} decisions (regret {:.3}); plays {:.2} = {:.1} % of the optimum",
            round + 1,
            data.len(),
            fit::regret(&fitted, &data),
            qoe,
            100.0 * qoe / optimum
        );
        if let Some((opt, base_qoe)) = held_optimum {
            let h = learn::rollouts(&video, &held, &make, false, resolution, args.jobs);
            let q = mean(h.iter().map(|r| r.qoe));
            line.push_str(&format!(
                "; held out {:.2} = {:.1} % (playhead {:.1} %)",
                q,
                100.0 * q / opt,
                100.0 * base_qoe / opt
            ));
        }
        println!("{line}; {:.0} s", clock.elapsed().as_secs_f64());
        data.extend(played.into_iter().flat_map(|r| r.decisions));
        net = Some(fitted);
    }
    Ok(())
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (n, s) = v.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    if n == 0 { 0.0 } else { s / n as f64 }
}

/// The items of `v` whose index passes `keep`.
fn pick<T: Clone>(v: &[T], keep: impl Fn(usize) -> bool) -> Vec<T> {
    v.iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, x)| x.clone())
        .collect()
}
