//! The chunk model the engine follows, exact download times over a trace, and the offline
//! optimum: a dynamic program over the level of every chunk for a known future trace.
//!
//! # The chunk model
//! One video download at a time; the next segment is requested as soon as the media
//! buffered ahead is at most the goal. With L the segment duration and G the goal:
//! - chunk 0 is requested at `start` and arrives at f_0; playback starts then with a
//!   buffer of L (the startup delay is not part of QoE);
//! - chunk k >= 1 is requested at s_k = f_{k-1} + max(0, b_{k-1} - G) with b = min(b_{k-1}, G)
//!   buffered; its download takes d = f_k - s_k; stall_k = max(0, d - b);
//!   b_k = max(0, b - d) + L.
//!
//! # The dynamic program
//! The state after chunk k is its level, the next request time s and the buffer b at that
//! request (a state whose buffer exceeds the goal waits, so it is keyed by when it will
//! request, with b = G). Scores are exact integers (QoE x 10^12). States are merged into
//! bins of `resolution` in s and b per level, keeping the highest score (with its exact
//! s, b and a back-pointer), then dominated states are dropped. State A dominates B when
//! they have the same level, s_A <= s_B, D_A <= D_B and score_A + w D_A >= score_B + w D_B,
//! with D = s + b the time the buffer would run dry and w the rebuffer weight: A finishes
//! every later download no later than B, and whatever deadline it lacks is already paid
//! for in score, so following B's choices A ends with at least B's score. (Earlier with
//! more buffer is *not* enough: B's buffer may last past A's, and a fuller buffer is
//! forced to wait at the goal.) Dropping dominated states is exact; binning is the only
//! approximation, and a resolution of 1 µs makes the program exact.

use std::collections::BTreeMap;

use playhead::Micros;

use super::qoe::qoe_lin;
use super::video::Video;
use crate::sim::net::Trace;

/// How far [`download`] looks: a download not finished 24 h after its request never is.
pub const HORIZON: Micros = Micros(86_400_000_000);

/// The chunk model's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// From request to first byte.
    pub latency: Micros,
    /// The buffer goal: the next chunk is requested once the buffer is at most this.
    pub goal: Micros,
    /// When chunk 0 is requested.
    pub start: Micros,
    /// How many chunks are played (at most the video's).
    pub chunks: usize,
}

/// A level for every chunk and what it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The level of each chunk.
    pub levels: Vec<usize>,
    /// QoE_lin (see [`qoe_lin`]).
    pub qoe: f64,
    /// Total stall after playback started.
    pub stall: Micros,
    /// When the last chunk arrives.
    pub finish: Micros,
}

/// What the dynamic program did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// States kept after each chunk but the last.
    pub states: Vec<usize>,
    /// Transitions computed (a download each).
    pub transitions: usize,
}

impl Stats {
    /// The mean number of states kept per chunk (0 with none).
    pub fn mean_states(&self) -> f64 {
        if self.states.is_empty() {
            0.0
        } else {
            self.states.iter().sum::<usize>() as f64 / self.states.len() as f64
        }
    }
}

/// When a download of `bytes` requested at `request_at` finishes: its first byte arrives
/// `latency` later, then `bytes * 8` bits flow at the trace's throughput (looping). Exact:
/// the finish is rounded up to the microsecond, as [`crate::sim::net::Network`] does for a
/// transfer alone on the network. `None` when it cannot finish within [`HORIZON`].
pub fn download(trace: &Trace, request_at: Micros, latency: Micros, bytes: u64) -> Option<Micros> {
    transfer(|t| trace.at(t), request_at, latency, bytes)
}

/// [`download`] over any `at` (throughput at t and when it next changes).
fn transfer(
    mut at: impl FnMut(Micros) -> (u64, Micros),
    request_at: Micros,
    latency: Micros,
    bytes: u64,
) -> Option<Micros> {
    let deadline = request_at.0.checked_add(HORIZON.0)?;
    let mut t = request_at.0.checked_add(latency.0)?;
    // Bit-microseconds still to transfer.
    let mut left = u128::from(bytes) * 8 * 1_000_000;
    while t <= deadline {
        if left == 0 {
            return Some(Micros(t));
        }
        let (bps, end) = at(Micros(t));
        let end = end.0.max(t + 1);
        let span = (end - t) as u128;
        let bps = u128::from(bps);
        if bps > 0 {
            let need = left.div_ceil(bps);
            if need <= span {
                let finish = t + need as i64;
                return (finish <= deadline).then_some(Micros(finish));
            }
            left -= bps * span;
        }
        t = end;
    }
    None
}

