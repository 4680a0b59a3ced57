//! Throughput traces from files: Pensieve text, sabre JSON and the Twitch MMSys 2020
//! low-latency patterns (`shared/traces/README.md`).
//!
//! Every trace loops when it runs out (see [`Trace`]). A trace whose throughput is zero over
//! its whole loop is rejected ([`TraceError::ZeroThroughput`]): no download would finish.

use std::path::{Path, PathBuf};

use playhead::Micros;
use playhead::Timescale;
use playhead::time::parse_decimal_ticks;

use crate::sim::net::Trace;

/// One trace with its name and, when the file gives one, its per-request latency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTrace {
    /// The file name; `<file stem>#<NAME>` for each pattern of a Twitch `.js` file.
    pub name: String,
    /// The throughput.
    pub trace: Trace,
    /// The median `latency_ms` of a sabre trace's periods; `None` for the other formats
    /// (the harness then applies its own, e.g. Pensieve's 80 ms round trip).
    pub latency: Option<Micros>,
}

/// Why a trace file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file or folder cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no valid line, period or pattern.
    #[error("{}: no valid line, period or pattern", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file is malformed (sabre JSON or Twitch patterns).
    #[error("{}: {reason}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The throughput is zero over the whole loop: downloads would never finish.
    #[error("{name}: zero throughput over the whole trace")]
    ZeroThroughput {
        /// The trace's name.
        name: String,
    },
}

/// Reads every trace file of `dir` (not its subfolders), sorted by file name. Hidden files
/// and names starting with `LICENSE`, `LICENCE` or `README` (any case) are skipped.
pub fn read_folder(dir: &Path) -> Result<Vec<NamedTrace>, TraceError> {
    let io = |source| TraceError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let upper = name.to_ascii_uppercase();
        if name.starts_with('.')
            || ["LICENSE", "LICENCE", "README"]
                .iter()
                .any(|p| upper.starts_with(p))
        {
            continue;
        }
        let path = entry.path();
        if path.is_file() {
            files.push((entry.file_name(), path));
        }
    }
    files.sort();
    let mut out = Vec::new();
    for (_, path) in files {
        out.extend(read_file(&path)?);
    }
    Ok(out)
}

/// Reads one trace file by its extension: `.json` is sabre, `.js` Twitch patterns (one
/// trace per `const NAME = [...]`), anything else Pensieve text.
pub fn read_file(path: &Path) -> Result<Vec<NamedTrace>, TraceError> {
    let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let traces = match ext.as_str() {
        "json" => vec![sabre(path, &file_name, &text)?],
        "js" => {
            let stem = path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            twitch(path, &stem, &text)?
        }
        _ => {
            let steps = Trace::pensieve_steps(&text);
            if steps.is_empty() {
                return Err(TraceError::Empty {
                    path: path.to_path_buf(),
                });
            }
            check_positive(&file_name, &steps)?;
            vec![NamedTrace {
                name: file_name,
                trace: Trace::pensieve(&text),
                latency: None,
            }]
        }
    };
    Ok(traces)
}

fn check_positive(name: &str, steps: &[(Micros, u64)]) -> Result<(), TraceError> {
    if steps.iter().any(|&(d, bps)| d.0 > 0 && bps > 0) {
        Ok(())
    } else {
        Err(TraceError::ZeroThroughput {
            name: name.to_owned(),
        })
    }
}

fn sabre(path: &Path, name: &str, text: &str) -> Result<NamedTrace, TraceError> {
    let syntax = |reason: &str| TraceError::Syntax {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| syntax(&format!("not JSON: {e}")))?;
    let periods = v
        .as_array()
        .ok_or_else(|| syntax("a sabre trace is a JSON array of periods"))?;
    let trace = Trace::sabre(text).ok_or_else(|| {
        syntax("every period needs non-negative `duration_ms` and `bandwidth_kbps`")
    })?;
    // The same rounding as `Trace::sabre`, to see which periods remain.
    let micros = |x: f64| (x * 1000.0).round() as i64;
    let mut steps = Vec::new();
    let mut latencies = Vec::new();
    for p in periods {
        let ms = p.get("duration_ms").and_then(|x| x.as_f64()).unwrap_or(0.0);
        let kbps = p
            .get("bandwidth_kbps")
            .and_then(|x| x.as_f64())
            .unwrap_or(0.0);
        if micros(ms) > 0 {
            steps.push((Micros(micros(ms)), micros(kbps).max(0) as u64));
        }
        if let Some(l) = p.get("latency_ms").and_then(|x| x.as_f64()) {
            if l.is_finite() && l >= 0.0 {
                latencies.push(micros(l));
            }
        }
    }
    if steps.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    check_positive(name, &steps)?;
    Ok(NamedTrace {
        name: name.to_owned(),
        trace,
        latency: median(latencies).map(Micros),
    })
}

