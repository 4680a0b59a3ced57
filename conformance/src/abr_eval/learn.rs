//! Training [`LearnedAbr`]'s network by imitation of the offline optimum (DAgger).
//!
//! 1. The engine plays every training trace with the current policy (at first Playhead's
//!    look-ahead), and every decision's feature rows ([`features`]) are recorded.
//! 2. Each decision is labelled with what the optimum can still make of the session after
//!    each rung: the dynamic program over the known trace, with the chunks before it fixed
//!    at the levels played ([`optimum::optimum_after`]). The engine follows the chunk model
//!    exactly, so the prefix puts the program in the state the engine was in.
//! 3. The network is fitted to all the decisions gathered so far ([`super::fit`]).
//! 4. The engine plays again with the new network, and its decisions join the data.
//!
//! Everything is deterministic: a seeded generator, one thread per trace share.

use std::sync::{Arc, Mutex};

use playhead::Micros;
use playhead::abr::{AbrAlgorithm, AbrPolicy, Observation, PlayheadAbr};

use super::learned::{FEATURES, LearnedAbr, Net, features};
use super::optimum::{self, Model};
use super::session::{self, Setup};
use super::video::Video;
use crate::sim::net::Trace;

/// One training trace with the session set-up it is played with.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its name.
    pub name: String,
    /// The throughput (already scaled to payload).
    pub trace: Trace,
    /// Chunks, goal and latency.
    pub setup: Setup,
}

/// One decision the engine met: a row of features per rung, and what the optimum can still
/// reach after each rung.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// [`features`] of each rung.
    pub rows: Vec<[f64; FEATURES]>,
    /// QoE_lin of the best plan that plays each rung next (after the levels played so far);
    /// the lowest value found minus 100 where a rung has no plan.
    pub values: Vec<f64>,
    /// The rung the policy chose.
    pub played: usize,
}

/// A policy that records the features of every decision and leaves it to `inner`.
#[derive(Debug)]
struct Recorder {
    inner: Box<dyn AbrPolicy>,
    base: PlayheadAbr,
    /// Segments left (the engine's count) and the rows, per call.
    rows: Arc<Mutex<Vec<Calls>>>,
}

/// What [`Recorder`] keeps of one call.
type Calls = (Option<u64>, Vec<[f64; FEATURES]>);

impl AbrPolicy for Recorder {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn choose(&self, obs: &Observation<'_>) -> usize {
        if let Ok(mut rows) = self.rows.lock() {
            rows.push((obs.remaining, features(obs, &self.base)));
        }
        self.inner.choose(obs)
    }
}

/// What one session gave: its decisions (labelled) and its QoE_lin.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rollout {
    /// The labelled decisions; empty when `label` was off or the session went wrong.
    pub decisions: Vec<Decision>,
    /// The session's QoE_lin.
    pub qoe: f64,
    /// The optimum's QoE_lin from the session's first request, when labelled.
    pub optimum: Option<f64>,
}

