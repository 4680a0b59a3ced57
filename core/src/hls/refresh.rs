//! Live refresh: merging a re-fetched HLS media playlist into a track's segment list.
//!
//! The merged list keeps media-sequence continuity and exact times: a segment keeps the
//! start time it had before the refresh, new segments continue from there, and segments
//! that slid out of the window are dropped. Delta updates (`EXT-X-SKIP`) are filled in from
//! the segments already held. A playlist whose media sequence goes back, or that lost
//! segments at its live edge, is reported as regressed and the model is left unchanged.

use super::Vars;
use super::media::{MediaCtx, parse_media};
use crate::diag::Diag;
use crate::error::RefreshError;
use crate::model::{HlsPlaylistInfo, ListIndex, ManifestFormat, SegmentIndex, Track};
use crate::options::ParseOptions;
use crate::text;

/// What a refresh changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// Segments added at the live edge.
    pub added: u64,
    /// Segments that slid out of the window.
    pub removed: u64,
    /// Nothing changed (same segments and parts): the playlist may be stale.
    pub unchanged: bool,
    /// The playlist has ended (`EXT-X-ENDLIST`): live-to-VOD.
    pub ended: bool,
    /// Segments were missed between the two playlists; the new segments' times were placed
    /// by target duration and the first is marked discontinuous.
    pub gap: bool,
}

/// Merges a refreshed media playlist (`bytes`, fetched from `options.url`) into `track`.
pub fn refresh_hls_media(
    track: &mut Track,
    bytes: &[u8],
    options: &ParseOptions,
) -> Result<RefreshOutcome, RefreshError> {
    let text = text::decode(bytes, Some(ManifestFormat::HlsMedia))?;
    if text::sniff(&text) != Some(ManifestFormat::HlsMedia) {
        return Err(RefreshError::Mismatch {
            detail: "the refreshed document is not an HLS media playlist".into(),
        });
    }
    let mut diag = Diag::new(ManifestFormat::HlsMedia, options);
    diag.check_size(text.len())?;
    let base = match (&options.url, &track.segments) {
        (Some(u), _) => {
            crate::url::validate_base(u).map_err(|detail| RefreshError::Mismatch { detail })?
        }
        (None, SegmentIndex::List(l)) => l.base().to_owned(),
        (None, _) => String::new(),
    };
    let mut vars = Vars::for_playlist(options);
    let new = parse_media(&text, &base, &mut diag, &mut vars, &mut MediaCtx::default())?;
    let (outcome, merged) = match &track.segments {
        SegmentIndex::List(old) => merge(old, new)?,
        SegmentIndex::Unloaded => {
            let ended = new.hls.as_ref().is_some_and(|h| h.ended);
            let added = new.len() as u64;
            (
                RefreshOutcome {
                    added,
                    removed: 0,
                    unchanged: false,
                    ended,
                    gap: false,
                },
                new,
            )
        }
        _ => {
            return Err(RefreshError::Mismatch {
                detail: "the track is not an HLS segment list".into(),
            });
        }
    };
    track.segments = SegmentIndex::List(merged);
    Ok(outcome)
}

