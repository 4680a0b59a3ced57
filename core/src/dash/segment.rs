//! DASH segment addressing: `SegmentBase`, `SegmentList`, `SegmentTemplate` (with
//! `@duration` or `SegmentTimeline`), attribute inheritance across levels, and resolution
//! into compact [`SegmentIndex`]es once period durations are known.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::NewEntry;
use crate::model::segments::{push_run, run_ends};
use crate::model::{
    Availability, ByteRange, InitSegment, ListIndex, SegmentBaseIndex, SegmentIndex, TemplateIndex,
    TemplatePart, TimelineIndex, TimelineRun, UrlTemplate,
};
use crate::time::{Micros, Timescale};
use crate::url::{Allow, check, check_template_head, resolve};
use crate::xml::{Elem, Xml};

const R_TEMPLATE_ID: &str = "ISO/IEC 23009-1 §5.3.9.4.4: template identifiers are $$, $RepresentationID$, $Number$, $Bandwidth$, $Time$, $SubNumber$";
const R_TIME_NEEDS_TIMELINE: &str = "ISO/IEC 23009-1 §5.3.9.4.4: $Time$ requires a SegmentTimeline";
const R_TEMPLATE_TIMING: &str =
    "ISO/IEC 23009-1 §5.3.9.2: multiple-segment addressing needs @duration or a SegmentTimeline";
const R_S_D: &str = "ISO/IEC 23009-1 §5.3.9.6: S@d is required and positive";
const R_TIMESCALE: &str = "ISO/IEC 23009-1 §5.3.9.2: @timescale is a positive integer";
const R_STATIC_END: &str =
    "ISO/IEC 23009-1 §5.3.9.6: S@r=-1 in a static MPD needs a known period end";
const R_RANGE: &str = "ISO/IEC 23009-1 §5.3.9.2: byte ranges are first-last";
const R_UINT: &str = "ISO/IEC 23009-1 §5.3.9: unsigned integer attribute expected";

/// Which addressing element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegKind {
    Base,
    List,
    Template,
}

/// A `SegmentTimeline`: runs built while reading; `open` marks runs written with `@r=-1`.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    runs: Vec<TimelineRun>,
    open: Vec<usize>,
}

/// `SegmentURL`s: (`@media`, `@mediaRange`), shared by the levels that inherit them.
type SegmentUrls = Arc<Vec<(Option<String>, Option<ByteRange>)>>;

/// Attributes and children of one addressing element, every one optional for inheritance.
#[derive(Debug, Clone, Default)]
pub(crate) struct SegInfo {
    timescale: Option<Timescale>,
    pto: Option<u64>,
    duration: Option<u64>,
    start_number: Option<u64>,
    end_number: Option<u64>,
    media: Option<String>,
    initialization: Option<String>,
    init_elem: Option<(Option<String>, Option<ByteRange>)>,
    index_range: Option<ByteRange>,
    availability: Availability,
    timeline: Option<Arc<Timeline>>,
    urls: Option<SegmentUrls>,
    line: Line,
}

impl SegInfo {
    /// Fills what this level leaves unset from the level above.
    fn inherit(&self, parent: &SegInfo) -> SegInfo {
        SegInfo {
            timescale: self.timescale.or(parent.timescale),
            pto: self.pto.or(parent.pto),
            duration: self.duration.or(parent.duration),
            start_number: self.start_number.or(parent.start_number),
            end_number: self.end_number.or(parent.end_number),
            media: self.media.clone().or_else(|| parent.media.clone()),
            initialization: self
                .initialization
                .clone()
                .or_else(|| parent.initialization.clone()),
            init_elem: self.init_elem.clone().or_else(|| parent.init_elem.clone()),
            index_range: self.index_range.or(parent.index_range),
            availability: Availability {
                time_offset: self
                    .availability
                    .time_offset
                    .or(parent.availability.time_offset),
                time_complete: self
                    .availability
                    .time_complete
                    .or(parent.availability.time_complete),
            },
            timeline: self.timeline.clone().or_else(|| parent.timeline.clone()),
            urls: self.urls.clone().or_else(|| parent.urls.clone()),
            line: self.line,
        }
    }
}

/// The addressing elements of one level (MPD Period, AdaptationSet, Representation).
#[derive(Debug, Clone, Default)]
pub(crate) struct Levels {
    pub(crate) base: Option<SegInfo>,
    pub(crate) list: Option<SegInfo>,
    pub(crate) template: Option<SegInfo>,
}