/// The median; for an even count, the mean of the two middle values (rounded down).
fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        None
    } else if n % 2 == 1 {
        Some(v[n / 2])
    } else {
        Some((v[n / 2 - 1] + v[n / 2]).div_euclid(2))
    }
}

/// A token of the JavaScript subset the Twitch pattern files use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Ident(&'a str),
    Num(&'a str),
    Str(&'a str),
    Punct(char),
}

/// Splits JavaScript-like text into tokens, dropping whitespace and comments.
fn tokenize(text: &str) -> Result<Vec<Tok<'_>>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").ok_or("unterminated /* comment")?;
            i += 2 + end + 2;
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            if i >= b.len() {
                return Err("unterminated string".to_owned());
            }
            out.push(Tok::Str(&text[start..i]));
            i += 1;
        } else if c.is_ascii_digit()
            || (c == b'.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num(&text[start..i]));
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            out.push(Tok::Ident(&text[start..i]));
        } else {
            // Any other character (UTF-8 included) is punctuation to the parser.
            let ch = text[i..].chars().next().unwrap_or('?');
            out.push(Tok::Punct(ch));
            i += ch.len_utf8();
        }
    }
    Ok(out)
}

/// The Twitch MMSys 2020 patterns: each `const NAME = [ {speed: <kbit/s>, duration: <s>},
/// ... ];` is one trace `<stem>#<NAME>`. Other statements are ignored.
fn twitch(path: &Path, stem: &str, text: &str) -> Result<Vec<NamedTrace>, TraceError> {
    let syntax = |reason: String| TraceError::Syntax {
        path: path.to_path_buf(),
        reason,
    };
    let toks = tokenize(text).map_err(syntax)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let declares = matches!(toks[i], Tok::Ident("const" | "let" | "var"))
            && toks.get(i + 2) == Some(&Tok::Punct('='))
            && toks.get(i + 3) == Some(&Tok::Punct('['));
        let (true, Some(Tok::Ident(name))) = (declares, toks.get(i + 1)) else {
            i += 1;
            continue;
        };
        let (steps, next) = pattern(&toks, i + 4).map_err(|e| syntax(format!("{name}: {e}")))?;
        i = next;
        let name = format!("{stem}#{name}");
        check_positive(&name, &steps)?;
        out.push(NamedTrace {
            name,
            trace: Trace::steps(steps),
            latency: None,
        });
    }
    if out.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// The objects of one pattern array from `i` (just after `[`) to its `]`: the steps and
