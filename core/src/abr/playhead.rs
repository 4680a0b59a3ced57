//! Playhead's policy: model-predictive control with a value on the buffer it leaves.
//!
//! RobustMPC looks five segments ahead and treats the buffer left at the end as worthless,
//! so it must distrust throughput heavily (dividing it by the worst recent error) to stay
//! out of stalls, and then plays low on steady links. This policy looks further ahead and
//! charges for ending below a reserve, so it can trust a milder throughput estimate (the
//! mean recent error, not the worst) while keeping the buffer that absorbs a drop. Near
//! the end of a VOD presentation the reserve is worth nothing and is spent.

use crate::time::Micros;

use super::baseline::{prediction_errors, recent_mean, steps};
use super::horizon::Horizon;
use super::{AbrPolicy, Observation, mbps, seconds};

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
        let p = &self.params;
        let errors = prediction_errors(obs.samples, p.window);
        let recent: Vec<f64> = errors.iter().rev().take(p.window).copied().collect();
        let mean_error = if recent.is_empty() {
            0.0
        } else {
            recent.iter().sum::<f64>() / recent.len() as f64
        };
        let rate = (recent_mean(obs, p.window) as f64 / (1.0 + p.error_weight * mean_error)) as u64;
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
        Horizon {
            startup_weight: obs.starting.then_some(top * p.startup_weight),
            ..Horizon::new(obs, rate, steps)
        }
        .best_first(|left: Micros| -weight * seconds(Micros((reserve.0 - left.0).max(0))))
    }
}
