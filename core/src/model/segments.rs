//! Compact segment indexes: templates and run-length timelines stay as the manifest wrote
//! them; explicit lists (HLS, DASH `SegmentList`) keep one 32-byte entry per segment and
//! their URIs in one shared string. [`SegmentIndex::segment`] materializes one [`Segment`]
//! on demand.

use std::sync::Arc;

use super::drm::HlsKey;
use super::list::ListIndex;
use crate::time::{Micros, Timescale, UnixMicros};
use crate::url::resolve_lenient;

/// A byte range of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Number of bytes; `None` means to the end of the resource.
    pub length: Option<u64>,
}

impl ByteRange {
    /// The HTTP `Range` header value (`bytes=0-99`).
    pub fn http_header(&self) -> String {
        match self.length {
            Some(len) => format!(
                "bytes={}-{}",
                self.start,
                self.start.saturating_add(len.saturating_sub(1))
            ),
            None => format!("bytes={}-", self.start),
        }
    }

    /// Reads a DASH range (`first-last`, inclusive).
    pub fn parse_dash(text: &str) -> Option<ByteRange> {
        let (a, b) = text.trim().split_once('-')?;
        let start: u64 = a.trim().parse().ok()?;
        if b.trim().is_empty() {
            return Some(ByteRange {
                start,
                length: None,
            });
        }
        let last: u64 = b.trim().parse().ok()?;
        let length = last.checked_sub(start)?.checked_add(1)?;
        Some(ByteRange {
            start,
            length: Some(length),
        })
    }
}

/// An initialization segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct InitSegment {
    /// Absolute URL.
    pub url: String,
    /// Byte range, when the init segment is part of a larger resource.
    pub byte_range: Option<ByteRange>,
    /// Keys that decrypt it: the HLS `EXT-X-KEY`s in effect at its `EXT-X-MAP` (RFC 8216
    /// §4.3.2.5); empty when clear.
    pub keys: Vec<HlsKey>,
}

/// One media segment, materialized on demand from an index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Segment {
    /// Segment number (DASH `$Number$`, HLS media sequence number).
    pub number: u64,
    /// Absolute URL.
    pub url: String,
    /// Byte range within `url`.
    pub byte_range: Option<ByteRange>,
    /// Media start time in ticks of `timescale` (includes the presentation time offset).
    pub start: u64,
    /// Duration in ticks of `timescale`.
    pub duration: u64,
    /// Ticks per second.
    pub timescale: Timescale,
    /// A discontinuity precedes this segment (HLS `EXT-X-DISCONTINUITY`).
    pub discontinuity: bool,
    /// The segment is missing on the server (HLS `EXT-X-GAP`).
    pub gap: bool,
    /// Wall-clock time of the first sample (HLS `EXT-X-PROGRAM-DATE-TIME`, extrapolated).
    pub program_date_time: Option<UnixMicros>,
    /// Decryption keys in effect (HLS `EXT-X-KEY`, one per `KEYFORMAT`); empty when clear.
    pub keys: Vec<HlsKey>,
    /// Initialization segment in effect.
    pub init: Option<InitSegment>,
}

impl Segment {
    /// A segment of an addressed index (DASH, Smooth): none of the HLS-only fields.
    fn addressed(
        number: u64,
        url: String,
        start: u64,
        duration: u64,
        timescale: Timescale,
        init: Option<InitSegment>,
    ) -> Segment {
        Segment {
            number,
            url,
            byte_range: None,
            start,
            duration,
            timescale,
            discontinuity: false,
            gap: false,
            program_date_time: None,
            keys: Vec::new(),
            init,
        }
    }
}

/// Where a track's media segments are.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "kebab-case"))]
pub enum SegmentIndex {
    /// An HLS track whose media playlist has not been fetched yet.
    Unloaded,
    /// DASH `SegmentBase` (or a bare `BaseURL`): one resource, indexed by a `sidx` box.
    Base(SegmentBaseIndex),
    /// DASH `SegmentTemplate` with `@duration`: numbered segments of one fixed duration.
    Template(TemplateIndex),
    /// DASH `SegmentTemplate` + `SegmentTimeline`, Smooth `c` elements: run-length timeline.
    Timeline(TimelineIndex),
    /// Explicit list: HLS media playlists, DASH `SegmentList`.
    List(ListIndex),
}

