//! Throughput estimation and the rate-based track choice (the ABR issue replaces the
//! choice with a model-predictive policy; the estimator's inputs stay).

use crate::time::Micros;

/// Two exponentially weighted moving averages of throughput (fast and slow, weighted by
/// download time); the estimate is the lower one, so drops are followed quickly and rises
/// slowly (the dual-EWMA of Shaka Player and hls.js).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Estimator {
    fast: u64,
    slow: u64,
    samples: u32,
}

impl Estimator {
    pub(crate) fn new(start: u64) -> Estimator {
        Estimator {
            fast: start,
            slow: start,
            samples: 0,
        }
    }

    /// A download of `bytes` that took `elapsed` (from request to last byte). Tiny
    /// downloads (under 16 KB) say more about latency than throughput and are skipped.
    pub(crate) fn sample(&mut self, bytes: u64, elapsed: Micros) {
        if bytes < 16_000 || elapsed.0 <= 0 {
            return;
        }
        let bps =
            u64::try_from(u128::from(bytes) * 8_000_000 / elapsed.0 as u128).unwrap_or(u64::MAX);
        // Weights by duration: a 2 s download moves the averages more than a 0.1 s one.
        // Half-lives of about 2 s (fast) and 8 s (slow) of download time.
        let w = elapsed.0.clamp(1, 8_000_000) as u128;
        let mix = |avg: u64, half: u128| -> u64 {
            let keep = half * 1_000_000;
            let v = (u128::from(avg) * keep + u128::from(bps) * w) / (keep + w);
            u64::try_from(v).unwrap_or(u64::MAX)
        };
        if self.samples == 0 {
            self.fast = bps;
            self.slow = bps;
        } else {
            self.fast = mix(self.fast, 2);
            self.slow = mix(self.slow, 8);
        }
        self.samples = self.samples.saturating_add(1);
    }

    pub(crate) fn estimate(&self) -> u64 {
        self.fast.min(self.slow)
    }
}

/// Index of the track to play among `bandwidths` (ascending order not required): the
/// highest that fits 80% of the estimate; with less than `safe_buffer` buffered, never
/// higher than `current`. Falls back to the lowest.
pub(crate) fn choose(
    bandwidths: &[(usize, u64)],
    estimate: u64,
    buffer: Micros,
    safe_buffer: Micros,
    current: Option<usize>,
) -> Option<usize> {
    let budget = estimate / 1000 * 800;
    let lowest = bandwidths.iter().min_by_key(|(_, b)| *b).map(|(i, _)| *i);
    let best = bandwidths
        .iter()
        .filter(|(_, b)| *b <= budget)
        .max_by_key(|(_, b)| *b)
        .map(|(i, _)| *i)
        .or(lowest)?;
    let bw = |i: usize| {
        bandwidths
            .iter()
            .find(|(j, _)| *j == i)
            .map_or(0, |(_, b)| *b)
    };
    match current {
        // Do not step up on a thin buffer: a wrong guess would stall.
        Some(c) if bw(best) > bw(c) && buffer < safe_buffer => Some(c),
        _ => Some(best),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_follows_drops_fast_and_rises_slowly() {
        let mut e = Estimator::new(1_000_000);
        e.sample(1_000_000, Micros(1_000_000)); // 8 Mbit/s
        assert_eq!(e.estimate(), 8_000_000);
        for _ in 0..3 {
            e.sample(250_000, Micros(1_000_000)); // 2 Mbit/s
        }
        let after_drop = e.estimate();
        assert!(after_drop < 4_500_000, "{after_drop}");
        e.sample(10_000, Micros(1)); // tiny: ignored
        assert_eq!(e.estimate(), after_drop);
    }

    #[test]
    fn choice_fits_the_budget_and_holds_on_a_thin_buffer() {
        let ladder = [(0, 400_000), (1, 1_200_000), (2, 3_000_000)];
        assert_eq!(
            choose(
                &ladder,
                2_000_000,
                Micros(20_000_000),
                Micros(8_000_000),
                Some(0)
            ),
            Some(1)
        );
        assert_eq!(
            choose(
                &ladder,
                2_000_000,
                Micros(2_000_000),
                Micros(8_000_000),
                Some(0)
            ),
            Some(0)
        );
        assert_eq!(
            choose(
                &ladder,
                100_000,
                Micros(20_000_000),
                Micros(8_000_000),
                Some(2)
            ),
            Some(0)
        );
        assert_eq!(choose(&[], 1, Micros(0), Micros(0), None), None);
    }
}
