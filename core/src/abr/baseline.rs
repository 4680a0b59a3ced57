//! The published policies Playhead's is measured against, written from their papers and
//! the defaults of the players that ship them.

use crate::time::Micros;

use super::horizon::Horizon;
use super::{AbrPolicy, Observation, ThroughputSample, harmonic_mean, seconds};

/// The highest rung under `safety` times a dual exponentially weighted moving average of
/// throughput (fast and slow half-lives, the lower wins), as dash.js and Shaka Player do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThroughputRule {
    /// Share of the estimate a rung may use (dash.js: 0.9).
    pub safety: f64,
    /// Half-life of the fast average, seconds of download time (Shaka: 2).
    pub fast_half_life: f64,
    /// Half-life of the slow average (Shaka: 5).
    pub slow_half_life: f64,
}

impl Default for ThroughputRule {
    fn default() -> Self {
        ThroughputRule {
            safety: 0.9,
            fast_half_life: 2.0,
            slow_half_life: 5.0,
        }
    }
}

/// Zero-bias-corrected moving average weighted by download time (Shaka's `Ewma`).
fn ewma(samples: &[ThroughputSample], half_life: f64) -> Option<f64> {
    let alpha = (0.5f64.ln() / half_life).exp();
    let (mut avg, mut weight) = (0.0, 0.0);
    for s in samples {
        let w = seconds(s.duration).max(1e-3);
        let a = alpha.powf(w);
        avg = s.bits_per_second as f64 * (1.0 - a) + a * avg;
        weight += w;
    }
    (weight > 0.0).then(|| avg / (1.0 - alpha.powf(weight)))
}

impl AbrPolicy for ThroughputRule {
    fn name(&self) -> &'static str {
        "throughput"
    }

    fn choose(&self, obs: &Observation<'_>) -> usize {
        let estimate = match (
            ewma(obs.samples, self.fast_half_life),
            ewma(obs.samples, self.slow_half_life),
        ) {
            (Some(f), Some(s)) => f.min(s),
            _ => obs.estimate as f64,
        };
        let budget = estimate * self.safety;
        obs.ladder
            .iter()
            .rposition(|r| r.bandwidth as f64 <= budget)
            .unwrap_or(0)
    }
}

/// BOLA-BASIC (Spiteri, Urgaonkar, Sitaraman, INFOCOM 2016) with the parameters of
/// dash.js's `BolaRule`: utilities `ln(bitrate / lowest) + 1`, a 10 s minimum buffer, and
/// the buffer target the engine fetches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bola;

impl AbrPolicy for Bola {
    fn name(&self) -> &'static str {
        "bola"
    }

    fn choose(&self, obs: &Observation<'_>) -> usize {
        let n = obs.ladder.len();
        if n <= 1 {
            return 0;
        }
        let low = obs.ladder[0].bandwidth.max(1) as f64;
        let utility = |b: u64| (b.max(1) as f64 / low).ln() + 1.0;
        let top = utility(obs.ladder[n - 1].bandwidth);
        const MINIMUM: f64 = 10.0;
        let target = seconds(obs.buffer_goal).max(MINIMUM + 2.0 * n as f64);
        let gp = (top - 1.0) / (target / MINIMUM - 1.0);
        let vp = MINIMUM / gp;
        let buffer = seconds(obs.buffer);
        let mut best = (f64::NEG_INFINITY, 0);
        for (i, r) in obs.ladder.iter().enumerate() {
            let score = (vp * (utility(r.bandwidth) + gp) - buffer) / r.bandwidth.max(1) as f64;
            if score >= best.0 {
                best = (score, i);
            }
        }
        best.1
    }
}

/// RobustMPC (Yin, Jindal, Sekar, Sinopoli, SIGCOMM 2015), as Pensieve's evaluation runs it:
/// the best QoE_lin sequence over the next 5 segments for a throughput of the harmonic
/// mean of the last 5 samples divided by one plus the largest relative error of the last 5
/// such predictions. Each download adds the measured time to first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RobustMpc {
    /// Segments looked ahead.
    pub horizon: usize,
    /// Samples in the harmonic mean and in the error window.
    pub window: usize,
}

impl Default for RobustMpc {
    fn default() -> Self {
        RobustMpc {
            horizon: 5,
            window: 5,
        }
    }
}

/// The relative error of the harmonic-mean prediction (over up to `window` samples before
/// it) of each sample but the first: |predicted - actual| / actual.
pub fn prediction_errors(samples: &[ThroughputSample], window: usize) -> Vec<f64> {
    (1..samples.len())
        .map(|i| {
            let from = i.saturating_sub(window);
            let predicted = harmonic_mean(samples[from..i].iter().map(|s| s.bits_per_second))
                .unwrap_or(0) as f64;
            let actual = samples[i].bits_per_second.max(1) as f64;
            (predicted - actual).abs() / actual
        })
        .collect()
}

/// Harmonic mean of the last `window` samples.
pub(super) fn recent_mean(obs: &Observation<'_>, window: usize) -> u64 {
    let from = obs.samples.len().saturating_sub(window);
    harmonic_mean(obs.samples[from..].iter().map(|s| s.bits_per_second)).unwrap_or(obs.estimate)
}

/// Segments to look ahead: `horizon`, or fewer before the end.
pub(super) fn steps(obs: &Observation<'_>, horizon: usize) -> usize {
    match obs.remaining {
        Some(r) => horizon.min(usize::try_from(r).unwrap_or(horizon)).max(1),
        None => horizon.max(1),
    }
}

impl AbrPolicy for RobustMpc {
    fn name(&self) -> &'static str {
        "robust-mpc"
    }

    fn choose(&self, obs: &Observation<'_>) -> usize {
        let errors = prediction_errors(obs.samples, self.window);
        let worst = errors
            .iter()
            .rev()
            .take(self.window)
            .fold(0.0f64, |a, &e| a.max(e));
        let rate = (recent_mean(obs, self.window) as f64 / (1.0 + worst)) as u64;
        Horizon::new(obs, rate, steps(obs, self.horizon)).best_first(|_: Micros| 0.0)
    }
}