/// DASH `SegmentBase`: one media resource; segment boundaries come from its `sidx`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SegmentBaseIndex {
    /// Absolute URL of the media resource.
    pub url: String,
    /// Ticks per second.
    pub timescale: Timescale,
    /// `@presentationTimeOffset` in ticks.
    pub presentation_time_offset: u64,
    /// Byte range of the `sidx` box (`@indexRange`, `RepresentationIndex@range`).
    pub index_range: Option<ByteRange>,
    /// URL of the index segment when it is not the media resource (`RepresentationIndex@sourceURL`).
    pub index_url: Option<String>,
    /// Initialization segment.
    pub init: Option<InitSegment>,
    /// Duration of the resource (the period's), when known.
    pub duration: Option<Micros>,
}

/// A URL template with `$RepresentationID$` and `$Bandwidth$` already substituted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct UrlTemplate {
    /// Absolute base URL the expanded template is resolved against.
    pub base: String,
    /// Parts in order.
    pub parts: Vec<TemplatePart>,
}

/// A piece of a [`UrlTemplate`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum TemplatePart {
    /// Text as written.
    Literal(String),
    /// `$Number$` with an optional `%0Nd` width.
    Number(u8),
    /// `$Time$` with an optional `%0Nd` width.
    Time(u8),
    /// `$SubNumber$` with an optional `%0Nd` width.
    SubNumber(u8),
}

impl UrlTemplate {
    /// The template with every identifier as `0`: what decides its scheme.
    pub(crate) fn sample(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                TemplatePart::Literal(l) => l.as_str(),
                _ => "0",
            })
            .collect()
    }

    /// Expands the template for a segment and resolves it against the base.
    pub fn expand(&self, number: u64, time: u64) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                TemplatePart::Literal(l) => s.push_str(l),
                TemplatePart::Number(w) => push_padded(&mut s, number, *w),
                TemplatePart::Time(w) => push_padded(&mut s, time, *w),
                TemplatePart::SubNumber(w) => push_padded(&mut s, 1, *w),
            }
        }
        resolve_lenient(&self.base, &s)
    }
}

/// `v` in decimal, zero-padded to `width` digits (`$Number%05d$`), without the formatter
/// (this runs for every segment URL).
pub(crate) fn push_padded(s: &mut String, v: u64, width: u8) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = v;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let len = digits.len() - at;
    for _ in len..usize::from(width) {
        s.push('0');
    }
    s.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// Numbered segments of one fixed duration (DASH `SegmentTemplate@duration`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TemplateIndex {
    /// Ticks per second.
    pub timescale: Timescale,
    /// `@presentationTimeOffset` in ticks.
    pub presentation_time_offset: u64,
    /// Duration of each segment in ticks (never zero).
    pub duration: u64,
    /// Number of the first segment (`@startNumber`).
    pub start_number: u64,
    /// Segments in the period; `None` for an open-ended live period (the count then follows
    /// the wall clock).
    pub count: Option<u64>,
    /// `@media`.
    pub media: UrlTemplate,
    /// Initialization segment.
    pub init: Option<InitSegment>,
    /// Low-latency availability (chunked segments available before they are complete).
    pub availability: Availability,
}

/// DASH low-latency availability of segments (ISO/IEC 23009-1 §5.3.9.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Availability {
    /// `@availabilityTimeOffset`: segments are available this much earlier than their end;
    /// `INF` is `Micros(i64::MAX)`.
    pub time_offset: Option<Micros>,
    /// `@availabilityTimeComplete=false`: a segment is still being written when available.
    pub time_complete: Option<bool>,
}

/// A run of `count` segments of equal `duration` starting at `start` (a `<S t d r>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TimelineRun {
    /// Media time of the first segment of the run, in ticks.
    pub start: u64,
    /// Duration of each segment, in ticks.
    pub duration: u64,
    /// Number of segments (`@r + 1`).
    pub count: u32,
}

