//! `playhead abr-eval` (and `abr-train`) end to end on a few of the shared training traces: the table names
//! the optimum, every policy and the foresight planners, the CSV has a row per trace and policy, the chart is
//! written, and no policy beats the optimum.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared traces folder, or `None` (the test then skips).
fn shared() -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces");
    if shared.join("pensieve_cooked_traces").is_dir() {
        Some(shared)
    } else {
        println!("SKIPPED: {} is missing", shared.display());
        None
    }
}

/// `playhead <command>` on Pensieve's traces and video with `args`: its stdout, after
/// checking it succeeded.
fn run_on_pensieve(shared: &Path, command: &str, args: &[&str]) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_playhead"))
        .arg(command)
        .arg("--traces")
        .arg(shared.join("pensieve_cooked_traces"))
        .arg("--video")
        .arg(shared.join("pensieve_video/computed_from_pensieve_video_server"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
}

#[test]
fn abr_eval_scores_every_policy_against_the_optimum() {
    let Some(shared) = shared() else {
        return;
    };
    let out = std::env::temp_dir().join(format!("playhead-abr-eval-{}", std::process::id()));
    let out_arg = out.display().to_string();
    let stdout = run_on_pensieve(
        &shared,
        "abr-eval",
        &[
            "--limit",
            "3",
            "--chunks",
            "16",
            "--resolution",
            "250",
            "--foresight",
            "3",
            "--out",
            &out_arg,
        ],
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
    // The optimum held to the policies' first chunk is between them and the free optimum.
    let row = stdout.lines().find(|l| l.starts_with("start-opt")).unwrap();
    let share: f64 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(share > 0.0 && share <= 100.0, "{row}");
    let csv = std::fs::read_to_string(out.join("sessions.csv")).unwrap();
    // A row per trace and policy, and one for each optimum's plan.
    assert_eq!(csv.lines().count(), 1 + 3 * 6, "{csv}");
    let field = |line: &str, k: usize| line.split(',').nth(k).unwrap().to_owned();
    let optimum: Vec<&str> = csv.lines().filter(|l| l.contains(",optimum,")).collect();
    assert_eq!(optimum.len(), 3, "{csv}");
    // Its levels: one per chunk played.
    let levels = field(optimum[0], 10);
    assert!(
        levels.split(' ').all(|l| l.parse::<usize>().is_ok()),
        "{levels}"
    );
    for trace in csv
        .lines()
        .skip(1)
        .filter(|l| l.contains(",start-optimum,"))
    {
        let name = field(trace, 0);
        let row = |policy: &str| {
            let prefix = format!("{name},{policy},");
            csv.lines().find(|l| l.starts_with(&prefix)).unwrap()
        };
        let number = |policy: &str, k: usize| -> f64 { field(row(policy), k).parse().unwrap() };
        let started = number("start-optimum", 2);
        // Playhead, the first policy, starts the plan the start-optimum is held to.
        let first_level =
            |policy: &str| field(row(policy), 10).split(' ').next().unwrap().to_owned();
        assert_eq!(
            first_level("start-optimum"),
            first_level("playhead"),
            "{csv}"
        );
        assert!(started <= number("optimum", 2) + 1e-9, "{csv}");
        assert!(number("playhead", 2) <= started + 0.01, "{csv}");
        assert_eq!(number("playhead", 11), started, "{csv}");
    }
    let svg = std::fs::read_to_string(out.join("session.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("playhead: QoE"));
    let _ = std::fs::remove_dir_all(&out);
}

/// `playhead abr-train` end to end on a few traces: Playhead's labelled sessions, two fits
/// (one DAgger round between them), each scored in-sample and on a held-out trace.
#[test]
fn abr_train_fits_and_scores_on_held_out_traces() {
    let Some(shared) = shared() else {
        return;
    };
    let stdout = run_on_pensieve(
        &shared,
        "abr-train",
        &[
            "--limit", "4", "--chunks", "8", "--rounds", "1", "--folds", "4", "--hidden", "4,2",
            "--epochs", "5",
        ],
    );
    assert!(stdout.contains("3 training traces, 1 held out"), "{stdout}");
    // 8 decisions per training trace at first, twice that after a round.
    assert!(
        stdout.contains("round 0 (playhead): 24 decisions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("round 2: fitted on 48 decisions"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("held out").count(), 3, "{stdout}");
}
