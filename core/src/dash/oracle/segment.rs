//! The oracle's segment addressing: the same rules as the streaming reader's
//! (`dash/segment.rs`), written again from the ISO/IEC 23009-1 text over the
//! `dash_mpd_core` DOM, sharing no code with it.

use super::*;

// ---------------------------------------------------------------------------------------
// Segment addressing
// ---------------------------------------------------------------------------------------

/// The addressing elements of one level (Representation, AdaptationSet, Period).
#[derive(Clone, Copy)]
pub(super) struct Level<'a> {
    base: Option<&'a dmc::SegmentBase>,
    list: Option<&'a dmc::SegmentList>,
    template: Option<&'a dmc::SegmentTemplate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Base,
    List,
    Template,
}

impl<'a> Level<'a> {
    pub(super) fn of(
        base: Option<&'a dmc::SegmentBase>,
        list: Option<&'a dmc::SegmentList>,
        template: Option<&'a dmc::SegmentTemplate>,
    ) -> Self {
        Level {
            base,
            list,
            template,
        }
    }

    /// The addressing mode this level sets, if any (a template wins over a list over a base).
    fn mode(&self) -> Option<Mode> {
        if self.template.is_some() {
            Some(Mode::Template)
        } else if self.list.is_some() {
            Some(Mode::List)
        } else if self.base.is_some() {
            Some(Mode::Base)
        } else {
            None
        }
    }

    /// This level's element of `mode`, as attributes.
    fn attrs(&self, mode: Mode) -> Result<Option<Attrs<'a>>, ParseError> {
        match mode {
            Mode::Template => self.template.map(Attrs::template).transpose(),
            Mode::List => self.list.map(Attrs::list).transpose(),
            Mode::Base => self.base.map(Attrs::base).transpose(),
        }
    }
}

/// The attributes and children of one addressing element, each optional for inheritance.
#[derive(Default, Clone)]
struct Attrs<'a> {
    timescale: Option<Timescale>,
    pto: Option<u64>,
    duration: Option<u64>,
    start_number: Option<u64>,
    end_number: Option<u64>,
    media: Option<&'a str>,
    initialization: Option<&'a str>,
    init_elem: Option<&'a dmc::Initialization>,
    index_range: Option<ByteRange>,
    timeline: Option<&'a dmc::SegmentTimeline>,
    urls: Option<&'a [dmc::SegmentURL]>,
}

fn timescale(v: Option<u64>) -> Result<Option<Timescale>, ParseError> {
    match v {
        None => Ok(None),
        Some(t) => u32::try_from(t)
            .ok()
            .and_then(Timescale::new)
            .map(Some)
            .ok_or_else(|| invalid(R_TIMESCALE, format!("@timescale={t}"))),
    }
}

fn dash_range(v: Option<&str>) -> Result<Option<ByteRange>, ParseError> {
    match v {
        None => Ok(None),
        Some(v) => ByteRange::parse_dash(v)
            .map(Some)
            .ok_or_else(|| invalid(R_RANGE, format!("range {v:?}"))),
    }
}

fn positive_duration(d: Option<u64>) -> Result<Option<u64>, ParseError> {
    match d {
        Some(0) => Err(invalid(R_TEMPLATE_TIMING, "@duration is zero")),
        d => Ok(d),
    }
}

impl<'a> Attrs<'a> {
    fn template(t: &'a dmc::SegmentTemplate) -> Result<Self, ParseError> {
        // dash_mpd_core reads @duration as a double (packagers write `2000000.0`): round it.
        let duration = match t.duration {
            None => None,
            Some(d) if d.is_finite() && d >= 0.0 => Some(d.round() as u64),
            Some(d) => return Err(invalid(R_UINT, format!("@duration={d}"))),
        };
        Ok(Attrs {
            timescale: timescale(t.timescale)?,
            pto: t.presentationTimeOffset,
            duration: positive_duration(duration)?,
            start_number: t.startNumber,
            end_number: t.endNumber,
            media: t.media.as_deref(),
            initialization: t.initialization.as_deref(),
            init_elem: t.Initialization.as_ref(),
            index_range: dash_range(t.indexRange.as_deref())?,
            timeline: t.SegmentTimeline.as_ref(),
            urls: None,
        })
    }

