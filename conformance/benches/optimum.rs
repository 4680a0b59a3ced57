//! The offline optimum's cost: CPU time per trace of the dynamic program that `abr-eval`
//! runs once per trace, against the cost of scoring one fixed plan on the same trace
//! (`evaluate`, the baseline measured in the same process).
//!
//! Run: `cargo bench -p playhead-conformance --bench optimum` (needs `../shared/traces`).
//! Prints the median and worst milliseconds per trace and the states kept per chunk.

use std::path::Path;
use std::time::Instant;

use playhead::Micros;
use playhead_conformance::abr_eval::optimum::{Model, evaluate, optimum_with_stats};
use playhead_conformance::abr_eval::traces::read_folder;
use playhead_conformance::abr_eval::video::Video;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn run(name: &str, video: &Path, traces: &Path, every: usize, chunks: usize) {
    let (Ok(video), Ok(traces)) = (Video::read(video, None), read_folder(traces)) else {
        println!("{name}: SKIPPED (shared traces missing)");
        return;
    };
    let (mut dp, mut plain, mut states) = (Vec::new(), Vec::new(), 0.0);
    let picked: Vec<_> = traces.iter().step_by(every.max(1)).collect();
    for t in &picked {
        let model = Model {
            latency: t.latency.unwrap_or(Micros(80_000)),
            goal: Micros(60_000_000),
            start: Micros(0),
            chunks,
            first: None,
        };
        let clock = Instant::now();
        let Some((_, stats)) = optimum_with_stats(&video, &t.trace, &model, Micros(100_000)) else {
            continue;
        };
        dp.push(clock.elapsed().as_secs_f64() * 1e3);
        states += stats.mean_states();
        let clock = Instant::now();
        let _ = evaluate(&video, &t.trace, &model, &vec![0; chunks]);
        plain.push(clock.elapsed().as_secs_f64() * 1e3);
    }
    let worst = dp.iter().copied().fold(0.0, f64::max);
    let n = dp.len().max(1) as f64;
    let (m, b) = (median(dp), median(plain));
    println!(
        "{name}: {} traces, optimum median {m:.1} ms per trace (worst {worst:.1} ms), {:.0} states per chunk; one plan scored in {:.3} ms (x{:.0})",
        n as usize,
        states / n,
        b,
        m / b.max(1e-9)
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces");
    run(
        "pensieve_cooked_traces, Pensieve video, 48 chunks",
        &root.join("pensieve_video/computed_from_pensieve_video_server"),
        &root.join("pensieve_cooked_traces"),
        1,
        48,
    );
    run(
        "sabre_fcc_sd (every 20th), bbb, 48 chunks",
        &root.join("sabre_movies/bbb.json"),
        &root.join("sabre_fcc_sd"),
        20,
        48,
    );
}
