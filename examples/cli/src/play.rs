//! `playhead play` (headless playback with a progress line and a QoE summary) and
//! `playhead probe` (the synthetic monitor: exit 0 when the stream played, 1 with a
//! one-line reason otherwise, JSON for alerting systems).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use playhead::engine::{Config, ErrorClass, RequestKind, SinkMode};

use crate::audio;
use crate::host::{self, Plan, Report, Sample, SampleRow};

/// `playhead play`.
#[derive(clap::Args)]
pub(crate) struct PlayArgs {
    /// Manifest URL(s); more than one are CDNs in order of preference.
    #[arg(required = true)]
    urls: Vec<String>,
    /// Seconds to play.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Print the report as JSON (no progress line).
    #[arg(long)]
    json: bool,
    /// How the decoder takes media: `samples` (access units, as MediaCodec; the audio is
    /// then decoded with symphonia), `segments` (MSE with MPEG-TS), `segments-no-ts` (MSE
    /// without MPEG-TS: TS is remuxed to fMP4), `as-fetched`.
    #[arg(long, value_enum, default_value_t = Sink::Samples)]
    sink: Sink,
    /// Write every access unit handed to the decoder to this CSV file (sample sink).
    #[arg(long)]
    samples: Option<std::path::PathBuf>,
}

/// `--sink`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Sink {
    /// Access units.
    Samples,
    /// Container bytes, MPEG-TS passed through.
    Segments,
    /// Container bytes, MPEG-TS remuxed to fMP4.
    SegmentsNoTs,
    /// Bodies as fetched.
    AsFetched,
}

impl Sink {
    fn mode(self) -> SinkMode {
        match self {
            Sink::Samples => SinkMode::Samples,
            Sink::Segments => SinkMode::Segments { mpeg_ts: true },
            Sink::SegmentsNoTs => SinkMode::Segments { mpeg_ts: false },
            Sink::AsFetched => SinkMode::AsFetched,
        }
    }
}

/// `playhead probe`.
#[derive(clap::Args)]
pub(crate) struct ProbeArgs {
    /// Manifest URL(s); more than one are CDNs in order of preference.
    #[arg(required = true)]
    urls: Vec<String>,
    /// Seconds to watch.
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// Fail when a stall lasts longer than this, seconds.
    #[arg(long, default_value_t = 2.0)]
    max_stall: f64,
    /// Fail when more media segment requests than this fail (even if retries recovered).
    #[arg(long, default_value_t = 3)]
    max_segment_failures: u64,
    /// How the decoder takes media (see `play --help`).
    #[arg(long, value_enum, default_value_t = Sink::Samples)]
    sink: Sink,
}

/// Why a probe failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Reason {
    /// The manifest or a playlist could not be fetched or read.
    Manifest,
    /// Media segments failed.
    Segments,
    /// Playback stalled too long.
    Stall,
    /// The licence or key could not be obtained.
    Drm,
    /// A live playlist stopped growing.
    StaleLive,
    /// No track the device can play.
    NoPlayableTracks,
    /// Nothing played.
    NoPlayback,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Manifest => "manifest error",
            Reason::Segments => "segment failures",
            Reason::Stall => "stall",
            Reason::Drm => "DRM failure",
            Reason::StaleLive => "stale live playlist",
            Reason::NoPlayableTracks => "no playable tracks",
            Reason::NoPlayback => "no playback",
        }
    }
}

