//! Differential test of the HLS scanner against the `m3u8-rs` oracle.
//!
//! Every HLS playlist of the shared corpus is read by `playhead::parse` (without a base URL,
//! so URIs stay as written) and by `m3u8_rs::parse_playlist_res`. When both accept it:
//! - media playlists: segment count, each segment's URI, duration (our exact microseconds
//!   against the oracle's `f32` seconds, within 1 ms), discontinuity flag and byte range,
//!   the media sequence, target duration and ENDLIST;
//! - multivariant playlists: the variant count (we merge redundant variants with identical
//!   attributes into one track with several playlists, so playlists are counted), their
//!   bandwidths, the I-frame variants and their bandwidths, and the `EXT-X-MEDIA` count.
//!
//! Mismatches fail the test unless the file is listed with a reason in
//! `conformance/oracle-differences.tsv`. Files that either side refuses are counted apart.

// Test helpers abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use m3u8_rs::{MasterPlaylist, MediaPlaylist, Playlist};
use playhead::{ManifestFormat, ParseOptions, Presentation, SegmentIndex};
use playhead_conformance::{Tally, corpus_dir, corpus_files};

fn ours(bytes: &[u8]) -> Result<Presentation, String> {
    playhead::parse(bytes, &ParseOptions::default())
        .map(|p| p.presentation)
        .map_err(|e| format!("{} ({e})", e.class()))
}

fn oracle(bytes: &[u8]) -> Result<Playlist, String> {
    catch_unwind(AssertUnwindSafe(|| {
        m3u8_rs::parse_playlist_res(bytes).map_err(|e| {
            let s = format!("{e:?}");
            format!("m3u8-rs: {}", s.chars().take(160).collect::<String>())
        })
    }))
    .unwrap_or_else(|_| Err("m3u8-rs panicked".to_owned()))
}

/// A URI as written matches our URL (parsed without a base: as written, or normalized by
/// the WHATWG URL rules when absolute, which percent-encodes `<`, `>`, spaces...) when equal,
/// when our URL ends with it, or when they are equal once percent-decoded.
fn same_uri(ours: &str, theirs: &str) -> bool {
    let theirs = theirs.trim();
    ours == theirs
        || (!theirs.is_empty() && ours.ends_with(theirs))
        || percent_decoded(ours) == percent_decoded(theirs)
}

fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Compares a media playlist; returns the mismatches.
fn compare_media(p: &Presentation, m: &MediaPlaylist) -> Vec<String> {
    let mut out = Vec::new();
    let Some(track) = p.tracks().next() else {
        return vec!["ours: no track".into()];
    };
    let SegmentIndex::List(list) = &track.segments else {
        return vec![format!(
            "ours: not a list index: {:?}",
            track.segments.len()
        )];
    };
    let Some(info) = list.hls.as_deref() else {
        return vec!["ours: no HLS playlist info".into()];
    };
    if info.media_sequence != m.media_sequence {
        out.push(format!(
            "media sequence: ours {} oracle {}",
            info.media_sequence, m.media_sequence
        ));
    }
    if info.target_duration.0
        != i64::try_from(m.target_duration)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000)
    {
        out.push(format!(
            "target duration: ours {} us oracle {} s",
            info.target_duration.0, m.target_duration
        ));
    }
    if info.ended != m.end_list {
        out.push(format!(
            "endlist: ours {} oracle {}",
            info.ended, m.end_list
        ));
    }
    if list.len() != m.segments.len() {
        out.push(format!(
            "segment count: ours {} oracle {}",
            list.len(),
            m.segments.len()
        ));
    }
    // Byte ranges without an offset continue the previous range (RFC 8216 §4.3.2.2).
    let mut next_offset: Option<u64> = None;
    for (i, theirs) in m.segments.iter().enumerate() {
        let Some(s) = list.get(i) else { break };
        if s.number != m.media_sequence + i as u64 {
            out.push(format!(
                "segment {i}: number ours {} oracle {}",
                s.number,
                m.media_sequence + i as u64
            ));
        }
        if !same_uri(&s.url, &theirs.uri) {
            out.push(format!(
                "segment {i}: uri ours {:?} oracle {:?}",
                s.url, theirs.uri
            ));
        }
        let us = playhead::Micros::from_ticks(s.duration, s.timescale).0 as f64;
        let their_us = f64::from(theirs.duration) * 1e6;
        let tolerance = 1000f64.max(their_us.abs() * f64::from(f32::EPSILON));
        if (us - their_us).abs() > tolerance {
            out.push(format!(
                "segment {i}: duration ours {us} us oracle {} s",
                theirs.duration
            ));
        }
        if s.discontinuity != theirs.discontinuity {
            out.push(format!(
                "segment {i}: discontinuity ours {} oracle {}",
                s.discontinuity, theirs.discontinuity
            ));
        }
        let their_range = theirs.byte_range.as_ref().map(|r| {
            let start = r.offset.or(next_offset).unwrap_or(0);
            next_offset = Some(start + r.length);
            (start, Some(r.length))
        });
        let our_range = s.byte_range.map(|r| (r.start, r.length));
        if our_range != their_range {
            out.push(format!(
                "segment {i}: byte range ours {our_range:?} oracle {their_range:?}"
            ));
        }
        if out.len() > 12 {
            out.push("...".into());
            break;
        }
    }
    out
}

