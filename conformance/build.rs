// Marks the corpus tests ignored (reported as skipped, not passed) when the shared
// real-world corpus is absent: `$PLAYHEAD_CORPUS`, else `shared/corpus` beside the workspace.
// `examples/cli/build.rs` includes this file.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(corpus_absent)");
    println!("cargo::rerun-if-env-changed=PLAYHEAD_CORPUS");
    let dir = match std::env::var_os("PLAYHEAD_CORPUS") {
        Some(p) => PathBuf::from(p),
        // The workspace root is the nearest ancestor holding Cargo.lock.
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .find(|d| d.join("Cargo.lock").is_file())
            .map_or_else(PathBuf::new, |root| root.join("../shared/corpus")),
    };
    let index = dir.join("index.tsv");
    println!("cargo::rerun-if-changed={}", index.display());
    if !index.is_file() {
        println!("cargo::rustc-cfg=corpus_absent");
        println!(
            "cargo::warning=SKIPPED: no corpus at {} (set PLAYHEAD_CORPUS): the corpus tests are ignored",
            dir.display()
        );
    }
}
