//! How far a look-ahead planner could get with a perfect throughput forecast: an upper
//! bound for online policies of a given horizon, between them and the offline optimum.
//!
//! At every chunk the planner picks the first level of the best sequence over the next
//! `horizon` chunks (QoE_lin's terms, plus a terminal cost for ending below a buffer
//! reserve, as Playhead's policy does), then plays it through the same chunk model as
//! [`super::optimum`]. What it knows of the future:
//! - [`Forecast::Exact`]: every download's finish time over the horizon (the trace itself);
//! - [`Forecast::Mean`]: the trace's true mean throughput over the next `horizon` segment
//!   durations, planned as a constant rate (the best a constant-rate predictor can do).
//!
//! Neither is an online policy. They measure how much of the gap to the optimum is the
//! forecast and how much the horizon.

use playhead::Micros;

use super::optimum::{Model, Plan, after, download, evaluate, fits};
use super::video::Video;
use crate::sim::net::Trace;

/// What the planner knows of the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forecast {
    /// Each download's exact finish time.
    Exact,
    /// The mean throughput over the horizon.
    Mean,
}

/// The planner's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Planner {
    /// Chunks looked ahead (at least 1).
    pub horizon: usize,
    /// Buffer to end the horizon with; each second below it costs `reserve_weight` times
    /// a second of stall. Not charged when the horizon reaches the last chunk.
    pub reserve: Micros,
    /// See `reserve`.
    pub reserve_weight: f64,
    /// What it knows.
    pub forecast: Forecast,
}

/// Most sequences a decision may enumerate (levels^horizon summed over the depths).
pub const MAX_NODES: u64 = 2_000_000;

/// Sequences one decision enumerates for `levels` and `horizon`, saturating.
pub fn nodes(levels: usize, horizon: usize) -> u64 {
    let mut total: u64 = 0;
    let mut layer: u64 = 1;
    for _ in 0..horizon {
        layer = layer.saturating_mul(levels as u64);
        total = total.saturating_add(layer);
    }
    total
}

/// One decision's search.
struct Search<'a> {
    video: &'a Video,
    trace: &'a Trace,
    model: &'a Model,
    planner: &'a Planner,
    /// The constant rate to plan with (`Forecast::Mean`; unused otherwise), bit/s.
    rate: u64,
}

impl Search<'_> {
    fn finish(&self, request: i64, bytes: u64) -> Option<i64> {
        match self.planner.forecast {
            Forecast::Exact => {
                download(self.trace, Micros(request), self.model.latency, bytes).map(|f| f.0)
            }
            Forecast::Mean => {
                let bits = u128::from(bytes) * 8_000_000;
                let t = i64::try_from(bits / u128::from(self.rate.max(1))).ok()?;
                request.checked_add(self.model.latency.0)?.checked_add(t)
            }
        }
    }

    /// The best value of chunks `k..` over at most `left` more, from a request at
    /// `request` with `buffer` ahead after level `last`; with the first level chosen.
    fn best(&self, k: usize, left: usize, request: i64, buffer: i64, last: usize) -> (f64, usize) {
        let top = self.video.top_mbps();
        if k >= self.model.chunks {
            return (0.0, 0);
        }
        if left == 0 {
            let short = (self.planner.reserve.0 - buffer).max(0) as f64 / 1e6;
            return (-self.planner.reserve_weight * top * short, 0);
        }
        let mut best = (f64::NEG_INFINITY, 0);
        for l in 0..self.video.levels() {
            let Some(f) = self.finish(request, self.video.sizes[k][l]) else {
                continue;
            };
            let seg = self.video.segment_duration.0;
            let (stall, next, ahead) = after(false, request, buffer, f, seg, self.model.goal.0);
            let r = self.video.mbps(l);
            let v = r - top * stall as f64 / 1e6 - (r - self.video.mbps(last)).abs();
            let (rest, _) = self.best(k + 1, left - 1, next, ahead, l);
            if v + rest > best.0 {
                best = (v + rest, l);
            }
        }
        best
    }
}

/// The trace's mean throughput over `[from, from + span)`, bit/s.
fn mean_rate(trace: &Trace, from: i64, span: i64) -> u64 {
    let mut bits: u128 = 0;
    let until = from.saturating_add(span);
    let mut t = from;
    while t < until {
        let (bps, end) = trace.at(Micros(t));
        let e = end.0.max(t + 1).min(until);
        bits += u128::from(bps) * (e - t) as u128;
        t = e;
    }
    u64::try_from(bits / span.max(1) as u128).unwrap_or(u64::MAX)
}

