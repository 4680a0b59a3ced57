//! Live refresh of a dynamic MPD.
//!
//! An MPD update is a whole document (ISO/IEC 23009-1 §5.4), so the refreshed model replaces
//! the old one, but only after checking that it continues it: `@publishTime` must not go
//! back, a period kept under the same `@id` must keep its start, and no track's timeline
//! may end earlier than before (its live edge going back). A refused update leaves the model
//! untouched. The outcome counts segments added at the live edge and dropped from the start
//! of the time-shift window, per track matched by period and track id.

use crate::error::RefreshError;
use crate::hls::refresh::RefreshOutcome;
use crate::model::{ManifestFormat, Presentation, SegmentIndex};
use crate::options::ParseOptions;
use crate::time::Micros;

/// Media-time span of a track in microseconds of presentation time: (start, end, count).
fn span(period_start: Micros, s: &SegmentIndex) -> Option<(i64, i64, u64)> {
    let (first, end) = s.time_span()?;
    let ts = s.timescale();
    let pto = match s {
        SegmentIndex::Template(t) => t.presentation_time_offset,
        SegmentIndex::Timeline(t) => t.presentation_time_offset,
        SegmentIndex::Base(b) => b.presentation_time_offset,
        _ => 0,
    };
    let at = |ticks: u64| {
        period_start
            .0
            .saturating_add(Micros::from_ticks(ticks.saturating_sub(pto), ts).0)
    };
    Some((at(first), at(end), s.len()))
}

