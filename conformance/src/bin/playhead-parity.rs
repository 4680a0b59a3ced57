//! Writes the binding parity fixtures: for each scenario of
//! [`playhead_conformance::parity`], `<name>.rec` (the recorded inputs) and `<name>.txt`
//! (the native transcript), plus `index.txt` naming them.
//!
//! `playhead-parity --out DIR [--corpus DIR]`: the corpus defaults to
//! `$PLAYHEAD_CORPUS` or `../shared/corpus`; without one the DRM scenario (which plays a
//! corpus MPD) is left out, with a warning.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut out = None;
    let mut corpus = playhead_conformance::corpus_dir();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            ("--corpus", Some(v)) => corpus = Some(PathBuf::from(v)),
            _ => {
                eprintln!("usage: playhead-parity --out DIR [--corpus DIR]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("usage: playhead-parity --out DIR [--corpus DIR]");
        return ExitCode::from(2);
    };
    match write(&out, corpus.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("playhead-parity: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(out: &std::path::Path, corpus: Option<&std::path::Path>) -> std::io::Result<()> {
    if corpus.is_none() {
        eprintln!("playhead-parity: SKIPPED the DRM scenario: no corpus (set PLAYHEAD_CORPUS)");
    }
    std::fs::create_dir_all(out)?;
    let mut index = String::new();
    for f in playhead_conformance::parity::fixtures(corpus)? {
        std::fs::write(out.join(format!("{}.rec", f.name)), &f.recording)?;
        let mut text = f.transcript.join("\n");
        text.push('\n');
        std::fs::write(out.join(format!("{}.txt", f.name)), text)?;
        println!(
            "{:<20} {:>5} lines {:>8} bytes of recording",
            f.name,
            f.transcript.len(),
            f.recording.len()
        );
        index.push_str(f.name);
        index.push('\n');
    }
    std::fs::write(out.join("index.txt"), index)
}
