//! Our own conformance vectors: every model feature has a vector whose normalized model is
//! a golden snapshot (insta, JSON), and every error class has a vector that must fail with
//! that class (`errors/<class>--<name>`), its message snapshotted too.

// Test helpers abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use playhead::{ParseOptions, Strictness};
use playhead_conformance::vectors_dir;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn options(sub: &str, name: &str) -> ParseOptions {
    ParseOptions {
        url: Some(format!("https://vectors.example/{sub}/{name}?token=t0k3n")),
        ..Default::default()
    }
}

#[test]
fn feature_vectors_match_their_snapshots() {
    let mut n = 0;
    for sub in ["hls", "dash", "smooth"] {
        for path in files(&vectors_dir().join(sub)) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            let parsed = playhead::parse(&bytes, &options(sub, &name))
                .unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
            let warnings: Vec<String> = parsed
                .warnings
                .iter()
                .map(|w| format!("line {}: {} ({})", w.line, w.detail, w.rule))
                .collect();
            let value =
                serde_json::json!({ "presentation": parsed.presentation, "warnings": warnings });
            insta::assert_json_snapshot!(format!("{sub}__{name}"), value);
            // Every vector is also valid under the strictest level, unless it documents a warning.
            let strict = ParseOptions {
                strictness: Strictness::Strict,
                ..options(sub, &name)
            };
            if warnings.is_empty() {
                playhead::parse(&bytes, &strict)
                    .unwrap_or_else(|e| panic!("{sub}/{name} strict: {e}"));
            }
            n += 1;
        }
    }
    assert!(n >= 15, "expected the feature vectors, found {n}");
}

#[test]
fn error_vectors_fail_with_their_class() {
    let mut n = 0;
    for path in files(&vectors_dir().join("errors")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (class, _) = name.split_once("--").expect("errors/<class>--<name>");
        let bytes = std::fs::read(&path).unwrap();
        for strictness in [Strictness::Normal, Strictness::Strict] {
            let opts = ParseOptions {
                strictness,
                ..options("errors", &name)
            };
            let err = match playhead::parse(&bytes, &opts) {
                Ok(_) => panic!("errors/{name} parsed under {strictness:?}"),
                Err(e) => e,
            };
            assert_eq!(err.class(), class, "errors/{name}: {err}");
            if strictness == Strictness::Normal {
                insta::assert_snapshot!(format!("error__{name}"), err.to_string());
            }
        }
        // Permissive mode may accept some of them, but never panics.
        let _ = playhead::parse(
            &bytes,
            &ParseOptions {
                strictness: Strictness::Permissive,
                ..options("errors", &name)
            },
        );
        n += 1;
    }
    assert!(n >= 15, "expected the error vectors, found {n}");
}

#[test]
fn limits_are_enforced_before_allocation() {
    let bytes = std::fs::read(vectors_dir().join("hls/ll-hls.m3u8")).unwrap();
    let mut opts = options("hls", "ll-hls.m3u8");
    opts.limits.max_segments = 3;
    assert_eq!(
        playhead::parse(&bytes, &opts).unwrap_err().class(),
        "limit-exceeded"
    );
    let mut opts = options("hls", "ll-hls.m3u8");
    opts.limits.max_manifest_bytes = 100;
    assert_eq!(
        playhead::parse(&bytes, &opts).unwrap_err().class(),
        "limit-exceeded"
    );
    let bytes = std::fs::read(vectors_dir().join("dash/multiperiod-list-base-xlink.mpd")).unwrap();
    let mut opts = options("dash", "x.mpd");
    opts.limits.max_periods = 1;
    assert_eq!(
        playhead::parse(&bytes, &opts).unwrap_err().class(),
        "limit-exceeded"
    );
    let mut opts = options("dash", "x.mpd");
    opts.limits.max_tracks = 1;
    assert_eq!(
        playhead::parse(&bytes, &opts).unwrap_err().class(),
        "limit-exceeded"
    );
}