/// Plays `case` with `policy` in the engine and, with `label`, labels its decisions with the
/// optimum (time bins of `resolution`).
pub fn rollout(
    video: &Video,
    case: &Case,
    policy: Box<dyn AbrPolicy>,
    label: bool,
    resolution: Micros,
) -> Rollout {
    let rows = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
        inner: policy,
        base: PlayheadAbr::default(),
        rows: Arc::clone(&rows),
    };
    let outcome = session::play_with(
        video,
        &case.trace,
        &case.setup,
        AbrAlgorithm::Playhead,
        Some(Box::new(recorder)),
        false,
    );
    let qoe = super::qoe::metrics(video, &outcome.session).qoe;
    let calls = rows.lock().map(|r| r.clone()).unwrap_or_default();
    let levels = &outcome.session.levels;
    // The engine also asks when it picks the starting track; the decision for chunk k is
    // the last call with n - k segments left.
    let n = levels.len();
    let rows: Vec<Vec<[f64; FEATURES]>> = (0..n)
        .filter_map(|k| {
            let left = u64::try_from(n - k).ok();
            calls
                .iter()
                .rev()
                .find(|(r, _)| *r == left)
                .map(|(_, row)| row.clone())
        })
        .collect();
    if !label || outcome.error.is_some() || rows.len() != n {
        return Rollout {
            decisions: Vec::new(),
            qoe,
            optimum: None,
        };
    }
    let model = Model {
        latency: case.setup.latency,
        goal: case.setup.goal,
        start: outcome.first_request,
        chunks: levels.len(),
        first: None,
    };
    let best = optimum::optimum(video, &case.trace, &model, resolution).map(|p| p.qoe);
    let mut decisions = Vec::with_capacity(rows.len());
    let mut prefix = Vec::with_capacity(levels.len());
    for (k, row) in rows.into_iter().enumerate() {
        let mut values: Vec<Option<f64>> = Vec::with_capacity(row.len());
        for l in 0..row.len() {
            prefix.truncate(k);
            prefix.push(l);
            values.push(
                optimum::optimum_after(video, &case.trace, &model, &prefix, resolution)
                    .map(|(p, _)| p.qoe),
            );
        }
        let floor = values
            .iter()
            .flatten()
            .copied()
            .fold(f64::INFINITY, f64::min);
        if floor.is_finite() {
            decisions.push(Decision {
                rows: row,
                values: values.iter().map(|v| v.unwrap_or(floor - 100.0)).collect(),
                played: levels[k],
            });
        }
        prefix.truncate(k);
        prefix.push(levels[k]);
    }
    Rollout {
        decisions,
        qoe,
        optimum: best,
    }
}

/// Plays every case with a fresh policy from `make`, on `jobs` threads, results in order.
pub fn rollouts(
    video: &Video,
    cases: &[Case],
    make: &(dyn Fn() -> Box<dyn AbrPolicy> + Sync),
    label: bool,
    resolution: Micros,
    jobs: usize,
) -> Vec<Rollout> {
    super::map_parallel(cases, jobs, |c| {
        rollout(video, c, make(), label, resolution)
    })
}

/// A policy playing `net`.
pub fn policy(net: &Net) -> Box<dyn AbrPolicy> {
    Box::new(LearnedAbr {
        net: net.clone(),
        base: PlayheadAbr::default(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::abr_eval::fit::played_regret;
    use crate::abr_eval::learned::GAP;
    use crate::abr_eval::traces::read_folder;

    #[test]
    fn labels_follow_the_session_the_engine_played() {
        let Some(root) = crate::abr_eval::shared_traces_dir() else {
            println!("SKIPPED: no shared traces");
            return;
        };
        let video = Video::read(
            &root.join("pensieve_video/computed_from_pensieve_video_server"),
            None,
        )
        .unwrap();
        let traces = read_folder(&root.join("pensieve_cooked_traces")).unwrap();
        for t in traces.iter().step_by(50) {
            let case = Case {
                name: t.name.clone(),
                trace: t.trace.scaled(95, 100),
                setup: Setup {
                    chunks: 8,
                    ..Setup::default()
                },
            };
            let r = rollout(
                &video,
                &case,
                Box::new(PlayheadAbr::default()),
                true,
                Micros(1),
            );
            assert_eq!(r.decisions.len(), 8, "{}", t.name);
            // The value of the rung played at the last decision is the session itself, and
            // the regrets of the decisions add up to the session's gap to the optimum.
            let last = r.decisions.last().unwrap();
            assert!(
                (last.values[last.played] - r.qoe).abs() < 1e-9,
                "{}",
                t.name
            );
            let optimum = r.optimum.unwrap();
            let gap = played_regret(&r.decisions) * 8.0;
            assert!(
                (gap - (optimum - r.qoe)).abs() < 1e-6,
                "{}: {gap} vs {}",
                t.name,
                optimum - r.qoe
            );
            // Each decision's rows come from the call that made it: the look-ahead's own
            // choice is the rung played.
            for d in &r.decisions {
                let chosen = d.rows.iter().position(|row| row[GAP + 1] > 0.5);
                assert_eq!(chosen, Some(d.played), "{}", t.name);
            }
        }
    }
}
