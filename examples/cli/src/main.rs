//! `playhead`: the command-line host of the Playhead core.
//!
//! `playhead inspect <file-or-url> [--base-url URL] [--json]` reads a manifest like ffprobe
//! reads media: a summary of the normalized model by default, the full model as JSON with
//! `--json`, or the typed error. Exit code 0 on success, 2 on bad input, 1 on I/O failure.

mod inspect;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "playhead",
    version,
    about = "Playhead: a portable video player core"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the normalized presentation model of a manifest (HLS, DASH, Smooth).
    Inspect(inspect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
    }
}
