//! Exponential backoff with seeded jitter.

use crate::time::Micros;

use super::config::RetryPolicy;

/// SplitMix64: a tiny, well-distributed generator; seeded, so runs repeat exactly.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1000, 1000]` thousandths.
    fn spread_milli(&mut self) -> i64 {
        (self.next_u64() % 2001) as i64 - 1000
    }
}

/// Delay before retry number `failures` (1 for the first retry): `base * 2^(failures-1)`,
/// capped at `max`, then spread by ±`jitter`.
pub(crate) fn backoff(policy: &RetryPolicy, failures: u32, rng: &mut Rng) -> Micros {
    let shift = failures.saturating_sub(1).min(30);
    let raw = policy
        .base_delay
        .0
        .max(0)
        .saturating_mul(1i64 << shift)
        .min(policy.max_delay.0.max(0));
    let jitter = raw / 1000 * i64::from(policy.jitter_milli.min(1000)) / 1000 * rng.spread_milli();
    Micros(raw.saturating_add(jitter).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::RetryPolicies;

    #[test]
    fn delays_double_up_to_the_cap_within_the_jitter() {
        let p = RetryPolicies::default().segment;
        let mut rng = Rng::new(7);
        let d: Vec<i64> = (1..=7).map(|n| backoff(&p, n, &mut rng).0).collect();
        let nominal = [
            250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 4_000_000, 4_000_000,
        ];
        for (got, want) in d.iter().zip(nominal) {
            assert!(
                *got >= want * 8 / 10 && *got <= want * 12 / 10,
                "{got} vs {want}"
            );
        }
        // Seeded: the same seed repeats the same delays; another seed differs.
        let mut again = Rng::new(7);
        let e: Vec<i64> = (1..=7).map(|n| backoff(&p, n, &mut again).0).collect();
        assert_eq!(d, e);
        let mut other = Rng::new(8);
        let f: Vec<i64> = (1..=7).map(|n| backoff(&p, n, &mut other).0).collect();
        assert_ne!(d, f);
    }
}
