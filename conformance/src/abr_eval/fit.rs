//! Fitting [`Net`] to labelled decisions ([`super::learn`]): a softmax over the rungs'
//! scores against a softmax of their values (a rung worth a little less than the best is a
//! small mistake, a rung that stalls a big one) and/or the expected regret of that softmax,
//! by Adam over mini-batches. Deterministic: a seeded generator shuffles and initialises.

use std::borrow::Cow;

use super::learn::Decision;
use super::learned::{FEATURES, GAP, Layer, Net};

/// How the network is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Widths of the hidden layers.
    pub hidden: [usize; 2],
    /// Passes over the data.
    pub epochs: usize,
    /// Decisions per gradient step.
    pub batch: usize,
    /// Adam's step size.
    pub rate: f64,
    /// The values' softmax temperature, QoE_lin units.
    pub temperature: f64,
    /// L2 weight decay.
    pub decay: f64,
    /// Weight of the expected regret in the loss.
    pub regret: f64,
    /// Weight of the cross-entropy in the loss.
    pub cross: f64,
    /// Values more than this below a decision's best count as this far below (one
    /// unforeseeable outage should not rule the fit).
    pub clip: f64,
    /// The network's [`Net::skip`]: the weight of the look-ahead's own values.
    pub skip: f64,
    /// The generator's seed.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: [32, 16],
            epochs: 40,
            batch: 64,
            rate: 0.003,
            temperature: 1.0,
            decay: 1e-5,
            regret: 0.0,
            cross: 1.0,
            clip: f64::INFINITY,
            skip: 0.0,
            seed: 1,
        }
    }
}

/// xorshift64*: a small deterministic generator for initial weights and shuffling.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-1, 1).
    fn symmetric(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A layer's parameters while training (owned, with Adam's moments).