/// A trace's steps from `from` on, looked up by binary search and filled lazily from
/// [`Trace::at`] (which scans from the loop's start on every call).
struct Steps<'a> {
    trace: &'a Trace,
    from: i64,
    ends: Vec<i64>,
    rates: Vec<u64>,
}

impl<'a> Steps<'a> {
    fn new(trace: &'a Trace, from: Micros) -> Steps<'a> {
        Steps {
            trace,
            from: from.0,
            ends: Vec::new(),
            rates: Vec::new(),
        }
    }

    fn at(&mut self, t: Micros) -> (u64, Micros) {
        if t.0 < self.from {
            return self.trace.at(t);
        }
        loop {
            let covered = self.ends.last().copied().unwrap_or(self.from);
            if t.0 < covered {
                break;
            }
            let (bps, end) = self.trace.at(Micros(covered));
            self.ends.push(end.0.max(covered + 1));
            self.rates.push(bps);
        }
        let i = self.ends.partition_point(|&e| e <= t.0);
        (self.rates[i], Micros(self.ends[i]))
    }
}

/// After a chunk requested at `request` with `buffer` ahead arrives at `finish`: its stall,
/// the next request time and the buffer then. The first chunk starts playback (no stall).
fn after(
    first: bool,
    request: i64,
    buffer: i64,
    finish: i64,
    seg: i64,
    goal: i64,
) -> (i64, i64, i64) {
    let (stall, ahead) = if first {
        (0, seg)
    } else {
        let d = finish - request;
        ((d - buffer).max(0), (buffer - d).max(0) + seg)
    };
    (stall, finish + (ahead - goal).max(0), ahead.min(goal))
}

/// Whether `model` fits `video` (and the video's rows are whole).
fn fits(video: &Video, model: &Model) -> bool {
    let levels = video.bitrates.len();
    model.chunks >= 1
        && model.chunks <= video.sizes.len()
        && model.latency.0 >= 0
        && model.goal.0 >= 0
        && video.segment_duration.0 > 0
        && levels > 0
        && video.sizes[..model.chunks]
            .iter()
            .all(|s| s.len() == levels)
}

/// Plays the fixed plan `levels` (one per chunk, `model.chunks` of them) through the chunk
/// model. `None` when the plan or model does not fit the video, or a download never ends.
pub fn evaluate(video: &Video, trace: &Trace, model: &Model, levels: &[usize]) -> Option<Plan> {
    if !fits(video, model)
        || levels.len() != model.chunks
        || levels.iter().any(|&l| l >= video.bitrates.len())
    {
        return None;
    }
    let (mut request, mut buffer, mut stall, mut finish) = (model.start.0, 0i64, 0i64, 0i64);
    for (k, &l) in levels.iter().enumerate() {
        let f = download(trace, Micros(request), model.latency, video.sizes[k][l])?.0;
        let (s, r, b) = after(
            k == 0,
            request,
            buffer,
            f,
            video.segment_duration.0,
            model.goal.0,
        );
        (stall, request, buffer, finish) = (stall + s, r, b, f);
    }
    let rates: Vec<f64> = levels.iter().map(|&l| video.mbps(l)).collect();
    Some(Plan {
        levels: levels.to_vec(),
        qoe: qoe_lin(&rates, stall as f64 / 1e6, video.top_mbps()),
        stall: Micros(stall),
        finish: Micros(finish),
    })
}

/// The best plan for a known trace, by the dynamic program (see the module docs) with
/// states binned at `resolution`; its QoE is re-evaluated by [`evaluate`], so exactly
/// achievable. `None` when the model does not fit the video, `resolution` is not positive
/// or no plan finishes.
pub fn optimum(video: &Video, trace: &Trace, model: &Model, resolution: Micros) -> Option<Plan> {
    optimum_with_stats(video, trace, model, resolution).map(|(plan, _)| plan)
}

/// A DP state: after a chunk at `level`, the next request time and the buffer then.
#[derive(Debug, Clone, Copy)]
struct Node {
    level: usize,
    request: i64,
    buffer: i64,
    /// QoE x 10^12 so far.
    score: i128,
    /// Index in the previous layer.
    parent: usize,
}

/// [`optimum`] with the program's state counts.
pub fn optimum_with_stats(
    video: &Video,
    trace: &Trace,
    model: &Model,
    resolution: Micros,
) -> Option<(Plan, Stats)> {
    if !fits(video, model) || resolution.0 <= 0 {
        return None;
    }
    let (seg, goal, n) = (video.segment_duration.0, model.goal.0, model.chunks);
    let top = i128::from(*video.bitrates.last()?);
    let mut steps = Steps::new(trace, model.start.saturating_add(model.latency));
    let mut stats = Stats::default();
    // The root: nothing played, chunk 0 requested at start.
    let mut layer = vec![Node {
        level: 0,
        request: model.start.0,
        buffer: 0,
        score: 0,
        parent: 0,
    }];
    // (parent, level) of every state kept after chunk k, for k < n - 1.
    let mut trail: Vec<Vec<(usize, usize)>> = Vec::with_capacity(n);
    // The best final transition: score, finish, parent, level.
    let mut best: Option<(i128, i64, usize, usize)> = None;
    for (k, sizes) in video.sizes[..n].iter().enumerate() {
        let last = k + 1 == n;
        let mut next = Vec::with_capacity(if last { 0 } else { layer.len() * sizes.len() });
        for (p, node) in layer.iter().enumerate() {
            for (l, &bytes) in sizes.iter().enumerate() {
                stats.transitions += 1;
                let Some(f) = transfer(|t| steps.at(t), Micros(node.request), model.latency, bytes)
                else {
                    continue;
                };
                let (stall, request, buffer) =
                    after(k == 0, node.request, node.buffer, f.0, seg, goal);
                let score = if k == 0 {
                    0
                } else {
                    let r = i128::from(video.bitrates[l]);
                    let prev = i128::from(video.bitrates[node.level]);
                    node.score + (r - (r - prev).abs()) * 1_000_000 - top * i128::from(stall)
                };
                if last {
                    if best.is_none_or(|(s, fin, _, _)| score > s || (score == s && f.0 < fin)) {
                        best = Some((score, f.0, p, l));
                    }
                } else {
                    next.push(Node {
                        level: l,
                        request,
                        buffer,
                        score,
                        parent: p,
                    });
                }
            }
        }
        if !last {
            layer = prune(next, resolution.0, top);
            stats.states.push(layer.len());
            trail.push(layer.iter().map(|x| (x.parent, x.level)).collect());
        }
    }
    let (_, _, mut parent, level) = best?;
    let mut levels = vec![level];
    for kept in trail.iter().rev() {
        let (p, l) = kept[parent];
        levels.push(l);
        parent = p;
    }
    levels.reverse();
    Some((evaluate(video, trace, model, &levels)?, stats))
}

/// Bins the candidate states, then drops the dominated ones (see the module docs).
fn prune(mut states: Vec<Node>, resolution: i64, top: i128) -> Vec<Node> {
    let bin = |x: &Node| {
        (
            x.level,
            x.request.div_euclid(resolution),
            x.buffer.div_euclid(resolution),
        )
    };
    states.sort_unstable_by(|a, b| {
        bin(a)
            .cmp(&bin(b))
            .then(b.score.cmp(&a.score))
            .then((a.request, a.buffer).cmp(&(b.request, b.buffer)))
    });
    states.dedup_by_key(|x| bin(x));

    let deadline = |x: &Node| x.request + x.buffer;
    let adjusted = |x: &Node| x.score + top * i128::from(deadline(x));
    states.sort_unstable_by(|a, b| {
        (a.level, a.request, deadline(a))
            .cmp(&(b.level, b.request, deadline(b)))
            .then(adjusted(b).cmp(&adjusted(a)))
    });
    let mut kept = Vec::with_capacity(states.len());
    // For the states kept so far at this level (all requesting no later than the current
    // one): deadline -> the best adjusted score up to that deadline, strictly increasing.
    let mut stairs: BTreeMap<i64, i128> = BTreeMap::new();
    let mut level = usize::MAX;
    for x in states {
        if x.level != level {
            stairs.clear();
            level = x.level;
        }
        let (d, v) = (deadline(&x), adjusted(&x));
        if stairs.range(..=d).next_back().is_some_and(|(_, &w)| w >= v) {
            continue;
        }
        let covered: Vec<i64> = stairs
            .range(d..)
            .take_while(|&(_, &w)| w <= v)
            .map(|(&e, _)| e)
            .collect();
        for e in covered {
            stairs.remove(&e);
        }
        stairs.insert(d, v);
        kept.push(x);
    }
    kept
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::abr_eval::traces::{NamedTrace, read_folder};
    use crate::abr_eval::video::{PENSIEVE_BITRATES, PENSIEVE_CHUNKS};
    use crate::sim::net::{Ending, Network};

    const PENSIEVE_LATENCY: Micros = Micros(80_000);

    fn shared(rel: &str) -> Option<std::path::PathBuf> {
        super::super::shared_for_test(rel)
    }

    fn pensieve_video() -> Option<Video> {
        let dir = shared("pensieve_video/computed_from_pensieve_video_server")?;
        Some(Video::read(&dir, None).unwrap())
    }

    fn bbb() -> Option<Video> {
        let p = shared("sabre_movies/bbb.json")?;
        Some(Video::read(&p, None).unwrap())
    }

    fn folder(rel: &str) -> Option<Vec<NamedTrace>> {
        Some(read_folder(&shared(rel)?).unwrap())
    }

    /// Every `step`-th trace, starting at the first.
    fn every(traces: &[NamedTrace], step: usize) -> Vec<&NamedTrace> {
        traces.iter().step_by(step).collect()
    }

    fn model(latency: Micros, goal_s: i64, chunks: usize) -> Model {
        Model {
            latency,
            goal: Micros(goal_s * 1_000_000),
            start: Micros::ZERO,
            chunks,
        }
    }

    /// The best QoE over all plans (every level for every chunk).
    fn brute_force(video: &Video, trace: &Trace, model: &Model) -> Plan {
        let (n, m) = (model.chunks, video.levels());
        let mut levels = vec![0usize; n];
        let mut best: Option<Plan> = None;
        loop {
            let p = evaluate(video, trace, model, &levels).unwrap();
            if best.as_ref().is_none_or(|b| p.qoe > b.qoe) {
                best = Some(p);
            }
            // The next plan, odometer-wise.
            let mut k = 0;
            while k < n && levels[k] + 1 == m {
                levels[k] = 0;
                k += 1;
            }
            if k == n {
                return best.unwrap();
            }
            levels[k] += 1;
        }
    }

    fn network_finish(trace: &Trace, at: Micros, latency: Micros, bytes: u64) -> Micros {
        let mut net = Network::new(trace.clone(), latency);
        let ok = Ending::Response {
            status: 200,
            body: None,
        };
        net.start(1, at, Micros::ZERO, bytes, ok);
        let mut t = at;
        loop {
            let n = net.next_event(t).unwrap();
            if !net.advance(t, n).is_empty() {
                return n;
            }
            t = n;
        }
    }

    #[test]
    fn download_agrees_with_the_network() {
        let Some(dir) = shared("pensieve_cooked_traces") else {
            return;
        };
        let name = "bus.ljansbakken-oslo-report.2010-09-28_1407CEST.log";
        let trace = Trace::pensieve(&std::fs::read_to_string(dir.join(name)).unwrap());
        let mut compared = 0;
        for at in [
            0,
            1,
            999_999,
            1_234_567,
            100_000_000,
            440_500_000,
            3_000_000_001,
        ] {
            for bytes in [0, 1, 1_000, 181_801, 2_000_000, 9_876_543] {
                for latency in [Micros::ZERO, PENSIEVE_LATENCY] {
                    let at = Micros(at);
                    let ours = download(&trace, at, latency, bytes).unwrap();
                    assert_eq!(
                        ours,
                        network_finish(&trace, at, latency, bytes),
                        "at {at} {bytes} bytes latency {latency}"
                    );
                    let mut steps = Steps::new(&trace, Micros(0));
                    assert_eq!(transfer(|t| steps.at(t), at, latency, bytes), Some(ours));
                    compared += 1;
                }
            }
        }
        println!("download == Network for {compared} transfers on {name}");
    }

    #[test]
    fn download_gives_up_after_a_day() {
        let dead = Trace::steps(vec![(Micros(1_000_000), 0)]);
        assert_eq!(download(&dead, Micros(0), Micros(0), 1), None);
        assert_eq!(download(&dead, Micros(0), Micros(0), 0), Some(Micros(0)));
        // 1 bit/s: 8 bits take 8 s; rounding up to the microsecond.
        let slow = Trace::constant(3);
        assert_eq!(
            download(&slow, Micros(5), Micros(10), 1),
            Some(Micros(2_666_682))
        );
        let day = Trace::constant(8);
        assert_eq!(download(&day, Micros(0), Micros(0), 86_400), Some(HORIZON));
        assert_eq!(download(&day, Micros(0), Micros(1), 86_400), None);
    }

    #[test]
    fn lowest_plan_on_a_fast_trace_never_stalls() {
        let video = Video::new(
            "synthetic".into(),
            Micros(4_000_000),
            PENSIEVE_BITRATES.to_vec(),
            vec![PENSIEVE_BITRATES.iter().map(|b| b / 2).collect(); 49],
        )
        .unwrap();
        let trace = Trace::constant(100_000_000);
        let m = model(PENSIEVE_LATENCY, 60, PENSIEVE_CHUNKS);
        let plan = evaluate(&video, &trace, &m, &[0; PENSIEVE_CHUNKS]).unwrap();
        assert_eq!(plan.stall, Micros::ZERO);
        assert_eq!(plan.qoe, 47.0 * 0.3);
        // The optimum on that trace: the top level throughout, no stall.
        let best = optimum(&video, &trace, &m, Micros(100_000)).unwrap();
        assert_eq!(best.levels, vec![5; PENSIEVE_CHUNKS]);
        assert_eq!(best.stall, Micros::ZERO);
        assert!((best.qoe - 47.0 * 4.3).abs() < 1e-9);
        // Plans and models that do not fit.
        assert!(evaluate(&video, &trace, &m, &[0; 3]).is_none());
        assert!(evaluate(&video, &trace, &m, &[6; PENSIEVE_CHUNKS]).is_none());
        assert!(optimum(&video, &trace, &model(Micros(0), 60, 50), Micros(1)).is_none());
        assert!(optimum(&video, &trace, &m, Micros(0)).is_none());
    }

    #[test]
    fn waits_at_the_goal() {
        // 8 Mbit/s, 1 Mbit chunks of 2 s: each takes 125 ms; a 5 s goal makes it wait.
        let video = Video::new(
            "w".into(),
            Micros(2_000_000),
            vec![1_000_000],
            vec![vec![125_000]; 5],
        )
        .unwrap();
        let trace = Trace::constant(8_000_000);
        let plan = evaluate(&video, &trace, &model(Micros(0), 5, 5), &[0; 5]).unwrap();
        // Chunk 0 at 0.125 s (buffer 2); 1 at 0.25 (3.875); 2 at 0.375 (5.75, waits 0.75);
        // 3 requested at 1.125 arrives 1.25 (buffer 6.875, waits 1.875); 4 from 3.125.
        assert_eq!(plan.finish, Micros(3_250_000));
        assert_eq!(plan.stall, Micros::ZERO);
        // A trace that stops: 1 s at 8 Mbit/s, then 10 s of nothing.
        let gap = Trace::steps(vec![
            (Micros(1_000_000), 8_000_000),
            (Micros(10_000_000), 0),
        ]);
        let plan = evaluate(&video, &gap, &model(Micros(0), 5, 5), &[0; 5]).unwrap();
        // Chunks 0-2 arrive by 0.375 s (buffer 5.75: waits to 1.125, when the link is
        // down until 11 s); chunk 3 arrives at 11.125 s, the 5 s buffer dry since 6.125 s.
        assert_eq!(plan.stall, Micros(5_000_000));
        assert_eq!(plan.finish, Micros(11_250_000));
        assert!((plan.qoe - (4.0 - 1.0 * 5.0)).abs() < 1e-12, "{}", plan.qoe);
    }

    /// Small pseudo-random traces with outages, against brute force with exact bins (1 µs):
    /// dominance pruning must lose nothing.
    #[test]
    fn exact_program_matches_brute_force_on_synthetic_traces() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let ladder = vec![200_000, 600_000, 1_500_000, 3_000_000];
        for case in 0..24 {
            let sizes = (0..5)
                .map(|_| ladder.iter().map(|b| b / 8 * (2 + rand(4)) / 2).collect())
                .collect();
            let video = Video::new("s".into(), Micros(2_000_000), ladder.clone(), sizes).unwrap();
            let steps = (0..8)
                .map(|_| {
                    let bps = if rand(3) == 0 { 0 } else { 100_000 * rand(40) };
                    (Micros(250_000 * (1 + rand(12) as i64)), bps)
                })
                .collect::<Vec<_>>();
            if steps.iter().all(|&(_, bps)| bps == 0) {
                continue;
            }
            let trace = Trace::steps(steps);
            let m = model(Micros(rand(100_000) as i64), 1 + rand(6) as i64, 5);
            let brute = brute_force(&video, &trace, &m);
            let (dp, stats) = optimum_with_stats(&video, &trace, &m, Micros(1)).unwrap();
            assert!(
                (dp.qoe - brute.qoe).abs() < 1e-9,
                "case {case}: dp {} {:?} brute {} {:?}",
                dp.qoe,
                dp.levels,
                brute.qoe,
                brute.levels
            );
            assert!(stats.states.iter().all(|&s| s > 0));
        }
    }