fn merge(old: &ListIndex, new: ListIndex) -> Result<(RefreshOutcome, ListIndex), RefreshError> {
    let info = new.hls.as_deref().cloned().unwrap_or_default();
    let old_info = old.hls.as_deref().cloned().unwrap_or_default();
    let old_first = old.first_number();
    let old_end = old_first.saturating_add(old.len() as u64);
    let ms = info.media_sequence;
    let new_first = new.first_number(); // ms + skipped
    let new_end = new_first.saturating_add(new.len() as u64);
    if ms < old_first {
        return Err(RefreshError::Regressed {
            detail: format!("media sequence went back from {old_first} to {ms}"),
        });
    }
    if new_end < old_end {
        return Err(RefreshError::Regressed {
            detail: format!(
                "the live edge went back from segment {} to {}",
                old_end.saturating_sub(1),
                new_end.saturating_sub(1)
            ),
        });
    }
    if old_info.ended && !info.ended {
        return Err(RefreshError::Regressed {
            detail: "an ended playlist became live again".into(),
        });
    }
    let unchanged = ms == old_first
        && new_end == old_end
        && info.ended == old_info.ended
        && info.parts.len() == old_info.parts.len();
    if info.skipped_segments.is_some() && (old_first > ms || old_end < new_first) {
        return Err(RefreshError::Mismatch {
            detail: format!(
                "delta update skips segments {ms}..{new_first} that were never loaded (held {old_first}..{old_end})"
            ),
        });
    }
    // Where the first new segment starts on the existing timeline.
    let target = crate::time::Micros(info.target_duration.0.max(0)).to_ticks(old.timescale());
    let (offset, gap) = match old.start_of(new_first) {
        Some(t) => (t, false),
        None if new_first == old_end => (old.end_time(), false),
        None => {
            let missed = new_first.saturating_sub(old_end);
            (
                old.end_time().saturating_add(missed.saturating_mul(target)),
                old_end < new_first,
            )
        }
    };
    let mut merged = old.clone();
    merged.drop_front(usize::try_from(ms.saturating_sub(old_first)).unwrap_or(usize::MAX));
    merged.truncate(usize::try_from(new_first.saturating_sub(merged.first_number())).unwrap_or(0));
    if merged.is_empty() {
        merged.first_number = new_first;
    }
    let mut appended = new;
    if gap {
        appended.mark_discontinuity(0);
    }
    let appended_at = merged.len();
    merged.append_list(&appended, offset);
    if info.skipped_segments.is_some() {
        let n = appended.len();
        let until = |first_tag: Option<usize>| appended_at + first_tag.unwrap_or(n).min(n);
        merged.inherit_refs(
            appended_at,
            until(info.listed_before_first_key),
            until(info.listed_before_first_map),
        );
    }
    merged.compact();
    let mut info = info;
    carry_events(&mut info, &old_info, merged.first_number(), new_first);
    info.media_sequence = merged.first_number();
    info.skipped_segments = None;
    info.recently_removed_dateranges.clear();
    merged.hls = Some(Box::new(info));
    merged.shrink_to_fit();
    let outcome = RefreshOutcome {
        added: new_end.saturating_sub(old_end),
        removed: ms.saturating_sub(old_first).min(old.len() as u64),
        unchanged,
        ended: merged.hls.as_ref().is_some_and(|h| h.ended),
        gap,
    };
    Ok((outcome, merged))
}

