//! An experimental policy: a small network scores every rung from what Playhead's
//! look-ahead and the recent samples say, and the best score wins. Not in the core: on the
//! training traces it has not beaten the look-ahead it starts from (ADR 4).
//!
//! The network imitates the offline optimum. It is trained by `playhead abr-train`
//! ([`super::learn`]): the engine plays each trace
//! with the current policy, every decision it met is labelled with what the optimum could
//! still make of each rung from there (the dynamic program over the known trace), and the
//! network is fitted to those values; then the engine plays again with the new network, so
//! the labels cover the states the learned policy itself reaches (DAgger).
//!
//! The features are ladder-agnostic (one row per rung, bitrates relative to the top rung), so
//! the same network runs on any ladder.

use std::borrow::Cow;

use playhead::Micros;
use playhead::abr::{AbrPolicy, Observation, PlayheadAbr, harmonic_mean, prediction_errors};

/// Seconds of a duration.
fn seconds(t: Micros) -> f64 {
    t.0 as f64 / 1e6
}

/// Inputs per rung.
pub const FEATURES: usize = 24;

/// Samples the throughput features look back over.
const WINDOW: usize = 5;

/// One dense layer: `outputs` rows of `inputs` weights, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `outputs x inputs`, row-major.
    pub weights: Cow<'static, [f64]>,
    /// One per output.
    pub biases: Cow<'static, [f64]>,
}

/// A rung's score: standardised features through `tanh` layers, the last one linear with
/// one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// Subtracted from each feature.
    pub mean: Cow<'static, [f64]>,
    /// Each feature is then multiplied by this.
    pub scale: Cow<'static, [f64]>,
    /// The layers, input first.
    pub layers: Vec<Layer>,
    /// Added to the network's output times the look-ahead's value gap ([`GAP`]): with
    /// it, a network that outputs nothing chooses as the look-ahead does.
    pub skip: f64,
}

/// Index of the look-ahead's value gap among the features: how much less than the best
/// first rung this rung's best look-ahead is worth, in seconds of the top rung.
pub const GAP: usize = 18;

impl Net {
    /// Whether the shapes fit together (a network read from elsewhere may not).
    pub fn is_valid(&self) -> bool {
        let mut width = FEATURES;
        for l in &self.layers {
            if l.inputs != width
                || l.weights.len() != l.inputs * l.outputs
                || l.biases.len() != l.outputs
            {
                return false;
            }
            width = l.outputs;
        }
        width == 1 && self.mean.len() == FEATURES && self.scale.len() == FEATURES
    }

    /// The score of one row. Meaningless, but not a panic, when the network is not valid:
    /// check [`Net::is_valid`] once, not per row.
    pub fn score(&self, row: &[f64; FEATURES]) -> f64 {
        let mut x: Vec<f64> = row
            .iter()
            .zip(self.mean.iter().zip(self.scale.iter()))
            .map(|(v, (m, s))| (v - m) * s)
            .collect();
        let last = self.layers.len().saturating_sub(1);
        for (i, l) in self.layers.iter().enumerate() {
            x = l
                .weights
                .chunks_exact(l.inputs)
                .zip(l.biases.iter())
                .map(|(w, b)| {
                    let z = b + w.iter().zip(&x).map(|(w, x)| w * x).sum::<f64>();
                    if i == last { z } else { z.tanh() }
                })
                .collect();
        }
        x.first().copied().unwrap_or(0.0) + self.skip * row[GAP]
    }
}

/// Playhead's look-ahead with a learned network choosing among its first moves (see the
/// module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedAbr {
    /// The scorer; when not valid, `base` decides alone.
    pub net: Net,
    /// The look-ahead whose values are among the features.
    pub base: PlayheadAbr,
}

impl AbrPolicy for LearnedAbr {
    fn name(&self) -> &'static str {
        "learned"
    }

    fn choose(&self, obs: &Observation<'_>) -> usize {
        if !self.net.is_valid() || obs.ladder.len() <= 1 {
            return self.base.choose(obs);
        }
        let mut best: Option<(f64, usize)> = None;
        for (l, row) in features(obs, &self.base).iter().enumerate() {
            let s = self.net.score(row);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, l));
            }
        }
        best.map_or(0, |(_, l)| l)
    }
}

