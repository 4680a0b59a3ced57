//! Fault injection: what the configured faults and the runtime CDN outages turn an answer
//! into, decided per request from the URL and the time since the start.

use std::time::{Duration, Instant};

use playhead::{Micros, UnixMicros};

use super::State;
use crate::sim::net::FaultKind;

/// What a fault turns an answer into.
pub(super) enum Twist {
    None,
    Status(u16),
    Refuse,
    Blackhole,
    Delay(Duration),
    Truncate,
    Stall,
    Freeze(UnixMicros),
}

impl State {
    pub(super) fn fail_cdn(&self, cdn: usize, span: Duration) {
        if let Ok(mut o) = self.outages.lock() {
            o.push((cdn, Instant::now() + span));
        }
    }

    pub(super) fn down(&self, cdn: usize) -> bool {
        let now = Instant::now();
        self.outages
            .lock()
            .map(|o| o.iter().any(|(c, until)| *c == cdn && *until > now))
            .unwrap_or(false)
    }

    fn since_start(&self) -> Micros {
        Micros(i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX))
    }

    pub(super) fn twist(&self, cdn: Option<usize>, url: &str) -> Twist {
        if cdn.is_some_and(|c| self.down(c)) {
            return Twist::Refuse;
        }
        let t = self.since_start();
        let Ok(mut faults) = self.faults.lock() else {
            return Twist::None;
        };
        let Some(f) = faults.iter_mut().find(|f| {
            f.from <= t && t < f.until && url.contains(&f.url_contains) && f.times != Some(0)
        }) else {
            return Twist::None;
        };
        if let Some(n) = f.times.as_mut() {
            *n -= 1;
        }
        match f.kind {
            FaultKind::Status(s) => Twist::Status(s),
            FaultKind::Refuse => Twist::Refuse,
            FaultKind::Blackhole => Twist::Blackhole,
            FaultKind::Delay(d) => Twist::Delay(Duration::from_micros(d.0.max(0).unsigned_abs())),
            FaultKind::Truncate => Twist::Truncate,
            FaultKind::Stall => Twist::Stall,
            FaultKind::Freeze => Twist::Freeze(UnixMicros(self.started_wall.0 + f.from.0)),
        }
    }
}
