//! A deterministic network: piecewise-constant throughput shared fairly by the transfers in
//! flight, a fixed latency before the first byte, and scheduled faults per URL.
//!
//! Integer arithmetic throughout: a transfer's remaining size is kept in bit-microseconds,
//! so completions land on exact microseconds and every run is identical.

use playhead::Micros;

/// Throughput over time, looping when it runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// (duration, bits per second) steps.
    steps: Vec<(Micros, u64)>,
    total: Micros,
}

impl Trace {
    /// The same throughput forever.
    pub fn constant(bps: u64) -> Trace {
        Trace::steps(vec![(Micros(3_600_000_000), bps)])
    }

    /// Steps of (duration, bits per second); zero-length steps are dropped.
    pub fn steps(steps: Vec<(Micros, u64)>) -> Trace {
        let mut steps: Vec<_> = steps.into_iter().filter(|(d, _)| d.0 > 0).collect();
        if steps.is_empty() {
            steps.push((Micros(1_000_000), 1_000_000));
        }
        let total = Micros(steps.iter().map(|(d, _)| d.0).sum());
        Trace { steps, total }
    }

    /// The Pensieve text format: `<time s>\t<Mbit/s>` per line, each value holding until
    /// its time (see `shared/traces/README.md`).
    pub fn pensieve(text: &str) -> Trace {
        Trace::steps(Trace::pensieve_steps(text))
    }

    /// The steps of a Pensieve text trace, before [`Trace::steps`] drops zero-length ones
    /// (or stands in a default for none).
    pub fn pensieve_steps(text: &str) -> Vec<(Micros, u64)> {
        let mut prev = 0i64;
        let mut steps = Vec::new();
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(t), Some(v)) = (it.next(), it.next()) else {
                continue;
            };
            let (Ok(t), Ok(v)) = (
                playhead::time::parse_decimal_ticks(t, playhead::Timescale::MICROS),
                playhead::time::parse_decimal_ticks(v, playhead::Timescale::MICROS),
            ) else {
                continue;
            };
            let t = i64::try_from(t).unwrap_or(i64::MAX);
            if t > prev {
                steps.push((Micros(t - prev), v)); // Mbit/s in micro-units = bit/s
                prev = t;
            }
        }
        steps
    }

    /// The sabre JSON format: `[{"duration_ms", "bandwidth_kbps", "latency_ms"}, ...]`
    /// (latency ignored: the network's own applies). `None` when it is not that format.
    pub fn sabre(json: &str) -> Option<Trace> {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let steps = v
            .as_array()?
            .iter()
            .map(|p| {
                let ms = p.get("duration_ms")?.as_f64()?;
                let kbps = p.get("bandwidth_kbps")?.as_f64()?;
                (ms.is_finite() && kbps.is_finite() && ms >= 0.0 && kbps >= 0.0).then(|| {
                    // Whole microseconds and bit/s: the trace's own precision is coarser.
                    (
                        Micros((ms * 1000.0).round() as i64),
                        (kbps * 1000.0).round() as u64,
                    )
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Trace::steps(steps))
    }

    /// Reads a trace file: sabre JSON when it parses as such, Pensieve text otherwise.
    pub fn parse(text: &str) -> Trace {
        Trace::sabre(text).unwrap_or_else(|| Trace::pensieve(text))
    }

    /// The same trace with every throughput times `num / den` (Pensieve's simulator
    /// counts 95 % of the link as payload).
    pub fn scaled(&self, num: u64, den: u64) -> Trace {
        Trace::steps(
            self.steps
                .iter()
                .map(|&(d, bps)| {
                    let v = u128::from(bps) * u128::from(num) / u128::from(den.max(1));
                    (d, u64::try_from(v).unwrap_or(u64::MAX))
                })
                .collect(),
        )
    }

    /// Length of one loop.
    pub fn period(&self) -> Micros {
        self.total
    }

    /// Throughput at `t` and when it next changes.
    pub fn at(&self, t: Micros) -> (u64, Micros) {
        let base = t.0 - t.0.rem_euclid(self.total.0);
        let mut off = t.0.rem_euclid(self.total.0);
        let mut start = base;
        for (d, bps) in &self.steps {
            if off < d.0 {
                return (*bps, Micros(start + d.0));
            }
            off -= d.0;
            start += d.0;
        }
        (self.steps[0].1, Micros(t.0 + 1))
    }
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this HTTP status.
    Status(u16),
    /// Connection refused (after the latency).
    Refuse,
    /// No answer at all: the request hangs until the engine gives up.
    Blackhole,
    /// The body stops halfway.
    Truncate,
    /// Manifests are served as they were when the fault started (a stuck packager).
    Freeze,
    /// The answer comes this much later than it would.
    Delay(Micros),
    /// The body stops and the connection hangs. The simulation stalls before the first
    /// byte; the loopback server sends half the body first.
    Stall,
}

/// A fault on URLs containing `url_contains`, during `[from, until)` of simulated time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Substring of the URL.
    pub url_contains: String,
    /// Start.
    pub from: Micros,
    /// End.
    pub until: Micros,
    /// What happens.
    pub kind: FaultKind,
    /// Only this many times (`None`: every matching request).
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on every request to `host` in `[from, until)`.
    pub fn outage(host: &str, from: Micros, until: Micros, kind: FaultKind) -> Fault {
        Fault {
            url_contains: format!("://{host}/"),
            from,
            until,
            kind,
            times: None,
        }
    }
}

/// How a transfer ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// A response with this status and body (`None`: the host holds `size` bytes).
    Response { status: u16, body: Option<Vec<u8>> },
    /// Connection failure.
    Refused,
    /// Body cut.
    Truncated,
    /// Never ends.
    Hang,
}