#[derive(Debug, Clone)]
struct Params {
    inputs: usize,
    outputs: usize,
    /// Weights then biases.
    theta: Vec<f64>,
    grad: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Params {
    fn new(inputs: usize, outputs: usize, rng: &mut Rng) -> Params {
        let bound = (6.0 / (inputs + outputs) as f64).sqrt();
        let mut theta: Vec<f64> = (0..inputs * outputs)
            .map(|_| rng.symmetric() * bound)
            .collect();
        theta.extend(std::iter::repeat_n(0.0, outputs));
        let len = theta.len();
        Params {
            inputs,
            outputs,
            theta,
            grad: vec![0.0; len],
            m: vec![0.0; len],
            v: vec![0.0; len],
        }
    }

    fn from_layer(l: &Layer) -> Params {
        let mut theta = l.weights.to_vec();
        theta.extend_from_slice(&l.biases);
        let len = theta.len();
        Params {
            inputs: l.inputs,
            outputs: l.outputs,
            theta,
            grad: vec![0.0; len],
            m: vec![0.0; len],
            v: vec![0.0; len],
        }
    }

    fn forward(&self, x: &[f64], linear: bool) -> Vec<f64> {
        let (w, b) = self.theta.split_at(self.inputs * self.outputs);
        w.chunks_exact(self.inputs)
            .zip(b)
            .map(|(w, b)| {
                let z = b + w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>();
                if linear { z } else { z.tanh() }
            })
            .collect()
    }
}

/// The standardisation of the inputs: means and inverse deviations over every row.
fn standardise(decisions: &[Decision]) -> (Vec<f64>, Vec<f64>) {
    let mut n = 0.0;
    let mut sum = [0.0; FEATURES];
    let mut squares = [0.0; FEATURES];
    for row in decisions.iter().flat_map(|d| &d.rows) {
        n += 1.0;
        for (i, v) in row.iter().enumerate() {
            sum[i] += v;
            squares[i] += v * v;
        }
    }
    let n: f64 = if n > 0.0 { n } else { 1.0 };
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let scale = squares
        .iter()
        .zip(&mean)
        .map(|(q, m)| {
            let var = (q / n - m * m).max(0.0);
            if var > 1e-12 { 1.0 / var.sqrt() } else { 1.0 }
        })
        .collect();
    (mean, scale)
}

/// Fits a network to `decisions` (see the module docs), starting from `init` when its
/// shape fits `config`, else from random weights.
pub fn train(decisions: &[Decision], config: &TrainConfig, init: Option<&Net>) -> Net {
    let mut rng = Rng(config.seed.max(1));
    let (mean, scale) = match init {
        Some(net) if net.is_valid() => (net.mean.to_vec(), net.scale.to_vec()),
        _ => standardise(decisions),
    };
    let widths = [FEATURES, config.hidden[0], config.hidden[1], 1];
    let fits = init.is_some_and(|net| {
        net.is_valid()
            && net.layers.len() == 3
            && net
                .layers
                .iter()
                .zip(&widths[1..])
                .all(|(l, &w)| l.outputs == w)
    });
    let mut layers: Vec<Params> = match init {
        Some(net) if fits => net.layers.iter().map(Params::from_layer).collect(),
        _ => widths
            .windows(2)
            .map(|w| Params::new(w[0], w[1], &mut rng))
            .collect(),
    };
    let inputs: Vec<Vec<Vec<f64>>> = decisions
        .iter()
        .map(|d| {
            d.rows
                .iter()
                .map(|r| {
                    r.iter()
                        .zip(mean.iter().zip(&scale))
                        .map(|(v, (m, s))| (v - m) * s)
                        .collect()
                })
                .collect()
        })
        .collect();
    let targets: Vec<(Vec<f64>, Vec<f64>)> = decisions
        .iter()
        .map(|d| {
            let best = d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let clipped: Vec<f64> = d.values.iter().map(|v| v.max(best - config.clip)).collect();
            (
                softmax(&clipped, config.temperature),
                clipped.iter().map(|v| best - v).collect(),
            )
        })
        .collect();
    let skips: Vec<Vec<f64>> = decisions
        .iter()
        .map(|d| d.rows.iter().map(|r| config.skip * r[GAP]).collect())
        .collect();
    let mut order: Vec<usize> = (0..decisions.len()).collect();
    let mut step = 0i32;
    for _ in 0..config.epochs {
        for i in (1..order.len()).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        for batch in order.chunks(config.batch.max(1)) {
            for l in &mut layers {
                l.grad.iter_mut().for_each(|g| *g = 0.0);
            }
            for &d in batch {
                let (target, regrets) = &targets[d];
                accumulate(
                    &mut layers,
                    (&inputs[d], &skips[d]),
                    target,
                    regrets,
                    (config.cross, config.regret),
                );
            }
            step += 1;
            adam(&mut layers, config, batch.len() as f64, step);
        }
    }
    Net {
        mean: Cow::Owned(mean),
        scale: Cow::Owned(scale),
        layers: layers
            .into_iter()
            .map(|p| {
                let (w, b) = p.theta.split_at(p.inputs * p.outputs);
                Layer {
                    inputs: p.inputs,
                    outputs: p.outputs,
                    weights: Cow::Owned(w.to_vec()),
                    biases: Cow::Owned(b.to_vec()),
                }
            })
            .collect(),
        skip: config.skip,
    }
}

/// `softmax(values / temperature)`.
fn softmax(values: &[f64], temperature: f64) -> Vec<f64> {
    let t = temperature.max(1e-9);
    let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = values.iter().map(|v| ((v - top) / t).exp()).collect();
    let sum: f64 = e.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    e.iter().map(|x| x / sum).collect()
}

/// Adds one decision's gradient to the layers' `grad`: `cross` times the cross-entropy
/// against `target` plus `weight` times the expected regret of the softmax over the scores.
fn accumulate(
    layers: &mut [Params],
    (rows, skips): (&[Vec<f64>], &[f64]),
    target: &[f64],
    regrets: &[f64],
    (cross, weight): (f64, f64),
) {
    let last = layers.len() - 1;
    // Activations of every layer, for every row.
    let acts: Vec<Vec<Vec<f64>>> = rows
        .iter()
        .map(|x| {
            let mut a = vec![x.clone()];
            for (i, l) in layers.iter().enumerate() {
                let next = l.forward(&a[i], i == last);
                a.push(next);
            }
            a
        })
        .collect();
    let scores: Vec<f64> = acts
        .iter()
        .zip(skips)
        .map(|(a, skip)| a.last().and_then(|s| s.first()).copied().unwrap_or(0.0) + skip)
        .collect();
    let p = softmax(&scores, 1.0);
    let expected: f64 = p.iter().zip(regrets).map(|(p, r)| p * r).sum();
    for (r, a) in acts.iter().enumerate() {
        let mut delta = vec![cross * (p[r] - target[r]) + weight * p[r] * (regrets[r] - expected)];
        for i in (0..layers.len()).rev() {
            let l = &mut layers[i];
            let input = &a[i];
            let (ni, no) = (l.inputs, l.outputs);
            let mut back = vec![0.0; ni];
            let (grads, bias_grads) = l.grad.split_at_mut(ni * no);
            let weights = &l.theta[..ni * no];
            for (o, &d) in delta.iter().enumerate().filter(|(_, d)| **d != 0.0) {
                let rows = (o * ni)..(o * ni + ni);
                for (((g, w), x), b) in grads[rows.clone()]
                    .iter_mut()
                    .zip(&weights[rows])
                    .zip(input)
                    .zip(back.iter_mut())
                {
                    *g += d * x;
                    *b += d * w;
                }
                bias_grads[o] += d;
            }
            if i > 0 {
                // Through the tanh of the layer below.
                for (b, h) in back.iter_mut().zip(input) {
                    *b *= 1.0 - h * h;
                }
            }
            delta = back;
        }
    }
}

/// One Adam step on the mean gradient of `n` decisions.
fn adam(layers: &mut [Params], config: &TrainConfig, n: f64, step: i32) {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let c1 = 1.0 - b1.powi(step);
    let c2 = 1.0 - b2.powi(step);
    for l in layers {
        let weights = l.inputs * l.outputs;
        for i in 0..l.theta.len() {
            let decay = if i < weights {
                config.decay * l.theta[i]
            } else {
                0.0
            };
            let g = l.grad[i] / n + decay;
            l.m[i] = b1 * l.m[i] + (1.0 - b1) * g;
            l.v[i] = b2 * l.v[i] + (1.0 - b2) * g * g;
            l.theta[i] -= config.rate * (l.m[i] / c1) / ((l.v[i] / c2).sqrt() + eps);
        }
    }
}

/// The mean regret of `net`'s choices on `decisions`: the best value minus the value of the
/// rung it scores highest.
pub fn regret(net: &Net, decisions: &[Decision]) -> f64 {
    if decisions.is_empty() {
        return 0.0;
    }
    let total: f64 = decisions
        .iter()
        .map(|d| {
            let mut pick: Option<(f64, usize)> = None;
            for (l, row) in d.rows.iter().enumerate() {
                let s = net.score(row);
                if pick.is_none_or(|(b, _)| s > b) {
                    pick = Some((s, l));
                }
            }
            let best = d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            pick.map_or(0.0, |(_, l)| best - d.values[l])
        })
        .sum();
    total / decisions.len() as f64
}

/// The mean regret of the choices the policies made on `decisions`.
pub fn played_regret(decisions: &[Decision]) -> f64 {
    if decisions.is_empty() {
        return 0.0;
    }
    let total: f64 = decisions
        .iter()
        .map(|d| {
            let best = d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            d.values.get(d.played).map_or(0.0, |v| best - v)
        })
        .sum();
    total / decisions.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loss whose gradient `accumulate` gives: cross-entropy plus `weight` x expected
    /// regret, from the scores the layers give.
    fn loss(layers: &[Params], rows: &[Vec<f64>], skips: &[f64], d: &Decision, weight: f64) -> f64 {
        let last = layers.len() - 1;
        let scores: Vec<f64> = rows
            .iter()
            .zip(skips)
            .map(|(x, s)| {
                let mut a = x.clone();
                for (i, l) in layers.iter().enumerate() {
                    a = l.forward(&a, i == last);
                }
                a[0] + s
            })
            .collect();
        let p = softmax(&scores, 1.0);
        let t = softmax(&d.values, 1.0);
        let best = d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ce: f64 = -t.iter().zip(&p).map(|(t, p)| t * p.ln()).sum::<f64>();
        let er: f64 = p.iter().zip(&d.values).map(|(p, v)| p * (best - v)).sum();
        ce + weight * er
    }

    #[test]
    fn training_learns_a_rule_the_features_show() {
        // The best rung is the one whose feature 3 is largest.
        let mut rng = Rng(3);
        let decisions: Vec<Decision> = (0..300)
            .map(|_| {
                let rows: Vec<[f64; FEATURES]> = (0..4)
                    .map(|_| std::array::from_fn(|_| rng.symmetric()))
                    .collect();
                let values = rows.iter().map(|r| 3.0 * r[3]).collect();
                Decision {
                    rows,
                    values,
                    played: 0,
                }
            })
            .collect();
        let config = TrainConfig {
            hidden: [8, 4],
            ..TrainConfig::default()
        };
        let untrained = train(
            &decisions,
            &TrainConfig {
                epochs: 0,
                ..config
            },
            None,
        );
        let trained = train(&decisions, &config, None);
        let (before, after) = (regret(&untrained, &decisions), regret(&trained, &decisions));
        assert!(after < 0.1 * before, "{before} -> {after}");
        // Deterministic: the same seed gives the same network.
        assert_eq!(train(&decisions, &config, None), trained);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Rng(7);
        let mut layers = vec![Params::new(3, 4, &mut rng), Params::new(4, 1, &mut rng)];
        let rows: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..3).map(|_| rng.symmetric()).collect())
            .collect();
        let skips = [0.3, -0.2, 0.0];
        let d = Decision {
            rows: Vec::new(),
            values: vec![1.0, 2.5, 0.2],
            played: 0,
        };
        let best = 2.5;
        let regrets: Vec<f64> = d.values.iter().map(|v| best - v).collect();
        let target = softmax(&d.values, 1.0);
        for weight in [0.0, 1.0] {
            for l in &mut layers {
                l.grad.iter_mut().for_each(|g| *g = 0.0);
            }
            accumulate(
                &mut layers,
                (&rows, &skips),
                &target,
                &regrets,
                (1.0, weight),
            );
            for li in 0..layers.len() {
                for i in 0..layers[li].theta.len() {
                    let h = 1e-6;
                    let mut up = layers.clone();
                    up[li].theta[i] += h;
                    let mut down = layers.clone();
                    down[li].theta[i] -= h;
                    let numeric = (loss(&up, &rows, &skips, &d, weight)
                        - loss(&down, &rows, &skips, &d, weight))
                        / (2.0 * h);
                    let analytic = layers[li].grad[i];
                    assert!(
                        (numeric - analytic).abs() < 1e-6,
                        "layer {li} parameter {i}: {numeric} vs {analytic}"
                    );
                }
            }
        }
    }
}