    fn list(l: &'a dmc::SegmentList) -> Result<Self, ParseError> {
        Ok(Attrs {
            timescale: timescale(l.timescale)?,
            duration: positive_duration(l.duration)?,
            init_elem: l.Initialization.as_ref(),
            index_range: dash_range(l.indexRange.as_deref())?,
            timeline: l.SegmentTimeline.as_ref(),
            urls: (!l.segment_urls.is_empty()).then_some(l.segment_urls.as_slice()),
            ..Attrs::default()
        })
    }

    fn base(b: &'a dmc::SegmentBase) -> Result<Self, ParseError> {
        Ok(Attrs {
            timescale: timescale(b.timescale)?,
            pto: b.presentationTimeOffset,
            init_elem: b.Initialization.as_ref(),
            index_range: dash_range(b.indexRange.as_deref())?,
            ..Attrs::default()
        })
    }

    /// Fills what this level leaves unset from the level above.
    fn inherit(self, parent: Attrs<'a>) -> Attrs<'a> {
        Attrs {
            timescale: self.timescale.or(parent.timescale),
            pto: self.pto.or(parent.pto),
            duration: self.duration.or(parent.duration),
            start_number: self.start_number.or(parent.start_number),
            end_number: self.end_number.or(parent.end_number),
            media: self.media.or(parent.media),
            initialization: self.initialization.or(parent.initialization),
            init_elem: self.init_elem.or(parent.init_elem),
            index_range: self.index_range.or(parent.index_range),
            timeline: self.timeline.or(parent.timeline),
            urls: self.urls.or(parent.urls),
        }
    }
}

/// A representation's identity and context, for its segment index.
pub(super) struct RepCtx<'c> {
    pub(super) id: &'c str,
    pub(super) bandwidth: u64,
    pub(super) base: &'c str,
    pub(super) period_duration: Option<Micros>,
    pub(super) dynamic: bool,
}