/// The probe's verdict on a report.
pub(crate) fn verdict(
    r: &Report,
    max_stall: f64,
    max_segment_failures: u64,
) -> Option<(Reason, String)> {
    if let Some(f) = &r.fatal {
        let reason = match (f.class, f.kind) {
            (ErrorClass::Drm, _) | (_, Some(RequestKind::License | RequestKind::Key)) => {
                Reason::Drm
            }
            (ErrorClass::Stale, _) => Reason::StaleLive,
            (ErrorClass::NoPlayableTracks, _) => Reason::NoPlayableTracks,
            (_, Some(RequestKind::MediaSegment | RequestKind::InitSegment)) => Reason::Segments,
            _ => Reason::Manifest,
        };
        return Some((reason, format!("{}: {}", f.class.name(), f.cause)));
    }
    if r.stale {
        return Some((Reason::StaleLive, "a live playlist stopped growing".into()));
    }
    if r.longest_stall > max_stall {
        return Some((
            Reason::Stall,
            format!(
                "stalled {:.1} s (limit {max_stall:.1} s), {} stall(s)",
                r.longest_stall, r.stalls
            ),
        ));
    }
    if r.segment_failures > max_segment_failures {
        return Some((
            Reason::Segments,
            format!(
                "{} media segment requests failed (limit {max_segment_failures})",
                r.segment_failures
            ),
        ));
    }
    if r.played < 1.0 {
        return Some((Reason::NoPlayback, format!("played {:.1} s", r.played)));
    }
    None
}

/// The report as JSON.
pub(crate) fn report_json(
    url: &[String],
    r: &Report,
    verdict: Option<&(Reason, String)>,
) -> serde_json::Value {
    serde_json::json!({
        "ok": verdict.is_none(),
        "reason": verdict.map(|v| v.0),
        "detail": verdict.map(|v| v.1.clone()),
        "urls": url,
        "played_s": r.played,
        "startup_ms": r.stats.startup_time.map(|m| m.0 / 1000),
        "stalls": r.stalls,
        "longest_stall_s": r.longest_stall,
        "requests": r.requests,
        "failures": r.failures,
        "segment_failures": r.segment_failures,
        "bytes": r.bytes,
        "stats": r.stats,
    })
}

/// The QoE table printed after `play` and in the demo.
pub(crate) fn summary(label: &str, r: &Report) -> String {
    let s = &r.stats;
    let switches = s.switch_count.saturating_sub(1);
    format!(
        "{label:<14} played {:>5.1} s  startup {:>5} ms  stalls {} (longest {:.1} s)  avg {:>4} kbit/s  switches {switches}  cdn changes {}  requests {} ({} failed)  {:.1} MB",
        r.played,
        s.startup_time
            .map_or("-".into(), |m| (m.0 / 1000).to_string()),
        r.stalls,
        r.longest_stall,
        s.average_bitrate / 1000,
        s.location_changes,
        r.requests,
        r.failures,
        r.bytes as f64 / 1e6,
    )
}

/// The progress line: position, buffer, bitrate.
pub(crate) fn progress_line(label: &str, s: &Sample, total: f64) {
    let width = 24usize;
    let done = ((s.t / total.max(1.0)) * width as f64).clamp(0.0, width as f64) as usize;
    let bar: String = "#".repeat(done) + &"-".repeat(width - done);
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r{label} [{bar}] pos {:>8.1} s  buffer {:>5.1} s  {:>5} kbit/s  est {:>6} kbit/s ",
        s.position,
        s.buffer,
        s.bitrate / 1000,
        s.estimate / 1000
    );
    let _ = err.flush();
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// Plays `urls` for `duration` seconds on a runtime of its own; `Err` is the exit code
/// after printing why the host could not start.
fn watch(
    command: &str,
    urls: &[String],
    duration: u64,
    (sink, log_samples): (Sink, bool),
    on_tick: impl FnMut(&Sample),
) -> Result<Report, ExitCode> {
    let plan = Plan {
        duration: Duration::from_secs(duration),
        chart_every: Some(Duration::from_millis(500)),
        keep_audio: sink == Sink::Samples,
        log_samples,
        ..Plan::default()
    };
    let config = Config {
        sink: sink.mode(),
        drm: host::drm_config(),
        ..Config::default()
    };
    runtime()
        .and_then(|rt| {
            rt.block_on(async {
                let client = host::client()?;
                Ok(host::run(&client, config, host::sources(urls), &plan, on_tick).await)
            })
        })
        .map_err(|e| {
            eprintln!("playhead {command}: {e}");
            ExitCode::from(2)
        })
}

