//! Reading DASH segment addressing: `SegmentBase`, `SegmentList`, `SegmentTemplate` (with
//! `@duration` or `SegmentTimeline`), kept per level so that attributes inherit across
//! Period, AdaptationSet and Representation. `addressing.rs` resolves them into indexes.

use std::sync::Arc;

use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::segments::push_run;
use crate::model::{Availability, ByteRange, TimelineRun};
use crate::time::{Micros, Timescale};
use crate::xml::{Elem, Xml};

pub(super) const R_TEMPLATE_TIMING: &str =
    "ISO/IEC 23009-1 §5.3.9.2: multiple-segment addressing needs @duration or a SegmentTimeline";
const R_S_D: &str = "ISO/IEC 23009-1 §5.3.9.6: S@d is required and positive";
const R_TIMESCALE: &str = "ISO/IEC 23009-1 §5.3.9.2: @timescale is a positive integer";
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
    pub(super) runs: Vec<TimelineRun>,
    pub(super) open: Vec<usize>,
    /// The first `S@n` (5th edition): (segments listed before it, its number).
    pub(super) first_n: Option<(u64, u64)>,
    /// An `S@n` disagrees with the numbering implied by the first one, or follows an
    /// `@r=-1` run whose length is not known yet.
    pub(super) n_gap: bool,
}

/// `SegmentURL`s: (`@media`, `@mediaRange`), shared by the levels that inherit them.
type SegmentUrls = Arc<Vec<(Option<String>, Option<ByteRange>)>>;

/// Attributes and children of one addressing element, every one optional for inheritance.
#[derive(Debug, Clone, Default)]
pub(crate) struct SegInfo {
    pub(super) timescale: Option<Timescale>,
    pub(super) pto: Option<u64>,
    pub(super) duration: Option<u64>,
    pub(super) start_number: Option<u64>,
    pub(super) end_number: Option<u64>,
    pub(super) media: Option<String>,
    pub(super) initialization: Option<String>,
    pub(super) init_elem: Option<(Option<String>, Option<ByteRange>)>,
    pub(super) index_range: Option<ByteRange>,
    pub(super) index_url: Option<String>,
    pub(super) availability: Availability,
    pub(super) timeline: Option<Arc<Timeline>>,
    pub(super) urls: Option<SegmentUrls>,
    pub(super) line: Line,
}

