//! Differential test of the DASH reader against the `dash-mpd-core` oracle.
//!
//! Every DASH MPD of the shared corpus and every `.mpd` of `conformance/vectors` is read
//! twice: by `playhead::parse` (the streaming quick-xml reader) and by
//! `dash_mpd_core::parse` + `playhead::from_dash_mpd_core` (a serde DOM and a converter that
//! shares no code with the reader). Their `digest()`s must agree, except for the files listed
//! with a reason in `conformance/oracle-differences.tsv`. Files that either side refuses are
//! counted apart (the two have different strictness: the oracle silently ignores what it does
//! not know, Playhead refuses what breaks a *shall*).

// Test helpers abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use playhead::{ParseOptions, Presentation};
use playhead_conformance::{Tally, corpus_dir, corpus_files, digest, vectors_dir};

/// Manifest bytes as text for `dash_mpd_core` (which takes a `&str`): UTF-8 with or without
/// a byte-order mark, or UTF-16 with one.
fn text_of(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|e| e.to_string())
    };
    match bytes {
        [0xff, 0xfe, ..] => utf16(true),
        [0xfe, 0xff, ..] => utf16(false),
        [0xef, 0xbb, 0xbf, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|e| e.to_string())
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string()),
    }
}

fn ours(bytes: &[u8]) -> Result<Presentation, String> {
    playhead::parse(bytes, &ParseOptions::default())
        .map(|p| p.presentation)
        .map_err(|e| format!("{} ({e})", e.class()))
}

fn oracle(bytes: &[u8]) -> Result<Presentation, String> {
    let text = text_of(bytes).map_err(|e| format!("text: {e}"))?;
    let mpd = catch_unwind(AssertUnwindSafe(|| dash_mpd_core::parse(&text)))
        .map_err(|_| "dash_mpd_core::parse panicked".to_owned())?
        .map_err(|e| format!("dash_mpd_core: {e}"))?;
    playhead::from_dash_mpd_core(&mpd, None).map_err(|e| format!("converter: {} ({e})", e.class()))
}

fn mpd_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            mpd_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "mpd") {
            out.push(p);
        }
    }
}

/// The lines where two digests differ (at most `max`).
fn diff_lines(a: &[String], b: &[String], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            out.push(format!(
                "      ours:   {}",
                x.map_or("<none>", |s| s.as_str())
            ));
            out.push(format!(
                "      oracle: {}",
                y.map_or("<none>", |s| s.as_str())
            ));
            if out.len() >= 2 * max {
                break;
            }
        }
    }
    out
}

#[test]
fn dash_reader_agrees_with_dash_mpd_core() {
    let expected = playhead_conformance::oracle_differences().unwrap();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    match corpus_dir() {
        Some(dir) => {
            for f in corpus_files(&dir).expect("corpus index.tsv") {
                if f.format == "dash" {
                    files.push((f.rel, f.path));
                }
            }
        }
        None => {
            eprintln!("\n========================================================");
            eprintln!("SKIPPED: corpus not found (set PLAYHEAD_CORPUS)");
            eprintln!("  dash_oracle compares only conformance/vectors (if any)");
            eprintln!("========================================================\n");
        }
    }
    let vdir = vectors_dir();
    let mut vectors = Vec::new();
    mpd_files(&vdir, &mut vectors);
    for p in vectors {
        let rel = p
            .strip_prefix(&vdir)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        files.push((format!("vectors/{rel}"), p));
    }
    if files.is_empty() {
        eprintln!("SKIPPED: no DASH files to compare");
        return;
    }

    // `PLAYHEAD_ORACLE_SHOW=<part of a path>` prints both digests of the matching files.
    let show = std::env::var("PLAYHEAD_ORACLE_SHOW").ok();
    let mut tally = Tally::default();
    for (rel, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some((a, b)) = tally.read(rel, ours(&bytes), oracle(&bytes)) else {
            continue;
        };
        let (da, db) = (digest(&a), digest(&b));
        if show.as_deref().is_some_and(|s| rel.contains(s)) {
            println!(
                "{rel}\n  ours:\n    {}\n  oracle:\n    {}",
                da.join("\n    "),
                db.join("\n    ")
            );
        }
        let mismatches = if da == db {
            Vec::new()
        } else {
            diff_lines(&da, &db, 4)
        };
        tally.compare(rel, &mismatches, &expected);
    }
    let in_scope: Vec<String> = files.iter().map(|(r, _)| r.clone()).collect();
    if let Err(e) = tally.finish("DASH vs dash-mpd-core", &in_scope, &expected) {
        panic!("{e}");
    }
}