/// One download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Request id.
    pub id: u64,
    /// First byte arrives.
    pub first_byte: Micros,
    /// Remaining size, bit-microseconds.
    remaining: u128,
    /// Size in bytes.
    pub size: u64,
    /// How it ends.
    pub ending: Ending,
}

/// The network.
#[derive(Debug, Clone)]
pub struct Network {
    /// Throughput.
    pub trace: Trace,
    /// Time to first byte.
    pub latency: Micros,
    /// Faults.
    pub faults: Vec<Fault>,
    transfers: Vec<Transfer>,
}

impl Network {
    /// A network with `trace` and `latency`.
    pub fn new(trace: Trace, latency: Micros) -> Network {
        Network {
            trace,
            latency,
            faults: Vec::new(),
            transfers: Vec::new(),
        }
    }

    /// The fault applying to `url` at `t`, consuming one of its `times`.
    pub fn fault(&mut self, url: &str, t: Micros) -> Option<(FaultKind, Micros)> {
        let f = self.faults.iter_mut().find(|f| {
            f.from <= t && t < f.until && url.contains(&f.url_contains) && f.times != Some(0)
        })?;
        if let Some(n) = f.times.as_mut() {
            *n -= 1;
        }
        Some((f.kind, f.from))
    }

    /// Starts a transfer at `t`, its first byte `delay` later than the latency says.
    pub fn start(&mut self, id: u64, t: Micros, delay: Micros, size: u64, ending: Ending) {
        let immediate = !matches!(ending, Ending::Response { .. } | Ending::Truncated);
        let size = if immediate { 0 } else { size };
        self.transfers.push(Transfer {
            id,
            first_byte: t.saturating_add(self.latency).saturating_add(delay),
            remaining: u128::from(size) * 8 * 1_000_000,
            size,
            ending,
        });
    }

    /// Drops a transfer (cancelled).
    pub fn cancel(&mut self, id: u64) {
        self.transfers.retain(|x| x.id != id);
    }

    /// The downloads under way at `t` that have received part of their body: id, bytes
    /// received, size.
    pub fn progress(&self, t: Micros) -> Vec<(u64, u64, u64)> {
        self.transfers
            .iter()
            .filter(|x| x.first_byte <= t && matches!(x.ending, Ending::Response { .. }))
            .filter_map(|x| {
                let left = u64::try_from(x.remaining.div_ceil(8_000_000)).unwrap_or(u64::MAX);
                let received = x.size.saturating_sub(left);
                (received > 0 && received < x.size).then_some((x.id, received, x.size))
            })
            .collect()
    }

