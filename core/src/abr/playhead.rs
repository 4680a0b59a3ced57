//! Playhead's policy: model-predictive control with a value on the buffer it leaves.
//!
//! RobustMPC looks five segments ahead and treats the buffer left at the end as worthless,
//! so it must distrust throughput heavily (dividing it by the worst recent error) to stay
//! out of stalls, and then plays low on steady links. This policy looks further ahead and
//! charges for ending below a reserve, so it can trust a milder throughput estimate (the
//! mean recent error, not the worst) while keeping the buffer that absorbs a drop. Near
//! the end of a VOD presentation the reserve is worth nothing and is spent.
//!
//! Two more rules, each measured on the training traces (ADR 4):
//! - A step up in throughput restarts the estimate. A harmonic mean is ruled by its low
//!   samples, so after a link goes from 0.3 to 10 Mbit/s it takes a whole window of fast
//!   samples to believe it, and each of those segments is fetched, and played, at the
//!   lowest rung. A sample several times the mean of the window before it is trusted on
//!   its own (still divided by the recent error, which the step itself raises).
//! - Each step up in the look-ahead costs half its size again. On a noisy link a step up
//!   is often followed by a step down, and QoE_lin charges both.

use crate::time::Micros;

use super::baseline::{prediction_errors, recent_mean, steps};
use super::horizon::Horizon;
use super::{AbrPolicy, Observation, ThroughputSample, harmonic_mean, mbps, seconds};

/// The tunables of [`PlayheadAbr`]. Tuned on the training traces in `shared/traces` only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayheadParams {
    /// Segments looked ahead.
    pub horizon: usize,
    /// Samples in the harmonic mean and in the error window.
    pub window: usize,
    /// The throughput is divided by one plus this times the mean recent relative error.
    pub error_weight: f64,
    /// Buffer to end the horizon with (at the live edge, at most half the buffer goal).
    pub reserve: Micros,
    /// Cost of each second below the reserve, as a share of a second of stall.
    pub reserve_weight: f64,
    /// Cost of each second the first download delays the first frame, as a share of a
    /// second of stall.
    pub startup_weight: f64,
    /// Extra cost per Mbit/s of each step up in the look-ahead, on top of QoE_lin's.
    pub up_cost: f64,
    /// A step up: when each of the last `jump_samples` samples is above this many times the
    /// harmonic mean of the window before them, the throughput is predicted from them
    /// alone (0: off).
    pub jump: f64,
    /// Samples that show a step up.
    pub jump_samples: usize,
}

impl Default for PlayheadParams {
    fn default() -> Self {
        PlayheadParams {
            horizon: 8,
            window: 5,
            error_weight: 1.0,
            reserve: Micros(16_000_000),
            reserve_weight: 0.4,
            startup_weight: 1.0,
            up_cost: 0.5,
            jump: 3.0,
            jump_samples: 1,
        }
    }
}

/// Playhead's default policy (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlayheadAbr {
    /// Its tunables.
    pub params: PlayheadParams,
}

impl AbrPolicy for PlayheadAbr {
    fn name(&self) -> &'static str {
        "playhead"
    }

    fn choose(&self, obs: &Observation<'_>) -> usize {
        let (horizon, terminal) = self.problem(obs);
        horizon.best_first(terminal)
    }
}

impl PlayheadAbr {
    /// For each rung of `obs.ladder`, the value of the best look-ahead that starts with it
    /// (what [`AbrPolicy::choose`] maximises; negative infinity where none is kept): for
    /// diagnostics and for policies built on this one.
    pub fn first_values(&self, obs: &Observation<'_>) -> Vec<f64> {
        let (horizon, terminal) = self.problem(obs);
        horizon.first_values(terminal)
    }

