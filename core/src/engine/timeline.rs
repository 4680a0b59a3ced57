//! Where segments sit on the presentation timeline, which are available now, the live
//! window and the live delay.
//!
//! # Live delay
//! The distance the engine keeps from the newest available media, first found of:
//! 1. [`super::Config::live_delay`], set by the app;
//! 2. DASH `ServiceDescription/Latency@target`;
//! 3. HLS `EXT-X-SERVER-CONTROL:HOLD-BACK` (`PART-HOLD-BACK` is for the low-latency mode,
//!    which comes later);
//! 4. DASH `MPD@suggestedPresentationDelay`;
//! 5. three target durations: HLS `EXT-X-TARGETDURATION` (RFC 8216 §6.3.3 forbids starting
//!    closer than that), DASH `@maxSegmentDuration` or the longest segment, Smooth the
//!    longest fragment.
//!
//! The live edge is the end of the newest available segment minus that delay, never before
//! the window start. DASH availability follows the (corrected) wall clock:
//! a segment is available once `availabilityStartTime + period start + its end -
//! availabilityTimeOffset` has passed, and the window holds `timeShiftBufferDepth` behind
//! now. HLS and Smooth windows are what the latest playlist lists.

use crate::model::{LiveParams, SegmentIndex};
use crate::time::{Micros, Timescale};

/// Segment boundaries closer than this to a wanted time count as equal (rounding between
/// tracks with different timescales).
pub(crate) const TOLERANCE: Micros = Micros(50_000);

/// How a track's media ticks map to presentation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// Presentation time of media tick `pto`.
    pub(crate) origin: Micros,
    /// Presentation time offset in ticks.
    pub(crate) pto: u64,
    /// Ticks per second.
    pub(crate) timescale: Timescale,
    /// End of the period, when known.
    pub(crate) period_end: Option<Micros>,
    /// DASH live: the presentation time now (segments ending later are not available yet).
    pub(crate) now: Option<Micros>,
    /// DASH `availabilityTimeOffset`.
    pub(crate) availability_offset: Micros,
}

impl Placement {
    pub(crate) fn to_pt(self, tick: u64) -> Micros {
        self.origin.saturating_add(Micros::from_ticks(
            tick.saturating_sub(self.pto),
            self.timescale,
        ))
    }

    pub(crate) fn to_tick(self, t: Micros) -> u64 {
        self.pto
            .saturating_add(Micros(t.0.saturating_sub(self.origin.0)).to_ticks(self.timescale))
    }
}

/// The segment to fetch for a wanted time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locate {
    /// Segment `index` covers `[start, end)`.
    Segment {
        index: u64,
        start: Micros,
        end: Micros,
    },
    /// Not available yet: at presentation time `at` (DASH), or after the next refresh.
    NotYet { at: Option<Micros> },
    /// Past the last segment of the period.
    End,
}

/// The first segment of `index` that ends after `t` (plus [`TOLERANCE`]). `final_listing`:
/// the listing will not grow (VOD, ended live, or a period that is over).
pub(crate) fn locate(
    index: &SegmentIndex,
    p: &Placement,
    t: Micros,
    final_listing: bool,
) -> Locate {
    let tick = p.to_tick(t.saturating_add(TOLERANCE));
    let i = index.first_ending_after(tick);
    let Some((s, d)) = index.span(i) else {
        return if final_listing {
            Locate::End
        } else {
            Locate::NotYet { at: None }
        };
    };
    let start = p.to_pt(s);
    let end = p.to_pt(s.saturating_add(d));
    if p.period_end
        .is_some_and(|e| start.0 >= e.0.saturating_sub(TOLERANCE.0))
    {
        return Locate::End;
    }
    if let Some(now) = p.now {
        let available_at = Micros(end.0.saturating_sub(p.availability_offset.0));
        if available_at > now {
            return Locate::NotYet {
                at: Some(available_at),
            };
        }
    }
    Locate::Segment {
        index: i,
        start,
        end,
    }
}

