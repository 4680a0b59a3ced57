//! Adaptive bitrate: the throughput estimator and the policies that choose a rendition.
//!
//! A policy is a pure function of an [`Observation`]: the ladder the device may play, the
//! buffer, the recent throughput samples and the time to first byte. It holds no clock and
//! no history of its own, so the engine, the evaluation harness and a unit test that builds
//! an observation by hand all run the same code.
//!
//! [`AbrAlgorithm::Playhead`] is the engine's default; [`AbrAlgorithm::ThroughputRule`],
//! [`AbrAlgorithm::Bola`] and [`AbrAlgorithm::RobustMpc`] are the published designs it is
//! measured against (see `conformance/src/abr_eval`), kept selectable so an app can A/B
//! them on its own audience. A Rust host can plug its own [`AbrPolicy`].

mod baseline;
mod estimator;
mod horizon;
mod playhead;

pub use baseline::{Bola, RobustMpc, ThroughputRule, prediction_errors};
pub use estimator::{BandwidthEstimator, EstimatorConfig, ThroughputSample, harmonic_mean};
pub use playhead::{PlayheadAbr, PlayheadParams};

use crate::time::Micros;

/// One rendition the policy may choose, in ascending bandwidth order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rung {
    /// Declared bandwidth, bits per second.
    pub bandwidth: u64,
    /// Sizes of the next segments in bytes, from the one about to be fetched on, when the
    /// manifest gives them (byte ranges); empty when unknown.
    pub sizes: Vec<u64>,
}

impl Rung {
    /// Size of the `k`-th next segment: known, or the declared bandwidth over `duration`.
    pub fn size(&self, k: usize, duration: Micros) -> u64 {
        self.sizes.get(k).copied().unwrap_or_else(|| {
            u64::try_from(
                u128::from(self.bandwidth) * u128::try_from(duration.0.max(0)).unwrap_or(0)
                    / 8_000_000,
            )
            .unwrap_or(u64::MAX)
        })
    }
}

/// What a policy sees before the next video segment is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation<'a> {
    /// Renditions the device may play now (capabilities, bans and restrictions applied),
    /// ascending bandwidth; never empty.
    pub ladder: &'a [Rung],
    /// Index in `ladder` of the rendition of the previous segment (`None` at the start, or
    /// when that rendition is no longer allowed).
    pub current: Option<usize>,
    /// Media buffered ahead of the playhead.
    pub buffer: Micros,
    /// The engine fetches until this much is buffered (at the live edge: what the live
    /// delay allows).
    pub buffer_goal: Micros,
    /// Duration of the next segment.
    pub segment_duration: Micros,
    /// Recent throughput samples, oldest first.
    pub samples: &'a [ThroughputSample],
    /// The estimator's throughput, bits per second (its start value before any sample).
    pub estimate: u64,
    /// Time to first byte.
    pub latency: Micros,
    /// Live presentation.
    pub live: bool,
    /// Segments left before the end of a VOD presentation (`None`: live or unknown).
    pub remaining: Option<u64>,
    /// Nothing has played yet: the next download delays the first frame rather than
    /// stalling playback.
    pub starting: bool,
}

/// A rendition-choosing policy: a pure function of what it observes.
pub trait AbrPolicy: std::fmt::Debug + Send {
    /// Short name for reports (`playhead`, `bola`).
    fn name(&self) -> &'static str;
    /// Index in `obs.ladder` of the rendition for the next segment.
    fn choose(&self, obs: &Observation<'_>) -> usize;
}

/// The built-in policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum AbrAlgorithm {
    /// Playhead's model-predictive policy ([`PlayheadAbr`]).
    #[default]
    Playhead,
    /// The highest rung under 90 % of a dual moving average (dash.js, Shaka Player).
    ThroughputRule,
    /// BOLA-BASIC (Spiteri et al., INFOCOM 2016), with dash.js's parameters.
    Bola,
    /// RobustMPC (Yin et al., SIGCOMM 2015).
    RobustMpc,
}

impl AbrAlgorithm {
    /// All of them, the default first.
    pub const ALL: [AbrAlgorithm; 4] = [
        AbrAlgorithm::Playhead,
        AbrAlgorithm::ThroughputRule,
        AbrAlgorithm::Bola,
        AbrAlgorithm::RobustMpc,
    ];

    /// The policy.
    pub fn policy(self) -> Box<dyn AbrPolicy> {
        match self {
            AbrAlgorithm::Playhead => Box::new(PlayheadAbr::default()),
            AbrAlgorithm::ThroughputRule => Box::new(ThroughputRule::default()),
            AbrAlgorithm::Bola => Box::new(Bola),
            AbrAlgorithm::RobustMpc => Box::new(RobustMpc::default()),
        }
    }

    /// The policy's report name.
    pub fn name(self) -> &'static str {
        match self {
            AbrAlgorithm::Playhead => "playhead",
            AbrAlgorithm::ThroughputRule => "throughput",
            AbrAlgorithm::Bola => "bola",
            AbrAlgorithm::RobustMpc => "robust-mpc",
        }
    }

    /// Reads a report name.
    pub fn from_name(name: &str) -> Option<AbrAlgorithm> {
        AbrAlgorithm::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Mbit/s of a rung, for QoE-style objectives.
fn mbps(bandwidth: u64) -> f64 {
    bandwidth as f64 / 1e6
}

/// Seconds of a duration, for QoE-style objectives.
fn seconds(t: Micros) -> f64 {
    t.0 as f64 / 1e6
}