/// `ln(x / base)`, kept within [-6, 3].
fn log_ratio(x: f64, base: f64) -> f64 {
    (x.max(1.0) / base.max(1.0)).ln().clamp(-6.0, 3.0)
}

/// One row of inputs per rung of `obs.ladder`: the situation (buffer, content left, recent
/// throughput and its error, the rung playing) and the rung (bitrate, switch, predicted
/// download time and stall, the look-ahead's value of starting with it).
pub fn features(obs: &Observation<'_>, base: &PlayheadAbr) -> Vec<[f64; FEATURES]> {
    let n = obs.ladder.len();
    let top = obs.ladder.last().map_or(1, |r| r.bandwidth).max(1) as f64;
    let from = obs.samples.len().saturating_sub(WINDOW);
    let recent: Vec<f64> = obs.samples[from..]
        .iter()
        .map(|s| s.bits_per_second.max(1) as f64)
        .collect();
    let harmonic = harmonic_mean(obs.samples[from..].iter().map(|s| s.bits_per_second))
        .unwrap_or(obs.estimate)
        .max(1) as f64;
    let last = recent.last().copied().unwrap_or(harmonic);
    let low = recent.iter().copied().fold(f64::INFINITY, f64::min);
    let low = if low.is_finite() { low } else { harmonic };
    let high = recent.iter().copied().fold(0.0, f64::max).max(low);
    let errors = prediction_errors(obs.samples, WINDOW);
    let recent_errors: Vec<f64> = errors.iter().rev().take(WINDOW).copied().collect();
    let error = if recent_errors.is_empty() {
        0.0
    } else {
        (recent_errors.iter().sum::<f64>() / recent_errors.len() as f64).min(3.0)
    };
    let duration = seconds(obs.segment_duration).max(0.001);
    let buffer = seconds(obs.buffer).max(0.0);
    let left = if obs.live {
        1.0
    } else {
        obs.remaining.map_or(1.0, |r| r.min(60) as f64 / 60.0)
    };
    let playing = obs.current.and_then(|c| obs.ladder.get(c));
    let now = playing.map_or(0.0, |r| r.bandwidth as f64 / top);
    let values = base.first_values(obs);
    let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let chosen = values
        .iter()
        .enumerate()
        .fold(None, |acc: Option<(usize, f64)>, (l, &v)| match acc {
            Some((_, b)) if b >= v => acc,
            _ => Some((l, v)),
        })
        .map(|(l, _)| l);
    let top_mbps = top / 1e6;
    obs.ladder
        .iter()
        .enumerate()
        .map(|(l, rung)| {
            let rate = rung.bandwidth as f64 / top;
            let bits = rung.size(0, obs.segment_duration) as f64 * 8.0;
            let at_mean = bits / harmonic + seconds(obs.latency);
            let at_low = bits / low + seconds(obs.latency);
            let value = values.get(l).copied().unwrap_or(f64::NEG_INFINITY);
            let gap = if best.is_finite() && value.is_finite() {
                ((value - best) / top_mbps).max(-10.0)
            } else {
                -10.0
            };
            let declared = rung.bandwidth.max(1) as f64 * duration;
            [
                (buffer / 60.0).min(4.0),
                left,
                f64::from(u8::from(obs.starting)),
                error,
                log_ratio(harmonic, top),
                log_ratio(last, top),
                log_ratio(low, top),
                log_ratio(high, top),
                now,
                f64::from(u8::from(playing.is_none())),
                obs.samples.len().min(8) as f64 / 8.0,
                rate,
                rate - now,
                (rate - now).abs(),
                (at_mean / duration).min(10.0),
                ((at_mean - buffer).max(0.0) / duration).min(10.0),
                ((at_low - buffer).max(0.0) / duration).min(10.0),
                ((buffer - at_mean).max(0.0) + duration) / 60.0,
                gap,
                f64::from(u8::from(chosen == Some(l))),
                f64::from(u8::from(obs.current == Some(l))),
                if n > 1 {
                    l as f64 / (n - 1) as f64
                } else {
                    1.0
                },
                (bits / declared).min(4.0),
                log_ratio(rung.bandwidth as f64, harmonic),
            ]
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use playhead::abr::{Rung, ThroughputSample};

    fn secs(s: i64) -> Micros {
        Micros(s * 1_000_000)
    }

    fn ladder() -> Vec<Rung> {
        [300u64, 750, 1200, 1850, 2850, 4300]
            .iter()
            .map(|k| Rung {
                bandwidth: k * 1000,
                sizes: Vec::new(),
            })
            .collect()
    }

    fn observe<'a>(ladder: &'a [Rung], samples: &'a [ThroughputSample]) -> Observation<'a> {
        Observation {
            ladder,
            current: Some(2),
            buffer: secs(20),
            buffer_goal: secs(60),
            segment_duration: secs(4),
            samples,
            estimate: 1_000_000,
            latency: Micros(80_000),
            live: false,
            remaining: Some(30),
            starting: false,
        }
    }

    #[test]
    fn features_are_finite_on_any_observation() {
        let ladder = ladder();
        let samples: Vec<ThroughputSample> = (0..7)
            .map(|i| ThroughputSample {
                at: secs(i),
                bytes: 1,
                duration: Micros(1),
                bits_per_second: [0, 1, u64::MAX, 300_000, 5, 9_000_000, 0][i as usize],
            })
            .collect();
        for k in 0..=samples.len() {
            let mut obs = observe(&ladder, &samples[..k]);
            for (current, starting, live) in [(None, true, false), (Some(5), false, true)] {
                obs.current = current;
                obs.starting = starting;
                obs.live = live;
                obs.buffer = Micros(0);
                let rows = features(&obs, &PlayheadAbr::default());
                assert_eq!(rows.len(), ladder.len());
                assert!(rows.iter().flatten().all(|v| v.is_finite()), "{rows:?}");
            }
        }
    }

    #[test]
    fn an_invalid_network_leaves_the_choice_to_the_look_ahead() {
        let ladder = ladder();
        let obs = observe(&ladder, &[]);
        let learned = LearnedAbr {
            net: Net {
                mean: Cow::Borrowed(&[]),
                scale: Cow::Borrowed(&[]),
                layers: Vec::new(),
                skip: 0.0,
            },
            base: PlayheadAbr::default(),
        };
        assert!(!learned.net.is_valid());
        assert_eq!(learned.choose(&obs), PlayheadAbr::default().choose(&obs));
    }

    #[test]
    fn a_network_that_follows_the_look_ahead_chooses_as_it_does() {
        // One linear layer reading only the "look-ahead's choice" input.
        let mut weights = vec![0.0; FEATURES];
        weights[GAP + 1] = 1.0;
        let learned = LearnedAbr {
            net: Net {
                mean: Cow::Owned(vec![0.0; FEATURES]),
                scale: Cow::Owned(vec![1.0; FEATURES]),
                layers: vec![Layer {
                    inputs: FEATURES,
                    outputs: 1,
                    weights: Cow::Owned(weights),
                    biases: Cow::Owned(vec![0.0]),
                }],
                skip: 0.0,
            },
            base: PlayheadAbr::default(),
        };
        assert!(learned.net.is_valid());
        let ladder = ladder();
        for kbps in [200u64, 900, 2_000, 8_000] {
            let samples: Vec<ThroughputSample> = (0..6)
                .map(|i| ThroughputSample {
                    at: secs(i),
                    bytes: kbps * 125,
                    duration: secs(1),
                    bits_per_second: kbps * 1000,
                })
                .collect();
            let obs = observe(&ladder, &samples);
            assert_eq!(learned.choose(&obs), PlayheadAbr::default().choose(&obs));
        }
    }
}
