#![no_main]
//! Live refresh: a first manifest, then a refresh of it, split at the first NUL byte. HLS
//! media playlists go through `refresh_hls_media`, MPDs through `refresh_dash`; a refused
//! refresh must leave the model exactly as it was.
use libfuzzer_sys::fuzz_target;
use playhead::{ManifestFormat, ParseOptions, Strictness};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (first, second) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let opts = ParseOptions { strictness: Strictness::Permissive, url: Some("https://fuzz.example/live/m".into()), ..Default::default() };
    let Ok(parsed) = playhead::parse(first, &opts) else { return };
    let mut p = parsed.presentation;
    if p.format == ManifestFormat::Dash {
        let before = p.clone();
        if playhead::refresh_dash(&mut p, second, &opts).is_err() {
            assert_eq!(p, before);
        }
        return;
    }
    let Some(track) = p.periods.get_mut(0).and_then(|p| p.switching_sets.get_mut(0)).and_then(|s| s.tracks.get_mut(0)) else { return };
    let before = track.clone();
    match playhead::refresh_hls_media(track, second, &opts) {
        Ok(_) => {
            let n = track.segments.len();
            let _ = track.segments.segment(n.saturating_sub(1));
        }
        Err(_) => assert_eq!(*track, before),
    }
});
