//! The pure math of ABR (adaptive bitrate) evaluation: reading throughput traces and video
//! ladders, the QoE_lin score, and the offline optimum over a known future trace.
//!
//! - [`traces`]: Pensieve text, sabre JSON and Twitch MMSys 2020 pattern traces
//!   (`shared/traces/README.md` describes the formats).
//! - [`video`]: a ladder with per-segment sizes (Pensieve `video_size_<q>` folders and
//!   sabre movie JSON).
//! - [`qoe`]: QoE_lin (Pensieve, SIGCOMM 2017) and the usual companion metrics.
//! - [`optimum`]: the chunk model the engine follows (one video download at a time, the next
//!   requested as soon as the buffer is below the goal), the exact download time over a
//!   trace, and a dynamic program giving the best level sequence for a known trace.
//!
//! Time is integer microseconds throughout; `f64` appears only in scores and ratios.

pub mod optimum;
pub mod qoe;
pub mod session;
pub mod traces;
pub mod video;

use std::path::PathBuf;

/// The shared traces and videos (`shared/traces/README.md`): `$PLAYHEAD_TRACES`, else
/// `../shared/traces` beside the workspace. `None` when absent (tests then say so and skip).
pub fn shared_traces_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PLAYHEAD_TRACES") {
        Some(p) => PathBuf::from(p),
        None => crate::workspace_root().join("../shared/traces"),
    };
    dir.is_dir().then_some(dir)
}

/// `rel` inside the shared traces folder, or `None` with a printed note (the test skips).
#[cfg(test)]
fn shared_for_test(rel: &str) -> Option<PathBuf> {
    let Some(root) = shared_traces_dir() else {
        println!("SKIPPED: the shared traces folder is missing (set PLAYHEAD_TRACES)");
        return None;
    };
    let p = root.join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!("SKIPPED: {} is missing", p.display());
        None
    }
}