    fn check_brute_force(video: &Video, traces: &[&NamedTrace], chunks: usize, goals: &[i64]) {
        for t in traces {
            for &goal in goals {
                let m = model(t.latency.unwrap_or(PENSIEVE_LATENCY), goal, chunks);
                let clock = Instant::now();
                let brute = brute_force(video, &t.trace, &m);
                let brute_time = clock.elapsed();
                let dp = optimum(video, &t.trace, &m, Micros(10_000)).unwrap();
                println!(
                    "{} {} goal {goal}s {chunks} chunks: brute {:.4} {:?} ({brute_time:.2?}), dp {:.4} {:?}",
                    video.name, t.name, brute.qoe, brute.levels, dp.qoe, dp.levels
                );
                assert!(dp.qoe <= brute.qoe + 1e-9);
                assert!(
                    brute.qoe - dp.qoe < 0.01,
                    "{}: dp {} brute {}",
                    t.name,
                    dp.qoe,
                    brute.qoe
                );
            }
        }
    }

    #[test]
    fn optimum_matches_brute_force_on_pensieve_traces() {
        let (Some(video), Some(traces)) = (pensieve_video(), folder("pensieve_cooked_traces"))
        else {
            return;
        };
        // 5 traces spread over the folder (FCC and Norway), two goals.
        check_brute_force(&video, &every(&traces, 26), 6, &[60, 8]);
    }