    /// The look-ahead `obs` poses and the value of the buffer left at its end.
    fn problem<'a>(&self, obs: &Observation<'a>) -> (Horizon<'a>, impl Fn(Micros) -> f64) {
        let p = &self.params;
        let errors = prediction_errors(obs.samples, p.window);
        let recent: Vec<f64> = errors.iter().rev().take(p.window).copied().collect();
        let mean_error = if recent.is_empty() {
            0.0
        } else {
            recent.iter().sum::<f64>() / recent.len() as f64
        };
        let trusted = Observation {
            samples: since_step_up(obs.samples, p),
            ..obs.clone()
        };
        let rate =
            (recent_mean(&trusted, p.window) as f64 / (1.0 + p.error_weight * mean_error)) as u64;
        let top = mbps(obs.ladder.last().map_or(0, |r| r.bandwidth));
        let steps = steps(obs, p.horizon);
        let ends = obs
            .remaining
            .is_some_and(|r| r <= u64::try_from(steps).unwrap_or(0));
        let reserve = if obs.live {
            p.reserve.min(Micros(obs.buffer_goal.0 / 2))
        } else {
            p.reserve
        };
        let weight = if ends { 0.0 } else { p.reserve_weight * top };
        let horizon = Horizon {
            startup_weight: obs.starting.then_some(top * p.startup_weight),
            up_cost: p.up_cost,
            ..Horizon::new(obs, rate, steps)
        };
        (horizon, move |left: Micros| {
            -weight * seconds(Micros((reserve.0 - left.0).max(0)))
        })
    }
}

/// The samples to predict from: all of them, or the last `jump_samples` when each is
/// `jump` times the harmonic mean of the window before them.
fn since_step_up<'a>(
    samples: &'a [ThroughputSample],
    p: &PlayheadParams,
) -> &'a [ThroughputSample] {
    let k = p.jump_samples.max(1);
    if p.jump <= 0.0 || samples.len() <= k {
        return samples;
    }
    let (before, after) = samples.split_at(samples.len() - k);
    let from = before.len().saturating_sub(p.window);
    let Some(base) = harmonic_mean(before[from..].iter().map(|s| s.bits_per_second)) else {
        return samples;
    };
    if after
        .iter()
        .all(|s| s.bits_per_second as f64 > p.jump * base as f64)
    {
        after
    } else {
        samples
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::abr::Rung;

    fn ladder() -> Vec<Rung> {
        [300u64, 750, 1200, 1850, 2850, 4300]
            .iter()
            .map(|k| Rung {
                bandwidth: k * 1000,
                sizes: Vec::new(),
            })
            .collect()
    }

    fn sample(i: i64, kbps: u64) -> ThroughputSample {
        ThroughputSample {
            at: Micros(i * 1_000_000),
            bytes: kbps * 125,
            duration: Micros(1_000_000),
            bits_per_second: kbps * 1000,
        }
    }

    fn observe<'a>(ladder: &'a [Rung], samples: &'a [ThroughputSample]) -> Observation<'a> {
        Observation {
            ladder,
            current: Some(0),
            buffer: Micros(20_000_000),
            buffer_goal: Micros(60_000_000),
            segment_duration: Micros(4_000_000),
            samples,
            estimate: 0,
            latency: Micros(80_000),
            live: false,
            remaining: Some(30),
            starting: false,
        }
    }

    #[test]
    fn one_sample_far_above_the_window_is_believed() {
        let ladder = ladder();
        // A link at 320 kbit/s for a while, then one segment at 10 Mbit/s.
        let mut samples: Vec<ThroughputSample> = (0..6).map(|i| sample(i, 320)).collect();
        samples.push(sample(6, 10_000));
        let obs = observe(&ladder, &samples);
        let off = PlayheadAbr {
            params: PlayheadParams {
                jump: 0.0,
                ..PlayheadParams::default()
            },
        };
        // The harmonic mean of the last five samples is 396 kbit/s: the lowest rungs.
        assert!(off.choose(&obs) <= 1, "{}", off.choose(&obs));
        assert!(PlayheadAbr::default().choose(&obs) >= 3);

        // A sample only twice the window's mean is noise, not a step.
        samples[6] = sample(6, 640);
        let obs = observe(&ladder, &samples);
        assert_eq!(PlayheadAbr::default().choose(&obs), off.choose(&obs));
    }

    #[test]
    fn a_step_up_needs_every_confirming_sample() {
        let p = PlayheadParams {
            jump_samples: 2,
            ..PlayheadParams::default()
        };
        let mut samples: Vec<ThroughputSample> = (0..6).map(|i| sample(i, 320)).collect();
        samples.push(sample(6, 10_000));
        samples.push(sample(7, 400));
        assert_eq!(since_step_up(&samples, &p).len(), samples.len());
        samples[7] = sample(7, 9_000);
        assert_eq!(since_step_up(&samples, &p).len(), 2);
        // Too few samples to compare with: all of them.
        assert_eq!(since_step_up(&samples[..2], &p).len(), 2);
    }
}
