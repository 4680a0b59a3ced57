//! Throughput estimation from the downloads the host reports.
//!
//! What the estimator measures is the *link*, not one request:
//! - the time to first byte (TTFB) is kept apart from the transfer: a CDN cache hit or a
//!   far origin changes the TTFB, not the rate at which bytes then flow;
//! - a sample covers the transfer time of one media segment and counts every byte that
//!   arrived meanwhile, its own and those of parallel downloads (audio beside video), so
//!   two downloads sharing a link are not each taken for the whole link;
//! - downloads too small to say anything about the rate (under `min_bytes`) give a TTFB
//!   but no rate sample;
//! - progress reports of a download in flight lower the estimate at once when the link
//!   collapses, before the download ends.
//!
//! The estimate itself is the harmonic mean of the recent samples: one fast outlier (a
//! cache hit) moves it little, a slow sample moves it a lot.

use std::collections::VecDeque;

use crate::time::Micros;

/// How the estimator behaves. `EstimatorConfig::default()` holds the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EstimatorConfig {
    /// Throughput assumed before the first sample, bits per second.
    pub start: u64,
    /// Downloads smaller than this give no rate sample, bytes.
    pub min_bytes: u64,
    /// Samples kept for the policies.
    pub history: u32,
    /// Samples in the harmonic mean of [`BandwidthEstimator::estimate`].
    pub window: u32,
}

impl Default for EstimatorConfig {
    /// 1 Mbit/s before the first sample (between dash.js's and Shaka's start values), no
    /// rate from downloads under 16 kB, 20 samples kept, estimate over the last 5 (the
    /// window of RobustMPC).
    fn default() -> Self {
        EstimatorConfig {
            start: 1_000_000,
            min_bytes: 16_000,
            history: 20,
            window: 5,
        }
    }
}

/// One throughput measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThroughputSample {
    /// When the measured download ended.
    pub at: Micros,
    /// Bytes that arrived during the measurement (all parallel downloads).
    pub bytes: u64,
    /// Transfer time, first byte to last (the TTFB left out).
    pub duration: Micros,
    /// `bytes * 8 / duration`.
    pub bits_per_second: u64,
}

/// A download that ended, for the overlap accounting.
#[derive(Debug, Clone, Copy)]
struct Done {
    first_byte: Micros,
    end: Micros,
    bytes: u64,
}

/// A download in flight that has reported progress.
#[derive(Debug, Clone, Copy)]
struct Flight {
    id: u64,
    first_byte: Micros,
    /// (time, bytes received so far) of the latest report.
    last: (Micros, u64),
}

/// Measures throughput from completed downloads and progress reports.
#[derive(Debug, Clone)]
pub struct BandwidthEstimator {
    config: EstimatorConfig,
    samples: VecDeque<ThroughputSample>,
    ttfb: VecDeque<Micros>,
    recent: VecDeque<Done>,
    flights: Vec<Flight>,
}

const TTFB_KEPT: usize = 5;
const RECENT_KEPT: usize = 16;
const FLIGHTS_KEPT: usize = 8;

fn rate(bytes: u64, duration: Micros) -> u64 {
    let d = u128::try_from(duration.0.max(1)).unwrap_or(1);
    u64::try_from(u128::from(bytes) * 8_000_000 / d).unwrap_or(u64::MAX)
}

/// Bytes of `bytes` spread evenly over `[from, to)` that fall inside `[a, b)`.
fn overlap(bytes: u64, from: Micros, to: Micros, a: Micros, b: Micros) -> u64 {
    let len = to.0 - from.0;
    if len <= 0 {
        return if from >= a && from < b { bytes } else { 0 };
    }
    let inside = (to.0.min(b.0) - from.0.max(a.0)).max(0);
    u64::try_from(u128::from(bytes) * inside as u128 / len as u128).unwrap_or(bytes)
}

