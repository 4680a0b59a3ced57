//! The look-ahead shared by the model-predictive policies: the best sequence of renditions
//! over the next few segments, for a predicted throughput.
//!
//! Instead of enumerating every sequence (6^5 for a 6-rung ladder and a 5-segment horizon,
//! 10^5 for 10 rungs), it keeps, after each step and for each rung, the sequences that no
//! other beats on both score and buffer: a larger buffer never makes the future worse (a
//! stall can only shrink, the next buffer can only grow), so a sequence beaten on both can
//! be dropped. The answer is the one exhaustive enumeration would give (up to ties).

use crate::time::Micros;

use super::{Observation, Rung, mbps, seconds};

/// One look-ahead problem.
pub(super) struct Horizon<'a> {
    /// The ladder.
    pub(super) ladder: &'a [Rung],
    /// Rung of the previous segment.
    pub(super) current: Option<usize>,
    /// Buffer now.
    pub(super) buffer: Micros,
    /// The engine waits above this buffer.
    pub(super) goal: Micros,
    /// Segment duration.
    pub(super) duration: Micros,
    /// Time to first byte of each download.
    pub(super) latency: Micros,
    /// Predicted throughput, bits per second.
    pub(super) rate: u64,
    /// Segments to look ahead (at least 1).
    pub(super) steps: usize,
    /// Score lost per second of stall, in Mbit/s (QoE_lin's weight: the top rung).
    pub(super) rebuffer_weight: f64,
    /// Score lost per second the first download delays the first frame (`None`: as a
    /// stall).
    pub(super) startup_weight: Option<f64>,
    /// Extra cost per Mbit/s of each step up, on top of QoE_lin's switch cost.
    pub(super) up_cost: f64,
}

/// A partial sequence: its score, the buffer it leaves, and the rung it starts with.
#[derive(Debug, Clone, Copy)]
struct State {
    score: f64,
    buffer: Micros,
    first: usize,
}

/// Most states kept per rung and step: the front is small in practice (a handful); the
/// bound keeps the work bounded on any input.
const FRONT: usize = 48;

impl<'a> Horizon<'a> {
    /// The problem `obs` poses, for a predicted `rate` over `steps` segments, with stalls
    /// weighted as QoE_lin does (the top rung in Mbit/s per second).
    pub(super) fn new(obs: &Observation<'a>, rate: u64, steps: usize) -> Horizon<'a> {
        Horizon {
            ladder: obs.ladder,
            current: obs.current,
            buffer: obs.buffer,
            goal: obs.buffer_goal,
            duration: obs.segment_duration,
            latency: obs.latency,
            rate,
            steps,
            rebuffer_weight: mbps(obs.ladder.last().map_or(0, |r| r.bandwidth)),
            startup_weight: None,
            up_cost: 0.0,
        }
    }

    /// Download time of the `k`-th next segment at rung `l`.
    fn download(&self, l: usize, k: usize) -> Micros {
        let bits = u128::from(self.ladder[l].size(k, self.duration)) * 8_000_000;
        let t = bits / u128::from(self.rate.max(1));
        Micros(
            self.latency
                .0
                .saturating_add(i64::try_from(t).unwrap_or(i64::MAX)),
        )
    }

    /// The first rung of the best sequence, where a sequence scores QoE_lin over the
    /// horizon plus `terminal(buffer left)`.
    pub(super) fn best_first(&self, terminal: impl Fn(Micros) -> f64) -> usize {
        if self.ladder.len() <= 1 {
            return 0;
        }
        let mut best: Option<(f64, usize)> = None;
        for s in self.finals() {
            let v = s.score + terminal(s.buffer);
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, s.first));
            }
        }
        best.map_or(0, |(_, l)| l)
    }

    /// For each first rung, the value of the best sequence starting with it (QoE_lin over
    /// the horizon plus `terminal(buffer left)`; negative infinity when none is kept).
    pub(super) fn first_values(&self, terminal: impl Fn(Micros) -> f64) -> Vec<f64> {
        let mut values = vec![f64::NEG_INFINITY; self.ladder.len()];
        for s in self.finals() {
            let v = s.score + terminal(s.buffer);
            if let Some(x) = values.get_mut(s.first) {
                *x = x.max(v);
            }
        }
        values
    }

    /// The sequences kept after the last step of the look-ahead.
    fn finals(&self) -> Vec<State> {
        let n = self.ladder.len();
        let mut fronts: Vec<Vec<State>> = vec![Vec::new(); n];
        let mut prev: Vec<(Option<usize>, State)> = vec![(
            self.current,
            State {
                score: 0.0,
                buffer: self.buffer,
                first: 0,
            },
        )];
        for k in 0..self.steps.max(1) {
            for f in &mut fronts {
                f.clear();
            }
            let times: Vec<Micros> = (0..n).map(|l| self.download(l, k)).collect();
            for &(from, s) in &prev {
                let start = s.buffer.min(self.goal);
                let weight = match (k, self.startup_weight) {
                    (0, Some(w)) => w,
                    _ => self.rebuffer_weight,
                };
                for (l, &d) in times.iter().enumerate() {
                    let stall = Micros((d.0 - start.0).max(0));
                    let left = Micros((start.0 - d.0).max(0) + self.duration.0);
                    let r = mbps(self.ladder[l].bandwidth);
                    let switch = from.map_or(0.0, |p| {
                        let d = r - mbps(self.ladder[p].bandwidth);
                        d.abs() + self.up_cost * d.max(0.0)
                    });
                    fronts[l].push(State {
                        score: s.score + r - weight * seconds(stall) - switch,
                        buffer: left,
                        first: if k == 0 { l } else { s.first },
                    });
                }
            }
            prev.clear();
            for (l, f) in fronts.iter_mut().enumerate() {
                prune(f);
                prev.extend(f.iter().map(|s| (Some(l), *s)));
            }
        }
        prev.into_iter().map(|(_, s)| s).collect()
    }
}

