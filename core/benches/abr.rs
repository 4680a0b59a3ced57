//! ABR decision time: CPU time per call of each policy's `choose`, on the observations a
//! session over a real-looking link produces (Pensieve's 6-rung ladder with known segment
//! sizes, and a 10-rung ladder), with 20 throughput samples of history.
//!
//! Run: `cargo bench -p playhead --bench abr`. Prints the median over 7 runs of the mean
//! time per decision, in microseconds, and the ratio against the throughput rule measured
//! in the same process (the cheapest policy: one pass over the samples).

use std::hint::black_box;
use std::time::Instant;

use playhead::Micros;
use playhead::abr::{AbrAlgorithm, Observation, Rung, ThroughputSample};

/// A deterministic varied history: 20 samples between 0.6 and 3.4 Mbit/s.
fn samples() -> Vec<ThroughputSample> {
    (0..20)
        .map(|i| {
            let bps = 600_000 + (i * 7_919 % 29) as u64 * 100_000;
            ThroughputSample {
                at: Micros(i * 4_000_000),
                bytes: bps / 2,
                duration: Micros(4_000_000),
                bits_per_second: bps,
            }
        })
        .collect()
}

fn ladder(kbps: &[u64]) -> Vec<Rung> {
    kbps.iter()
        .map(|k| Rung {
            bandwidth: k * 1000,
            // Sizes of the next 8 segments, a little VBR around the declared rate.
            sizes: (0..8)
                .map(|j| k * 1000 / 2 * (95 + j % 3 * 5) / 100)
                .collect(),
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let history = samples();
    let ladders = [
        (
            "pensieve 6 rungs",
            ladder(&[300, 750, 1200, 1850, 2850, 4300]),
        ),
        (
            "bbb 10 rungs",
            ladder(&[230, 331, 477, 688, 991, 1427, 2056, 2962, 5027, 6000]),
        ),
    ];
    const CALLS: usize = 2_000;
    for (name, rungs) in &ladders {
        println!("{name}: microseconds per decision (median of 7 runs of {CALLS} decisions)");
        let mut base = None;
        for a in [
            AbrAlgorithm::ThroughputRule,
            AbrAlgorithm::Bola,
            AbrAlgorithm::RobustMpc,
            AbrAlgorithm::Playhead,
        ] {
            let policy = a.policy();
            let runs: Vec<f64> = (0..7)
                .map(|_| {
                    let t = Instant::now();
                    for c in 0..CALLS {
                        let obs = Observation {
                            ladder: rungs,
                            current: Some(c % rungs.len()),
                            buffer: Micros((c % 40) as i64 * 1_000_000),
                            buffer_goal: Micros(60_000_000),
                            segment_duration: Micros(4_000_000),
                            samples: &history,
                            estimate: 1_500_000,
                            latency: Micros(80_000),
                            live: false,
                            remaining: None,
                            starting: false,
                        };
                        black_box(policy.choose(black_box(&obs)));
                    }
                    t.elapsed().as_secs_f64() * 1e6 / CALLS as f64
                })
                .collect();
            let m = median(runs);
            let b = *base.get_or_insert(m);
            println!("  {:<12} {:>9.2} us   x{:.1}", a.name(), m, m / b);
        }
    }
}