impl BandwidthEstimator {
    /// An estimator with no samples.
    pub fn new(config: EstimatorConfig) -> BandwidthEstimator {
        BandwidthEstimator {
            config,
            samples: VecDeque::new(),
            ttfb: VecDeque::new(),
            recent: VecDeque::new(),
            flights: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EstimatorConfig {
        &self.config
    }

    /// Part of download `id` arrived: `received` bytes so far, the first at `first_byte`.
    pub fn progress(&mut self, now: Micros, id: u64, first_byte: Micros, received: u64) {
        if let Some(f) = self.flights.iter_mut().find(|f| f.id == id) {
            f.last = (now, received);
            return;
        }
        if self.flights.len() >= FLIGHTS_KEPT {
            self.flights.remove(0);
        }
        self.flights.push(Flight {
            id,
            first_byte,
            last: (now, received),
        });
    }

    /// Download `id` ended at `now` with `bytes`: asked at `sent`, first byte at
    /// `first_byte`. `sample` is true for the downloads that measure the link (media
    /// segments); others (audio beside video, playlists) only count as parallel bytes.
    pub fn complete(
        &mut self,
        now: Micros,
        id: u64,
        sent: Micros,
        first_byte: Micros,
        bytes: u64,
        sample: bool,
    ) {
        self.flights.retain(|f| f.id != id);
        let first_byte = first_byte.clamp(sent, now);
        if sample {
            if self.ttfb.len() >= TTFB_KEPT {
                self.ttfb.pop_front();
            }
            self.ttfb.push_back(Micros(first_byte.0 - sent.0));
        }
        let done = Done {
            first_byte,
            end: now,
            bytes,
        };
        if sample && bytes >= self.config.min_bytes && now > first_byte {
            // Everything that arrived while this transfer ran: the parallel downloads that
            // ended (spread evenly over their own transfer) and those still in flight.
            let mut total = bytes;
            for d in &self.recent {
                total += overlap(d.bytes, d.first_byte, d.end, first_byte, now);
            }
            for f in &self.flights {
                total += overlap(f.last.1, f.first_byte, f.last.0, first_byte, now);
            }
            let duration = Micros(now.0 - first_byte.0);
            if self.samples.len() >= self.config.history.max(1) as usize {
                self.samples.pop_front();
            }
            self.samples.push_back(ThroughputSample {
                at: now,
                bytes: total,
                duration,
                bits_per_second: rate(total, duration),
            });
        }
        if self.recent.len() >= RECENT_KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(done);
    }

    /// A download was abandoned or failed: its progress no longer counts as in flight
    /// (the bytes that did arrive still count for overlapping samples).
    pub fn abort(&mut self, now: Micros, id: u64) {
        if let Some(i) = self.flights.iter().position(|f| f.id == id) {
            let f = self.flights.remove(i);
            if self.recent.len() >= RECENT_KEPT {
                self.recent.pop_front();
            }
            self.recent.push_back(Done {
                first_byte: f.first_byte,
                end: f.last.0.min(now),
                bytes: f.last.1,
            });
        }
    }

    /// Download `id` did not finish in time. What arrived of it over the time it ran is
    /// a sample (the link was at most that fast) when the host reported progress; with no
    /// byte reported it says nothing of the link (a dead server looks the same), and it is
    /// forgotten as [`BandwidthEstimator::abort`] does.
    pub fn timed_out(&mut self, now: Micros, id: u64) {
        let Some(f) = self.flights.iter().find(|f| f.id == id).copied() else {
            return;
        };
        let duration = Micros(now.0 - f.first_byte.0);
        if f.last.1 > 0 && duration.0 > 0 {
            if self.samples.len() >= self.config.history.max(1) as usize {
                self.samples.pop_front();
            }
            self.samples.push_back(ThroughputSample {
                at: now,
                bytes: f.last.1,
                duration,
                bits_per_second: rate(f.last.1, duration),
            });
        }
        self.abort(now, id);
    }

    /// Download `id` was abandoned: its last `bytes` took `duration`. That recent rate is
    /// the sample, not the whole transfer's: a download is abandoned because the link fell
    /// during it, and the average over its fast start would send the policy straight back
    /// up. The flight is forgotten as [`BandwidthEstimator::abort`] does.
    pub fn abandoned(&mut self, now: Micros, id: u64, bytes: u64, duration: Micros) {
        if bytes > 0 && duration.0 > 0 && self.flights.iter().any(|f| f.id == id) {
            if self.samples.len() >= self.config.history.max(1) as usize {
                self.samples.pop_front();
            }
            self.samples.push_back(ThroughputSample {
                at: now,
                bytes,
                duration,
                bits_per_second: rate(bytes, duration),
            });
        }
        self.abort(now, id);
    }

    /// Recent samples, oldest first.
    pub fn samples(&self) -> Vec<ThroughputSample> {
        self.samples.iter().copied().collect()
    }

    /// Time to first byte: the median of the last few downloads (zero before any).
    pub fn latency(&self) -> Micros {
        let mut v: Vec<Micros> = self.ttfb.iter().copied().collect();
        crate::order::sort_by_key(&mut v, |t| u128::from(crate::order::micros(*t)));
        v.get(v.len() / 2).copied().unwrap_or(Micros::ZERO)
    }

    /// Throughput now, bits per second: the harmonic mean of the last `window` samples (the
    /// start value before any), lowered by a download in flight that has been slower for
    /// over a second.
    pub fn estimate(&self, now: Micros) -> u64 {
        let mean = harmonic_mean(
            self.samples
                .iter()
                .rev()
                .take(self.config.window.max(1) as usize)
                .map(|s| s.bits_per_second),
        )
        .unwrap_or(self.config.start);
        let slow = self
            .flights
            .iter()
            .filter(|f| now.0 - f.first_byte.0 > 1_000_000)
            .map(|f| rate(f.last.1, Micros(now.0 - f.first_byte.0)))
            .min();
        slow.map_or(mean, |s| s.min(mean))
    }
}

/// Harmonic mean of rates (zero rates count as 1 bit/s); `None` when empty.
pub fn harmonic_mean(rates: impl IntoIterator<Item = u64>) -> Option<u64> {
    // Sum of 1/r scaled by 2^64 keeps integer arithmetic exact enough for 20 samples.
    let mut n = 0u128;
    let mut inv = 0u128;
    for r in rates {
        n += 1;
        inv += (1u128 << 64) / u128::from(r.max(1));
    }
    if n == 0 {
        return None;
    }
    Some(u64::try_from((n << 64) / inv.max(1)).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ms(v: i64) -> Micros {
        Micros(v * 1000)
    }

    #[test]
    fn a_download_that_timed_out_is_a_sample_only_when_bytes_arrived() {
        let mut e = BandwidthEstimator::new(EstimatorConfig::default());
        for i in 0..3 {
            let t = ms(i * 2000);
            e.complete(Micros(t.0 + 1000), i as u64, t, t, 2_500_000, true); // 20 Gbit/s-ish
        }
        // 75 kB in 2 s before the deadline: 300 kbit/s, a sample.
        e.progress(ms(8000), 7, ms(6000), 75_000);
        e.timed_out(ms(8000), 7);
        assert_eq!(e.samples().len(), 4);
        assert_eq!(e.samples()[3].bits_per_second, 300_000);
        assert!(e.estimate(ms(8000)) < 1_200_000, "{}", e.estimate(ms(8000)));
        // Nothing arrived at all (a dead server): no sample.
        e.progress(ms(9000), 8, ms(8500), 0);
        e.timed_out(ms(9500), 8);
        e.timed_out(ms(9500), 99);
        assert_eq!(e.samples().len(), 4);
    }

    #[test]
    fn ttfb_is_kept_apart_from_the_transfer() {
        let mut e = BandwidthEstimator::new(EstimatorConfig::default());
        assert_eq!(e.estimate(ms(0)), 1_000_000);
        // 500 ms to the first byte, then 1 MB in 1 s: 8 Mbit/s, not 5.3.
        e.complete(ms(1500), 1, ms(0), ms(500), 1_000_000, true);
        assert_eq!(e.estimate(ms(1500)), 8_000_000);
        assert_eq!(e.latency(), ms(500));
    }

    #[test]
    fn tiny_downloads_give_no_rate_and_outliers_move_the_mean_little() {
        let mut e = BandwidthEstimator::new(EstimatorConfig::default());
        for i in 0..4 {
            let t = ms(i * 2000);
            let (end, first) = (Micros(t.0 + 1_100_000), Micros(t.0 + 100_000));
            e.complete(end, i as u64, t, first, 250_000, true); // 2 Mbit/s
        }
        e.complete(ms(9000), 9, ms(8990), ms(8995), 10_000, true); // tiny
        assert_eq!(e.samples().len(), 4);
        // A cache hit at 80 Mbit/s: the harmonic mean stays near 2.5 Mbit/s.
        e.complete(ms(10_025), 10, ms(10_000), ms(10_000), 250_000, true);
        let est = e.estimate(ms(10_100));
        assert!((2_000_000..2_600_000).contains(&est), "{est}");
    }

    #[test]
    fn parallel_downloads_are_counted_as_one_link() {
        // A 4 Mbit/s link shared evenly: audio (250 kB) and video (1 MB) start together;
        // audio ends at 1 s (2 Mbit/s of it), video at 2.5 s.
        let mut e = BandwidthEstimator::new(EstimatorConfig::default());
        e.complete(ms(1000), 1, ms(0), ms(0), 250_000, false);
        e.complete(ms(2500), 2, ms(0), ms(0), 1_000_000, true);
        // Counted alone, video would read 3.2 Mbit/s; the sample holds both bodies over
        // the video's transfer time: (1 + 0.25) MB / 2.5 s, the link's 4 Mbit/s.
        assert_eq!(e.samples()[0].bits_per_second, 4_000_000);
        assert_eq!(e.samples()[0].bytes, 1_250_000);
    }

    #[test]
    fn progress_lowers_the_estimate_during_a_slow_download() {
        let mut e = BandwidthEstimator::new(EstimatorConfig::default());
        e.complete(ms(1000), 1, ms(0), ms(0), 1_000_000, true); // 8 Mbit/s
        e.progress(ms(3000), 2, ms(1000), 50_000); // 200 kbit/s so far over 2 s
        assert_eq!(e.estimate(ms(3000)), 200_000);
        e.abort(ms(3000), 2);
        assert_eq!(e.estimate(ms(3000)), 8_000_000);
    }

    #[test]
    fn harmonic_mean_is_exact_on_simple_values() {
        assert_eq!(harmonic_mean([1_000_000, 1_000_000]), Some(1_000_000));
        assert_eq!(harmonic_mean([1_000_000, 3_000_000]), Some(1_500_000));
        assert_eq!(harmonic_mean([]), None);
    }
}
