//! Engine benchmark: simulated session-seconds per CPU-second, and memory per idle session.
//!
//! Run: `cargo bench -p playhead-conformance --bench engine`. Prints medians of 5 runs and
//! ratios against the baseline measured in the same process (a 2-hour VOD session over a
//! steady link: the cheapest session there is). Targets: a 2-hour live session with CDN
//! outages simulates in well under a second; 10,000 idle live sessions fit in one process
//! with room to spare (24 GiB machine: under 1 GiB for the sessions).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use playhead::{Micros, UnixMicros};
use playhead_conformance::sim::net::{Fault, FaultKind};
use playhead_conformance::sim::origin::{LiveConfig, Origin, OriginConfig, OriginFormat};
use playhead_conformance::sim::{Sim, SimConfig};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: defers to the system allocator; only counts live bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as for `realloc` of the system allocator.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const S: i64 = 1_000_000;
const HOUR: i64 = 3600 * S;

fn live(format: OriginFormat, dvr: i64) -> OriginConfig {
    let mut c = OriginConfig::example(format);
    c.live = Some(LiveConfig {
        availability_start: UnixMicros(SimConfig::default().start_wall.0 - 3 * HOUR),
        dvr_window: Micros(dvr),
        end: None,
    });
    c
}

fn outages() -> SimConfig {
    let mut config = SimConfig::default();
    for k in 0..4 {
        let from = k * 30 * 60 * S + 10 * 60 * S;
        config.faults.push(Fault::outage(
            "cdn-a.test",
            Micros(from),
            Micros(from + 5 * 60 * S),
            FaultKind::Refuse,
        ));
    }
    config
}

/// (whole simulation, engine only) seconds.
fn session(origin: OriginConfig, config: SimConfig, length: i64) -> (f64, f64) {
    let start = Instant::now();
    let mut sim = Sim::new(Origin::new(origin), config);
    sim.load_and_play();
    sim.run_until(Micros(length));
    (start.elapsed().as_secs_f64(), sim.engine_time.as_secs_f64())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    println!("engine simulation: 2-hour sessions, median of 5 runs (whole simulation: engine,");
    println!("origin generating manifests, network, decoder; and the engine's share alone)");
    println!(
        "{:<44} {:>10} {:>10} {:>16} {:>8}",
        "session", "sim", "engine", "session-s/cpu-s", "ratio"
    );
    let cases: Vec<(&str, OriginConfig, SimConfig)> = vec![
        (
            "baseline: DASH VOD, steady 10 Mbit/s",
            {
                let mut c = OriginConfig::example(OriginFormat::DashTemplate);
                c.vod_duration = Micros(2 * HOUR);
                c
            },
            SimConfig::default(),
        ),
        (
            "DASH template live, 4 CDN outages",
            live(OriginFormat::DashTemplate, 2 * HOUR),
            outages(),
        ),
        (
            "DASH timeline live (2 h DVR), 4 outages",
            live(OriginFormat::DashTimeline, 2 * HOUR),
            outages(),
        ),
        (
            "HLS fMP4 live (2 h DVR), 4 outages",
            live(OriginFormat::HlsFmp4, 2 * HOUR),
            outages(),
        ),
        (
            "HLS fMP4 live (5 min DVR), 4 outages",
            live(OriginFormat::HlsFmp4, 5 * 60 * S),
            outages(),
        ),
        (
            "Smooth live (5 min DVR), 4 outages",
            live(OriginFormat::Smooth, 5 * 60 * S),
            outages(),
        ),
    ];
    let mut baseline = None;
    for (name, origin, config) in cases {
        let runs: Vec<(f64, f64)> = (0..5)
            .map(|_| session(origin.clone(), config.clone(), 2 * HOUR))
            .collect();
        let m = median(runs.iter().map(|r| r.0).collect());
        let e = median(runs.iter().map(|r| r.1).collect());
        let base = *baseline.get_or_insert(m);
        println!(
            "{name:<44} {:>8.1}ms {:>8.1}ms {:>16.0} {:>7.2}x",
            m * 1000.0,
            e * 1000.0,
            7200.0 / m,
            m / base
        );
    }

    println!();
    println!("memory per idle live session (loaded, playing, between refreshes)");
    println!(
        "{:<44} {:>12} {:>16}",
        "session", "bytes", "10,000 sessions"
    );
    for (name, origin) in [
        (
            "DASH template live",
            live(OriginFormat::DashTemplate, 2 * HOUR),
        ),
        (
            "HLS fMP4 live, 5 min DVR",
            live(OriginFormat::HlsFmp4, 5 * 60 * S),
        ),
        (
            "HLS fMP4 live, 2 h DVR (3600-segment lists)",
            live(OriginFormat::HlsFmp4, 2 * HOUR),
        ),
    ] {
        let n = 200;
        let before = LIVE.load(Ordering::Relaxed);
        let mut players = Vec::with_capacity(n);
        let vec_bytes = LIVE.load(Ordering::Relaxed) - before;
        for _ in 0..n {
            let mut sim = Sim::new(Origin::new(origin.clone()), SimConfig::default());
            sim.load_and_play();
            sim.run_until(Micros(30 * S));
            players.push(sim.player);
        }
        let per = (LIVE.load(Ordering::Relaxed) - before - vec_bytes) as f64 / n as f64;
        println!(
            "{name:<44} {:>12.0} {:>13.0} MiB",
            per,
            per * 10_000.0 / (1024.0 * 1024.0)
        );
        drop(players);
    }
}
