//! The walk over the shared real-world corpus (`../shared/corpus` or `$PLAYHEAD_CORPUS`):
//! every file either parses into the model or fails with a typed error; nothing panics or
//! hangs. Files expected to fail are listed, each with its error class and a reason, in
//! `conformance/corpus-expectations.tsv`; a failure not listed, or a listed file that now
//! parses, fails the test. Every strictness level is walked.

// Test helpers abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use playhead::{ParseOptions, Strictness};
use playhead_conformance::{corpus_dir, corpus_files};

/// Generous: a parse takes milliseconds; only a hang comes near it.
const HANG: Duration = Duration::from_secs(60);

fn expectations() -> BTreeMap<String, (String, String)> {
    let rows = playhead_conformance::listing("corpus-expectations.tsv").unwrap();
    rows.into_iter()
        .map(|(path, cols)| {
            let [class, reason] = <[String; 2]>::try_from(cols)
                .unwrap_or_else(|c| panic!("{path}: want class and reason, got {c:?}"));
            (path, (class, reason))
        })
        .collect()
}

/// Parses in a thread so that a hang is reported, not waited on forever.
fn parse_guarded(
    bytes: Vec<u8>,
    opts: ParseOptions,
) -> Result<Result<(), (String, String)>, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| {
            playhead::parse(&bytes, &opts)
                .map(|_| ())
                .map_err(|e| (e.class().to_owned(), e.to_string()))
        }));
        let _ = tx.send(r.map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        }));
    });
    match rx.recv_timeout(HANG) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(panic)) => Err(format!("PANIC: {panic}")),
        Err(_) => Err("HANG".to_owned()),
    }
}

#[test]
#[cfg_attr(corpus_absent, ignore = "corpus not found: SKIPPED")]
fn corpus_walk() {
    let Some(dir) = corpus_dir() else {
        eprintln!(
            "\n==== SKIPPED: corpus not found (../shared/corpus or $PLAYHEAD_CORPUS); the corpus walk did NOT run ====\n"
        );
        return;
    };
    let files = corpus_files(&dir).unwrap();
    let expected = expectations();
    let mut problems: Vec<String> = Vec::new();
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new(); // level -> [ok, typed error, panic/hang]
    let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let bytes = std::fs::read(&f.path).unwrap();
        for (level, strictness) in [
            ("permissive", Strictness::Permissive),
            ("normal", Strictness::Normal),
            ("strict", Strictness::Strict),
        ] {
            let opts = ParseOptions {
                strictness,
                url: Some(format!("https://corpus.example/{}", f.rel)),
                ..Default::default()
            };
            let c = counts.entry(level).or_default();
            match parse_guarded(bytes.clone(), opts) {
                Err(crash) => {
                    c[2] += 1;
                    problems.push(format!("{level} {}: {crash}", f.rel));
                }
                Ok(Ok(())) => {
                    c[0] += 1;
                    if strictness == Strictness::Normal && expected.contains_key(&f.rel) {
                        problems.push(format!(
                            "{}: listed as failing but parses now: update corpus-expectations.tsv",
                            f.rel
                        ));
                    }
                }
                Ok(Err((class, msg))) => {
                    c[1] += 1;
                    if strictness != Strictness::Normal {
                        continue;
                    }
                    *by_class.entry(class.clone()).or_default() += 1;
                    match expected.get(&f.rel) {
                        Some((want, _)) if *want == class => {}
                        Some((want, _)) => {
                            problems.push(format!("{}: expected {want}, got {class}: {msg}", f.rel))
                        }
                        None => problems.push(format!("{}: unexpected {class}: {msg}", f.rel)),
                    }
                }
            }
        }
    }
    for path in expected.keys() {
        if !files.iter().any(|f| &f.rel == path) {
            problems.push(format!(
                "{path}: listed in corpus-expectations.tsv but not in the corpus"
            ));
        }
    }
    eprintln!(
        "corpus walk over {} files in {}",
        files.len(),
        dir.display()
    );
    for (level, [ok, err, crash]) in &counts {
        eprintln!("  {level:>10}: {ok} parsed, {err} typed errors, {crash} panics/hangs");
    }
    eprintln!("  normal-level errors by class: {by_class:?}");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(counts.values().map(|c| c[2]).sum::<usize>(), 0);
}