/// `playhead play`.
pub(crate) fn play(args: &PlayArgs) -> ExitCode {
    let total = args.duration as f64;
    let sink = (args.sink, args.samples.is_some());
    let r = match watch("play", &args.urls, args.duration, sink, |s| {
        if !args.json {
            progress_line("play", s, total);
        }
    }) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if let Some(path) = &args.samples {
        if let Err(e) = write_samples(path, &r.samples) {
            eprintln!("playhead play: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    let mut r = r;
    let audio = (args.sink == Sink::Samples).then(|| audio::decode(&r.audio));
    // Encrypted audio that the ClearKey keys do not turn into AAC: the key is wrong.
    if r.fatal.is_none() {
        let cause = match (&r.audio.drm_error, &audio) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(Err(e))) if r.audio.decrypted > 0 => Some(format!(
                "{} decrypted audio frames do not decode ({e}): wrong key?",
                r.audio.decrypted
            )),
            _ => None,
        };
        if let Some(cause) = cause {
            r.fatal = Some(playhead::engine::FatalError {
                class: ErrorClass::Drm,
                kind: None,
                cause,
            });
        }
    }
    let v = verdict(&r, f64::INFINITY, u64::MAX);
    if args.json {
        let mut json = report_json(&args.urls, &r, v.as_ref());
        json["audio"] = match &audio {
            Some(Ok(d)) => serde_json::json!(d),
            Some(Err(e)) => serde_json::json!({ "error": e }),
            None => serde_json::Value::Null,
        };
        json["drm"] = serde_json::json!({ "decrypted_units": r.audio.decrypted });
        println!("{json}");
    } else {
        eprintln!();
        println!("{}", summary("play", &r));
        match &audio {
            Some(Ok(d)) => println!(
                "audio: {} frames of {} decoded -> {:.1} s of {} Hz x{} PCM, {:.0}% of the energy at 440 Hz",
                d.frames,
                d.codec,
                d.seconds,
                d.sample_rate,
                d.channels,
                d.tone_440 * 100.0
            ),
            Some(Err(e)) => println!("audio: {e}"),
            None => {}
        }
        if r.audio.decrypted > 0 {
            println!(
                "drm: {} audio access units decrypted with the software ClearKey CDM",
                r.audio.decrypted
            );
        }
        if let Some(f) = &r.fatal {
            println!("error ({}): {}", f.class.name(), f.cause);
        }
    }
    if r.fatal.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `playhead probe`.
pub(crate) fn probe(args: &ProbeArgs) -> ExitCode {
    let r = match watch(
        "probe",
        &args.urls,
        args.duration,
        (args.sink, false),
        |_| {},
    ) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let v = verdict(&r, args.max_stall, args.max_segment_failures);
    if args.json {
        println!("{}", report_json(&args.urls, &r, v.as_ref()));
    } else {
        match &v {
            None => println!(
                "OK: played {:.1} s, startup {} ms, {} stall(s), {} request(s) failed",
                r.played,
                r.stats.startup_time.map_or(0, |m| m.0 / 1000),
                r.stalls,
                r.failures
            ),
            Some((reason, detail)) => println!("FAIL {}: {detail}", reason.name()),
        }
    }
    if v.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--samples`: one CSV line per access unit.
fn write_samples(path: &std::path::Path, rows: &[SampleRow]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "content_type,track,segment_start_us,codec,timescale,dts,pts,duration,keyframe,size"
    )?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            r.content_type,
            r.track,
            r.segment_start,
            r.codec,
            r.timescale,
            r.dts,
            r.pts,
            r.duration,
            u8::from(r.keyframe),
            r.size
        )?;
    }
    out.flush()
}
