//! Quality-of-experience statistics: one schema on every platform.

use crate::time::Micros;

use super::event::{ErrorClass, SwitchReason};

/// One track switch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Switch {
    /// Monotonic time.
    pub at: Micros,
    /// Track id.
    pub to: String,
    /// Bandwidth of the new track.
    pub bandwidth: u64,
    /// Why.
    pub reason: SwitchReason,
}

/// QoE statistics of one session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stats {
    /// From the load command to the first media handed to the decoder.
    pub time_to_first_media: Option<Micros>,
    /// From the load command to the first frame the host reported.
    pub startup_time: Option<Micros>,
    /// Stalls after the first frame (seeks excluded).
    pub stall_count: u32,
    /// Their total duration.
    pub stall_time: Micros,
    /// Time spent playing.
    pub play_time: Micros,
    /// Video track switches (the first choice included); the most recent 256 are kept.
    pub switches: Vec<Switch>,
    /// All switches, including those no longer in `switches`.
    pub switch_count: u32,
    /// Time-weighted average bandwidth of the video track while playing, bits per second.
    pub average_bitrate: u64,
    /// Frames dropped, as the host reported.
    pub dropped_frames: u64,
    /// Frames decoded, as the host reported.
    pub decoded_frames: u64,
    /// Failed requests and fatal errors by class.
    pub errors: Vec<(ErrorClass, u32)>,
    /// Retries performed.
    pub retries: u32,
    /// Location (CDN) changes.
    pub location_changes: u32,
    /// Location requests go to now.
    pub cdn: Option<String>,
    /// Bytes received per location.
    pub bytes_by_cdn: Vec<(String, u64)>,
    /// Last throughput estimate, bits per second.
    pub bandwidth_estimate: u64,
    /// Position behind the live edge when last reported (live only).
    pub live_latency: Option<Micros>,
    /// Bitrate-time integral behind `average_bitrate` (bits).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) bit_time: u128,
}

impl Stats {
    pub(crate) fn error(&mut self, class: ErrorClass) {
        match self.errors.iter_mut().find(|(c, _)| *c == class) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => {
                let at = self.errors.iter().position(|(c, _)| *c > class);
                self.errors
                    .insert(at.unwrap_or(self.errors.len()), (class, 1));
            }
        }
    }

    pub(crate) fn bytes(&mut self, cdn: &str, n: u64) {
        match self.bytes_by_cdn.iter_mut().find(|(c, _)| c == cdn) {
            Some((_, b)) => *b = b.saturating_add(n),
            None => self.bytes_by_cdn.push((cdn.to_owned(), n)),
        }
    }

    pub(crate) fn switch(&mut self, s: Switch) {
        if self.switches.len() >= 256 {
            self.switches.remove(0);
        }
        self.switches.push(s);
        self.switch_count = self.switch_count.saturating_add(1);
    }

    /// Adds `dt` of playing at `bandwidth`.
    pub(crate) fn played(&mut self, dt: Micros, bandwidth: u64) {
        if dt.0 <= 0 {
            return;
        }
        self.play_time = self.play_time.saturating_add(dt);
        self.bit_time = self
            .bit_time
            .saturating_add(u128::from(bandwidth) * dt.0 as u128);
        self.average_bitrate =
            u64::try_from(self.bit_time / (self.play_time.0.max(1) as u128)).unwrap_or(u64::MAX);
    }
}
