//! Writes the binding parity fixtures: for each scenario of
//! [`playhead_conformance::parity`], `<name>.rec` (the recorded inputs) and `<name>.txt`
//! (the native transcript), plus `index.txt` naming them.
//!
//! `playhead-parity --out DIR [--corpus DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut out = None;
    let mut corpus = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            ("--corpus", Some(v)) => corpus = PathBuf::from(v),
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
    match write(&out, &corpus) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("playhead-parity: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(out: &std::path::Path, corpus: &std::path::Path) -> std::io::Result<()> {
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