/// Compares a multivariant playlist; returns the mismatches.
fn compare_multivariant(p: &Presentation, m: &MasterPlaylist) -> Vec<String> {
    let mut out = Vec::new();
    let Some(period) = p.periods.first() else {
        return vec!["ours: no period".into()];
    };
    let mut variants: Vec<u64> = Vec::new();
    let mut iframes: Vec<u64> = Vec::new();
    let mut renditions = 0usize;
    for set in &period.switching_sets {
        if set.trick_mode && set.id.as_deref() == Some("i-frames") {
            iframes.extend(set.tracks.iter().map(|t| t.bandwidth));
        } else if set.id.as_deref() == Some("variants") {
            for t in &set.tracks {
                let n = t.hls.as_ref().map_or(1, |h| h.playlists.len().max(1));
                variants.extend(std::iter::repeat_n(t.bandwidth, n));
            }
        } else {
            renditions += set.tracks.len();
        }
    }
    let mut their_variants: Vec<u64> = m
        .variants
        .iter()
        .filter(|v| !v.is_i_frame)
        .map(|v| v.bandwidth)
        .collect();
    let mut their_iframes: Vec<u64> = m
        .variants
        .iter()
        .filter(|v| v.is_i_frame)
        .map(|v| v.bandwidth)
        .collect();
    for v in [
        &mut variants,
        &mut iframes,
        &mut their_variants,
        &mut their_iframes,
    ] {
        v.sort_unstable();
    }
    if variants.len() != their_variants.len() {
        out.push(format!(
            "variant playlists: ours {} oracle {}",
            variants.len(),
            their_variants.len()
        ));
    } else if variants != their_variants {
        out.push(format!(
            "variant bandwidths: ours {variants:?} oracle {their_variants:?}"
        ));
    }
    if iframes.len() != their_iframes.len() {
        out.push(format!(
            "I-frame variants: ours {} oracle {}",
            iframes.len(),
            their_iframes.len()
        ));
    } else if iframes != their_iframes {
        out.push(format!(
            "I-frame bandwidths: ours {iframes:?} oracle {their_iframes:?}"
        ));
    }
    if renditions != m.alternatives.len() {
        out.push(format!(
            "EXT-X-MEDIA renditions: ours {renditions} oracle {}",
            m.alternatives.len()
        ));
    }
    out
}

#[test]
#[cfg_attr(corpus_absent, ignore = "corpus not found: SKIPPED")]
fn hls_scanner_agrees_with_m3u8_rs() {
    let Some(dir) = corpus_dir() else {
        eprintln!("\n========================================================");
        eprintln!("SKIPPED: corpus not found (set PLAYHEAD_CORPUS)");
        eprintln!("========================================================\n");
        return;
    };
    let expected = playhead_conformance::oracle_differences().unwrap();
    let files: Vec<_> = corpus_files(&dir)
        .expect("corpus index.tsv")
        .into_iter()
        .filter(|f| f.format == "hls-media" || f.format == "hls-multivariant")
        .collect();
    // `PLAYHEAD_ORACLE_SHOW=<part of a path>` prints every mismatch of the matching files.
    let show = std::env::var("PLAYHEAD_ORACLE_SHOW").ok();

    let mut tally = Tally::default();
    for f in &files {
        let bytes = std::fs::read(&f.path).unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
        let rel = &f.rel;
        let Some((p, pl)) = tally.read(rel, ours(&bytes), oracle(&bytes)) else {
            continue;
        };
        let mismatches = {
            {
                match (p.format, &pl) {
                    (ManifestFormat::HlsMedia, Playlist::MediaPlaylist(m)) => compare_media(&p, m),
                    (ManifestFormat::HlsMultivariant, Playlist::MasterPlaylist(m)) => {
                        compare_multivariant(&p, m)
                    }
                    (ours, theirs) => vec![format!(
                        "kind: ours {ours:?} oracle {}",
                        if matches!(theirs, Playlist::MasterPlaylist(_)) {
                            "master"
                        } else {
                            "media"
                        }
                    )],
                }
            }
        };
        if show.as_deref().is_some_and(|s| rel.contains(s)) {
            println!("{rel} ({}): {mismatches:#?}", f.format);
        }
        tally.compare(rel, &mismatches, &expected);
    }
    let in_scope: Vec<String> = files.iter().map(|f| f.rel.clone()).collect();
    if let Err(e) = tally.finish("HLS vs m3u8-rs", &in_scope, &expected) {
        panic!("{e}");
    }
}
