//! Inputs the fuzzers once crashed or stalled on (`fuzz/regressions/<target>/`), replayed
//! through the same paths as the fuzz targets: each must give a model (or samples) or a
//! typed error.

// Test helpers abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use playhead::{ParseOptions, Strictness};
use playhead_conformance::workspace_root;

#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = workspace_root().join("fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&dir).unwrap() {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&target).unwrap() {
            let data = std::fs::read(f.unwrap().path()).unwrap();
            n += 1;
            // The media targets: the same calls as fuzz/fuzz_targets/{bmff,ts}.rs.
            match name.as_str() {
                "bmff" => {
                    let init = std::fs::read(
                        playhead_conformance::asset::media_dir().join("v/144p/init.mp4"),
                    )
                    .unwrap();
                    let init = playhead::media::parse_init(&init).unwrap();
                    playhead::media::exercise::boxes(&data, Some(&init));
                    continue;
                }
                "ts" => {
                    playhead::media::exercise::ts(&data);
                    continue;
                }
                _ => {}
            }
            for strictness in [
                Strictness::Permissive,
                Strictness::Normal,
                Strictness::Strict,
            ] {
                let opts = ParseOptions {
                    strictness,
                    url: Some("https://fuzz.example/a/b?x=1".into()),
                    ..Default::default()
                };
                let _ = playhead::parse(&data, &opts);
                let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                let second = data.get(split + 1..).unwrap_or(&[]);
                if let Ok(mut p) = playhead::parse(&data[..split], &opts) {
                    let before = p.presentation.clone();
                    if playhead::refresh_dash(&mut p.presentation, second, &opts).is_err() {
                        assert_eq!(p.presentation, before);
                    }
                    if let Some(t) = p
                        .presentation
                        .periods
                        .get_mut(0)
                        .and_then(|p| p.switching_sets.get_mut(0))
                        .and_then(|s| s.tracks.get_mut(0))
                    {
                        let _ = playhead::refresh_hls_media(t, second, &opts);
                    }
                }
            }
        }
    }
    eprintln!("replayed {n} fuzz regression input(s)");
}