/// Cumulative segment counts of `runs` (see [`TimelineIndex`]).
pub(crate) fn run_ends(runs: &[TimelineRun]) -> Arc<[u64]> {
    let mut total = 0u64;
    runs.iter()
        .map(|r| {
            total = total.saturating_add(u64::from(r.count));
            total
        })
        .collect()
}

/// Appends `count` segments of `duration` starting at `start`, extending the last run when
/// it continues it with the same duration and `mergeable` (written-out repeats stay compact).
pub(crate) fn push_run(
    runs: &mut Vec<TimelineRun>,
    start: u64,
    duration: u64,
    count: u32,
    mergeable: bool,
) {
    if let Some(last) = runs.last_mut() {
        let last_end = last
            .start
            .saturating_add(last.duration.saturating_mul(u64::from(last.count)));
        if mergeable && last.duration == duration && last_end == start {
            if let Some(c) = last.count.checked_add(count) {
                last.count = c;
                return;
            }
        }
    }
    runs.push(TimelineRun {
        start,
        duration,
        count,
    });
}

/// A run-length timeline (DASH `SegmentTimeline`, Smooth `c` elements). The runs are shared
/// between the tracks of a set that share one timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TimelineIndex {
    /// Ticks per second.
    pub timescale: Timescale,
    /// `@presentationTimeOffset` in ticks.
    pub presentation_time_offset: u64,
    /// Number of the first segment.
    pub start_number: u64,
    /// The runs, in time order.
    pub runs: Arc<[TimelineRun]>,
    /// Segments up to and including each run (shared like the runs): `segment(i)` finds
    /// its run by binary search.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) ends: Arc<[u64]>,
    /// `@media`.
    pub media: UrlTemplate,
    /// Initialization segment.
    pub init: Option<InitSegment>,
    /// The last run repeats until the live edge (`S@r=-1` with no known end): the count
    /// listed is a lower bound that follows the wall clock.
    pub open_ended: bool,
    /// Low-latency availability (chunked segments available before they are complete).
    pub availability: Availability,
}

impl SegmentIndex {
    /// Number of segments listed (for an open-ended live template: 0; the count follows
    /// the wall clock).
    pub fn len(&self) -> u64 {
        match self {
            SegmentIndex::Unloaded => 0,
            SegmentIndex::Base(_) => 1,
            SegmentIndex::Template(t) => t.count.unwrap_or(0),
            SegmentIndex::Timeline(t) => t.ends.last().copied().unwrap_or(0),
            SegmentIndex::List(l) => l.len() as u64,
        }
    }

    /// True when no segment is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ticks per second of segment times.
    pub fn timescale(&self) -> Timescale {
        match self {
            SegmentIndex::Unloaded => Timescale::MICROS,
            SegmentIndex::Base(b) => b.timescale,
            SegmentIndex::Template(t) => t.timescale,
            SegmentIndex::Timeline(t) => t.timescale,
            SegmentIndex::List(l) => l.timescale(),
        }
    }

    /// Materializes the `i`-th listed segment (0-based).
    pub fn segment(&self, i: u64) -> Option<Segment> {
        match self {
            SegmentIndex::Unloaded => None,
            SegmentIndex::Base(b) => (i == 0).then(|| {
                let duration = b.duration.map_or(0, |d| d.to_ticks(b.timescale));
                Segment::addressed(
                    0,
                    b.url.clone(),
                    b.presentation_time_offset,
                    duration,
                    b.timescale,
                    b.init.clone(),
                )
            }),
            SegmentIndex::Template(t) => {
                let (start, duration) = self.span(i)?;
                let number = t.start_number.checked_add(i)?;
                Some(Segment::addressed(
                    number,
                    t.media.expand(number, start),
                    start,
                    duration,
                    t.timescale,
                    t.init.clone(),
                ))
            }
            SegmentIndex::Timeline(t) => {
                let (start, duration) = self.span(i)?;
                let number = t.start_number.checked_add(i)?;
                Some(Segment::addressed(
                    number,
                    t.media.expand(number, start),
                    start,
                    duration,
                    t.timescale,
                    t.init.clone(),
                ))
            }
            SegmentIndex::List(l) => l.get(usize::try_from(i).ok()?),
        }
    }