/// Start of the first and end of the last available segment of `index`.
pub(crate) fn available_span(index: &SegmentIndex, p: &Placement) -> Option<(Micros, Micros)> {
    let first = index.span(0)?;
    let start = p.to_pt(first.0);
    let last = match p.now {
        Some(now) => {
            // The segment that ends after `now` is not available; the one before it is.
            let i = index.first_ending_after(
                p.to_tick(Micros(now.0.saturating_add(p.availability_offset.0))),
            );
            let listed = index.len();
            let i = if matches!(index, SegmentIndex::Template(t) if t.count.is_none()) {
                i
            } else {
                i.min(listed)
            };
            i.checked_sub(1)?
        }
        None => index.len().checked_sub(1)?,
    };
    let (s, d) = index.span(last)?;
    let mut end = p.to_pt(s.saturating_add(d));
    if let Some(e) = p.period_end {
        end = end.min(e);
    }
    Some((start, end))
}

/// The live delay, by the priority in the module docs. `target`: the target (longest
/// segment) duration.
pub(crate) fn live_delay(
    config: Option<Micros>,
    live: &LiveParams,
    hls_hold_back: Option<Micros>,
    target: Micros,
) -> Micros {
    config
        .or_else(|| {
            live.service_description
                .as_ref()
                .and_then(|s| s.target_latency)
        })
        .or(hls_hold_back)
        .or(live.hold_back)
        .or(live.suggested_delay)
        .unwrap_or(Micros(target.0.saturating_mul(3)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TemplateIndex, UrlTemplate};

    fn template(count: Option<u64>) -> SegmentIndex {
        SegmentIndex::Template(TemplateIndex {
            timescale: Timescale::new(1000).unwrap(),
            presentation_time_offset: 5000,
            duration: 2000,
            start_number: 1,
            count,
            media: UrlTemplate {
                base: String::new(),
                parts: Vec::new(),
            },
            init: None,
            availability: Default::default(),
        })
    }

    fn placement(now: Option<i64>) -> Placement {
        Placement {
            origin: Micros(10_000_000),
            pto: 5000,
            timescale: Timescale::new(1000).unwrap(),
            period_end: None,
            now: now.map(Micros),
            availability_offset: Micros(0),
        }
    }

    #[test]
    fn locates_by_time_with_period_offset_and_availability() {
        let idx = template(Some(5));
        let p = placement(None);
        // Period starts at 10 s; segment 1 covers [12 s, 14 s).
        assert_eq!(
            locate(&idx, &p, Micros(12_000_000), true),
            Locate::Segment {
                index: 1,
                start: Micros(12_000_000),
                end: Micros(14_000_000)
            }
        );
        // 13.97 s is within tolerance of 14 s: the next segment.
        assert!(matches!(
            locate(&idx, &p, Micros(13_970_000), true),
            Locate::Segment { index: 2, .. }
        ));
        assert_eq!(locate(&idx, &p, Micros(20_000_000), true), Locate::End);
        // Live, open-ended: segment 3 ends at 18 s, available from then.
        let live = template(None);
        let p = placement(Some(17_000_000));
        assert_eq!(
            locate(&live, &p, Micros(16_500_000), false),
            Locate::NotYet {
                at: Some(Micros(18_000_000))
            }
        );
        assert_eq!(
            available_span(&live, &p),
            Some((Micros(10_000_000), Micros(16_000_000)))
        );
    }

    #[test]
    fn delay_priority() {
        let mut live = LiveParams {
            suggested_delay: Some(Micros(9)),
            ..Default::default()
        };
        assert_eq!(live_delay(None, &live, None, Micros(2)), Micros(9));
        assert_eq!(
            live_delay(None, &live, Some(Micros(7)), Micros(2)),
            Micros(7)
        );
        assert_eq!(
            live_delay(Some(Micros(1)), &live, Some(Micros(7)), Micros(2)),
            Micros(1)
        );
        live.suggested_delay = None;
        assert_eq!(live_delay(None, &live, None, Micros(2)), Micros(6));
    }
}
