#![no_main]
//! Live refresh: a first media playlist, then a refresh, split at the first NUL byte.
use libfuzzer_sys::fuzz_target;
use playhead::{ParseOptions, Strictness};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (first, second) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let opts = ParseOptions { strictness: Strictness::Permissive, url: Some("https://fuzz.example/live/m.m3u8".into()), ..Default::default() };
    let Ok(mut parsed) = playhead::parse(first, &opts) else { return };
    let Some(track) = parsed.presentation.periods.get_mut(0).and_then(|p| p.switching_sets.get_mut(0)).and_then(|s| s.tracks.get_mut(0)) else { return };
    let before = track.clone();
    match playhead::refresh_hls_media(track, second, &opts) {
        Ok(_) => {
            let n = track.segments.len();
            let _ = track.segments.segment(n.saturating_sub(1));
        }
        // A refused refresh leaves the model as it was.
        Err(_) => assert_eq!(*track, before),
    }
});