    /// Start and duration (ticks) of the `i`-th segment, without building its URL. For an
    /// open-ended template any `i` has a span.
    pub fn span(&self, i: u64) -> Option<(u64, u64)> {
        match self {
            SegmentIndex::Unloaded => None,
            SegmentIndex::Base(b) => (i == 0).then(|| {
                let duration = b.duration.map_or(0, |d| d.to_ticks(b.timescale));
                (b.presentation_time_offset, duration)
            }),
            SegmentIndex::Template(t) => {
                if t.count.is_some_and(|c| i >= c) {
                    return None;
                }
                let start = t
                    .presentation_time_offset
                    .checked_add(i.checked_mul(t.duration)?)?;
                Some((start, t.duration))
            }
            SegmentIndex::Timeline(t) => {
                let k = t.ends.partition_point(|&end| end <= i);
                let r = t.runs.get(k)?;
                let before = k
                    .checked_sub(1)
                    .and_then(|j| t.ends.get(j))
                    .copied()
                    .unwrap_or(0);
                let start = r
                    .start
                    .checked_add(i.checked_sub(before)?.checked_mul(r.duration)?)?;
                Some((start, r.duration))
            }
            SegmentIndex::List(l) => l.span(usize::try_from(i).ok()?),
        }
    }

    /// Index of the first segment that ends after media time `tick`; for a listed index,
    /// `len()` when none does. For an open-ended template (no count) the answer is not
    /// bounded by the listing.
    pub fn first_ending_after(&self, tick: u64) -> u64 {
        match self {
            SegmentIndex::Unloaded => 0,
            SegmentIndex::Base(_) => match self.span(0) {
                Some((s, d)) if s.saturating_add(d) > tick || d == 0 => 0,
                _ => 1,
            },
            SegmentIndex::Template(t) => {
                let i = tick.saturating_sub(t.presentation_time_offset) / t.duration.max(1);
                t.count.map_or(i, |c| i.min(c))
            }
            SegmentIndex::Timeline(t) => {
                // First run whose end passes `tick`, then the segment within it.
                let k = t.runs.partition_point(|r| {
                    r.start
                        .saturating_add(r.duration.saturating_mul(u64::from(r.count)))
                        <= tick
                });
                let Some(r) = t.runs.get(k) else {
                    return self.len();
                };
                let before = k
                    .checked_sub(1)
                    .and_then(|j| t.ends.get(j))
                    .copied()
                    .unwrap_or(0);
                let within = tick.saturating_sub(r.start) / r.duration.max(1);
                before.saturating_add(within.min(u64::from(r.count).saturating_sub(1)))
            }
            SegmentIndex::List(l) => l.first_ending_after(tick) as u64,
        }
    }