/// Keeps the states no other beats on both buffer and score, best score first. The one
/// sort not through [`crate::order`]: it runs about fifty times per decision on nearly
/// sorted fronts, where the standard stable sort finds the runs; the shared one made a
/// decision a third slower.
fn prune(states: &mut Vec<State>) {
    states.sort_by(|a, b| b.buffer.cmp(&a.buffer).then(b.score.total_cmp(&a.score)));
    let mut top = f64::NEG_INFINITY;
    states.retain(|s| {
        let keep = s.score > top;
        if keep {
            top = s.score;
        }
        keep
    });
    if states.len() > FRONT {
        states.sort_by(|a, b| b.score.total_cmp(&a.score));
        states.truncate(FRONT);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ladder(kbps: &[u64]) -> Vec<Rung> {
        kbps.iter()
            .map(|k| Rung {
                bandwidth: k * 1000,
                sizes: Vec::new(),
            })
            .collect()
    }

    /// Exhaustive enumeration, the definition the front search must match: the best
    /// score of the sequences starting with `first` (any first rung when `None`).
    fn brute(h: &Horizon<'_>, first: Option<usize>) -> f64 {
        let n = h.ladder.len();
        let mut best = f64::NEG_INFINITY;
        for code in 0..n.pow(h.steps as u32) {
            if first.is_some_and(|f| code % n != f) {
                continue;
            }
            let mut c = code;
            let mut prev = h.current;
            let mut buffer = h.buffer;
            let mut score = 0.0;
            for k in 0..h.steps {
                let l = c % n;
                c /= n;
                let start = buffer.min(h.goal);
                let d = h.download(l, k);
                let r = mbps(h.ladder[l].bandwidth);
                score += r
                    - h.rebuffer_weight * seconds(Micros((d.0 - start.0).max(0)))
                    - prev.map_or(0.0, |p| {
                        let d = r - mbps(h.ladder[p].bandwidth);
                        d.abs() + h.up_cost * d.max(0.0)
                    });
                buffer = Micros((start.0 - d.0).max(0) + h.duration.0);
                prev = Some(l);
            }
            best = best.max(score);
        }
        best
    }

    #[test]
    fn the_front_search_matches_exhaustive_enumeration() {
        let l = ladder(&[300, 750, 1200, 1850, 2850, 4300]);
        let mut checked = 0;
        for (i, rate) in [200_000u64, 900_000, 1_500_000, 2_600_000, 5_000_000]
            .into_iter()
            .enumerate()
        {
            for buffer_s in [0i64, 2, 5, 11, 30] {
                for current in [None, Some(0), Some(3), Some(5)] {
                    let h = Horizon {
                        ladder: &l,
                        current,
                        buffer: Micros(buffer_s * 1_000_000),
                        goal: Micros(60_000_000),
                        duration: Micros(4_000_000),
                        latency: Micros(80_000),
                        rate,
                        steps: 5,
                        rebuffer_weight: 4.3,
                        startup_weight: None,
                        // Every other rate with Playhead's surcharge on steps up.
                        up_cost: if i % 2 == 0 { 0.0 } else { 0.5 },
                    };
                    let first = h.best_first(|_| 0.0);
                    let got = brute(&h, Some(first));
                    let want = brute(&h, None);
                    assert!((got - want).abs() < 1e-9, "{rate} {buffer_s} {current:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 100);
    }

    #[test]
    fn a_terminal_value_on_the_buffer_buys_safety() {
        let l = ladder(&[300, 4300]);
        let h = Horizon {
            ladder: &l,
            current: None,
            buffer: Micros(4_000_000),
            goal: Micros(60_000_000),
            duration: Micros(4_000_000),
            latency: Micros(0),
            rate: 4_400_000,
            steps: 1,
            rebuffer_weight: 4.3,
            startup_weight: None,
            up_cost: 0.0,
        };
        assert_eq!(h.best_first(|_| 0.0), 1);
        // Valuing each second of buffer at 2 Mbit/s-equivalents keeps the low rung.
        assert_eq!(h.best_first(|b| 2.0 * seconds(b)), 0);
    }
}
