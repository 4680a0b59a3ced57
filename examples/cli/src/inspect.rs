//! `playhead inspect`: the manifest prober.

use std::io::Write;
use std::process::ExitCode;

use playhead::{
    ContentProtection, KeySystem, ParseOptions, Parsed, Presentation, SegmentIndex, Strictness,
};

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

fn opt<T: std::fmt::Display>(label: &str, v: Option<T>) -> String {
    v.map(|v| format!(" {label}={v}")).unwrap_or_default()
}

fn systems(p: &[ContentProtection]) -> String {
    let names: Vec<String> = p
        .iter()
        .filter(|c| c.system != KeySystem::Mp4Protection)
        .map(|c| match &c.system {
            KeySystem::Other(o) => o.clone(),
            k => format!("{k:?}").to_lowercase(),
        })
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" drm={}", names.join("+"))
    }
}

/// A human summary: one line for the presentation (and its live parameters), one per
/// period, set and track, then events, pending fetches and warnings.
pub(crate) fn summary(parsed: &Parsed) -> String {
    use std::fmt::Write as _;
    let p: &Presentation = &parsed.presentation;
    let mut s = String::new();
    let kind = if p.is_live() { "live" } else { "vod" };
    let _ = writeln!(
        s,
        "{} ({kind}){}, {} period(s), {} segment(s)",
        p.format,
        opt("duration", p.duration),
        p.periods.len(),
        p.segment_count()
    );
    if let Some(l) = &p.live {
        let target = l
            .service_description
            .as_ref()
            .and_then(|d| d.target_latency);
        let _ = writeln!(
            s,
            "  live:{}{}{}{}{}{}{}",
            opt("window", l.time_shift_depth),
            opt("update", l.update_period),
            opt("suggested-delay", l.suggested_delay),
            opt("hold-back", l.hold_back),
            opt("part-hold-back", l.part_hold_back),
            opt("target-latency", target),
            if l.event { " event" } else { "" }
        );
    }
    if let Some(st) = &p.steering {
        let _ = writeln!(
            s,
            "  steering: {}{}",
            st.server_url,
            opt("pathway", st.default_pathway.as_deref())
        );
    }
    for k in &p.session_keys {
        let _ = writeln!(
            s,
            "  session key: {:?} {:?}{}",
            k.method,
            k.system,
            opt("uri", k.uri.as_deref())
        );
    }
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
            opt("duration", period.duration)
        );
        for set in &period.switching_sets {
            let _ = writeln!(
                s,
                "    {:?} set{}{}{}{}{}{}: {} track(s)",
                set.content_type,
                set.id
                    .as_deref()
                    .map(|i| format!(" [{i}]"))
                    .unwrap_or_default(),
                opt("lang", set.language.as_deref()),
                set.text_kind
                    .map(|k| format!(" {k:?}").to_lowercase())
                    .unwrap_or_default(),
                if set.roles.is_empty() {
                    String::new()
                } else {
                    format!(" roles={}", set.roles.join(","))
                },
                systems(&set.protection),
                if set.trick_mode { " trick-mode" } else { "" },
                set.tracks.len()
            );
            for t in &set.tracks {
                let res = match (t.width, t.height) {
                    (Some(w), Some(h)) => format!(" {w}x{h}"),
                    _ => String::new(),
                };
                let fps = t.frame_rate.map(|f| {
                    if f.den == 1 {
                        format!(" {}fps", f.num)
                    } else {
                        format!(" {}/{}fps", f.num, f.den)
                    }
                });
                let _ = writeln!(
                    s,
                    "      {} {} bit/s{res}{}{}{}{}{} — {} segment(s), {}",
                    t.id,
                    t.bandwidth,
                    fps.unwrap_or_default(),
                    t.video_range
                        .map(|r| format!(" {r:?}").to_uppercase())
                        .unwrap_or_default(),
                    t.codecs
                        .as_deref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default(),
                    opt("lang", t.language.as_deref()),
                    opt("channels", t.audio_channels.as_deref()),
                    t.segments.len(),
                    index_kind(&t.segments)
                );
            }
        }
        for es in &period.event_streams {
            let _ = writeln!(
                s,
                "    events {}: {} event(s)",
                es.scheme_id_uri,
                es.events.len()
            );
        }
    }
    for f in &p.pending {
        let _ = writeln!(s, "  pending fetch ({:?}): {}", f.target, f.url);
    }
    for w in &parsed.warnings {
        let _ = writeln!(s, "  warning line {}: {} ({})", w.line, w.detail, w.rule);
    }
    s
}