/// Keeps what a refresh does not repeat: a delta update omits the DATERANGEs and cue tags
/// of the segments it skips (RFC 8216bis §4.4.5.2), so the held ones are kept, updated by
/// the new tags of the same ID, minus `RECENTLY-REMOVED-DATERANGES`; cue tags are kept for
/// the segments still listed that the new playlist did not list itself.
fn carry_events(info: &mut HlsPlaylistInfo, old: &HlsPlaylistInfo, first: u64, first_listed: u64) {
    if info.skipped_segments.is_none() {
        return;
    }
    let removed = info.recently_removed_dateranges.clone();
    let mut merged: Vec<_> = old
        .date_ranges
        .iter()
        .filter(|d| !removed.contains(&d.id))
        .cloned()
        .collect();
    for d in std::mem::take(&mut info.date_ranges) {
        match merged.iter().position(|h| h.id == d.id) {
            Some(i) => merged[i] = merged[i].clone().merged_with(d),
            None => merged.push(d),
        }
    }
    info.date_ranges = merged;
    let cues: Vec<_> = old
        .cues
        .iter()
        .filter(|c| c.segment_number >= first && c.segment_number < first_listed)
        .cloned()
        .collect();
    info.cues.splice(0..0, cues);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RefreshError, parse};

    fn playlist(first: u64, count: u64, end: bool) -> String {
        let mut s = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
        for n in first..first + count {
            s.push_str(&format!("#EXTINF:2.000,\nseg{n}.ts\n"));
        }
        if end {
            s.push_str("#EXT-X-ENDLIST\n");
        }
        s
    }

    fn opts() -> ParseOptions {
        ParseOptions {
            url: Some("https://cdn.example/live/media.m3u8".into()),
            ..Default::default()
        }
    }

    fn track(text: &str) -> Track {
        parse(text.as_bytes(), &opts())
            .unwrap()
            .presentation
            .periods
            .remove(0)
            .switching_sets
            .remove(0)
            .tracks
            .remove(0)
    }

    #[test]
    fn sliding_window_keeps_times() {
        let mut t = track(&playlist(100, 5, false));
        let s102 = t.segments.segment(2).unwrap();
        let out = refresh_hls_media(&mut t, playlist(102, 5, false).as_bytes(), &opts()).unwrap();
        assert_eq!(
            (out.added, out.removed, out.unchanged, out.gap),
            (2, 2, false, false)
        );
        assert_eq!(t.segments.len(), 5);
        assert_eq!(
            t.segments.segment(0).unwrap(),
            s102,
            "segment 102 keeps its time and URL"
        );
        assert_eq!(t.segments.segment(4).unwrap().start, 12_000_000);
        let out = refresh_hls_media(&mut t, playlist(102, 5, false).as_bytes(), &opts()).unwrap();
        assert!(out.unchanged);
        let out = refresh_hls_media(&mut t, playlist(102, 6, true).as_bytes(), &opts()).unwrap();
        assert!(out.ended);
    }

    #[test]
    fn regressions_are_reported_and_change_nothing() {
        let mut t = track(&playlist(100, 5, false));
        let before = t.clone();
        let e = refresh_hls_media(&mut t, playlist(99, 7, false).as_bytes(), &opts()).unwrap_err();
        assert!(matches!(e, RefreshError::Regressed { .. }));
        let e = refresh_hls_media(&mut t, playlist(100, 4, false).as_bytes(), &opts()).unwrap_err();
        assert!(matches!(e, RefreshError::Regressed { .. }));
        assert_eq!(t, before);
    }

    #[test]
    fn missed_segments_leave_a_marked_gap() {
        let mut t = track(&playlist(100, 3, false));
        let out = refresh_hls_media(&mut t, playlist(110, 3, false).as_bytes(), &opts()).unwrap();
        assert!(out.gap);
        let s = t.segments.segment(0).unwrap();
        assert_eq!(
            (s.number, s.start, s.discontinuity),
            (110, 20_000_000, true)
        );
    }

    #[test]
    fn delta_updates_fill_skipped_segments() {
        let mut t = track(&playlist(100, 6, false));
        let delta = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12\n#EXT-X-MEDIA-SEQUENCE:101\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXTINF:2.000,\nseg105.ts\n#EXTINF:2.000,\nseg106.ts\n";
        let out = refresh_hls_media(&mut t, delta.as_bytes(), &opts()).unwrap();
        assert_eq!((out.added, out.removed), (1, 1));
        assert_eq!(t.segments.len(), 6);
        let s = t.segments.segment(5).unwrap();
        assert_eq!((s.number, s.start), (106, 12_000_000));
        assert!(s.url.ends_with("seg106.ts"));
        assert!(t.segments.segment(0).unwrap().url.ends_with("seg101.ts"));
    }

    #[test]
    fn a_refresh_from_another_url_resolves_against_it() {
        let mut t = track(&playlist(100, 6, false));
        let b = ParseOptions {
            url: Some("https://b.example/v/media.m3u8".into()),
            ..Default::default()
        };
        let delta = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:101\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXTINF:2.000,\nseg105.ts\n#EXTINF:2.000,\nseg106.ts\n";
        refresh_hls_media(&mut t, delta.as_bytes(), &b).unwrap();
        assert_eq!(
            t.segments.segment(0).unwrap().url,
            "https://cdn.example/live/seg101.ts",
            "held segment keeps its URL"
        );
        assert_eq!(
            t.segments.segment(5).unwrap().url,
            "https://b.example/v/seg106.ts",
            "new segment from the new URL"
        );
    }

    #[test]
    fn delta_updates_inherit_the_map_and_key_of_skipped_segments() {
        let first = playlist(100, 6, false).replace(
            "#EXT-X-MEDIA-SEQUENCE:100\n",
            "#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"k1\"\n",
        );
        let mut t = track(&first);
        let delta = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:101\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXTINF:2.000,\nseg105.ts\n#EXTINF:2.000,\nseg106.ts\n";
        refresh_hls_media(&mut t, delta.as_bytes(), &opts()).unwrap();
        let s = t.segments.segment(5).unwrap();
        assert_eq!(s.number, 106);
        assert_eq!(s.init.unwrap().url, "https://cdn.example/live/init.mp4");
        assert_eq!(
            s.keys[0].uri.as_deref(),
            Some("https://cdn.example/live/k1")
        );
    }

    #[test]
    fn delta_updates_keep_held_dateranges_and_cues() {
        let mut first = playlist(100, 6, false).replace(
            "#EXTINF:2.000,\nseg102.ts",
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T20:00:04Z\n#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"2026-11-21T20:00:04Z\",DURATION=4\n#EXT-X-DATERANGE:ID=\"gone\",START-DATE=\"2026-11-21T20:00:04Z\"\n#EXT-X-CUE-OUT:4\n#EXTINF:2.000,\nseg102.ts",
        );
        first = first.replace("#EXT-X-MEDIA-SEQUENCE", "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12,CAN-SKIP-DATERANGES=YES\n#EXT-X-MEDIA-SEQUENCE");
        let mut t = track(&first);
        let delta = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:101\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4,RECENTLY-REMOVED-DATERANGES=\"gone\"\n#EXTINF:2.000,\nseg105.ts\n#EXTINF:2.000,\nseg106.ts\n";
        refresh_hls_media(&mut t, delta.as_bytes(), &opts()).unwrap();
        let SegmentIndex::List(l) = &t.segments else {
            panic!()
        };
        let info = l.hls.as_ref().unwrap();
        let ids: Vec<&str> = info.date_ranges.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["ad1"], "held DATERANGE kept, removed one forgotten");
        assert_eq!(info.cues.len(), 1, "cue tag of a skipped segment kept");
        assert_eq!(info.cues[0].segment_number, 102);
    }
}
