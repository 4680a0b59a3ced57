//! Resolving DASH addressing into compact segment indexes, once period durations are
//! known: templates with the representation's identifiers substituted, `@duration` counts,
//! timelines with `S@r=-1` resolved (and shared between representations), segment lists and
//! segment bases.

use std::collections::HashMap;
use std::sync::Arc;

use super::segment::{SegInfo, SegKind, Timeline};
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::NewEntry;
use crate::model::segments::{push_padded, run_ends};
use crate::model::{
    InitSegment, ListIndex, SegmentBaseIndex, SegmentIndex, TemplateIndex, TemplatePart,
    TimelineIndex, TimelineRun, UrlTemplate,
};
use crate::time::{Micros, Timescale};
use crate::url::{Allow, check, check_template_head, resolve};

const R_TEMPLATE_ID: &str = "ISO/IEC 23009-1 §5.3.9.4.4: template identifiers are $$, $RepresentationID$, $Number$, $Bandwidth$, $Time$, $SubNumber$";
const R_STATIC_END: &str =
    "ISO/IEC 23009-1 §5.3.9.6: S@r=-1 in a static MPD needs a known period end";
use super::segment::R_TEMPLATE_TIMING;

/// A `$...$` template with the per-representation identifiers substituted.
fn template(
    text: &str,
    ctx: &RepCtx<'_>,
    allow: Allow,
    line: Line,
    diag: &mut Diag,
) -> Result<UrlTemplate, ParseError> {
    let (rep_id, bandwidth, base) = (ctx.rep_id, ctx.bandwidth, ctx.base);
    diag.check_url_len(line, text.len())?;
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        lit.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('$') else {
            diag.shall(line, R_TEMPLATE_ID, format!("unmatched $ in {text:?}"))?;
            lit.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let ident = &after[..j];
        rest = &after[j + 1..];
        if ident.is_empty() {
            lit.push('$');
            continue;
        }
        let (name, fmt) = match ident.split_once('%') {
            Some((n, f)) => (n, Some(f)),
            None => (ident, None),
        };
        let width = match fmt {
            None => 0,
            Some(f) => match f
                .strip_prefix('0')
                .unwrap_or(f)
                .strip_suffix('d')
                .and_then(|w| w.parse::<u8>().ok())
            {
                Some(w) if w <= 32 => w,
                _ => {
                    diag.shall(line, R_TEMPLATE_ID, format!("format tag %{f} in {text:?}"))?;
                    0
                }
            },
        };
        match name {
            "RepresentationID" => lit.push_str(rep_id),
            "Bandwidth" => push_padded(&mut lit, bandwidth, width),
            "Number" | "Time" | "SubNumber" => {
                if !lit.is_empty() {
                    parts.push(TemplatePart::Literal(std::mem::take(&mut lit)));
                }
                parts.push(match name {
                    "Number" => TemplatePart::Number(width),
                    "Time" => TemplatePart::Time(width),
                    _ => TemplatePart::SubNumber(width),
                });
            }
            other => {
                diag.shall(line, R_TEMPLATE_ID, format!("unknown identifier ${other}$"))?;
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(TemplatePart::Literal(lit));
    }
    // The expanded URL must stay http(s) (`data:` where allowed is checked as written).
    let tpl = UrlTemplate {
        base: base.to_owned(),
        parts,
    };
    let sample = tpl.sample();
    let refused = match allow {
        Allow::Http => check_template_head(&sample).err(),
        _ => check(&sample, allow).err(),
    };
    if let Some(r) = refused {
        return Err(diag.unsafe_url(line, text, &r));
    }
    Ok(tpl)
}

/// Everything needed to resolve one representation's addressing.
pub(crate) struct RepCtx<'c> {
    pub(crate) rep_id: &'c str,
    pub(crate) bandwidth: u64,
    pub(crate) base: &'c str,
    pub(crate) period_duration: Option<Micros>,
    pub(crate) dynamic: bool,
    pub(crate) line: Line,
}

/// Resolved timelines shared between representations: (timeline ptr, timescale, pto, end).
pub(crate) type RunsCache = HashMap<(usize, u32, u64, Option<u64>), ResolvedRuns>;

/// Resolved runs, their cumulative counts, and whether the last run is open-ended.
pub(crate) type ResolvedRuns = (Arc<[TimelineRun]>, Arc<[u64]>, bool);

/// Builds the segment index of a representation.
pub(crate) fn build_index(
    eff: Option<(SegKind, SegInfo)>,
    ctx: &RepCtx<'_>,
    cache: &mut RunsCache,
    diag: &mut Diag,
) -> Result<SegmentIndex, ParseError> {
    let Some((kind, info)) = eff else {
        // A bare BaseURL: one segment, the whole resource.
        diag.add_segments(1)?;
        return Ok(SegmentIndex::Base(SegmentBaseIndex {
            url: ctx.base.to_owned(),
            timescale: Timescale::SECONDS,
            presentation_time_offset: 0,
            index_range: None,
            index_url: None,
            init: None,
            duration: ctx.period_duration,
        }));
    };
    let line = info.line.max(ctx.line);
    let timescale = info.timescale.unwrap_or(Timescale::SECONDS);
    let pto = info.pto.unwrap_or(0);
    // An Initialization element comes before an @initialization template (as dash.js reads).
    let init = match (&info.initialization, &info.init_elem) {
        (Some(t), None) if kind == SegKind::Template => {
            let tpl = template(t, ctx, Allow::Data, line, diag)?;
            Some(InitSegment {
                url: tpl.expand(0, 0),
                byte_range: None,
                keys: Vec::new(),
            })
        }
        (_, Some((src, range))) => {
            let url = match src {
                Some(s) => {
                    resolve(ctx.base, s, Allow::Data).map_err(|r| diag.unsafe_url(line, s, &r))?
                }
                None => ctx.base.to_owned(),
            };
            Some(InitSegment {
                url,
                byte_range: *range,
                keys: Vec::new(),
            })
        }
        _ => None,
    };
    let period_ticks = ctx.period_duration.map(|d| d.to_ticks(timescale));
    let span = Span {
        timescale,
        pto,
        period_ticks,
        period: ctx.period_duration,
        dynamic: ctx.dynamic,
        line,
    };
    let start_number = info.start_number.unwrap_or(1);
    if let Some(tl) = &info.timeline {
        // 5th-edition S@n must agree with the numbering from @startNumber: gaps in segment
        // numbers are not modelled, so refuse rather than address the wrong segments.
        let implied = tl
            .first_n
            .is_none_or(|(before, n)| start_number.checked_add(before) == Some(n));
        if tl.n_gap || !implied {
            return Err(diag.unsupported(
                line,
                "SegmentTimeline S@n numbering with gaps (5th edition)",
            ));
        }
    }
    match kind {
        SegKind::Base => {
            diag.add_segments(1)?;
            let index_url = match &info.index_url {
                Some(u) => Some(
                    resolve(ctx.base, u, Allow::Http).map_err(|r| diag.unsafe_url(line, u, &r))?,
                ),
                None => None,
            };
            Ok(SegmentIndex::Base(SegmentBaseIndex {
                url: ctx.base.to_owned(),
                timescale,
                presentation_time_offset: pto,
                index_range: info.index_range,
                index_url,
                init,
                duration: ctx.period_duration,
            }))
        }
        SegKind::Template => {
            let Some(media) = &info.media else {
                diag.shall(line, R_TEMPLATE_TIMING, "SegmentTemplate without @media")?;
                return Ok(SegmentIndex::Unloaded);
            };
            let media = template(media, ctx, Allow::Http, line, diag)?;
            if let Some(tl) = &info.timeline {
                let (runs, ends, open_ended) = resolve_runs(tl, &span, cache, diag)?;
                Ok(SegmentIndex::Timeline(TimelineIndex {
                    timescale,
                    presentation_time_offset: pto,
                    start_number,
                    runs,
                    ends,
                    media,
                    init,
                    open_ended,
                    availability: info.availability,
                }))
            } else if let Some(d) = info.duration {
                // Counted on the exact period length: rounding it to ticks first would
                // drop a last partial segment.
                let mut count = ctx
                    .period_duration
                    .map(|p| segments_to_period_end(p, timescale, pto, pto, d));
                if let Some(end) = info.end_number {
                    let by_end = end.saturating_add(1).saturating_sub(start_number);
                    count = Some(count.map_or(by_end, |c| c.min(by_end)));
                }
                if count.is_none() && !ctx.dynamic {
                    diag.should(
                        line,
                        R_TEMPLATE_TIMING,
                        "static MPD without a period duration: segment count unknown",
                    )?;
                }
                diag.add_segments(count.unwrap_or(0))?;
                Ok(SegmentIndex::Template(TemplateIndex {
                    timescale,
                    presentation_time_offset: pto,
                    duration: d,
                    start_number,
                    count,
                    media,
                    init,
                    availability: info.availability,
                }))
            } else if let Some(p) = ctx.period_duration {
                // Neither @duration nor a timeline: exactly one segment, as long as the
                // period (ISO/IEC 23009-1 §5.3.9.2, SegmentTemplate@duration).
                let length = segments_to_period_end(p, timescale, pto, pto, 1).max(1);
                diag.add_segments(1)?;
                Ok(SegmentIndex::Template(TemplateIndex {
                    timescale,
                    presentation_time_offset: pto,
                    duration: length,
                    start_number,
                    count: Some(1),
                    media,
                    init,
                    availability: info.availability,
                }))
            } else {
                diag.shall(
                    line,
                    R_TEMPLATE_TIMING,
                    "SegmentTemplate with neither @duration nor SegmentTimeline in a period of unknown length",
                )?;
                Ok(SegmentIndex::Unloaded)
            }
        }
        SegKind::List => {
            let urls = info.urls.clone().unwrap_or_default();
            let mut list = ListIndex::new(timescale, ctx.base.to_owned(), start_number);
            let map = match init {
                Some(i) => list.add_map(i),
                None => 0,
            };
            let mut times: Vec<(u64, u64)> = Vec::new();
            if let Some(tl) = &info.timeline {
                let (runs, _, _) = resolve_runs(tl, &span, cache, diag)?;
                'outer: for r in runs.iter() {
                    for k in 0..u64::from(r.count) {
                        if times.len() >= urls.len() {
                            break 'outer;
                        }
                        times.push((
                            r.start.saturating_add(k.saturating_mul(r.duration)),
                            r.duration,
                        ));
                    }
                }
            } else if let Some(d) = info.duration {
                for i in 0..urls.len() as u64 {
                    times.push((pto.saturating_add(i.saturating_mul(d)), d));
                }
            } else if urls.len() > 1 {
                diag.shall(
                    line,
                    R_TEMPLATE_TIMING,
                    "SegmentList with several SegmentURLs needs @duration or a SegmentTimeline",
                )?;
            } else {
                times.push((pto, period_ticks.unwrap_or(0)));
            }
            for ((media, range), (start, duration)) in urls.iter().zip(times) {
                let uri = media.as_deref().unwrap_or("");
                check(uri, Allow::Http).map_err(|r| diag.unsafe_url(line, uri, &r))?;
                list.push_at(
                    start,
                    NewEntry {
                        uri,
                        duration,
                        byte_range: *range,
                        map,
                        ..Default::default()
                    },
                );
            }
            list.shrink_to_fit();
            Ok(SegmentIndex::List(list))
        }
    }
}

