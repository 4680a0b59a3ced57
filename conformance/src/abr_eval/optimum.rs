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
//! bins of `resolution` in s and b per level, keeping the highest score with its exact s,
//! b and a back-pointer: binning is the only approximation (a resolution of 1 µs makes the
//! program exact). Other states are dropped only when they cannot matter:
//! - dominated: A dominates B when they have the same level, s_A <= s_B, D_A <= D_B and
//!   score_A + w D_A >= score_B + w D_B, with D = s + b the time the buffer would run dry
//!   and w the rebuffer weight. Following B's choices, A finishes every download no later
//!   than B, and whatever deadline it lacks is already paid for in score, so it ends with
//!   at least B's score. Earlier with more buffer at the request is *not* enough: B's
//!   buffer may still last longer (it runs from a later request), and a fuller buffer can
//!   be forced to wait at the goal while the throughput is good;
//! - hopeless: its score plus an upper bound on what the remaining chunks can add cannot
//!   beat a plan already found. The bound: the remaining bitrates are limited by the bits
//!   the trace delivers before the last chunk's deadline (a fractional knapsack over the
//!   sizes), more bits cost the stall of the time they take past it, and switches cost at
//!   least the distance from the current bitrate to their mean.
//!
//! The plans to beat come from two cheaper passes with 10 times coarser bins: one keeping
//! only states not beaten by an earlier request with more buffer and more score (a
//! heuristic), then an exact one.

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
    /// The level of chunk 0 when it is not the program's to choose (Pensieve's simulator
    /// fetches it at a default quality). `None`: any level.
    pub first: Option<usize>,
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
    /// States kept after each chunk but the last, in the final pass.
    pub states: Vec<usize>,
    /// Transitions computed (a download each), all passes.
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
    let deadline = request_at.0.checked_add(HORIZON.0)?;
    let mut t = request_at.0.checked_add(latency.0)?;
    // Bit-microseconds still to transfer.
    let mut left = u128::from(bytes) * 8 * 1_000_000;
    while t <= deadline {
        if left == 0 {
            return Some(Micros(t));
        }
        let (bps, end) = trace.at(Micros(t));
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

/// A trace's steps from `from` on with their cumulative capacity, filled lazily from
/// [`Trace::at`] (which scans from the loop's start on every call): a download is then two
/// binary searches.
struct Steps<'a> {
    trace: &'a Trace,
    from: i64,
    /// Where each step ends.
    ends: Vec<i64>,
    /// Its throughput, bit/s.
    rates: Vec<u64>,
    /// Bit-microseconds deliverable from `from` to each step's end.
    capacity: Vec<u128>,
    /// The last step found, per kind of lookup (downloads, bounds).
    hints: [usize; 2],
}