/// Plays the planner over `trace` (chunk 0 at `model.first`, else the lowest level) and
/// scores the levels it chose. `None` when the model does not fit the video, the search
/// would exceed [`MAX_NODES`] per decision, or a download never ends.
pub fn play(video: &Video, trace: &Trace, model: &Model, planner: &Planner) -> Option<Plan> {
    let planner = Planner {
        horizon: planner.horizon.max(1),
        ..*planner
    };
    if !fits(video, model) || nodes(video.levels(), planner.horizon) > MAX_NODES {
        return None;
    }
    let first = model.first.unwrap_or(0).min(video.levels() - 1);
    let seg = video.segment_duration.0;
    let span = seg.saturating_mul(planner.horizon as i64);
    let f = download(trace, model.start, model.latency, video.sizes[0][first])?.0;
    let (_, mut request, mut buffer) = after(true, model.start.0, 0, f, seg, model.goal.0);
    let mut levels = vec![first];
    for k in 1..model.chunks {
        let search = Search {
            video,
            trace,
            model,
            planner: &planner,
            rate: match planner.forecast {
                Forecast::Mean => mean_rate(trace, request, span),
                Forecast::Exact => 0,
            },
        };
        let (_, l) = search.best(k, planner.horizon, request, buffer, levels[k - 1]);
        let f = download(trace, Micros(request), model.latency, video.sizes[k][l])?.0;
        (_, request, buffer) = after(false, request, buffer, f, seg, model.goal.0);
        levels.push(l);
    }
    evaluate(video, trace, model, &levels)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::abr_eval::optimum::optimum;

    fn video(chunks: usize) -> Video {
        Video::new(
            "test".into(),
            Micros(4_000_000),
            vec![300_000, 1_200_000, 4_300_000],
            (0..chunks)
                .map(|k| {
                    // Sizes vary around the nominal bitrate, as real chunks do.
                    let f = 0.7 + 0.1 * (k % 6) as f64;
                    [300_000u64, 1_200_000, 4_300_000]
                        .iter()
                        .map(|b| (*b as f64 * 4.0 / 8.0 * f) as u64)
                        .collect()
                })
                .collect(),
        )
        .unwrap()
    }

    fn model(chunks: usize) -> Model {
        Model {
            latency: Micros(80_000),
            goal: Micros(12_000_000),
            start: Micros(0),
            chunks,
            first: Some(0),
        }
    }

    fn traces() -> Vec<Trace> {
        vec![
            Trace::steps(vec![
                (Micros(10_000_000), 500_000),
                (Micros(20_000_000), 6_000_000),
            ]),
            Trace::steps(vec![
                (Micros(8_000_000), 5_000_000),
                (Micros(30_000_000), 400_000),
            ]),
            Trace::steps(vec![
                (Micros(3_000_000), 2_000_000),
                (Micros(5_000_000), 200_000),
                (Micros(7_000_000), 3_500_000),
            ]),
        ]
    }

    /// A planner with no reserve (the optimum values none).
    fn planner(horizon: usize, forecast: Forecast) -> Planner {
        Planner {
            horizon,
            reserve: Micros(0),
            reserve_weight: 0.0,
            forecast,
        }
    }

    #[test]
    fn exact_foresight_over_the_whole_video_is_the_optimum() {
        let v = video(7);
        let m = model(7);
        let planner = planner(6, Forecast::Exact);
        for t in traces() {
            let got = play(&v, &t, &m, &planner).unwrap();
            let want = optimum(&v, &t, &m, Micros(1)).unwrap();
            assert!(
                (got.qoe - want.qoe).abs() < 1e-9,
                "{} vs {}",
                got.qoe,
                want.qoe
            );
        }
    }

    #[test]
    fn a_short_horizon_or_a_mean_forecast_can_only_lose() {
        let v = video(7);
        let m = model(7);
        let mut lost = 0;
        for t in traces() {
            let want = optimum(&v, &t, &m, Micros(1)).unwrap().qoe;
            for (horizon, forecast) in [(1, Forecast::Exact), (6, Forecast::Mean)] {
                let got = play(&v, &t, &m, &planner(horizon, forecast)).unwrap().qoe;
                assert!(got <= want + 1e-9);
                lost += usize::from(got < want - 1e-9);
            }
        }
        // The traces change rate mid-video: a one-chunk horizon or a flat forecast misses
        // that at least once.
        assert!(lost >= 2, "{lost}");
    }

    #[test]
    fn refuses_a_search_that_is_too_large() {
        let v = video(7);
        assert!(nodes(3, 14) > MAX_NODES);
        let too_far = planner(14, Forecast::Exact);
        assert!(play(&v, &traces()[0], &model(7), &too_far).is_none());
        assert_eq!(nodes(6, 5), 6 + 36 + 216 + 1296 + 7776);
    }
}
