//! `playhead inspect` on every file of the shared corpus and of our vectors: a model or a
//! typed error, exit code 0 or 2, and `--json` output that is valid JSON either way.

// Test helpers abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use playhead_conformance::{corpus_dir, corpus_files, vectors_dir};

fn inspect(path: &Path, json: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_playhead"));
    cmd.arg("inspect")
        .arg(path)
        .args(["--base-url", "https://cdn.example/x/manifest?token=t0k3n"]);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn check(path: &Path) -> bool {
    let (code, text) = inspect(path, false);
    assert!(code == 0 || code == 2, "{}: exit {code}", path.display());
    assert!(!text.is_empty(), "{}: no output", path.display());
    let (jcode, json) = inspect(path, true);
    assert_eq!(
        code,
        jcode,
        "{}: --json changed the exit code",
        path.display()
    );
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: bad JSON: {e}", path.display()));
    assert_eq!(v.get("error").is_some(), code == 2, "{}", path.display());
    code == 0
}

#[test]
#[cfg_attr(corpus_absent, ignore = "corpus not found: SKIPPED")]
fn inspect_every_corpus_file() {
    let Some(dir) = corpus_dir() else {
        eprintln!(
            "\n==== SKIPPED: corpus not found (../shared/corpus or $PLAYHEAD_CORPUS); inspect was NOT run on it ====\n"
        );
        return;
    };
    let files = corpus_files(&dir).unwrap();
    let ok = files.iter().filter(|f| check(&f.path)).count();
    eprintln!(
        "inspect: {} corpus files, {ok} models, {} typed errors",
        files.len(),
        files.len() - ok
    );
    assert!(files.len() > 400);
}

#[test]
fn inspect_vectors_and_missing_files() {
    for sub in ["hls", "dash", "smooth", "errors"] {
        for e in std::fs::read_dir(vectors_dir().join(sub)).unwrap() {
            let p = e.unwrap().path();
            assert_eq!(check(&p), sub != "errors", "{}", p.display());
        }
    }
    let (code, _) = inspect(Path::new("/nonexistent/manifest.mpd"), false);
    assert_eq!(code, 1);
}
