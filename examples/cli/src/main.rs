//! `playhead`: the command-line host of the Playhead core.
//!
//! - `playhead inspect <file-or-url>`: a manifest's normalized model, like ffprobe for media.
//! - `playhead play <url>...`: headless playback over real HTTP with a QoE summary.
//! - `playhead probe <url>...`: the synthetic monitor (exit 0 or a one-line reason).
//! - `playhead load --sessions N <url>`: N concurrent viewers against an origin.
//! - `playhead demo`: the bundled origin played live in every format, with a DVR seek, a CDN
//!   failure, decoded audio and a chart.

mod abr_eval;
mod abr_train;
mod audio;
mod chart;
mod demo;
mod host;
mod inspect;
mod load;
mod play;

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
    /// Play a stream headlessly: real HTTP, real clock, a virtual playhead at 1x.
    Play(play::PlayArgs),
    /// Synthetic monitoring: exit 0 when the stream played, 1 with the reason otherwise.
    Probe(play::ProbeArgs),
    /// The bundled origin played live in every format: DVR seek, CDN failure, decoded audio, chart.
    Demo(demo::DemoArgs),
    /// N concurrent engine sessions against an origin (loopback only by default).
    Load(load::LoadArgs),
    /// ABR evaluation: every policy over a folder of traces, against the offline optimum.
    AbrEval(abr_eval::AbrEvalArgs),
    /// Fit the learned ABR policy by imitation of the offline optimum on training traces.
    AbrTrain(abr_train::AbrTrainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // TLS for https URLs: rustls with the ring provider (reqwest leaves the choice to us).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Play(args) => play::play(&args),
        Command::Probe(args) => play::probe(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Load(args) => load::run(&args),
        Command::AbrTrain(args) => match abr_train::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("abr-train: {e}");
                ExitCode::from(2)
            }
        },
        Command::AbrEval(args) => match abr_eval::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("abr-eval: {e}");
                ExitCode::from(2)
            }
        },
    }
}