    /// Start and end media time (ticks) of the listed segments, if any.
    pub fn time_span(&self) -> Option<(u64, u64)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let first = self.segment(0)?;
        let last = self.segment(n - 1)?;
        Some((first.start, last.start.saturating_add(last.duration)))
    }

    /// Initialization segment of the first segment, if any.
    pub fn init(&self) -> Option<&InitSegment> {
        match self {
            SegmentIndex::Unloaded => None,
            SegmentIndex::Base(b) => b.init.as_ref(),
            SegmentIndex::Template(t) => t.init.as_ref(),
            SegmentIndex::Timeline(t) => t.init.as_ref(),
            SegmentIndex::List(l) => l.maps().first(),
        }
    }

    /// Heap bytes retained by this index (shared timelines are counted in full for each
    /// holder; see the benchmark for the de-duplicated figure).
    pub fn heap_bytes(&self) -> usize {
        match self {
            SegmentIndex::List(l) => l.heap_bytes(),
            SegmentIndex::Timeline(t) => {
                t.runs.len() * (size_of::<TimelineRun>() + size_of::<u64>())
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_numbers_are_what_the_formatter_writes() {
        for v in [0, 1, 9, 10, 99_999, 100_000, 1_700_000_000, u64::MAX] {
            for width in [0u8, 1, 5, 12, 20, 21, 32] {
                let mut s = String::from("x");
                push_padded(&mut s, v, width);
                let w = usize::from(width);
                assert_eq!(s, format!("x{v:0w$}"), "{v} width {width}");
            }
        }
    }

    #[test]
    fn timeline_runs_are_24_bytes() {
        assert!(size_of::<TimelineRun>() <= 24);
    }

    #[test]
    fn template_and_timeline_expand() {
        let media = UrlTemplate {
            base: "https://a.example/dash/".into(),
            parts: vec![
                TemplatePart::Literal("v1/".into()),
                TemplatePart::Number(5),
                TemplatePart::Literal("-".into()),
                TemplatePart::Time(0),
                TemplatePart::Literal(".m4s".into()),
            ],
        };
        let runs: Arc<[TimelineRun]> = Arc::from(vec![
            TimelineRun {
                start: 0,
                duration: 180_000,
                count: 3,
            },
            TimelineRun {
                start: 540_000,
                duration: 90_000,
                count: 1,
            },
        ]);
        let t = SegmentIndex::Timeline(TimelineIndex {
            timescale: Timescale::new(90_000).unwrap(),
            presentation_time_offset: 0,
            start_number: 7,
            ends: run_ends(&runs),
            runs: runs.clone(),
            media,
            init: None,
            open_ended: false,
            availability: Availability::default(),
        });
        assert_eq!(t.len(), 4);
        let s = t.segment(3).unwrap();
        assert_eq!((s.number, s.start, s.duration), (10, 540_000, 90_000));
        assert_eq!(s.url, "https://a.example/dash/v1/00010-540000.m4s");
        assert_eq!(t.time_span(), Some((0, 630_000)));
        assert!(t.segment(4).is_none());
    }

    #[test]
    fn timeline_lookup_matches_linear_expansion() {
        let mut runs = Vec::new();
        let mut t = 1_000u64;
        for k in 0..50u32 {
            let (d, c) = (1_000 + u64::from(k % 3), 1 + k % 4);
            push_run(&mut runs, t, d, c, true);
            t += d * u64::from(c) + u64::from(k % 2); // a gap every other run
        }
        let runs: Arc<[TimelineRun]> = runs.into();
        let expected: Vec<(u64, u64)> = runs
            .iter()
            .flat_map(|r| {
                (0..u64::from(r.count)).map(move |i| (r.start + i * r.duration, r.duration))
            })
            .collect();
        let idx = SegmentIndex::Timeline(TimelineIndex {
            timescale: Timescale::new(1_000).unwrap(),
            presentation_time_offset: 0,
            start_number: 1,
            ends: run_ends(&runs),
            runs,
            media: UrlTemplate {
                base: String::new(),
                parts: vec![TemplatePart::Number(0)],
            },
            init: None,
            open_ended: false,
            availability: Availability::default(),
        });
        assert_eq!(idx.len(), expected.len() as u64);
        for (i, want) in expected.iter().enumerate() {
            let s = idx.segment(i as u64).unwrap();
            assert_eq!((s.start, s.duration), *want, "segment {i}");
            assert_eq!(s.url, (i + 1).to_string());
        }
        assert!(idx.segment(expected.len() as u64).is_none());
    }

    #[test]
    fn byte_range_forms() {
        assert_eq!(
            ByteRange::parse_dash("100-199"),
            Some(ByteRange {
                start: 100,
                length: Some(100)
            })
        );
        assert_eq!(ByteRange::parse_dash("9-3"), None);
        assert_eq!(ByteRange::parse_dash("0-18446744073709551615"), None);
        assert_eq!(
            ByteRange {
                start: 100,
                length: Some(100)
            }
            .http_header(),
            "bytes=100-199"
        );
    }
}
