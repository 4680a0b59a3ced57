//! A video ladder with the byte size of every segment at every level: Pensieve's
//! `video_size_<q>` folders and sabre movie JSON.

use std::path::{Path, PathBuf};

use playhead::Micros;

/// Pensieve's ladder (bit/s), level 0 lowest.
pub const PENSIEVE_BITRATES: [u64; 6] =
    [300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000];

/// Pensieve's segment duration: 4 s.
pub const PENSIEVE_SEGMENT: Micros = Micros(4_000_000);

/// How many chunks Pensieve plays: 48, although its `video_size_<q>` files have 49 lines
/// ([`Video::read`] keeps them all; the harness chooses how many to play).
pub const PENSIEVE_CHUNKS: usize = 48;

/// A video: a ladder and the size of every segment at every level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    /// The folder or file name (without `.json`).
    pub name: String,
    /// Every segment's duration.
    pub segment_duration: Micros,
    /// The levels' bitrates, bit/s, strictly ascending and positive.
    pub bitrates: Vec<u64>,
    /// `sizes[segment][level]`, bytes.
    pub sizes: Vec<Vec<u64>>,
}

/// Why a video cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The file or folder cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is malformed.
    #[error("{}: {reason}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A `video_size_<q>` folder without Pensieve's 6 levels needs the bitrates given.
    #[error("{}: {levels} levels and no bitrates given (only Pensieve's 6 have a default)", path.display())]
    NeedBitrates {
        /// The folder.
        path: PathBuf,
        /// Its number of levels.
        levels: usize,
    },
    /// The ladder or sizes are inconsistent.
    #[error("video {name}: {reason}")]
    Invalid {
        /// The video's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

impl Video {
    /// A validated video: at least one level and one segment, every segment with every
    /// level, bitrates strictly ascending and positive, a positive segment duration.
    pub fn new(
        name: String,
        segment_duration: Micros,
        bitrates: Vec<u64>,
        sizes: Vec<Vec<u64>>,
    ) -> Result<Video, VideoError> {
        let invalid = |reason: String| VideoError::Invalid {
            name: name.clone(),
            reason,
        };
        if segment_duration.0 <= 0 {
            return Err(invalid(format!(
                "segment duration {segment_duration} is not positive"
            )));
        }
        if bitrates.is_empty() {
            return Err(invalid("no level".to_owned()));
        }
        if bitrates.first().is_some_and(|&b| b == 0) || bitrates.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(format!(
                "bitrates {bitrates:?} are not positive and strictly ascending"
            )));
        }
        if sizes.is_empty() {
            return Err(invalid("no segment".to_owned()));
        }
        if let Some(k) = sizes.iter().position(|s| s.len() != bitrates.len()) {
            return Err(invalid(format!(
                "segment {k} has {} sizes for {} levels",
                sizes[k].len(),
                bitrates.len()
            )));
        }
        Ok(Video {
            name,
            segment_duration,
            bitrates,
            sizes,
        })
    }

    /// Reads a video:
    /// - a folder of `video_size_0..N` files (Pensieve: one byte size per line, level 0
    ///   lowest, 4 s segments). `bitrates` is required unless the folder has 6 levels (then
    ///   Pensieve's ladder, [`PENSIEVE_BITRATES`]). Every line is kept: Pensieve's files have
    ///   49 lines but Pensieve plays [`PENSIEVE_CHUNKS`] = 48;
    /// - a sabre movie `.json` (`segment_duration_ms`, `bitrates_kbps`,
    ///   `segment_sizes_bits[segment][level]`; bits become bytes rounding up). `bitrates`,
    ///   when given, replaces the file's ladder.
    pub fn read(path: &Path, bitrates: Option<&[u64]>) -> Result<Video, VideoError> {
        let name = if path.is_dir() {
            path.file_name()
        } else {
            path.file_stem()
        }
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
        let (segment_duration, ladder, sizes) = if path.is_dir() {
            let sizes = read_size_folder(path)?;
            let levels = sizes.first().map_or(0, Vec::len);
            let ladder = match bitrates {
                Some(b) => b.to_vec(),
                None if levels == PENSIEVE_BITRATES.len() => PENSIEVE_BITRATES.to_vec(),
                None => {
                    return Err(VideoError::NeedBitrates {
                        path: path.to_path_buf(),
                        levels,
                    });
                }
            };
            (PENSIEVE_SEGMENT, ladder, sizes)
        } else {
            let (d, ladder, sizes) = read_sabre_movie(path)?;
            (d, bitrates.map_or(ladder, <[u64]>::to_vec), sizes)
        };
        Video::new(name, segment_duration, ladder, sizes)
    }

    /// The number of segments.
    pub fn chunks(&self) -> usize {
        self.sizes.len()
    }

    /// The number of levels.
    pub fn levels(&self) -> usize {
        self.bitrates.len()
    }

    /// The bitrate of `level` in Mbit/s (the top one for a level past the ladder).
    pub fn mbps(&self, level: usize) -> f64 {
        let bps = self
            .bitrates
            .get(level)
            .or(self.bitrates.last())
            .copied()
            .unwrap_or(0);
        bps as f64 / 1e6
    }

    /// The top bitrate in Mbit/s: QoE_lin's rebuffer weight.
    pub fn top_mbps(&self) -> f64 {
        self.mbps(self.bitrates.len().saturating_sub(1))
    }
}