    #[test]
    fn optimum_matches_brute_force_on_sabre_traces() {
        let (Some(video), Some(traces)) = (bbb(), folder("sabre_fcc_sd")) else {
            return;
        };
        let chunks = if cfg!(debug_assertions) { 4 } else { 5 };
        check_brute_force(&video, &every(&traces, 500), chunks, &[25, 6]);
    }

    #[test]
    fn optimum_converges_with_resolution() {
        let (Some(video), Some(traces)) = (pensieve_video(), folder("pensieve_cooked_traces"))
        else {
            return;
        };
        let m = model(PENSIEVE_LATENCY, 60, PENSIEVE_CHUNKS);
        for t in every(&traces, 40) {
            let coarse = optimum(&video, &t.trace, &m, Micros(100_000)).unwrap();
            let fine = optimum(&video, &t.trace, &m, Micros(25_000)).unwrap();
            let gap = (fine.qoe - coarse.qoe).abs();
            println!(
                "{}: QoE {:.4} at 100 ms, {:.4} at 25 ms ({:.3} %)",
                t.name,
                coarse.qoe,
                fine.qoe,
                100.0 * gap / fine.qoe.abs().max(1e-9)
            );
            assert!(gap < 0.005 * fine.qoe.abs().max(1.0), "{}", t.name);
        }
    }