impl SegInfo {
    /// Fills what this level leaves unset from the level above.
    fn inherit(&self, parent: &SegInfo) -> SegInfo {
        let own_init = self.initialization.is_some() || self.init_elem.is_some();
        SegInfo {
            timescale: self.timescale.or(parent.timescale),
            pto: self.pto.or(parent.pto),
            duration: self.duration.or(parent.duration),
            start_number: self.start_number.or(parent.start_number),
            end_number: self.end_number.or(parent.end_number),
            media: self.media.clone().or_else(|| parent.media.clone()),
            // The nearest level with either form of initialization decides it.
            initialization: if own_init {
                self.initialization.clone()
            } else {
                parent.initialization.clone()
            },
            init_elem: if own_init {
                self.init_elem.clone()
            } else {
                parent.init_elem.clone()
            },
            index_range: self.index_range.or(parent.index_range),
            index_url: self.index_url.clone().or_else(|| parent.index_url.clone()),
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
    match el.attr_str(name) {
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
    let time_offset = match el.attr_str("availabilityTimeOffset") {
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
        .attr_str("availabilityTimeComplete")
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
        index_url: None,
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
            b"RepresentationIndex" => {
                // The index segment (sidx): its range, and a URL of its own when given.
                let l = x.line();
                info.index_range = info.index_range.or(range(c.attr("range"), l, diag)?);
                info.index_url = c.attr("sourceURL");
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
    // Segments listed so far; unknown after an `@r=-1` run.
    let mut listed: Option<u64> = Some(0);
    x.plain_children(el, b"S", diag, |x, c, diag| {
        if c.name() != b"S" {
            return Ok(());
        }
        let (mut t, mut d, mut r): (Option<u64>, Option<u64>, i64) = (None, None, 0);
        let mut bad: Option<String> = None;
        let mut pattern = false;
        let mut n: Option<u64> = None;
        c.for_each_raw(|k, v| {
            let bad_value = |name: &str| Some(format!("S@{name}={:?}", String::from_utf8_lossy(v)));
            match k {
                b"t" => {
                    t = read_u64(v).or_else(|| {
                        bad = bad_value("t");
                        None
                    })
                }
                b"d" => {
                    d = read_u64(v).or_else(|| {
                        bad = bad_value("d");
                        None
                    })
                }
                b"r" => {
                    r = read_i64(v).unwrap_or_else(|| {
                        bad = bad_value("r");
                        0
                    })
                }
                b"p" | b"pE" => pattern = true,
                b"n" => n = read_u64(v),
                _ => {}
            }
        });
        if pattern {
            let line = x.line();
            return Err(diag.unsupported(line, "SegmentTimeline patterns (S@p, 5th edition)"));
        }
        if let Some(b) = bad {
            let line = x.line();
            diag.shall(line, R_S_D, b)?;
        }
        let Some(d) = d.filter(|d| *d > 0) else {
            let line = x.line();
            diag.shall(line, R_S_D, "S without a positive @d")?;
            return Ok(());
        };
        let start = t.unwrap_or(next_start);
        if let Some(n) = n {
            match (listed, tl.first_n) {
                (None, _) => tl.n_gap = true,
                (Some(before), None) => tl.first_n = Some((before, n)),
                (Some(before), Some((b0, n0))) => {
                    tl.n_gap |= n.checked_sub(n0) != before.checked_sub(b0)
                }
            }
        }
        if r < -1 {
            let line = x.line();
            diag.shall(line, R_S_D, format!("S@r={r}"))?;
            r = 0;
        }
        if r == -1 {
            tl.open.push(tl.runs.len());
            listed = None;
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
        listed = listed.map(|l| l.saturating_add(u64::from(count)));
        next_start = start.saturating_add(d.saturating_mul(u64::from(count)));

        Ok(())
    })?;
    Ok(tl)
}

/// A number as `str::trim` then `parse` read it: from the bytes by `ascii` when they are
/// ASCII (the hot `S` element then needs no UTF-8 check), through `str` otherwise.
fn read_number<T: std::str::FromStr>(v: &[u8], ascii: fn(&[u8]) -> Option<T>) -> Option<T> {
    if v.is_ascii() {
        return ascii(v);
    }
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn read_u64(v: &[u8]) -> Option<u64> {
    read_number(v, ascii_u64)
}

fn read_i64(v: &[u8]) -> Option<i64> {
    read_number(v, ascii_i64)
}

/// An unsigned decimal as `u64::from_str` reads it (an optional `+`, then digits), after
/// trimming ASCII whitespace; `None` when it is not one or overflows.
fn ascii_u64(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    let digits = v.strip_prefix(b"+").unwrap_or(v);
    if digits.is_empty() {
        return None;
    }
    // Up to 19 digits cannot overflow: the common case needs no checked arithmetic.
    if digits.len() < 20 {
        let mut acc = 0u64;
        for &b in digits {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            acc = acc * 10 + u64::from(digit);
        }
        return Some(acc);
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// A signed decimal as `i64::from_str` reads it, after trimming ASCII whitespace.
fn ascii_i64(v: &[u8]) -> Option<i64> {
    let v = v.trim_ascii();
    match v.strip_prefix(b"-") {
        Some(rest) if !rest.starts_with(b"+") => {
            let m = ascii_u64(rest)?;
            0i64.checked_sub_unsigned(m)
        }
        Some(_) => None,
        None => i64::try_from(ascii_u64(v)?).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_from_bytes_as_str_parse_reads_them() {
        let cases = [
            "0",
            "7",
            " 7 ",
            "\t42\n",
            "+5",
            "-0",
            "-5",
            "+-5",
            "-+5",
            "",
            " ",
            "+",
            "-",
            "1e3",
            "12a",
            "0x10",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "00000000000000000000012",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "\u{a0}7\u{a0}",
            "7\u{2003}",
            "٣",
        ];
        for c in cases {
            let b = c.as_bytes();
            assert_eq!(read_u64(b), c.trim().parse::<u64>().ok(), "{c:?}");
            assert_eq!(read_i64(b), c.trim().parse::<i64>().ok(), "{c:?}");
        }
    }
}