/// the index after the `]`.
fn pattern(toks: &[Tok<'_>], mut i: usize) -> Result<(Vec<(Micros, u64)>, usize), String> {
    let kbps = Timescale::new(1000).ok_or("timescale")?;
    let mut steps = Vec::new();
    loop {
        match toks.get(i) {
            Some(Tok::Punct(']')) => break,
            Some(Tok::Punct(',')) => i += 1,
            Some(Tok::Punct('{')) => {
                i += 1;
                let (mut speed, mut duration) = (None, None);
                loop {
                    let key = match toks.get(i) {
                        Some(Tok::Punct('}')) => break,
                        Some(Tok::Punct(',')) => {
                            i += 1;
                            continue;
                        }
                        Some(Tok::Ident(k) | Tok::Str(k)) => *k,
                        other => return Err(format!("expected a key, found {other:?}")),
                    };
                    let (Some(Tok::Punct(':')), Some(Tok::Num(v))) =
                        (toks.get(i + 1), toks.get(i + 2))
                    else {
                        return Err(format!("`{key}` needs a non-negative number"));
                    };
                    i += 3;
                    match key {
                        "speed" => {
                            speed = Some(parse_decimal_ticks(v, kbps).map_err(|e| e.to_string())?);
                        }
                        "duration" => {
                            let us = parse_decimal_ticks(v, Timescale::MICROS)
                                .map_err(|e| e.to_string())?;
                            duration = Some(Micros(i64::try_from(us).map_err(|e| e.to_string())?));
                        }
                        _ => {}
                    }
                }
                i += 1; // the `}`
                let (Some(bps), Some(d)) = (speed, duration) else {
                    return Err("every step needs `speed` and `duration`".to_owned());
                };
                steps.push((d, bps));
            }
            other => return Err(format!("expected `{{` or `]`, found {other:?}")),
        }
    }
    Ok((steps, i + 1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn shared(folder: &str) -> Option<PathBuf> {
        super::super::shared_for_test(folder)
    }

    #[test]
    fn reads_every_shared_trace_folder() {
        for (folder, n) in [
            ("pensieve_cooked_traces", 127),
            ("sabre_fcc_sd", 1000),
            ("twitch_mmsys2020_patterns", 10),
        ] {
            let Some(dir) = shared(folder) else {
                return;
            };
            let traces = read_folder(&dir).unwrap();
            assert_eq!(traces.len(), n, "{folder}");
            let mut names: Vec<_> = traces.iter().map(|t| t.name.clone()).collect();
            names.dedup();
            assert_eq!(names.len(), n, "{folder}: names are unique");
            for t in &traces {
                assert_eq!(t.latency.is_some(), folder == "sabre_fcc_sd", "{}", t.name);
            }
            println!("{folder}: {} traces", traces.len());
        }
        let Some(dir) = shared("twitch_mmsys2020_patterns") else {
            return;
        };
        let fast = read_file(&dir.join("fast-network-patterns.js")).unwrap();
        let spike = fast
            .iter()
            .find(|t| t.name == "fast-network-patterns#PROFILE_SPIKE")
            .unwrap();
        assert_eq!(
            spike.trace,
            Trace::steps(vec![
                (Micros(10_000_000), 500_000),
                (Micros(10_000_000), 200_000),
                (Micros(10_000_000), 400_000),
            ])
        );
    }

    #[test]
    fn pensieve_steps_match_the_trace_parser() {
        let Some(dir) = shared("pensieve_cooked_traces") else {
            return;
        };
        for t in read_folder(&dir).unwrap() {
            let text = std::fs::read_to_string(dir.join(&t.name)).unwrap();
            assert_eq!(
                Trace::steps(Trace::pensieve_steps(&text)),
                t.trace,
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn sabre_latency_is_the_median() {
        let dir = std::env::temp_dir().join(format!("abr-eval-traces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.json");
        std::fs::write(
            &p,
            r#"[{"duration_ms": 1000, "bandwidth_kbps": 100, "latency_ms": 30},
                {"duration_ms": 1000, "bandwidth_kbps": 0, "latency_ms": 10},
                {"duration_ms": 1000, "bandwidth_kbps": 0, "latency_ms": 20.5}]"#,
        )
        .unwrap();
        let t = read_file(&p).unwrap();
        assert_eq!(t[0].latency, Some(Micros(20_500)));
        assert_eq!(t[0].name, "t.json");
        std::fs::write(&p, "[]").unwrap();
        assert!(matches!(read_file(&p), Err(TraceError::Empty { .. })));
        std::fs::write(
            &p,
            r#"[{"duration_ms": 1000, "bandwidth_kbps": 0, "latency_ms": 10}]"#,
        )
        .unwrap();
        assert!(matches!(
            read_file(&p),
            Err(TraceError::ZeroThroughput { .. })
        ));
        std::fs::write(&p, r#"{"a": 1}"#).unwrap();
        assert!(matches!(read_file(&p), Err(TraceError::Syntax { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pensieve_text_rejects_empty_and_zero_files() {
        let dir = std::env::temp_dir().join(format!("abr-eval-pensieve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("trace.log");
        std::fs::write(&p, "# nothing\n\n").unwrap();
        assert!(matches!(read_file(&p), Err(TraceError::Empty { .. })));
        std::fs::write(&p, "0.0\t1.0\n1.0\t0\n2.0\t0.0\n").unwrap();
        assert!(matches!(
            read_file(&p),
            Err(TraceError::ZeroThroughput { .. })
        ));
        std::fs::write(&p, "0.0\t1.0\n1.0\t0\n2.0\t2.5\n").unwrap();
        let t = read_file(&p).unwrap();
        assert_eq!(t[0].trace.at(Micros(1_500_000)).0, 2_500_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn twitch_tokenizer_is_lenient() {
        let text = "/* head */ const A=[{speed:1.5,duration:.25,},{ \"speed\": 2, duration: 1 }, ];\n\
                    // const B = [ {speed: 9, duration: 9} ];\n\
                    let B = [ {duration: 2, speed: 3} ] ; module.exports = { A, B };";
        let t = twitch(Path::new("x.js"), "x", text).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "x#A");
        assert_eq!(
            t[0].trace,
            Trace::steps(vec![(Micros(250_000), 1_500), (Micros(1_000_000), 2_000)])
        );
        assert_eq!(t[1].name, "x#B");
        assert_eq!(t[1].trace, Trace::steps(vec![(Micros(2_000_000), 3_000)]));
        assert!(twitch(Path::new("x.js"), "x", "const A = [{speed: 1}];").is_err());
        assert!(
            twitch(
                Path::new("x.js"),
                "x",
                "const A = [{speed: -1, duration: 1}];"
            )
            .is_err()
        );
        assert!(matches!(
            twitch(
                Path::new("x.js"),
                "x",
                "const A = [{speed: 0, duration: 1}];"
            ),
            Err(TraceError::ZeroThroughput { .. })
        ));
        assert!(matches!(
            twitch(Path::new("x.js"), "x", "// nothing"),
            Err(TraceError::Empty { .. })
        ));
    }
}