fn read_size_folder(dir: &Path) -> Result<Vec<Vec<u64>>, VideoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VideoError::Io { path, source }
    };
    let mut files: Vec<(usize, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(q) = name
            .strip_prefix("video_size_")
            .and_then(|q| q.parse::<usize>().ok())
        {
            files.push((q, entry.path()));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(VideoError::Syntax {
            path: dir.to_path_buf(),
            reason: "no video_size_<q> file".to_owned(),
        });
    }
    let mut levels: Vec<Vec<u64>> = Vec::new();
    for (i, (q, path)) in files.iter().enumerate() {
        if *q != i {
            return Err(VideoError::Syntax {
                path: dir.to_path_buf(),
                reason: format!("video_size_{i} is missing"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let mut sizes = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            sizes.push(line.parse::<u64>().map_err(|_| VideoError::Syntax {
                path: path.clone(),
                reason: format!("line {}: {line:?} is not a byte size", n + 1),
            })?);
        }
        levels.push(sizes);
    }
    let segments = levels.iter().map(Vec::len).max().unwrap_or(0);
    if let Some(q) = levels.iter().position(|l| l.len() != segments) {
        return Err(VideoError::Syntax {
            path: dir.to_path_buf(),
            reason: format!(
                "video_size_{q} has {} sizes, another level {segments}",
                levels[q].len()
            ),
        });
    }
    Ok((0..segments)
        .map(|k| levels.iter().map(|l| l[k]).collect())
        .collect())
}

type Movie = (Micros, Vec<u64>, Vec<Vec<u64>>);

fn read_sabre_movie(path: &Path) -> Result<Movie, VideoError> {
    let syntax = |reason: &str| VideoError::Syntax {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let text = std::fs::read_to_string(path).map_err(|source| VideoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| syntax(&format!("not JSON: {e}")))?;
    let positive = |x: Option<&serde_json::Value>| {
        x.and_then(serde_json::Value::as_f64)
            .filter(|x| x.is_finite() && *x > 0.0)
    };
    let ms = positive(v.get("segment_duration_ms"))
        .ok_or_else(|| syntax("`segment_duration_ms` must be a positive number"))?;
    let bitrates = v
        .get("bitrates_kbps")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| syntax("`bitrates_kbps` must be an array"))?
        .iter()
        .map(|b| positive(Some(b)).map(|kbps| (kbps * 1000.0).round() as u64))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(|| syntax("`bitrates_kbps` must hold positive numbers"))?;
    let sizes = v
        .get("segment_sizes_bits")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| syntax("`segment_sizes_bits` must be an array"))?
        .iter()
        .map(|seg| {
            seg.as_array()?
                .iter()
                .map(|bits| bits.as_u64().map(|b| b.div_ceil(8)))
                .collect::<Option<Vec<u64>>>()
        })
        .collect::<Option<Vec<Vec<u64>>>>()
        .ok_or_else(|| {
            syntax("`segment_sizes_bits` must be arrays of non-negative integers (bits)")
        })?;
    Ok((Micros((ms * 1000.0).round() as i64), bitrates, sizes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shared_videos() {
        let Some(dir) =
            super::super::shared_for_test("pensieve_video/computed_from_pensieve_video_server")
        else {
            return;
        };
        let v = Video::read(&dir, None).unwrap();
        assert_eq!(v.name, "computed_from_pensieve_video_server");
        assert_eq!(v.bitrates, PENSIEVE_BITRATES);
        assert_eq!(v.segment_duration, Micros(4_000_000));
        assert_eq!(v.chunks(), 49);
        assert_eq!(v.sizes[0][0], 181_801);
        assert!((v.top_mbps() - 4.3).abs() < 1e-12);
        assert!(matches!(
            Video::read(&dir, Some(&[1, 2, 3])),
            Err(VideoError::Invalid { .. })
        ));

        let Some(movies) = super::super::shared_for_test("sabre_movies") else {
            return;
        };
        let bbb = Video::read(&movies.join("bbb.json"), None).unwrap();
        assert_eq!(bbb.name, "bbb");
        assert_eq!(bbb.segment_duration, Micros(3_000_000));
        assert_eq!(bbb.levels(), 10);
        assert_eq!(bbb.bitrates[0], 230_000);
        assert_eq!(bbb.top_mbps(), 6.0);
        assert_eq!(bbb.chunks(), 199);
        assert_eq!(bbb.sizes[0][0], 886_360 / 8);
        let k4 = Video::read(&movies.join("bbb4k.json"), None).unwrap();
        assert_eq!(k4.levels(), 6);
        assert_eq!(k4.top_mbps(), 35.0);
        println!(
            "videos: {} ({} chunks), {} ({}), {} ({})",
            v.name,
            v.chunks(),
            bbb.name,
            bbb.chunks(),
            k4.name,
            k4.chunks()
        );
    }

    #[test]
    fn size_folders_need_a_ladder_unless_pensieve() {
        let dir = std::env::temp_dir().join(format!("abr-eval-video-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("video_size_0"), "10\n20\n").unwrap();
        std::fs::write(dir.join("video_size_1"), "30\n40\n\n").unwrap();
        assert!(matches!(
            Video::read(&dir, None),
            Err(VideoError::NeedBitrates { levels: 2, .. })
        ));
        let v = Video::read(&dir, Some(&[100, 200])).unwrap();
        assert_eq!(v.sizes, vec![vec![10, 30], vec![20, 40]]);
        assert!(matches!(
            Video::read(&dir, Some(&[200, 100])),
            Err(VideoError::Invalid { .. })
        ));
        std::fs::write(dir.join("video_size_1"), "30\n").unwrap();
        assert!(matches!(
            Video::read(&dir, Some(&[100, 200])),
            Err(VideoError::Syntax { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Video::new("x".into(), Micros(1), vec![0], vec![vec![1]]).is_err());
        assert!(Video::new("x".into(), Micros(1), vec![1], vec![]).is_err());
        assert!(Video::new("x".into(), Micros(0), vec![1], vec![vec![1]]).is_err());
    }

    #[test]
    fn sabre_movies_round_bits_up() {
        let dir = std::env::temp_dir().join(format!("abr-eval-movie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("m.json");
        std::fs::write(
            &p,
            r#"{"segment_duration_ms": 2000, "bitrates_kbps": [100, 250.5],
                "segment_sizes_bits": [[9, 16], [0, 17]]}"#,
        )
        .unwrap();
        let v = Video::read(&p, None).unwrap();
        assert_eq!(v.name, "m");
        assert_eq!(v.segment_duration, Micros(2_000_000));
        assert_eq!(v.bitrates, vec![100_000, 250_500]);
        assert_eq!(v.sizes, vec![vec![2, 2], vec![0, 3]]);
        std::fs::write(
            &p,
            r#"{"segment_duration_ms": 2000, "bitrates_kbps": [100]}"#,
        )
        .unwrap();
        assert!(matches!(
            Video::read(&p, None),
            Err(VideoError::Syntax { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