impl Levels {
    fn kind(&self) -> Option<SegKind> {
        if self.template.is_some() {
            Some(SegKind::Template)
        } else if self.list.is_some() {
            Some(SegKind::List)
        } else if self.base.is_some() {
            Some(SegKind::Base)
        } else {
            None
        }
    }

    fn slot(&self, k: SegKind) -> Option<&SegInfo> {
        match k {
            SegKind::Base => self.base.as_ref(),
            SegKind::List => self.list.as_ref(),
            SegKind::Template => self.template.as_ref(),
        }
    }

    /// The effective addressing of a representation given its ancestors (nearest first):
    /// the lowest level with an addressing element decides the kind; that kind's
    /// attributes are inherited from the levels above.
    pub(crate) fn effective(chain: &[&Levels]) -> Option<(SegKind, SegInfo)> {
        let kind = chain.iter().find_map(|l| l.kind())?;
        let mut info = SegInfo::default();
        let mut first = true;
        for l in chain {
            if let Some(s) = l.slot(kind) {
                info = if first { s.clone() } else { info.inherit(s) };
                first = false;
            }
        }
        Some((kind, info))
    }

    /// Reads `c` if it is a `SegmentBase`, `SegmentList` or `SegmentTemplate`; false if not.
    pub(crate) fn read_child(
        &mut self,
        c: &Elem<'_>,
        x: &mut Xml<'_>,
        diag: &mut Diag,
    ) -> Result<bool, ParseError> {
        let kind = match c.name() {
            b"SegmentBase" => SegKind::Base,
            b"SegmentList" => SegKind::List,
            b"SegmentTemplate" => SegKind::Template,
            _ => return Ok(false),
        };
        self.read(kind, c, x, diag)?;
        Ok(true)
    }

    /// Reads a `SegmentBase`, `SegmentList` or `SegmentTemplate` element into its slot.
    fn read(
        &mut self,
        kind: SegKind,
        el: &Elem<'_>,
        x: &mut Xml<'_>,
        diag: &mut Diag,
    ) -> Result<(), ParseError> {
        let info = read_seg(el, x, diag)?;
        let slot = match kind {
            SegKind::Base => &mut self.base,
            SegKind::List => &mut self.list,
            SegKind::Template => &mut self.template,
        };
        *slot = Some(info);
        Ok(())
    }
}

fn uint(el: &Elem<'_>, name: &str, line: Line, diag: &mut Diag) -> Result<Option<u64>, ParseError> {
    match el.attr(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => match crate::time::parse_decimal_ticks(&v, Timescale::SECONDS) {
                // `2000000.0`: written by some packagers; rounded.
                Ok(n) => {
                    diag.should(
                        line,
                        R_UINT,
                        format!("@{name}={v:?} is not an integer; rounded to {n}"),
                    )?;
                    Ok(Some(n))
                }
                Err(_) => {
                    diag.shall(line, R_UINT, format!("@{name}={v:?}"))?;
                    Ok(None)
                }
            },
        },
    }
}

fn range(v: Option<String>, line: Line, diag: &mut Diag) -> Result<Option<ByteRange>, ParseError> {
    match v {
        None => Ok(None),
        Some(v) => match ByteRange::parse_dash(&v) {
            Some(r) => Ok(Some(r)),
            None => {
                diag.shall(line, R_RANGE, format!("range {v:?}"))?;
                Ok(None)
            }
        },
    }
}

/// `@availabilityTimeOffset` (decimal seconds or `INF`) and `@availabilityTimeComplete`.
pub(crate) fn availability(
    el: &Elem<'_>,
    line: Line,
    diag: &mut Diag,
) -> Result<Availability, ParseError> {
    const R_ATO: &str = "ISO/IEC 23009-1 §5.3.9.5.3: @availabilityTimeOffset is a double or INF";
    let time_offset = match el.attr("availabilityTimeOffset") {
        None => None,
        Some(v) if v.trim() == "INF" => Some(Micros(i64::MAX)),
        Some(v) => match crate::time::parse_decimal_ticks(&v, Timescale::MICROS) {
            Ok(us) => Some(Micros(i64::try_from(us).unwrap_or(i64::MAX))),
            Err(e) => {
                diag.should(line, R_ATO, format!("{e}; ignored"))?;
                None
            }
        },
    };
    let time_complete = el
        .attr("availabilityTimeComplete")
        .map(|v| !matches!(v.trim(), "false" | "0"));
    Ok(Availability {
        time_offset,
        time_complete,
    })
}

