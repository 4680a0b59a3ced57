//! Parse benchmark: `playhead::parse` to the model against the raw parse of the reference
//! crates (`m3u8-rs` for HLS, `dash-mpd-core` for DASH) on six generated manifests, plus the
//! heap the parsed model retains, measured by a counting global allocator.
//!
//! `cargo bench -p playhead --bench parse` runs the criterion groups, then prints a summary
//! table with its own medians (criterion's are not accessible from here) and PASS/MISS per
//! target. `PLAYHEAD_BENCH_QUICK=1`, `cargo test --benches` or `-- --test` keep it short.

// Benches abort on bad setup (a manifest that does not parse) by design: unwrap/expect/panic
// are the intended failure mode here, unlike in the core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod manifests;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use playhead::{ParseOptions, Parsed, SegmentIndex};

// ---------------------------------------------------------------------------------------
// Counting allocator: live heap bytes of the whole process.

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// adds bookkeeping on an atomic counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> usize {
    LIVE.load(Ordering::SeqCst)
}

// ---------------------------------------------------------------------------------------
// Setup shared by the criterion groups and the summary.

const BASE_URL: &str = "https://cdn.example/live/manifest";

fn options() -> ParseOptions {
    ParseOptions {
        url: Some(BASE_URL.into()),
        ..Default::default()
    }
}

fn is_hls(name: &str) -> bool {
    matches!(name, "a" | "b" | "c")
}

fn crate_name(name: &str) -> &'static str {
    if is_hls(name) {
        "m3u8-rs"
    } else {
        "dash-mpd-core"
    }
}

fn ours(bytes: &[u8], opts: &ParseOptions) -> Parsed {
    playhead::parse(bytes, opts).unwrap()
}

/// The reference crate's raw parse (no model), type-erased so HLS and DASH share one timer.
fn baseline(name: &str, bytes: &[u8]) -> Box<dyn std::any::Any> {
    if is_hls(name) {
        Box::new(m3u8_rs::parse_playlist_res(bytes).unwrap())
    } else {
        let text = std::str::from_utf8(bytes).unwrap();
        Box::new(dash_mpd_core::parse(text).unwrap())
    }
}

/// Generates the manifests and checks that both the model and the baseline accept them.
fn checked_manifests() -> Vec<(&'static str, String)> {
    manifests::self_check();
    let all = manifests::all();
    for (name, text) in &all {
        for opts in [ParseOptions::default(), options()] {
            let parsed = playhead::parse(text.as_bytes(), &opts)
                .unwrap_or_else(|e| panic!("manifest ({name}) rejected: {e}"));
            assert!(
                parsed.warnings.is_empty(),
                "manifest ({name}) drew warnings: {:?}",
                parsed.warnings
            );
            let n = parsed.presentation.segment_count();
            assert_eq!(
                n,
                manifests::expected_segments(name),
                "segment count of ({name})"
            );
        }
        drop(baseline(name, text.as_bytes()));
    }
    all
}

fn quick_mode() -> bool {
    let env = std::env::var("PLAYHEAD_BENCH_QUICK").is_ok_and(|v| v == "1");
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let test = args.iter().any(|a| a == "--test");
    env || test || !bench
}

// ---------------------------------------------------------------------------------------
// Criterion groups.

fn bench_parse(c: &mut Criterion) {
    let opts = options();
    for (name, text) in checked_manifests() {
        let bytes = text.as_bytes();
        let mut g = c.benchmark_group(format!("parse/{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("playhead", |b| {
            b.iter_with_large_drop(|| ours(black_box(bytes), &opts))
        });
        g.bench_function(crate_name(name), |b| {
            b.iter_with_large_drop(|| baseline(name, black_box(bytes)))
        });
        g.finish();
    }
}

fn config() -> Criterion {
    let quick = quick_mode();
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(if quick { 100 } else { 500 }))
        .measurement_time(Duration::from_secs(if quick { 1 } else { 2 }))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_parse
}

// ---------------------------------------------------------------------------------------
// Summary table.

fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let out = black_box(f());
            let e = t.elapsed();
            drop(out);
            e
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

struct Memory {
    /// Live heap after parse minus before, the model kept alive.
    retained: usize,
    /// Heap of the segment indexes as the model reports it, shared timelines counted once.
    index: usize,
}

fn retained(bytes: &[u8], opts: &ParseOptions) -> Memory {
    let before = live_bytes();
    let parsed = playhead::parse(bytes, opts).unwrap();
    let after = live_bytes();
    let mut seen = HashSet::new();
    let index = parsed
        .presentation
        .tracks()
        .map(|t| match &t.segments {
            SegmentIndex::Timeline(tl) if !seen.insert(tl.runs.as_ptr()) => 0,
            s => s.heap_bytes(),
        })
        .sum();
    drop(black_box(parsed));
    Memory {
        retained: after.saturating_sub(before),
        index,
    }
}

fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} us")
    }
}

fn summary(quick: bool) {
    let runs = if quick { 3 } else { 21 };
    let opts = options();
    let mut misses = 0usize;
    let mut rows = Vec::new();
    for (name, text) in checked_manifests() {
        let bytes = text.as_bytes();
        let segs = ours(bytes, &opts).presentation.segment_count();
        let mem = retained(bytes, &opts);
        let t_ours = median(runs, || ours(black_box(bytes), &opts));
        let t_crate = median(runs, || baseline(name, black_box(bytes)));
        rows.push((name, bytes.len(), segs, t_ours, t_crate, mem));
    }

    println!();
    let build = if cfg!(debug_assertions) {
        "debug build: times not representative"
    } else {
        "optimized"
    };
    println!("Playhead parse summary ({runs} runs per median, {build}; base URL {BASE_URL})");
    println!(
        "{:<2} {:<42} {:>9} {:>6} {:>10} {:>10} {:>14} {:>6} {:>10} {:>9} {:>8}",
        "",
        "manifest",
        "bytes",
        "segs",
        "playhead",
        "baseline",
        "baseline crate",
        "ratio",
        "retained B",
        "index B",
        "B/seg"
    );
    for (name, len, segs, t_ours, t_crate, mem) in &rows {
        let ratio = t_crate.as_secs_f64() / t_ours.as_secs_f64();
        let per_seg = if *segs == 0 {
            "n/a".to_string()
        } else {
            format!("{:.1}", mem.retained as f64 / *segs as f64)
        };
        println!(
            "{name:<2} {:<42} {len:>9} {segs:>6} {:>10} {:>10} {:>14} {ratio:>5.2}x {:>10} {:>9} {per_seg:>8}",
            manifests::describe(name),
            fmt_dur(*t_ours),
            fmt_dur(*t_crate),
            crate_name(name),
            mem.retained,
            mem.index,
        );
    }

    println!();
    println!(
        "Targets (ratio = crate / playhead, > 1 means playhead is faster; times are not asserted):"
    );
    for (name, _, segs, t_ours, t_crate, mem) in &rows {
        let ratio = t_crate.as_secs_f64() / t_ours.as_secs_f64();
        let ok = ratio > 1.0;
        misses += usize::from(!ok);
        println!(
            "  [{}] ({name}) parse-to-model faster than {}: {ratio:.2}x",
            if ok { "PASS" } else { "MISS" },
            crate_name(name)
        );
        let limit = match *name {
            "a" => Some(64.0),
            "d" | "e" => Some(32.0),
            _ => None,
        };
        if let Some(limit) = limit {
            let per_seg = mem.retained as f64 / *segs as f64;
            let ok = per_seg <= limit;
            misses += usize::from(!ok);
            println!(
                "  [{}] ({name}) retained {per_seg:.1} B/segment <= {limit} B",
                if ok { "PASS" } else { "MISS" }
            );
        }
    }
    println!("  {misses} target(s) missed");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let listing = args.iter().any(|a| a == "--list");
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !listing {
        summary(quick_mode());
    }
}