impl<'a> Steps<'a> {
    fn new(trace: &'a Trace, from: Micros) -> Steps<'a> {
        Steps {
            trace,
            from: from.0,
            ends: Vec::new(),
            rates: Vec::new(),
            capacity: Vec::new(),
            hints: [0; 2],
        }
    }

    /// Where step `i` starts and the capacity up to there.
    fn start(&self, i: usize) -> (i64, u128) {
        match i.checked_sub(1) {
            Some(h) => (self.ends[h], self.capacity[h]),
            None => (self.from, 0),
        }
    }

    /// Adds the next step.
    fn extend(&mut self) {
        let (covered, cap) = self.start(self.ends.len());
        let (bps, end) = self.trace.at(Micros(covered));
        let end = end.0.max(covered + 1);
        self.ends.push(end);
        self.rates.push(bps);
        self.capacity
            .push(cap + u128::from(bps) * (end - covered) as u128);
    }

    /// The step holding `t` (at or after `from`), adding steps as needed. With a `hint`
    /// slot: try the step found last there first, and remember this one (lookups of one
    /// kind come mostly in increasing order).
    fn locate(&mut self, t: i64, hint: Option<usize>) -> usize {
        while self.ends.last().is_none_or(|&e| e <= t) {
            self.extend();
        }
        let Some(slot) = hint.filter(|&h| h < self.hints.len()) else {
            return self.ends.partition_point(|&e| e <= t);
        };
        let h = self.hints[slot].min(self.ends.len() - 1);
        let i = if self.start(h).0 <= t && t < self.ends[h] {
            h
        } else if h + 1 < self.ends.len() && self.ends[h] <= t && t < self.ends[h + 1] {
            h + 1
        } else {
            self.ends.partition_point(|&e| e <= t)
        };
        self.hints[slot] = i;
        i
    }

    /// The capacity from `from` to `t` (at or after `from`), bit-microseconds.
    fn capacity_at(&mut self, t: i64, hint: Option<usize>) -> u128 {
        let i = self.locate(t, hint);
        let (start, cap) = self.start(i);
        cap + u128::from(self.rates[i]) * (t - start) as u128
    }

    /// When `amount` bit-microseconds have flowed from `first` on (rounded up), if by
    /// `deadline`.
    fn reach(
        &mut self,
        first: i64,
        amount: u128,
        deadline: i64,
        hint: Option<usize>,
    ) -> Option<i64> {
        let i = self.locate(first, hint);
        let (start, cap) = self.start(i);
        let at_first = cap + u128::from(self.rates[i]) * (first - start) as u128;
        let target = at_first + amount;
        while self.capacity.last().is_some_and(|&c| c < target) {
            if self.ends.last().is_some_and(|&e| e > deadline) {
                return None;
            }
            self.extend();
        }
        // Most downloads span a few steps.
        let near = self.capacity[i..].iter().take(8).position(|&c| c >= target);
        let j = match near {
            Some(d) => i + d,
            None => self.capacity.partition_point(|&c| c < target),
        };
        let (start, cap) = if j == i {
            (first, at_first)
        } else {
            self.start(j)
        };
        let left = target - cap;
        let bps = u128::from(self.rates[j]);
        let need = match (u64::try_from(left), u64::try_from(bps)) {
            (Ok(l), Ok(b)) => u128::from(l.div_ceil(b)),
            _ => left.div_ceil(bps),
        };
        let finish = start.checked_add(i64::try_from(need).ok()?)?;
        (finish <= deadline).then_some(finish)
    }

    /// [`download`], the same result.
    fn download(&mut self, request_at: Micros, latency: Micros, bytes: u64) -> Option<Micros> {
        let (Some(deadline), Some(first)) = (
            request_at.0.checked_add(HORIZON.0),
            request_at.0.checked_add(latency.0),
        ) else {
            return None;
        };
        if first < self.from {
            return download(self.trace, request_at, latency, bytes);
        }
        if bytes == 0 {
            return (first <= deadline).then_some(Micros(first));
        }
        self.reach(first, u128::from(bytes) * 8 * 1_000_000, deadline, Some(0))
            .map(Micros)
    }
}

/// After a chunk requested at `request` with `buffer` ahead arrives at `finish`: its stall,
/// the next request time and the buffer then. The first chunk starts playback (no stall).
pub(super) fn after(
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
pub(super) fn fits(video: &Video, model: &Model) -> bool {
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

impl Node {
    /// When the buffer would run dry: D = s + b.
    fn deadline(&self) -> i128 {
        i128::from(self.request) + i128::from(self.buffer)
    }
}

/// [`optimum`] with the program's state counts.
pub fn optimum_with_stats(
    video: &Video,
    trace: &Trace,
    model: &Model,
    resolution: Micros,
) -> Option<(Plan, Stats)> {
    optimum_after(video, trace, model, &[], resolution)
}

/// The best plan whose first chunks are played at `prefix`'s levels: what the optimum can
/// still make of a session after those choices (the labels of `learn`). `None` as for
/// [`optimum`], or when the prefix is longer than the session or names no level.
pub fn optimum_after(
    video: &Video,
    trace: &Trace,
    model: &Model,
    prefix: &[usize],
    resolution: Micros,
) -> Option<(Plan, Stats)> {
    if !fits(video, model)
        || resolution.0 <= 0
        || prefix.len() > model.chunks
        || prefix.iter().any(|&l| l >= video.bitrates.len())
    {
        return None;
    }
    // Passes that each give a plan to beat to the next: a quick one (coarse bins,
    // heuristic dominance), an exact one with coarse bins, then the exact one at
    // `resolution`. The exact passes drop every state whose upper bound cannot beat the
    // plan found so far.
    let coarse = Micros(resolution.0.saturating_mul(COARSE));
    let (quick, mut stats) = search(video, trace, model, prefix, coarse, Rule::Buffer, None);
    let mut best = quick?;
    for res in [coarse, resolution] {
        let (found, pass) = search(
            video,
            trace,
            model,
            prefix,
            res,
            Rule::Exact,
            Some(best.score),
        );
        stats.transitions += pass.transitions;
        stats.states = pass.states;
        if let Some(found) = found.filter(|f| f.score >= best.score) {
            best = found;
        }
    }
    Some((evaluate(video, trace, model, &best.levels)?, stats))
}

/// How much coarser the bins of the first passes are.
const COARSE: i64 = 10;

/// The best plan one pass of the program found.
struct Found {
    levels: Vec<usize>,
    /// Its exact score, QoE x 10^12.
    score: i128,
}

/// For each chunk k, upper bounds on the bitrate sum of chunks k+1.. for a budget of bits:
/// breakpoints (bits, bit/s summed) of the upper concave hull of their choices (the
/// fractional knapsack), from all lowest to all highest.
fn hulls(video: &Video, n: usize) -> Vec<Vec<(u128, i128)>> {
    let mut out = vec![Vec::new(); n];
    let (mut base_bits, mut base_rate) = (0u128, 0i128);
    let mut increments: Vec<(u128, i128)> = Vec::new();
    for k in (0..n.saturating_sub(1)).rev() {
        let mut choices: Vec<(u128, i128)> = video.sizes[k + 1]
            .iter()
            .zip(&video.bitrates)
            .map(|(&bytes, &bps)| (u128::from(bytes) * 8, i128::from(bps)))
            .collect();
        choices.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let Some(&first) = choices.first() else {
            continue;
        };
        base_bits += first.0;
        base_rate += first.1;
        let mut hull = vec![first];
        for &(b, r) in &choices[1..] {
            if hull.last().is_some_and(|&(_, lr)| r <= lr) {
                continue;
            }
            // Pop points on or under the chord to the new one.
            while let [.., a, m] = hull[..] {
                let lhs = (r - a.1) * (m.0 - a.0) as i128;
                let rhs = (m.1 - a.1) * (b - a.0) as i128;
                if lhs >= rhs {
                    hull.pop();
                } else {
                    break;
                }
            }
            hull.push((b, r));
        }
        increments.extend(hull.windows(2).map(|w| (w[1].0 - w[0].0, w[1].1 - w[0].1)));
        // Steepest first: a / b before c / d when a d > c b.
        increments.sort_by(|x, y| (y.1 * x.0 as i128).cmp(&(x.1 * y.0 as i128)));
        let mut points = vec![(base_bits, base_rate)];
        for &(db, dr) in &increments {
            let (b, r) = points[points.len() - 1];
            points.push((b + db, r + dr));
        }
        out[k] = points;
    }
    out
}

/// An upper bound on what the `m` chunks after this one can add to the score (QoE x
/// 10^12), from a state at bitrate `rate` whose next request's first byte comes at `first`
/// and whose buffer would run dry at `last_deadline` minus m-1 segments:
/// - their bitrate sum R is bounded by the bits deliverable (`hull`);
/// - their stall by the time these bits take past `last_deadline`;
/// - their switches by |R/m - rate| (the total variation reaches the mean).
///
/// Latencies are ignored.
fn upper_bound(
    steps: &mut Steps<'_>,
    hull: &[(u128, i128)],
    (first, last_deadline): (i64, i64),
    (rate, m): (i128, i128),
    top: i128,
) -> i128 {
    // The bitrate terms for a bitrate sum: increasing in it.
    let gain = |sum: i128| sum * 1_000_000 - ((sum - m * rate).abs() * 1_000_000) / m.max(1);
    let Some(&(_, most)) = hull.last() else {
        return 0;
    };
    let most = gain(most);
    if first < steps.from {
        return most;
    }
    let capacity = if last_deadline > first {
        steps.capacity_at(last_deadline, None) - steps.capacity_at(first, Some(1))
    } else {
        0
    };
    // The hull's segments: up to point 0 (the least bits), then (point i-1, point i].
    // Within one, the bitrates reach at most point i's and the bits need at least the time
    // point i-1's take.
    let p = hull.partition_point(|&(b, _)| b * 1_000_000 <= capacity);
    if p == hull.len() {
        return most;
    }
    let penalty = |steps: &mut Steps<'_>, bits: u128| match steps.reach(
        first,
        bits * 1_000_000,
        first.saturating_add(HORIZON.0),
        Some(1),
    ) {
        Some(t) => top * i128::from((t - last_deadline).max(0)),
        None => i128::MAX / 4,
    };
    let mut best = if p == 0 {
        gain(hull[0].1) - penalty(steps, hull[0].0)
    } else {
        gain(hull[p].1)
    };
    for i in p + 1..hull.len() {
        let pen = penalty(steps, hull[i - 1].0);
        if most - pen <= best {
            break;
        }
        best = best.max(gain(hull[i].1) - pen);
    }
    best
}

/// One pass of the program with dominance `rule`, the first chunks at `prefix`'s levels; with `beat`, states whose upper bound
/// cannot reach that score are dropped.
fn search(
    video: &Video,
    trace: &Trace,
    model: &Model,
    prefix: &[usize],
    resolution: Micros,
    rule: Rule,
    beat: Option<i128>,
) -> (Option<Found>, Stats) {
    let mut stats = Stats::default();
    let (seg, goal, n) = (video.segment_duration.0, model.goal.0, model.chunks);
    let Some(&top) = video.bitrates.last() else {
        return (None, stats);
    };
    let top = i128::from(top);
    let mut steps = Steps::new(trace, model.start.saturating_add(model.latency));
    let hulls = if beat.is_some() {
        hulls(video, n)
    } else {
        Vec::new()
    };
    // The root: nothing played, chunk 0 requested at start.
    let mut layer = vec![Node {
        level: 0,
        request: model.start.0,
        buffer: 0,
        score: 0,
        parent: 0,
    }];
    let mut next = Vec::new();
    let mut scratch = Scratch::default();
    // (parent, level) of every state kept after chunk k, for k < n - 1.
    let mut trail: Vec<Vec<(usize, usize)>> = Vec::with_capacity(n);
    // The best final transition: score, finish, parent, level.
    let mut best: Option<(i128, i64, usize, usize)> = None;
    for (k, sizes) in video.sizes[..n].iter().enumerate() {
        let last = k + 1 == n;
        // The last deadline is this much after the next one.
        let ahead = (n - k).saturating_sub(2) as i64 * seg;
        next.clear();
        for (l, &bytes) in sizes.iter().enumerate() {
            if k == 0 && model.first.is_some_and(|f| f != l)
                || prefix.get(k).is_some_and(|&f| f != l)
            {
                continue;
            }
            scratch.candidates.clear();
            let r = i128::from(video.bitrates[l]);
            for (p, node) in layer.iter().enumerate() {
                stats.transitions += 1;
                let Some(f) = steps.download(Micros(node.request), model.latency, bytes) else {
                    continue;
                };
                let (stall, request, buffer) =
                    after(k == 0, node.request, node.buffer, f.0, seg, goal);
                let score = if k == 0 {
                    0
                } else {
                    let prev = i128::from(video.bitrates[node.level]);
                    node.score + (r - (r - prev).abs()) * 1_000_000 - top * i128::from(stall)
                };
                if last {
                    if best.is_none_or(|(s, fin, _, _)| score > s || (score == s && f.0 < fin)) {
                        best = Some((score, f.0, p, l));
                    }
                    continue;
                }
                scratch.candidates.push(Node {
                    level: l,
                    request,
                    buffer,
                    score,
                    parent: p,
                });
            }
            if !last {
                // Dominated states go first: a state dominating another bounds it too.
                scratch.prune(resolution.0, top, rule, &mut next, |x| {
                    beat.is_none_or(|beat| {
                        let first = x.request.saturating_add(model.latency.0);
                        let last_deadline = x.request + x.buffer + ahead;
                        let left = (n - 1 - k) as i128;
                        let bound = upper_bound(
                            &mut steps,
                            &hulls[k],
                            (first, last_deadline),
                            (r, left),
                            top,
                        );
                        x.score + bound >= beat
                    })
                });
            }
        }
        if !last {
            std::mem::swap(&mut layer, &mut next);
            stats.states.push(layer.len());
            trail.push(layer.iter().map(|x| (x.parent, x.level)).collect());
        }
    }
    let found = best.map(|(score, _, mut parent, level)| {
        let mut levels = vec![level];
        for kept in trail.iter().rev() {
            let (p, l) = kept[parent];
            levels.push(l);
            parent = p;
        }
        levels.reverse();
        Found { levels, score }
    });
    (found, stats)
}

/// Points (x, y) where y strictly increases with x: the best y up to each x.
#[derive(Debug, Default)]
struct Stairs(Vec<(i128, i128)>);

impl Stairs {
    /// Whether a point with x' <= x and y' >= y is there.
    fn dominated(&self, x: i128, y: i128) -> bool {
        let p = self.0.partition_point(|&(e, _)| e <= x);
        p > 0 && self.0[p - 1].1 >= y
    }

    /// Adds a point that is not dominated, dropping those it dominates.
    fn insert(&mut self, x: i128, y: i128) {
        let p = self.0.partition_point(|&(e, _)| e < x);
        let q = p + self.0[p..].iter().take_while(|&&(_, w)| w <= y).count();
        self.0.splice(p..q, [(x, y)]);
    }
}

/// Which states count as dominated (after binning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// A dominates B when s_A <= s_B, D_A <= D_B and score_A + w D_A >= score_B + w D_B
    /// (the module docs): exact.
    Exact,
    /// A dominates B when s_A <= s_B, b_A >= b_B and score_A >= score_B: a heuristic (B
    /// may have the later deadline), quick, for a first plan to beat.
    Buffer,
}

/// Reused buffers of the program.
#[derive(Debug, Default)]
struct Scratch {
    /// The transitions to one level.
    candidates: Vec<Node>,
    /// (request time, index in `candidates`), by request time.
    order: Vec<(i64, usize)>,
    /// One bin of request times: (buffer bin, -score, request, buffer, index).
    group: Vec<(i64, i128, i64, i64, usize)>,
    /// Its best state per buffer bin: (request, deadline, -adjusted, -score, index).
    kept: Vec<(i64, i128, i128, i128, usize)>,
    stairs: Stairs,
}

impl Scratch {
    /// Bins the candidates (all at one level), drops the dominated ones (see the module
    /// docs) and appends the rest that `keep` accepts to `out`, by request time.
    fn prune(
        &mut self,
        resolution: i64,
        top: i128,
        rule: Rule,
        out: &mut Vec<Node>,
        mut keep: impl FnMut(&Node) -> bool,
    ) {
        let nodes = &self.candidates;
        self.order.clear();
        self.order
            .extend(nodes.iter().enumerate().map(|(i, x)| (x.request, i)));
        // Mostly sorted runs already (one per previous level): a stable sort is fast here.
        self.order.sort_by_key(|&(request, _)| request);
        self.stairs.0.clear();
        let mut i = 0;
        while i < self.order.len() {
            let bin = self.order[i].0.div_euclid(resolution);
            let len = self.order[i..]
                .iter()
                .position(|&(r, _)| r.div_euclid(resolution) != bin)
                .unwrap_or(self.order.len() - i);
            // One request-time bin: the best score per buffer bin.
            self.group.clear();
            self.group
                .extend(self.order[i..i + len].iter().map(|&(_, j)| {
                    let x = &nodes[j];
                    (
                        x.buffer.div_euclid(resolution),
                        -x.score,
                        x.request,
                        x.buffer,
                        j,
                    )
                }));
            i += len;
            self.group.sort_unstable();
            self.group.dedup_by_key(|g| g.0);
            // Then by request time, so every state kept before requests no later.
            self.kept.clear();
            self.kept.extend(self.group.iter().map(|&(_, _, _, _, j)| {
                let x = &nodes[j];
                let d = x.deadline();
                let adjusted = x.score + top * d;
                (x.request, d, -adjusted, -x.score, j)
            }));
            self.kept.sort_unstable();
            for &(_, d, minus_adjusted, minus_score, j) in &self.kept {
                let (x, y) = match rule {
                    Rule::Exact => (d, -minus_adjusted),
                    Rule::Buffer => (-i128::from(nodes[j].buffer), -minus_score),
                };
                if self.stairs.dominated(x, y) {
                    continue;
                }
                self.stairs.insert(x, y);
                if keep(&nodes[j]) {
                    out.push(nodes[j]);
                }
            }
        }
    }
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
            first: None,
            chunks,
        }
    }

    /// The best QoE over all plans (every level for every chunk, chunk 0's fixed if the
    /// model says so).
    fn brute_force(video: &Video, trace: &Trace, model: &Model) -> Plan {
        let (n, m) = (model.chunks, video.levels());
        let mut levels = vec![0usize; n];
        let mut best: Option<Plan> = None;
        loop {
            let p = evaluate(video, trace, model, &levels).unwrap();
            let allowed = model.first.is_none_or(|f| f == levels[0]);
            if allowed && best.as_ref().is_none_or(|b| p.qoe > b.qoe) {
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
                    assert_eq!(steps.download(at, latency, bytes), Some(ours));
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

    /// Small pseudo-random traces with outages and sizes not always growing with the level,
    /// against brute force with exact bins (1 µs): dominance and bounds must lose nothing.
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
        let mut checked = 0;
        for case in 0..150 {
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
            let mut m = model(Micros(rand(100_000) as i64), 1 + rand(6) as i64, 5);
            // Every third case, chunk 0's level is fixed (Pensieve's startup chunk).
            if case % 3 == 0 {
                m.first = Some(rand(4) as usize);
            }
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
            assert!(m.first.is_none_or(|f| dp.levels[0] == f));
            checked += 1;
        }
        println!("{checked} synthetic cases match brute force");
        assert!(checked > 100);
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
    fn a_prefix_fixes_the_first_chunks_and_the_rest_is_optimal() {
        let (Some(video), Some(traces)) = (pensieve_video(), folder("pensieve_cooked_traces"))
        else {
            return;
        };
        let chunks = 4;
        let m = model(PENSIEVE_LATENCY, 60, chunks);
        let levels = video.levels();
        for t in every(&traces, 60) {
            // Every plan, by QoE.
            let plans: Vec<Plan> = (0..levels.pow(chunks as u32))
                .map(|mut code| {
                    let plan: Vec<usize> = (0..chunks)
                        .map(|_| {
                            let l = code % levels;
                            code /= levels;
                            l
                        })
                        .collect();
                    evaluate(&video, &t.trace, &m, &plan).unwrap()
                })
                .collect();
            for prefix in [vec![], vec![5], vec![0, 3], vec![2, 2, 1], vec![1, 4, 0, 5]] {
                let best = plans
                    .iter()
                    .filter(|p| p.levels.starts_with(&prefix))
                    .map(|p| p.qoe)
                    .fold(f64::NEG_INFINITY, f64::max);
                let (found, _) = optimum_after(&video, &t.trace, &m, &prefix, Micros(1)).unwrap();
                assert!(found.levels.starts_with(&prefix), "{}: {prefix:?}", t.name);
                assert!((found.qoe - best).abs() < 1e-9, "{}: {prefix:?}", t.name);
            }
            assert!(optimum_after(&video, &t.trace, &m, &[0; 5], Micros(1)).is_none());
            assert!(optimum_after(&video, &t.trace, &m, &[levels], Micros(1)).is_none());
        }
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

    /// The passes and bounds drop no better plan: the same QoE as one plain exact pass with
    /// the same bins (binning its only approximation too), on traces across the folder.
    #[test]
    fn bounds_lose_nothing_against_the_plain_program() {
        let (Some(video), Some(traces)) = (pensieve_video(), folder("pensieve_cooked_traces"))
        else {
            return;
        };
        let (step, chunks) = if cfg!(debug_assertions) {
            (64, 16)
        } else {
            (16, PENSIEVE_CHUNKS)
        };
        for goal in [60, 8] {
            let m = model(PENSIEVE_LATENCY, goal, chunks);
            for t in every(&traces, step) {
                let res = Micros(100_000);
                let clock = Instant::now();
                let (found, plain_stats) =
                    search(&video, &t.trace, &m, &[], res, Rule::Exact, None);
                let found = found.unwrap();
                let plain_time = clock.elapsed();
                let plain = evaluate(&video, &t.trace, &m, &found.levels).unwrap();
                let clock = Instant::now();
                let (best, stats) = optimum_with_stats(&video, &t.trace, &m, res).unwrap();
                println!(
                    "{} goal {goal}s: plain {:.4} ({:.0} states, {plain_time:.1?}), optimum {:.4} ({:.0} states, {:.1?})",
                    t.name,
                    plain.qoe,
                    plain_stats.mean_states(),
                    best.qoe,
                    stats.mean_states(),
                    clock.elapsed()
                );
                assert!((best.qoe - plain.qoe).abs() < 0.01, "{}", t.name);
            }
        }
    }
}