/// Merges a refreshed MPD (`bytes`, fetched from `options.url`) into `presentation`.
pub fn refresh_dash(
    presentation: &mut Presentation,
    bytes: &[u8],
    options: &ParseOptions,
) -> Result<RefreshOutcome, RefreshError> {
    if presentation.format != ManifestFormat::Dash {
        return Err(RefreshError::Mismatch {
            detail: "the presentation was not read from an MPD".into(),
        });
    }
    let parsed = crate::parse(bytes, options)?;
    let new = parsed.presentation;
    if new.format != ManifestFormat::Dash {
        return Err(RefreshError::Mismatch {
            detail: format!("the refreshed document is a {}, not an MPD", new.format),
        });
    }
    let old_publish = presentation.live.as_ref().and_then(|l| l.publish_time);
    let new_publish = new.live.as_ref().and_then(|l| l.publish_time);
    if let (Some(o), Some(n)) = (old_publish, new_publish) {
        if n < o {
            return Err(RefreshError::Regressed {
                detail: format!("MPD@publishTime went back from {} to {} µs", o.0, n.0),
            });
        }
    }
    let (mut added, mut removed) = (0u64, 0u64);
    let mut same_segments = true;
    for (pi, np) in new.periods.iter().enumerate() {
        let op = match &np.id {
            Some(id) => presentation
                .periods
                .iter()
                .find(|p| p.id.as_ref() == Some(id)),
            None => presentation.periods.get(pi),
        };
        let Some(op) = op else {
            same_segments = false;
            added = added.saturating_add(
                np.switching_sets
                    .iter()
                    .flat_map(|s| &s.tracks)
                    .map(|t| t.segments.len())
                    .sum(),
            );
            continue;
        };
        if np.id.is_some() && np.start != op.start {
            return Err(RefreshError::Regressed {
                detail: format!("period {:?} moved from {} to {}", np.id, op.start, np.start),
            });
        }
        for nt in np.switching_sets.iter().flat_map(|s| &s.tracks) {
            let Some(ot) = op
                .switching_sets
                .iter()
                .flat_map(|s| &s.tracks)
                .find(|t| t.id == nt.id)
            else {
                same_segments = false;
                continue;
            };
            match (span(op.start, &ot.segments), span(np.start, &nt.segments)) {
                (Some((os, oe, on)), Some((ns, ne, nn))) => {
                    if ne < oe {
                        return Err(RefreshError::Regressed {
                            detail: format!(
                                "track {} ends at {} µs, before the previous {} µs",
                                nt.id, ne, oe
                            ),
                        });
                    }
                    if (os, oe, on) != (ns, ne, nn) {
                        same_segments = false;
                    }
                    // Segments are counted by time: the average duration of the new index.
                    let avg = (ne - ns) / i64::try_from(nn.max(1)).unwrap_or(i64::MAX);
                    if avg > 0 {
                        added = added.saturating_add(u64::try_from((ne - oe) / avg).unwrap_or(0));
                        removed = removed
                            .saturating_add(u64::try_from((ns - os).max(0) / avg).unwrap_or(0));
                    }
                }
                (None, Some(_)) => same_segments = false,
                _ => {}
            }
        }
    }
    let unchanged = same_segments
        && new.periods.len() == presentation.periods.len()
        && new_publish == old_publish;
    let ended = presentation.is_live() && !new.is_live();
    *presentation = new;
    Ok(RefreshOutcome {
        added,
        removed,
        unchanged,
        ended,
        gap: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RefreshError, parse};

    fn mpd(publish: &str, first_t: u64, count: u32, dynamic: bool) -> String {
        let kind = if dynamic {
            "dynamic"
        } else {
            "static\" mediaPresentationDuration=\"PT100S"
        };
        format!(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="{kind}" availabilityStartTime="2026-11-21T12:00:00Z" publishTime="{publish}" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT10S">
<Period id="p0" start="PT0S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate timescale="1000" media="$Time$.m4s"><SegmentTimeline><S t="{first_t}" d="2000" r="{}"/></SegmentTimeline></SegmentTemplate>
<Representation id="v" bandwidth="1000000"/></AdaptationSet></Period></MPD>"#,
            count - 1
        )
    }

    fn opts() -> ParseOptions {
        ParseOptions {
            url: Some("https://cdn.example/live/manifest.mpd".into()),
            ..Default::default()
        }
    }

    #[test]
    fn window_slides_and_live_edge_grows() {
        let mut p = parse(mpd("2026-11-21T12:00:10Z", 0, 5, true).as_bytes(), &opts())
            .unwrap()
            .presentation;
        let out = refresh_dash(
            &mut p,
            mpd("2026-11-21T12:00:14Z", 4000, 5, true).as_bytes(),
            &opts(),
        )
        .unwrap();
        assert_eq!(
            (out.added, out.removed, out.unchanged, out.ended),
            (2, 2, false, false)
        );
        assert_eq!(
            p.tracks()
                .next()
                .unwrap()
                .segments
                .segment(0)
                .unwrap()
                .start,
            4000
        );
        let out = refresh_dash(
            &mut p,
            mpd("2026-11-21T12:00:14Z", 4000, 5, true).as_bytes(),
            &opts(),
        )
        .unwrap();
        assert!(out.unchanged);
        let out = refresh_dash(
            &mut p,
            mpd("2026-11-21T12:00:16Z", 4000, 6, false).as_bytes(),
            &opts(),
        )
        .unwrap();
        assert!(out.ended, "live-to-VOD");
    }

    #[test]
    fn early_available_periods_do_not_end_the_live_one() {
        let xml = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-11-21T12:00:00Z"><Period id="p1" start="PT0S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Time$.m4s" timescale="1"><SegmentTimeline><S t="0" d="2" r="-1"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period><Period id="p2"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="b$Number$.m4s" duration="2"/><Representation id="w" bandwidth="1"/></AdaptationSet></Period></MPD>"#;
        let parsed = parse(xml.as_bytes(), &opts()).unwrap();
        let p = parsed.presentation;
        assert_eq!(p.periods.len(), 1, "the early available period is left out");
        assert_eq!(p.periods[0].duration, None);
        let SegmentIndex::Timeline(t) = &p.periods[0].switching_sets[0].tracks[0].segments else {
            panic!()
        };
        assert!(t.open_ended, "the live period stays open");
        assert_eq!(parsed.warnings.len(), 1);
    }

    #[test]
    fn regressions_leave_the_model_untouched() {
        let mut p = parse(mpd("2026-11-21T12:00:10Z", 0, 5, true).as_bytes(), &opts())
            .unwrap()
            .presentation;
        let before = p.clone();
        let e = refresh_dash(
            &mut p,
            mpd("2026-11-21T12:00:09Z", 0, 5, true).as_bytes(),
            &opts(),
        )
        .unwrap_err();
        assert!(matches!(e, RefreshError::Regressed { .. }), "{e}");
        let e = refresh_dash(
            &mut p,
            mpd("2026-11-21T12:00:12Z", 0, 4, true).as_bytes(),
            &opts(),
        )
        .unwrap_err();
        assert!(matches!(e, RefreshError::Regressed { .. }), "{e}");
        assert_eq!(p, before);
        let e = refresh_dash(&mut p, b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n", &opts()).unwrap_err();
        assert!(matches!(e, RefreshError::Mismatch { .. }));
    }
}
