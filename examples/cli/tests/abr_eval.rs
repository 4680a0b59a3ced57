//! `playhead abr-eval` (and `abr-train`) end to end on a few of the shared training traces: the table names
//! the optimum, every policy and the foresight planners, the CSV has a row per trace and policy, the chart is
//! written, and no policy beats the optimum.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

#[test]
fn abr_eval_scores_every_policy_against_the_optimum() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces");
    if !shared.join("pensieve_cooked_traces").is_dir() {
        println!("SKIPPED: {} is missing", shared.display());
        return;
    }
    let out = std::env::temp_dir().join(format!("playhead-abr-eval-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_playhead"))
        .arg("abr-eval")
        .arg("--traces")
        .arg(shared.join("pensieve_cooked_traces"))
        .arg("--video")
        .arg(shared.join("pensieve_video/computed_from_pensieve_video_server"))
        .args(["--limit", "3", "--chunks", "16", "--resolution", "250"])
        .args(["--foresight", "3"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for name in ["optimum", "playhead", "robust-mpc", "bola", "throughput"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{stdout}"
        );
    }
    // The foresight planners are bounded by the optimum too.
    for name in ["foresight-3", "mean-rate-3"] {
        let row = stdout.lines().find(|l| l.starts_with(name)).expect(name);
        let share: f64 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!(share > 0.0 && share <= 100.0, "{row}");
    }
    assert!(
        stdout.contains("the optimum was beaten on 0 traces"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("sessions.csv")).unwrap();
    // A row per trace and policy, and one for the optimum's plan.
    assert_eq!(csv.lines().count(), 1 + 3 * 5, "{csv}");
    let optimum: Vec<&str> = csv.lines().filter(|l| l.contains(",optimum,")).collect();
    assert_eq!(optimum.len(), 3, "{csv}");
    // Its levels: one per chunk played.
    let levels = optimum[0].rsplit(',').next().unwrap();
    assert!(
        levels.split(' ').all(|l| l.parse::<usize>().is_ok()),
        "{levels}"
    );
    let svg = std::fs::read_to_string(out.join("session.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("playhead: QoE"));
    let _ = std::fs::remove_dir_all(&out);
}

/// `playhead abr-train` end to end on a few traces: a DAgger round runs, a held-out trace is
/// scored, and the network is written as Rust.
#[test]
fn abr_train_fits_and_writes_a_network() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces");
    if !shared.join("pensieve_cooked_traces").is_dir() {
        println!("SKIPPED: {} is missing", shared.display());
        return;
    }
    let out = std::env::temp_dir().join(format!("playhead-abr-train-{}.rs", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_playhead"))
        .arg("abr-train")
        .arg("--traces")
        .arg(shared.join("pensieve_cooked_traces"))
        .arg("--video")
        .arg(shared.join("pensieve_video/computed_from_pensieve_video_server"))
        .args(["--limit", "4", "--chunks", "8"])
        .args(["--rounds", "1", "--folds", "4"])
        .args(["--hidden", "4,2", "--epochs", "5"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("3 training traces, 1 held out"), "{stdout}");
    // Playhead's sessions, then two fits: 8 decisions per training trace at first.
    assert!(
        stdout.contains("round 0 (playhead): 24 decisions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("round 2: fitted on 48 decisions"),
        "{stdout}"
    );
    assert!(stdout.contains("held out"), "{stdout}");
    let source = std::fs::read_to_string(&out).unwrap();
    assert!(
        source.contains("pub(super) fn builtin() -> Net"),
        "{source}"
    );
    let _ = std::fs::remove_file(&out);
}
