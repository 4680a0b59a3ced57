//! Playhead conformance: helpers shared by the conformance tests (our own vectors with
//! golden snapshots, the walk over the shared real-world corpus, and the differential
//! tests against the `m3u8-rs` and `dash-mpd-core` oracles).

pub mod abr_eval;
mod aes128;
pub mod asset;
pub mod parity;
pub mod server;
pub mod sim;
mod tally;

pub use tally::{Tally, clip};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use playhead::{Presentation, SegmentIndex};

/// The real-world corpus: `$PLAYHEAD_CORPUS`, else `../shared/corpus` beside the workspace.
/// `None` when absent (tests then say so loudly and report themselves skipped).
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PLAYHEAD_CORPUS") {
        let p = PathBuf::from(p);
        return p.join("index.tsv").is_file().then_some(p);
    }
    let p = workspace_root().join("../shared/corpus");
    p.join("index.tsv").is_file().then_some(p)
}

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Our own vectors: `conformance/vectors`.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Rows of a listing in `conformance/` (`corpus-expectations.tsv`, `oracle-differences.tsv`):
/// tab-separated, `#` comments and a `path\t...` header skipped, the path first and a
/// reason of at least 10 characters last. Returns path -> the other columns.
pub fn listing(name: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("path\t") {
            continue;
        }
        let mut cols = line.split('\t').map(|c| c.trim().to_owned());
        let path = cols.next().unwrap_or_default();
        let rest: Vec<String> = cols.collect();
        if rest.last().is_none_or(|reason| reason.len() < 10) {
            return Err(format!(
                "{name}:{}: {path:?} needs a concrete reason",
                i + 1
            ));
        }
        out.insert(path, rest);
    }
    Ok(out)
}

/// `oracle-differences.tsv`: path -> the reason Playhead and its oracle differ there.
pub fn oracle_differences() -> Result<BTreeMap<String, String>, String> {
    let rows = listing("oracle-differences.tsv")?;
    Ok(rows
        .into_iter()
        .map(|(path, mut cols)| (path, cols.pop().unwrap_or_default()))
        .collect())
}

/// One corpus file as listed in `index.tsv`.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path relative to the corpus folder.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// `dash`, `hls-media`, `hls-multivariant` or `smooth`.
    pub format: String,
}

/// The corpus files, in index order.
pub fn corpus_files(dir: &Path) -> std::io::Result<Vec<CorpusFile>> {
    let index = std::fs::read_to_string(dir.join("index.tsv"))?;
    let mut files = Vec::new();
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(pc), Some(fc)) = (col("corpus_path"), col("format")) else {
        return Err(std::io::Error::other(
            "index.tsv lacks corpus_path/format columns",
        ));
    };
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        if let (Some(rel), Some(format)) = (cols.get(pc), cols.get(fc)) {
            files.push(CorpusFile {
                rel: (*rel).to_owned(),
                path: dir.join(rel),
                format: (*format).to_owned(),
            });
        }
    }
    Ok(files)
}

/// A format-neutral digest of a presentation for differential tests: periods (start,
/// duration), sets (content type, ids), tracks (id, bandwidth, codecs, size) and, per
/// track, segment count and first/last segment start and duration in microseconds.
pub fn digest(p: &Presentation) -> Vec<String> {
    let mut out = Vec::new();
    out.push(format!(
        "live={} duration={:?}",
        p.is_live(),
        p.duration.map(|d| d.0)
    ));
    for (pi, period) in p.periods.iter().enumerate() {
        out.push(format!(
            "period {pi} id={:?} start={} duration={:?}",
            period.id,
            period.start.0,
            period.duration.map(|d| d.0)
        ));
        for (si, set) in period.switching_sets.iter().enumerate() {
            out.push(format!(
                "  set {si} type={:?} tracks={}",
                set.content_type,
                set.tracks.len()
            ));
            for t in &set.tracks {
                out.push(format!(
                    "    track id={} bw={} codecs={:?} size={:?}x{:?} {}",
                    t.id,
                    t.bandwidth,
                    t.codecs,
                    t.width,
                    t.height,
                    segments_digest(&t.segments)
                ));
            }
        }
    }
    out
}

/// Count and exact first/last times of a segment index.
pub fn segments_digest(s: &SegmentIndex) -> String {
    let n = s.len();
    let us = |ticks: u64| playhead::Micros::from_ticks(ticks, s.timescale()).0;
    match (s.segment(0), n.checked_sub(1).and_then(|l| s.segment(l))) {
        (Some(a), Some(b)) => format!(
            "segments={n} first=({},{}) last=({},{})",
            us(a.start),
            us(a.duration),
            us(b.start),
            us(b.duration)
        ),
        _ => format!("segments={n}"),
    }
}
