//! `playhead inspect`: the manifest prober.

use std::io::Write;
use std::process::ExitCode;

use playhead::{ParseOptions, Parsed, Presentation, SegmentIndex, Strictness};

/// Arguments of `inspect`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// A manifest file, or an http(s) URL (fetched with curl).
    source: String,
    /// The URL the manifest was served from (base of relative URLs).
    #[arg(long)]
    base_url: Option<String>,
    /// Print the full model as JSON.
    #[arg(long)]
    json: bool,
    /// Strictness: permissive, normal or strict.
    #[arg(long, default_value = "normal")]
    strictness: String,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let bytes = if is_url {
        match fetch(&args.source) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("playhead: cannot fetch {}: {e}", args.source);
                return ExitCode::from(1);
            }
        }
    } else {
        match std::fs::read(&args.source) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("playhead: cannot read {}: {e}", args.source);
                return ExitCode::from(1);
            }
        }
    };
    let strictness = match args.strictness.as_str() {
        "permissive" => Strictness::Permissive,
        "normal" => Strictness::Normal,
        "strict" => Strictness::Strict,
        other => {
            eprintln!("playhead: unknown strictness {other:?} (permissive, normal, strict)");
            return ExitCode::from(2);
        }
    };
    let url = args
        .base_url
        .clone()
        .or_else(|| is_url.then(|| args.source.clone()));
    let opts = ParseOptions {
        strictness,
        url,
        ..Default::default()
    };
    let result = playhead::parse(&bytes, &opts);
    let mut out = std::io::stdout().lock();
    let written = match (&result, args.json) {
        (Ok(parsed), true) => writeln!(out, "{}", model_json(parsed)),
        (Ok(parsed), false) => write!(out, "{}", summary(parsed)),
        (Err(e), true) => writeln!(
            out,
            "{}",
            serde_json::json!({ "error": { "class": e.class(), "message": e.to_string() } })
        ),
        (Err(e), false) => writeln!(out, "error ({}): {e}", e.class()),
    };
    if written.is_err() {
        return ExitCode::from(1);
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Fetches a URL with the system's curl (inspect is a one-shot tool; the playing host
/// brings its own HTTP client).
fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--location",
            "--max-time",
            "30",
            "--proto",
            "=http,https",
            url,
        ])
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn model_json(parsed: &Parsed) -> String {
    let warnings: Vec<_> = parsed
        .warnings
        .iter()
        .map(|w| serde_json::json!({ "line": w.line, "rule": w.rule, "detail": w.detail }))
        .collect();
    serde_json::json!({ "presentation": parsed.presentation, "warnings": warnings }).to_string()
}

fn index_kind(s: &SegmentIndex) -> &'static str {
    match s {
        SegmentIndex::Unloaded => "playlist not loaded",
        SegmentIndex::Base(_) => "segment-base",
        SegmentIndex::Template(_) => "template",
        SegmentIndex::Timeline(_) => "timeline",
        SegmentIndex::List(_) => "list",
    }
}

/// A human summary: one line for the presentation, one per period, set and track.
pub(crate) fn summary(parsed: &Parsed) -> String {
    use std::fmt::Write as _;
    let p: &Presentation = &parsed.presentation;
    let mut s = String::new();
    let kind = if p.is_live() { "live" } else { "vod" };
    let _ = write!(s, "{} ({kind})", p.format);
    if let Some(d) = p.duration {
        let _ = write!(s, ", duration {d}");
    }
    if let Some(l) = &p.live {
        if let Some(d) = l.time_shift_depth {
            let _ = write!(s, ", window {d}");
        }
    }
    let _ = writeln!(
        s,
        ", {} period(s), {} segment(s)",
        p.periods.len(),
        p.segment_count()
    );
    for (pi, period) in p.periods.iter().enumerate() {
        let _ = writeln!(
            s,
            "  period {pi}{}: start {}{}",
            period
                .id
                .as_deref()
                .map(|i| format!(" [{i}]"))
                .unwrap_or_default(),
            period.start,
            period
                .duration
                .map(|d| format!(", duration {d}"))
                .unwrap_or_default()
        );
        for set in &period.switching_sets {
            let _ = writeln!(
                s,
                "    {:?} set{}{}{}: {} track(s)",
                set.content_type,
                set.id
                    .as_deref()
                    .map(|i| format!(" [{i}]"))
                    .unwrap_or_default(),
                set.language
                    .as_deref()
                    .map(|l| format!(" lang={l}"))
                    .unwrap_or_default(),
                if set.protection.is_empty() {
                    String::new()
                } else {
                    format!(" drm={}", set.protection.len())
                },
                set.tracks.len()
            );
            for t in &set.tracks {
                let res = match (t.width, t.height) {
                    (Some(w), Some(h)) => format!(" {w}x{h}"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    s,
                    "      {} {} bit/s{res}{} — {} segment(s), {}",
                    t.id,
                    t.bandwidth,
                    t.codecs
                        .as_deref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default(),
                    t.segments.len(),
                    index_kind(&t.segments)
                );
            }
        }
    }
    for w in &parsed.warnings {
        let _ = writeln!(s, "  warning line {}: {} ({})", w.line, w.detail, w.rule);
    }
    s
}
