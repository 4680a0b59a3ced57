//! QoE_lin (Pensieve, SIGCOMM 2017) and the metrics reported with it.
//!
//! Per chunk k = 1..n-1 (chunk 0, the startup chunk, left out): `r_k - w*stall_k -
//! |r_k - r_{k-1}|`, r in Mbit/s, stall in seconds, w the top rung in Mbit/s (4.3 for
//! Pensieve's ladder). Only the total stall after startup matters for the sum.

use playhead::Micros;

use super::video::Video;

/// What one playback session did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Session {
    /// The level of each chunk played, in order.
    pub levels: Vec<usize>,
    /// Total stall after playback started (the startup delay excluded).
    pub stall: Micros,
    /// The number of stalls after playback started.
    pub stalls: u32,
    /// From play pressed to the first frame.
    pub startup: Micros,
    /// Media time played.
    pub played: Micros,
}

/// The score of a session and its companion metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// QoE_lin over the session's chunks.
    pub qoe: f64,
    /// Mean bitrate over all chunks (chunk 0 included), Mbit/s; 0 with no chunk.
    pub bitrate_mbps: f64,
    /// stall / (played + stall); 0 when both are zero.
    pub rebuffer_ratio: f64,
    /// The number of stalls.
    pub stalls: u32,
    /// The number of chunks k >= 1 whose level differs from chunk k-1's.
    pub switches: u32,
    /// The startup delay.
    pub startup: Micros,
}

/// The metrics of session `s` of `video`. A level past the ladder counts as the top one.
pub fn metrics(video: &Video, s: &Session) -> Metrics {
    let rates: Vec<f64> = s.levels.iter().map(|&l| video.mbps(l)).collect();
    let secs = |m: Micros| m.0 as f64 / 1e6;
    let switches = s.levels.windows(2).filter(|w| w[0] != w[1]).count();
    let total = s.played.0.saturating_add(s.stall.0);
    Metrics {
        qoe: qoe_lin(&rates, secs(s.stall), video.top_mbps()),
        bitrate_mbps: if rates.is_empty() {
            0.0
        } else {
            sum(rates.iter().copied()) / rates.len() as f64
        },
        rebuffer_ratio: if total > 0 {
            s.stall.0 as f64 / total as f64
        } else {
            0.0
        },
        stalls: s.stalls,
        switches: u32::try_from(switches).unwrap_or(u32::MAX),
        startup: s.startup,
    }
}

/// QoE_lin: the sum over chunks k = 1..n-1 of `r_k - |r_k - r_{k-1}|`, minus
/// `rebuffer_weight * stall_secs` (the total stall after startup). Rates in Mbit/s.
pub fn qoe_lin(bitrates_mbps: &[f64], stall_secs: f64, rebuffer_weight: f64) -> f64 {
    let terms = bitrates_mbps
        .windows(2)
        .flat_map(|w| [w[1], -(w[1] - w[0]).abs()])
        .chain([-(rebuffer_weight * stall_secs)]);
    sum(terms)
}

/// A compensated (Neumaier) sum: exact enough that `n` equal rates sum to `n * r`.
fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in values {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::abr_eval::video::PENSIEVE_BITRATES;

    fn pensieve() -> Video {
        Video::new(
            "p".into(),
            Micros(4_000_000),
            PENSIEVE_BITRATES.to_vec(),
            vec![vec![1; 6]; 48],
        )
        .unwrap()
    }

    #[test]
    fn qoe_lin_leaves_the_startup_chunk_out() {
        assert_eq!(qoe_lin(&[], 0.0, 4.3), 0.0);
        assert_eq!(qoe_lin(&[4.3], 0.0, 4.3), 0.0);
        // 1.2 + (0.3 - 0.9) - 4.3 * 2
        let q = qoe_lin(&[0.3, 1.2, 0.3], 2.0, 4.3);
        assert!((q - (1.2 - 0.9 + 0.3 - 0.9 - 8.6)).abs() < 1e-12, "{q}");
        assert_eq!(qoe_lin(&[0.3; 48], 0.0, 4.3), 47.0 * 0.3);
    }

    #[test]
    fn metrics_of_a_session() {
        let v = pensieve();
        let s = Session {
            levels: vec![0, 0, 2, 2, 1],
            stall: Micros(500_000),
            stalls: 1,
            startup: Micros(1_200_000),
            played: Micros(19_500_000),
        };
        let m = metrics(&v, &s);
        assert_eq!(m.switches, 2);
        assert_eq!(m.stalls, 1);
        assert_eq!(m.startup, Micros(1_200_000));
        assert!((m.rebuffer_ratio - 0.025).abs() < 1e-12);
        assert!((m.bitrate_mbps - (0.3 + 0.3 + 1.2 + 1.2 + 0.75) / 5.0).abs() < 1e-12);
        let expect = 0.3 + 1.2 - 0.9 + 1.2 + 0.75 - 0.45 - 4.3 * 0.5;
        assert!((m.qoe - expect).abs() < 1e-12, "{}", m.qoe);
        let empty = metrics(&v, &Session::default());
        assert_eq!(
            (empty.qoe, empty.bitrate_mbps, empty.rebuffer_ratio),
            (0.0, 0.0, 0.0)
        );
    }
}