fn read_seg(el: &Elem<'_>, x: &mut Xml<'_>, diag: &mut Diag) -> Result<SegInfo, ParseError> {
    let line = x.line();
    let timescale = match uint(el, "timescale", line, diag)? {
        Some(t) => match u32::try_from(t).ok().and_then(Timescale::new) {
            Some(ts) => Some(ts),
            None => return Err(diag.invalid(line, R_TIMESCALE, format!("@timescale={t}"))),
        },
        None => None,
    };
    let mut info = SegInfo {
        timescale,
        pto: uint(el, "presentationTimeOffset", line, diag)?,
        duration: uint(el, "duration", line, diag)?,
        start_number: uint(el, "startNumber", line, diag)?,
        end_number: uint(el, "endNumber", line, diag)?,
        media: el.attr("media"),
        initialization: el.attr("initialization"),
        init_elem: None,
        index_range: range(el.attr("indexRange"), line, diag)?,
        availability: availability(el, line, diag)?,
        timeline: None,
        urls: None,
        line,
    };
    if info.duration == Some(0) {
        diag.shall(line, R_TEMPLATE_TIMING, "@duration is zero")?;
        info.duration = None;
    }
    if el.empty {
        return Ok(info);
    }
    let mut urls: Vec<(Option<String>, Option<ByteRange>)> = Vec::new();
    let mut has_urls = false;
    x.children(el, diag, |x, c, diag| {
        match c.name() {
            b"Initialization" | b"Initialisation" => {
                let l = x.line();
                info.init_elem = Some((c.attr("sourceURL"), range(c.attr("range"), l, diag)?));
            }
            b"SegmentTimeline" => {
                info.timeline = Some(Arc::new(read_timeline(&c, x, diag)?));
            }
            b"SegmentURL" => {
                let l = x.line();
                diag.add_segments(1)?;
                has_urls = true;
                urls.push((c.attr("media"), range(c.attr("mediaRange"), l, diag)?));
            }
            _ => {}
        }
        Ok(())
    })?;
    if has_urls {
        info.urls = Some(Arc::new(urls));
    }
    Ok(info)
}

/// Reads `<S t d r>` elements into runs, merging written-out repeats.
fn read_timeline(el: &Elem<'_>, x: &mut Xml<'_>, diag: &mut Diag) -> Result<Timeline, ParseError> {
    let mut tl = Timeline::default();
    if el.empty {
        return Ok(tl);
    }
    let mut next_start: u64 = 0;
    x.children(el, diag, |x, c, diag| {
        if c.name() != b"S" {
            return Ok(());
        }
        let (mut t, mut d, mut r): (Option<u64>, Option<u64>, i64) = (None, None, 0);
        let mut bad: Option<String> = None;
        let mut pattern = false;
        c.for_each_raw(|k, v| {
            let s = std::str::from_utf8(v).unwrap_or("").trim();
            match k {
                b"t" => t = s.parse().map_err(|_| bad = Some(format!("S@t={s:?}"))).ok(),
                b"d" => d = s.parse().map_err(|_| bad = Some(format!("S@d={s:?}"))).ok(),
                b"r" => {
                    r = s
                        .parse()
                        .map_err(|_| bad = Some(format!("S@r={s:?}")))
                        .unwrap_or(0)
                }
                b"p" | b"pE" => pattern = true,
                _ => {}
            }
        });
        let line = x.line();
        if pattern {
            return Err(diag.unsupported(line, "SegmentTimeline patterns (S@p, 5th edition)"));
        }
        if let Some(b) = bad {
            diag.shall(line, R_S_D, b)?;
        }
        let Some(d) = d.filter(|d| *d > 0) else {
            diag.shall(line, R_S_D, "S without a positive @d")?;
            return Ok(());
        };
        let start = t.unwrap_or(next_start);
        if r < -1 {
            diag.shall(line, R_S_D, format!("S@r={r}"))?;
            r = 0;
        }
        if r == -1 {
            tl.open.push(tl.runs.len());
            tl.runs.push(TimelineRun {
                start,
                duration: d,
                count: 1,
            });
            next_start = start.saturating_add(d);
            return Ok(());
        }
        let count = u32::try_from(r.saturating_add(1)).unwrap_or(u32::MAX);
        diag.add_segments(u64::from(count))?;
        // Merge an S that continues the previous (closed) run with the same duration.
        let last_is_open = !tl.runs.is_empty() && tl.open.last() == Some(&(tl.runs.len() - 1));
        push_run(&mut tl.runs, start, d, count, !last_is_open);
        next_start = start.saturating_add(d.saturating_mul(u64::from(count)));

        Ok(())
    })?;
    Ok(tl)
}