    fn active(&self, t: Micros) -> usize {
        self.transfers
            .iter()
            .filter(|x| x.first_byte <= t && x.ending != Ending::Hang && x.remaining > 0)
            .count()
    }

    /// The next time something changes (a first byte, a completion, a throughput step).
    pub fn next_event(&self, t: Micros) -> Option<Micros> {
        let n = self.active(t) as u128;
        let (bps, step_end) = self.trace.at(t);
        let mut next: Option<Micros> = None;
        let mut add = |x: Micros| next = Some(next.map_or(x, |n| n.min(x)));
        for x in &self.transfers {
            if x.ending == Ending::Hang {
                continue;
            }
            if x.first_byte > t {
                add(x.first_byte);
            } else if x.remaining == 0 {
                add(t);
            } else if bps > 0 {
                let dt = (x.remaining * n).div_ceil(u128::from(bps));
                add(Micros(
                    t.0.saturating_add(i64::try_from(dt).unwrap_or(i64::MAX)),
                ));
            }
        }
        if n > 0 {
            add(step_end);
        }
        next
    }

    /// Moves from `t0` to `t1` (no event in between) and returns the transfers that ended.
    pub fn advance(&mut self, t0: Micros, t1: Micros) -> Vec<Transfer> {
        let (bps, _) = self.trace.at(t0);
        let dt = (t1.0 - t0.0).max(0) as u128;
        if let Some(share) = (u128::from(bps) * dt).checked_div(self.active(t0) as u128) {
            for x in self.transfers.iter_mut() {
                if x.first_byte <= t0 && x.ending != Ending::Hang {
                    x.remaining = x.remaining.saturating_sub(share);
                }
            }
        }
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.transfers)
            .into_iter()
            .partition(|x| x.first_byte <= t1 && x.remaining == 0 && x.ending != Ending::Hang);
        self.transfers = rest;
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_share_the_link_exactly() {
        let mut net = Network::new(Trace::constant(8_000_000), Micros(100_000));
        let ok = || Ending::Response {
            status: 200,
            body: None,
        };
        net.start(1, Micros(0), Micros::ZERO, 1_000_000, ok()); // 8 Mbit
        net.start(2, Micros(0), Micros::ZERO, 500_000, ok()); // 4 Mbit
        let mut t = Micros(0);
        let mut ends = Vec::new();
        while let Some(n) = net.next_event(t) {
            for x in net.advance(t, n) {
                ends.push((x.id, n.0));
            }
            t = n;
        }
        // Shared 4+4 Mbit/s: #2 ends after 1 s (+0.1 s latency); #1 then has 4 Mbit left alone.
        assert_eq!(ends, vec![(2, 1_100_000), (1, 1_600_000)]);
    }

    #[test]
    fn sabre_traces_read_as_steps() {
        let t = Trace::parse(
            r#"[{"duration_ms": 1000, "bandwidth_kbps": 500.5, "latency_ms": 20},
                {"duration_ms": 250, "bandwidth_kbps": 2000, "latency_ms": 20}]"#,
        );
        assert_eq!(t.at(Micros(0)), (500_500, Micros(1_000_000)));
        assert_eq!(t.at(Micros(1_100_000)), (2_000_000, Micros(1_250_000)));
        assert_eq!(t.at(Micros(1_300_000)).0, 500_500, "loops");
        assert!(Trace::sabre("[{\"duration_ms\": -1, \"bandwidth_kbps\": 1}]").is_none());
        assert!(Trace::sabre("0\t1.5\n").is_none());
    }

    #[test]
    fn pensieve_traces_loop() {
        let t = Trace::pensieve("0.5\t1.0\n1.5\t2.5\n");
        assert_eq!(t.at(Micros(0)), (1_000_000, Micros(500_000)));
        assert_eq!(t.at(Micros(700_000)), (2_500_000, Micros(1_500_000)));
        assert_eq!(t.at(Micros(1_600_000)).0, 1_000_000);
    }
}