    fn timing(video: &Video, traces: &[&NamedTrace], chunks: usize, goal: i64) {
        let m = |t: &NamedTrace| model(t.latency.unwrap_or(PENSIEVE_LATENCY), goal, chunks);
        let clock = Instant::now();
        let (mut states, mut qoe, mut worst) = (0.0, 0.0, 0i64);
        for t in traces {
            let one = Instant::now();
            let (plan, stats) =
                optimum_with_stats(video, &t.trace, &m(t), Micros(100_000)).unwrap();
            worst = worst.max(one.elapsed().as_micros() as i64);
            states += stats.mean_states();
            qoe += plan.qoe;
        }
        let n = traces.len() as f64;
        println!(
            "optimum {} {chunks} chunks, goal {goal}s, 100 ms bins, {} traces: {:.1} ms per trace (worst {:.1} ms), {:.0} states per chunk, mean QoE {:.3}",
            video.name,
            traces.len(),
            clock.elapsed().as_secs_f64() * 1e3 / n,
            worst as f64 / 1e3,
            states / n,
            qoe / n
        );
    }

    #[test]
    fn optimum_timing() {
        let release = !cfg!(debug_assertions);
        if let (Some(video), Some(traces)) = (pensieve_video(), folder("pensieve_cooked_traces")) {
            let step = if release { 1 } else { 40 };
            timing(&video, &every(&traces, step), PENSIEVE_CHUNKS, 60);
        }
        if let (Some(video), Some(traces)) = (bbb(), folder("sabre_fcc_sd")) {
            let step = if release { 20 } else { 500 };
            timing(&video, &every(&traces, step), 60, 25);
        }
    }
}