/// Segments of `d` ticks needed from media time `from` to the end of a period of length
/// `period` whose media time starts at `pto`, rounded up on exact values.
fn segments_to_period_end(
    period: Micros,
    timescale: Timescale,
    pto: u64,
    from: u64,
    d: u64,
) -> u64 {
    let num = i128::from(period.0) * i128::from(timescale.get())
        + (i128::from(pto) - i128::from(from)) * 1_000_000;
    let den = i128::from(d) * 1_000_000;
    if num <= 0 || den <= 0 {
        return 0;
    }
    u64::try_from((num + den - 1) / den).unwrap_or(u64::MAX)
}

/// What a timeline is resolved against: its time base and its period's end.
#[derive(Clone, Copy)]
struct Span {
    timescale: Timescale,
    pto: u64,
    period_ticks: Option<u64>,
    period: Option<Micros>,
    dynamic: bool,
    line: Line,
}

/// Resolves `@r=-1` runs against the next `S@t` or the period end, sharing the result.
fn resolve_runs(
    tl: &Arc<Timeline>,
    span: &Span,
    cache: &mut RunsCache,
    diag: &mut Diag,
) -> Result<ResolvedRuns, ParseError> {
    let Span {
        timescale,
        pto,
        period_ticks,
        period,
        dynamic,
        line,
    } = *span;
    let key = (Arc::as_ptr(tl) as usize, timescale.get(), pto, period_ticks);
    if let Some(hit) = cache.get(&key) {
        diag.add_segments(hit.1.last().copied().unwrap_or(0))?;
        return Ok(hit.clone());
    }
    let mut runs = tl.runs.clone();
    let mut open_ended = false;
    for &i in &tl.open {
        let start = runs[i].start;
        let d = runs[i].duration;
        // To the next S@t, else to the exact period end (not rounded to ticks first).
        let count = match (runs.get(i + 1), period) {
            (Some(next), _) => Some(next.start.saturating_sub(start).div_ceil(d)),
            (None, Some(p)) => Some(segments_to_period_end(p, timescale, pto, start, d)),
            (None, None) => None,
        };
        match count {
            Some(c) => runs[i].count = u32::try_from(c.max(1)).unwrap_or(u32::MAX),
            None => {
                if !dynamic {
                    diag.shall(
                        line,
                        R_STATIC_END,
                        "S@r=-1 with no following S@t and no period end",
                    )?;
                }
                open_ended = true;
            }
        }
        diag.add_segments(u64::from(runs[i].count))?;
    }
    let ends = run_ends(&runs);
    let out: ResolvedRuns = (Arc::from(runs), ends, open_ended);
    cache.insert(key, out.clone());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::{ParseOptions, parse};

    fn mpd(start_number: u32, second_n: u32) -> String {
        format!(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S"><Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" timescale="1" startNumber="{start_number}"><SegmentTimeline><S t="0" d="2" r="1" n="{start_number}"/><S d="2" n="{second_n}"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>"#
        )
    }

    fn only_track(xml: &str) -> crate::Track {
        let p = parse(
            xml.as_bytes(),
            &ParseOptions {
                url: Some("https://a.example/m.mpd".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .presentation;
        p.tracks().next().unwrap().clone()
    }

    const NS: &str = r#"xmlns="urn:mpeg:dash:schema:mpd:2011""#;

    #[test]
    fn counts_round_up_on_the_exact_period_length() {
        let t = only_track(&format!(
            r#"<MPD {NS} type="static" mediaPresentationDuration="PT60.5S"><Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s-$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>"#
        ));
        assert_eq!(t.segments.len(), 31, "the last 0.5 s is a segment");
        let t = only_track(&format!(
            r#"<MPD {NS} type="static" mediaPresentationDuration="PT60.5S"><Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s-$Time$.m4s"><SegmentTimeline><S t="0" d="2" r="-1"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>"#
        ));
        assert_eq!(t.segments.len(), 31);
    }

    #[test]
    fn a_template_without_duration_or_timeline_is_one_segment() {
        let t = only_track(&format!(
            r#"<MPD {NS} type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet mimeType="text/vtt"><SegmentTemplate media="subs-$RepresentationID$.vtt"/><Representation id="en" bandwidth="1"/></AdaptationSet></Period></MPD>"#
        ));
        let s = t.segments.segment(0).unwrap();
        assert_eq!(
            (t.segments.len(), s.duration, s.url.as_str()),
            (1, 10, "https://a.example/subs-en.vtt")
        );
    }

    #[test]
    fn the_nearest_initialization_wins() {
        let t = only_track(&format!(
            r#"<MPD {NS} type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" duration="2" initialization="as-init-$RepresentationID$.mp4"/><Representation id="v1" bandwidth="1"><SegmentTemplate><Initialization sourceURL="rep-init.mp4"/></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#
        ));
        assert_eq!(
            t.segments.init().unwrap().url,
            "https://a.example/rep-init.mp4"
        );
    }

    #[test]
    fn representation_index_gives_the_sidx_range() {
        let t = only_track(&format!(
            r#"<MPD {NS} type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"><BaseURL>v.mp4</BaseURL><SegmentBase timescale="1000"><Initialization range="0-99"/><RepresentationIndex range="100-399" sourceURL="v.sidx"/></SegmentBase></Representation></AdaptationSet></Period></MPD>"#
        ));
        let crate::SegmentIndex::Base(b) = &t.segments else {
            panic!()
        };
        assert_eq!(
            b.index_range,
            Some(crate::ByteRange {
                start: 100,
                length: Some(300)
            })
        );
        assert_eq!(b.index_url.as_deref(), Some("https://a.example/v.sidx"));
    }

    #[test]
    fn explicit_segment_numbers_must_agree() {
        let ok = parse(mpd(5, 7).as_bytes(), &ParseOptions::default())
            .unwrap()
            .presentation;
        let seg = ok.tracks().next().unwrap().segments.segment(2).unwrap();
        assert_eq!((seg.number, seg.url.as_str()), (7, "7.m4s"));
        for bad in [mpd(5, 9), mpd(1, 2)] {
            let e = parse(bad.as_bytes(), &ParseOptions::default()).unwrap_err();
            assert_eq!(e.class(), "unsupported", "{e}");
        }
    }
}