/// Builds a representation's segment index from its levels (nearest first).
pub(super) fn build_index(
    levels: &[Level<'_>],
    rep: &RepCtx<'_>,
) -> Result<SegmentIndex, ParseError> {
    let Some(mode) = levels.iter().find_map(Level::mode) else {
        // A bare BaseURL: the whole resource is one segment.
        return Ok(SegmentIndex::Base(SegmentBaseIndex {
            url: rep.base.to_owned(),
            timescale: Timescale::SECONDS,
            presentation_time_offset: 0,
            index_range: None,
            index_url: None,
            init: None,
            duration: rep.period_duration,
        }));
    };
    let mut attrs: Option<Attrs<'_>> = None;
    for level in levels {
        if let Some(a) = level.attrs(mode)? {
            attrs = Some(match attrs {
                None => a,
                Some(child) => child.inherit(a),
            });
        }
    }
    let a = attrs.unwrap_or_default();
    let timescale = a.timescale.unwrap_or(Timescale::SECONDS);
    let pto = a.pto.unwrap_or(0);
    let start_number = a.start_number.unwrap_or(1);
    let period_ticks = rep.period_duration.map(|d| d.to_ticks(timescale));
    // The period end in millionths of a tick: exact, so that counts round up correctly.
    let period_end = rep
        .period_duration
        .map(|d| i128::from(pto) * 1_000_000 + i128::from(d.0) * i128::from(timescale.get()));
    let init = match (a.initialization, a.init_elem) {
        (Some(t), _) if mode == Mode::Template => {
            let tpl = template(t, rep, true)?;
            Some(InitSegment {
                url: tpl.expand(0, 0),
                byte_range: None,
                keys: Vec::new(),
            })
        }
        (_, Some(i)) => {
            let url = match i.sourceURL.as_deref() {
                Some(s) => resolve(rep.base, s, true)?,
                None => rep.base.to_owned(),
            };
            Some(InitSegment {
                url,
                byte_range: dash_range(i.range.as_deref())?,
                keys: Vec::new(),
            })
        }
        _ => None,
    };
    match mode {
        Mode::Base => Ok(SegmentIndex::Base(SegmentBaseIndex {
            url: rep.base.to_owned(),
            timescale,
            presentation_time_offset: pto,
            index_range: a.index_range,
            index_url: None,
            init,
            duration: rep.period_duration,
        })),
        Mode::Template => {
            let Some(media) = a.media else {
                return Err(invalid(R_TEMPLATE_TIMING, "SegmentTemplate without @media"));
            };
            let media = template(media, rep, false)?;
            if let Some(tl) = a.timeline {
                let (runs, open_ended) = timeline_runs(tl, period_end, rep.dynamic)?;
                Ok(SegmentIndex::Timeline(TimelineIndex {
                    timescale,
                    presentation_time_offset: pto,
                    start_number,
                    ends: crate::model::segments::run_ends(&runs),
                    runs: Arc::from(runs),
                    media,
                    init,
                    open_ended,
                    availability: Availability::default(),
                }))
            } else if let Some(d) = a.duration {
                let by_period = period_end.map(|end| covering(pto, end, d));
                let by_end = a
                    .end_number
                    .map(|e| e.saturating_add(1).saturating_sub(start_number));
                let count = match (by_period, by_end) {
                    (Some(p), Some(e)) => Some(p.min(e)),
                    (p, e) => p.or(e),
                };
                Ok(SegmentIndex::Template(TemplateIndex {
                    timescale,
                    presentation_time_offset: pto,
                    duration: d,
                    start_number,
                    count,
                    media,
                    init,
                    availability: Availability::default(),
                }))
            } else if let Some(end) = period_end {
                // One segment spanning the period.
                Ok(SegmentIndex::Template(TemplateIndex {
                    timescale,
                    presentation_time_offset: pto,
                    duration: covering(pto, end, 1).max(1),
                    start_number,
                    count: Some(1),
                    media,
                    init,
                    availability: Availability::default(),
                }))
            } else {
                Err(invalid(
                    R_TEMPLATE_TIMING,
                    "SegmentTemplate with neither @duration nor SegmentTimeline in a period of unknown length",
                ))
            }
        }
        Mode::List => {
            let urls = a.urls.unwrap_or_default();
            // Start and duration of each listed segment.
            let times: Vec<(u64, u64)> = if let Some(tl) = a.timeline {
                let (runs, _) = timeline_runs(tl, period_end, rep.dynamic)?;
                runs.iter()
                    .flat_map(|r| {
                        (0..u64::from(r.count)).map(move |k| {
                            (
                                r.start.saturating_add(k.saturating_mul(r.duration)),
                                r.duration,
                            )
                        })
                    })
                    .take(urls.len())
                    .collect()
            } else if let Some(d) = a.duration {
                (0..urls.len() as u64)
                    .map(|i| (pto.saturating_add(i.saturating_mul(d)), d))
                    .collect()
            } else if urls.len() > 1 {
                return Err(invalid(
                    R_TEMPLATE_TIMING,
                    "SegmentList with several SegmentURLs needs @duration or a SegmentTimeline",
                ));
            } else {
                vec![(pto, period_ticks.unwrap_or(0))]
            };
            let mut list = ListIndex::new(timescale, rep.base.to_owned(), start_number);
            let map = match init {
                Some(i) => list.add_map(i),
                None => 0,
            };
            for (u, (start, duration)) in urls.iter().zip(times) {
                let uri = u.media.as_deref().unwrap_or("").trim();
                check_scheme(uri, false)?;
                let byte_range = dash_range(u.mediaRange.as_deref())?;
                list.push_at(
                    start,
                    NewEntry {
                        uri,
                        duration,
                        byte_range,
                        map,
                        ..NewEntry::default()
                    },
                );
            }
            list.shrink_to_fit();
            Ok(SegmentIndex::List(list))
        }
    }
}

/// Resolves a `SegmentTimeline` into runs: written-out repeats merged, `S@r=-1` extended to
/// the next `S@t` or the period end (`pto` + period duration); the flag says the last run is
/// open-ended (live, no known end).
/// How many segments of `d` ticks from media time `from` reach `end` (millionths of a tick).
fn covering(from: u64, end: i128, d: u64) -> u64 {
    let span = end - i128::from(from) * 1_000_000;
    let step = i128::from(d) * 1_000_000;
    if span <= 0 || step == 0 {
        return 0;
    }
    u64::try_from((span + step - 1) / step).unwrap_or(u64::MAX)
}

fn timeline_runs(
    tl: &dmc::SegmentTimeline,
    period_end: Option<i128>,
    dynamic: bool,
) -> Result<(Vec<TimelineRun>, bool), ParseError> {
    // First pass: runs as written, with the indexes of the `r=-1` ones.
    let mut runs: Vec<TimelineRun> = Vec::with_capacity(tl.segments.len());
    let mut open: Vec<usize> = Vec::new();
    let mut next_start: u64 = 0;
    for s in &tl.segments {
        if s.d == 0 {
            return Err(invalid(R_S_D, "S without a positive @d"));
        }
        let start = s.t.unwrap_or(next_start);
        let r = s.r.unwrap_or(0);
        if r < -1 {
            return Err(invalid(R_S_D, format!("S@r={r}")));
        }
        if r == -1 {
            open.push(runs.len());
            runs.push(TimelineRun {
                start,
                duration: s.d,
                count: 1,
            });
            next_start = start.saturating_add(s.d);
            continue;
        }
        let count = u32::try_from(r.saturating_add(1)).unwrap_or(u32::MAX);
        let last_open = open.last().is_some_and(|&i| i + 1 == runs.len());
        match runs.last_mut() {
            Some(last)
                if !last_open
                    && last.duration == s.d
                    && last
                        .start
                        .saturating_add(last.duration.saturating_mul(u64::from(last.count)))
                        == start
                    && last.count.checked_add(count).is_some() =>
            {
                last.count += count;
            }
            _ => runs.push(TimelineRun {
                start,
                duration: s.d,
                count,
            }),
        }
        next_start = start.saturating_add(s.d.saturating_mul(u64::from(count)));
    }
    // Second pass: how far each open run repeats.
    let mut open_ended = false;
    for &i in &open {
        let start = runs[i].start;
        let d = runs[i].duration;
        let reach = match runs.get(i + 1) {
            Some(next) => Some(covering(start, i128::from(next.start) * 1_000_000, d)),
            None => period_end.map(|end| covering(start, end, d)),
        };
        match reach {
            Some(c) => runs[i].count = u32::try_from(c.max(1)).unwrap_or(u32::MAX),
            None if dynamic => open_ended = true,
            None => {
                return Err(invalid(
                    R_STATIC_END,
                    "S@r=-1 with no following S@t and no period end",
                ));
            }
        }
    }
    Ok((runs, open_ended))
}

/// Parses a `$...$` template, substituting `$RepresentationID$` and `$Bandwidth$`.
fn template(text: &str, rep: &RepCtx<'_>, allow_data: bool) -> Result<UrlTemplate, ParseError> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut pieces = text.split('$');
    // Between two `$` signs are the identifiers: odd pieces.
    lit.push_str(pieces.next().unwrap_or(""));
    while let Some(ident) = pieces.next() {
        let Some(after) = pieces.next() else {
            return Err(invalid(R_TEMPLATE_ID, format!("unmatched $ in {text:?}")));
        };
        let (name, width) = match ident.split_once('%') {
            None => (ident, 0u8),
            Some((name, fmt)) => {
                let digits = fmt.strip_prefix('0').unwrap_or(fmt).strip_suffix('d');
                match digits
                    .and_then(|w| w.parse::<u8>().ok())
                    .filter(|w| *w <= 32)
                {
                    Some(w) => (name, w),
                    None => {
                        return Err(invalid(
                            R_TEMPLATE_ID,
                            format!("format tag %{fmt} in {text:?}"),
                        ));
                    }
                }
            }
        };
        match name {
            "" => lit.push('$'),
            "RepresentationID" => lit.push_str(rep.id),
            "Bandwidth" => lit.push_str(&format!("{:0w$}", rep.bandwidth, w = usize::from(width))),
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
                return Err(invalid(
                    R_TEMPLATE_ID,
                    format!("unknown identifier ${other}$"),
                ));
            }
        }
        lit.push_str(after);
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Literal(lit));
    }
    if let Some(TemplatePart::Literal(head)) = parts.first() {
        check_scheme(head, allow_data)?;
    }
    Ok(UrlTemplate {
        base: rep.base.to_owned(),
        parts,
    })
}