/// A `$...$` template with the per-representation identifiers substituted.
fn template(
    text: &str,
    rep_id: &str,
    bandwidth: u64,
    base: &str,
    allow: Allow,
    line: Line,
    diag: &mut Diag,
) -> Result<UrlTemplate, ParseError> {
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
            "Bandwidth" => {
                lit.push_str(&format!("{bandwidth:0width$}", width = usize::from(width)))
            }
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
            init: None,
            duration: ctx.period_duration,
        }));
    };
    let line = info.line.max(ctx.line);
    let timescale = info.timescale.unwrap_or(Timescale::SECONDS);
    let pto = info.pto.unwrap_or(0);
    let init = match (&info.initialization, &info.init_elem) {
        (Some(t), _) if kind == SegKind::Template => {
            let tpl = template(
                t,
                ctx.rep_id,
                ctx.bandwidth,
                ctx.base,
                Allow::Data,
                line,
                diag,
            )?;
            Some(InitSegment {
                url: tpl.expand(0, 0),
                byte_range: None,
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
            })
        }
        _ => None,
    };
    let period_ticks = ctx.period_duration.map(|d| d.to_ticks(timescale));
    let start_number = info.start_number.unwrap_or(1);
    match kind {
        SegKind::Base => {
            diag.add_segments(1)?;
            Ok(SegmentIndex::Base(SegmentBaseIndex {
                url: ctx.base.to_owned(),
                timescale,
                presentation_time_offset: pto,
                index_range: info.index_range,
                init,
                duration: ctx.period_duration,
            }))
        }
        SegKind::Template => {
            let Some(media) = &info.media else {
                diag.shall(line, R_TEMPLATE_TIMING, "SegmentTemplate without @media")?;
                return Ok(SegmentIndex::Unloaded);
            };
            let media = template(
                media,
                ctx.rep_id,
                ctx.bandwidth,
                ctx.base,
                Allow::Http,
                line,
                diag,
            )?;
            if let Some(tl) = &info.timeline {
                let (runs, ends, open_ended) = resolve_runs(
                    tl,
                    timescale,
                    pto,
                    period_ticks,
                    ctx.dynamic,
                    line,
                    cache,
                    diag,
                )?;
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
                if media
                    .parts
                    .iter()
                    .any(|p| matches!(p, TemplatePart::Time(_)))
                {
                    diag.shall(
                        line,
                        R_TIME_NEEDS_TIMELINE,
                        "$Time$ in a template without SegmentTimeline",
                    )?;
                }
                let mut count = period_ticks.map(|p| p.div_ceil(d));
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
            } else {
                diag.shall(
                    line,
                    R_TEMPLATE_TIMING,
                    "SegmentTemplate with neither @duration nor SegmentTimeline",
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
                let (runs, _, _) = resolve_runs(
                    tl,
                    timescale,
                    pto,
                    period_ticks,
                    ctx.dynamic,
                    line,
                    cache,
                    diag,
                )?;
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

/// Resolves `@r=-1` runs against the next `S@t` or the period end, sharing the result.
#[allow(clippy::too_many_arguments)]
fn resolve_runs(
    tl: &Arc<Timeline>,
    timescale: Timescale,
    pto: u64,
    period_ticks: Option<u64>,
    dynamic: bool,
    line: Line,
    cache: &mut RunsCache,
    diag: &mut Diag,
) -> Result<ResolvedRuns, ParseError> {
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
        let end = match runs.get(i + 1) {
            Some(next) => Some(next.start),
            None => period_ticks.map(|p| pto.saturating_add(p)),
        };
        match end {
            Some(end) if end > start => {
                let c = (end - start).div_ceil(d);
                runs[i].count = u32::try_from(c).unwrap_or(u32::MAX);
            }
            Some(_) => runs[i].count = 1,
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
