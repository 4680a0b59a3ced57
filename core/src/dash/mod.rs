//! MPEG-DASH MPDs (ISO/IEC 23009-1, 5th edition): a streaming `quick-xml` reader straight
//! into the model. All four addressing modes (SegmentBase, SegmentList, SegmentTemplate
//! with `@duration`, SegmentTemplate with SegmentTimeline), multi-period, dynamic MPDs,
//! xlink (surfaced as [`crate::PendingFetch`], never fetched), ContentProtection,
//! EventStream, UTCTiming, ServiceDescription, ContentSteering, descriptors.
//!
//! Why not `dash-mpd-core`: compiled to WebAssembly it is ~352 KB gzip against a 120 KB
//! engine budget, and it builds a full serde DOM before any model exists. It stays as the
//! reference oracle (`conformance/tests/dash_oracle.rs`) and as the optional
//! `dash-mpd-core` feature's input.

mod adaptation;
mod addressing;
#[cfg(feature = "dash-mpd-core")]
pub(crate) mod oracle;
pub(crate) mod refresh;
mod segment;

use adaptation::{
    RawSet, apply_common, content_type, descriptor, read_base_url, read_set, text_kind,
};
use addressing::{RepCtx, RunsCache, build_index};
use segment::Levels;

use crate::Parsed;
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::{
    Bytes, ContentSteering, ContentType, Event, EventStream, LiveParams, ManifestFormat,
    PendingFetch, Period, Presentation, ServiceDescription, UtcTiming, XlinkTarget,
};
use crate::options::ParseOptions;
use crate::time::{Micros, Timescale, parse_datetime, parse_decimal_ticks, parse_xs_duration};
use crate::url::{Allow, resolve};
use crate::xml::{Elem, Ev, Xml};

const R_ROOT: &str = "ISO/IEC 23009-1 §5.3.1: the root element is MPD";
const R_TYPE: &str = "ISO/IEC 23009-1 §5.3.1.2: MPD@type is static or dynamic";
const R_DURATION: &str = "ISO/IEC 23009-1 §5.3.1.2: durations are xs:duration";
const R_DATETIME: &str = "ISO/IEC 23009-1 §5.3.1.2: times are xs:dateTime";
const R_AST: &str =
    "ISO/IEC 23009-1 §5.3.1.2: MPD@availabilityStartTime is required for dynamic MPDs";
const R_PERIOD: &str = "ISO/IEC 23009-1 §5.3.1.2: an MPD has at least one Period";
const R_PERIOD_START: &str = "ISO/IEC 23009-1 §5.3.2.1: a Period's start comes from @start or the previous Period's @start + @duration";
const R_PERIOD_ORDER: &str = "ISO/IEC 23009-1 §5.3.2.1: Period@start values are increasing";
const R_EVENT: &str = "ISO/IEC 23009-1 §5.10.2: Event@presentationTime is an unsigned integer";
const EVENT_TEXT_MAX: usize = 64 << 10;

/// Parses an MPD.
pub(crate) fn parse(text: &str, base: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let mut diag = Diag::new(ManifestFormat::Dash, opts);
    diag.check_size(text.len())?;
    let mut x = Xml::new(text);
    let root = x.root(&mut diag, R_ROOT)?;
    if root.name() != b"MPD" {
        return Err(diag.invalid(
            x.line(),
            R_ROOT,
            format!("root element {:?}", String::from_utf8_lossy(root.name())),
        ));
    }
    let presentation = read_mpd(&root, &mut x, base, &mut diag)?;
    // Only whitespace and comments may follow the root.
    loop {
        match x.next(&mut diag)? {
            Ev::Eof => break,
            Ev::Text(t) if t.trim().is_empty() => {}
            _ => return Err(diag.malformed(x.line(), R_ROOT, "content after the root element")),
        }
    }
    Ok(Parsed {
        presentation,
        warnings: diag.warnings,
    })
}

/// Reads an xs:duration attribute. A bad value of a `critical` one (the presentation's and
/// periods' timing) breaks the model; a bad optional live parameter is dropped.
fn duration_attr(
    el: &Elem<'_>,
    name: &str,
    critical: bool,
    line: Line,
    diag: &mut Diag,
) -> Result<Option<Micros>, ParseError> {
    let Some(v) = el.attr_str(name) else {
        return Ok(None);
    };
    let detail = match parse_xs_duration(&v) {
        Ok(d) if d.0 >= 0 => return Ok(Some(d)),
        Ok(d) => format!("@{name} is negative ({d})"),
        Err(e) => format!("@{name}: {e}"),
    };
    if critical {
        diag.shall(line, R_DURATION, detail)?;
    } else {
        diag.should(line, R_DURATION, format!("{detail}; ignored"))?;
    }
    Ok(None)
}

fn datetime_attr(
    el: &Elem<'_>,
    name: &str,
    line: Line,
    diag: &mut Diag,
) -> Result<Option<crate::UnixMicros>, ParseError> {
    match el.attr_str(name) {
        None => Ok(None),
        Some(v) => match parse_datetime(&v) {
            Ok(t) => Ok(Some(t)),
            Err(e) => {
                diag.shall(line, R_DATETIME, format!("@{name}: {e}"))?;
                Ok(None)
            }
        },
    }
}

/// Records an element's xlink (`@xlink:href`) as a fetch for the host. Returns true when it
/// resolves to zero (the element is removed; its content has been skipped).
pub(crate) fn xlink(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    base: &str,
    target: XlinkTarget,
    pending: &mut Vec<PendingFetch>,
    diag: &mut Diag,
) -> Result<bool, ParseError> {
    let Some(href) = el.attr("href") else {
        return Ok(false);
    };
    if href.trim() == "urn:mpeg:dash:resolve-to-zero:2013" {
        x.skip(el, diag)?;
        return Ok(true);
    }
    let line = x.line();
    let url = resolve(base, &href, Allow::Http).map_err(|r| diag.unsafe_url(line, &href, &r))?;
    let actuate_on_load = el.attr_str("actuate").as_deref() == Some("onLoad");
    pending.push(PendingFetch {
        target,
        url,
        actuate_on_load,
    });
    Ok(false)
}

/// A Period as read, before durations are known.
struct RawPeriod {
    period: Period,
    declared_start: Option<Micros>,
    seg: Levels,
    base: String,
    sets: Vec<RawSet>,
    line: Line,
}

fn read_mpd(
    root: &Elem<'_>,
    x: &mut Xml<'_>,
    doc_url: &str,
    diag: &mut Diag,
) -> Result<Presentation, ParseError> {
    let line = x.line();
    let mut p = Presentation::new(
        ManifestFormat::Dash,
        (!doc_url.is_empty()).then(|| doc_url.to_owned()),
    );
    let dynamic = match root.attr_str("type").as_deref() {
        None | Some("static") => false,
        Some("dynamic") => true,
        Some("list") => return Err(diag.unsupported(line, "MPD@type=list (5th edition MPD lists)")),
        Some(other) => {
            diag.shall(line, R_TYPE, format!("@type={other:?}"))?;
            false
        }
    };
    p.profiles = root.attr("profiles");
    p.duration = duration_attr(root, "mediaPresentationDuration", true, line, diag)?;
    p.min_buffer_time = duration_attr(root, "minBufferTime", false, line, diag)?;
    let mut live = LiveParams {
        availability_start: datetime_attr(root, "availabilityStartTime", line, diag)?,
        publish_time: datetime_attr(root, "publishTime", line, diag)?,
        time_shift_depth: duration_attr(root, "timeShiftBufferDepth", false, line, diag)?,
        update_period: duration_attr(root, "minimumUpdatePeriod", false, line, diag)?,
        suggested_delay: duration_attr(root, "suggestedPresentationDelay", false, line, diag)?,
        max_segment_duration: duration_attr(root, "maxSegmentDuration", false, line, diag)?,
        ..LiveParams::default()
    };
    if dynamic && live.availability_start.is_none() {
        diag.shall(line, R_AST, "dynamic MPD without @availabilityStartTime")?;
    }
    let mut base = doc_url.to_owned();
    let mut periods: Vec<RawPeriod> = Vec::new();
    let mut seen_base = false;
    if !root.empty {
        x.children(root, diag, |x, c, diag| {
            match c.name() {
                b"BaseURL" => {
                    let b = read_base_url(&c, x, doc_url, diag)?;
                    if !seen_base {
                        base = b.url.clone();
                        seen_base = true;
                    }
                    p.base_urls.push(b);
                }
                b"Period" => {
                    diag.check_periods(periods.len() + 1)?;
                    let idx = u32::try_from(periods.len()).unwrap_or(u32::MAX);
                    if let Some(rp) = read_period(&c, x, &base, idx, &mut p.pending, diag)? {
                        periods.push(rp);
                    }
                }
                b"Location" => {
                    let l = x.line();
                    let t = x.text(&c, diag, usize::MAX)?;
                    let t = t.trim();
                    diag.check_url_len(l, t.len())?;
                    let url =
                        resolve(doc_url, t, Allow::Http).map_err(|r| diag.unsafe_url(l, t, &r))?;
                    p.locations.push(url);
                }
                b"UTCTiming" => {
                    live.utc_timing.push(UtcTiming {
                        scheme_id_uri: c.attr("schemeIdUri").unwrap_or_default(),
                        value: c.attr("value").unwrap_or_default(),
                    });
                }
                b"ServiceDescription" => {
                    live.service_description = Some(read_service_description(&c, x, diag)?)
                }
                b"ContentSteering" => {
                    let l = x.line();
                    let t = x.text(&c, diag, 8192)?;
                    let server_url = resolve(&base, t.trim(), Allow::Http)
                        .map_err(|r| diag.unsafe_url(l, t.trim(), &r))?;
                    p.steering = Some(ContentSteering {
                        server_url,
                        default_pathway: c.attr("defaultServiceLocation"),
                        query_before_start: c.attr("queryBeforeStart").as_deref() == Some("true"),
                        proxy_server_url: c.attr("proxyServerURL"),
                    });
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    if periods.is_empty() && p.pending.is_empty() {
        if dynamic {
            // A live MPD may carry only a Location while the service starts.
            diag.should(line, R_PERIOD, "dynamic MPD without a Period")?;
        } else {
            diag.shall(line, R_PERIOD, "no Period")?;
        }
    }
    finalize(&mut p, periods, dynamic, diag)?;
    if dynamic {
        p.live = Some(live);
    }
    Ok(p)
}

fn read_period(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    parent_base: &str,
    index: u32,
    pending: &mut Vec<PendingFetch>,
    diag: &mut Diag,
) -> Result<Option<RawPeriod>, ParseError> {
    let line = x.line();
    if xlink(
        el,
        x,
        parent_base,
        XlinkTarget::Period(index),
        pending,
        diag,
    )? {
        return Ok(None);
    }
    let mut rp = RawPeriod {
        period: Period {
            id: el.attr("id"),
            start: Micros::ZERO,
            duration: duration_attr(el, "duration", true, line, diag)?,
            base_urls: Vec::new(),
            switching_sets: Vec::new(),
            event_streams: Vec::new(),
            asset_id: None,
            properties: Vec::new(),
        },
        declared_start: duration_attr(el, "start", true, line, diag)?,
        seg: Levels::default(),
        base: parent_base.to_owned(),
        sets: Vec::new(),
        line,
    };
    if el.empty {
        return Ok(Some(rp));
    }
    loop {
        match x.next(diag)? {
            Ev::End | Ev::Eof => break,
            Ev::Text(_) => {}
            Ev::Start(c) if rp.seg.read_child(&c, x, diag)? => {}
            Ev::Start(c) => match c.name() {
                b"BaseURL" => {
                    let b = read_base_url(&c, x, parent_base, diag)?;
                    if rp.period.base_urls.is_empty() {
                        rp.base = b.url.clone();
                    }
                    rp.period.base_urls.push(b);
                }
                b"AssetIdentifier" => {
                    rp.period.asset_id = c.attr("value");
                    x.skip(&c, diag)?;
                }
                b"EssentialProperty" | b"SupplementalProperty" => {
                    rp.period
                        .properties
                        .push(descriptor(&c, c.name() == b"EssentialProperty"));
                    x.skip(&c, diag)?;
                }
                b"EventStream" => {
                    let target = XlinkTarget::EventStream(index);
                    if !xlink(&c, x, &rp.base, target, pending, diag)? {
                        rp.period
                            .event_streams
                            .push(read_event_stream(&c, x, diag)?);
                    }
                }
                b"AdaptationSet" => {
                    let si = u32::try_from(rp.sets.len()).unwrap_or(u32::MAX);
                    let base = rp.base.clone();
                    if let Some(s) = read_set(&c, x, &base, (index, si), pending, diag)? {
                        rp.sets.push(s);
                    }
                }
                _ => x.skip(&c, diag)?,
            },
        }
    }
    Ok(Some(rp))
}

fn read_event_stream(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    diag: &mut Diag,
) -> Result<EventStream, ParseError> {
    let line = x.line();
    let timescale = el
        .attr_str("timescale")
        .and_then(|t| t.trim().parse::<u32>().ok())
        .and_then(Timescale::new)
        .unwrap_or(Timescale::SECONDS);
    let mut es = EventStream {
        scheme_id_uri: el.attr("schemeIdUri").unwrap_or_default(),
        value: el.attr("value"),
        timescale,
        presentation_time_offset: el
            .attr_str("presentationTimeOffset")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        events: Vec::new(),
    };
    if el.empty {
        return Ok(es);
    }
    let _ = line;
    x.children(el, diag, |x, c, diag| {
        if c.name() != b"Event" {
            return Ok(());
        }
        let l = x.line();
        diag.add_event()?;
        let presentation_time = match c.attr_str("presentationTime") {
            None => 0,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(t) => t,
                Err(_) => {
                    diag.shall(l, R_EVENT, format!("@presentationTime={v:?}"))?;
                    0
                }
            },
        };
        let duration = c.attr_str("duration").and_then(|v| v.trim().parse().ok());
        let id = c.attr("id");
        let message_data = c.attr("messageData");
        let (text, binary) = x.text_and_child(&c, b"Binary", diag, EVENT_TEXT_MAX)?;
        let text = text.trim();
        let scte35 = match binary {
            Some(b) => crate::base64::decode(b.trim()).map(Bytes::from),
            None if es.scheme_id_uri.starts_with("urn:scte:scte35:2013:bin") => {
                crate::base64::decode(text).map(Bytes::from)
            }
            None => None,
        };
        es.events.push(Event {
            id,
            presentation_time,
            duration,
            message: message_data
                .or_else(|| (!text.is_empty() && scte35.is_none()).then(|| text.to_owned())),
            scte35,
        });

        Ok(())
    })?;
    Ok(es)
}

fn read_service_description(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    diag: &mut Diag,
) -> Result<ServiceDescription, ParseError> {
    let mut sd = ServiceDescription::default();
    if el.empty {
        return Ok(sd);
    }
    let ms = |v: Option<String>| {
        v.and_then(|v| v.trim().parse::<i64>().ok())
            .map(|m| Micros(m.saturating_mul(1000)))
    };
    let milli = |v: Option<String>| {
        v.and_then(|v| {
            parse_decimal_ticks(&v, Timescale::new(1000).unwrap_or(Timescale::MICROS)).ok()
        })
        .and_then(|m| u32::try_from(m).ok())
    };
    x.children(el, diag, |_, c, _| {
        match c.name() {
            b"Latency" => {
                sd.target_latency = ms(c.attr("target"));
                sd.min_latency = ms(c.attr("min"));
                sd.max_latency = ms(c.attr("max"));
            }
            b"PlaybackRate" => {
                sd.min_playback_rate_milli = milli(c.attr("min"));
                sd.max_playback_rate_milli = milli(c.attr("max"));
            }
            _ => {}
        }

        Ok(())
    })?;
    Ok(sd)
}

/// Period timing (ISO/IEC 23009-1 §5.3.2.1), then each representation's segment index.
fn finalize(
    p: &mut Presentation,
    raws: Vec<RawPeriod>,
    dynamic: bool,
    diag: &mut Diag,
) -> Result<(), ParseError> {
    // In a dynamic MPD, a Period without @start after one without @duration is an Early
    // Available Period (§5.3.2.1): it has not started, so it neither starts nor ends anything.
    let mut kept: Vec<RawPeriod> = Vec::with_capacity(raws.len());
    for rp in raws {
        let early = dynamic
            && rp.declared_start.is_none()
            && kept
                .last()
                .is_some_and(|prev| prev.period.duration.is_none());
        if early {
            diag.should(
                rp.line,
                R_PERIOD_START,
                "Early Available Period (no @start yet): left out until an update gives it one",
            )?;
            continue;
        }
        kept.push(rp);
    }
    let raws = kept;
    let n = raws.len();
    let mut starts: Vec<Micros> = Vec::with_capacity(n);
    for (i, rp) in raws.iter().enumerate() {
        let start = match rp.declared_start {
            Some(s) => s,
            None if i == 0 => Micros::ZERO,
            None => {
                let prev = &raws[i - 1];
                match prev.period.duration {
                    Some(d) => starts[i - 1].saturating_add(d),
                    None => {
                        diag.should(rp.line, R_PERIOD_START, "Period without @start after a Period without @duration: start unknown, taken as the previous start (the previous period then lasts 0 s)")?;
                        starts[i - 1]
                    }
                }
            }
        };
        if let Some(&prev) = starts.last() {
            if start < prev {
                diag.shall(
                    rp.line,
                    R_PERIOD_ORDER,
                    format!("Period starts at {start}, before the previous one at {prev}"),
                )?;
            }
        }
        starts.push(start);
    }
    let mut cache = RunsCache::new();
    for (i, rp) in raws.into_iter().enumerate() {
        let start = starts[i];
        let duration = rp.period.duration.or_else(|| match starts.get(i + 1) {
            Some(next) if *next >= start => Some(Micros(next.0 - start.0)),
            Some(_) => None,
            None => p
                .duration
                .filter(|d| *d >= start)
                .map(|d| Micros(d.0 - start.0)),
        });
        let mut period = rp.period;
        period.start = start;
        period.duration = duration;
        for rs in rp.sets {
            let mut set = rs.set;
            let set_type = content_type(
                rs.content_type.as_deref(),
                rs.common.mime_type.as_deref(),
                rs.common.codecs.as_deref(),
            );
            set.mime_type = rs.common.mime_type.clone();
            set.protection = rs.common.protection.clone();
            set.properties = rs.common.properties.clone();
            set.inband_events = rs.common.inband.clone();
            set.trick_mode = rs
                .common
                .properties
                .iter()
                .any(|d| d.scheme_id_uri == "http://dashif.org/guidelines/trickmode");
            let mut kinds = Vec::new();
            for rr in rs.reps {
                diag.add_track()?;
                let eff = rr.common.over(&rs.common);
                let mut track = rr.track;
                apply_common(&mut track, &eff);
                let ctx = RepCtx {
                    rep_id: &track.id,
                    bandwidth: track.bandwidth,
                    base: &rr.base,
                    period_duration: duration,
                    dynamic,
                    line: rr.line,
                };
                let chain = [&rr.seg, &rs.seg, &rp.seg];
                track.segments = build_index(Levels::effective(&chain), &ctx, &mut cache, diag)?;
                kinds.push(content_type(
                    None,
                    eff.mime_type.as_deref(),
                    eff.codecs.as_deref(),
                ));
                set.tracks.push(track);
            }
            set.content_type = if set_type != ContentType::Unknown {
                set_type
            } else {
                kinds
                    .into_iter()
                    .find(|k| *k != ContentType::Unknown)
                    .unwrap_or(ContentType::Unknown)
            };
            if set.content_type == ContentType::Text {
                set.text_kind = Some(text_kind(&set.roles));
            }
            set.tracks.shrink_to_fit();
            period.switching_sets.push(set);
        }
        period.switching_sets.shrink_to_fit();
        p.periods.push(period);
    }
    if p.duration.is_none() && !dynamic {
        if let Some(last) = p.periods.last() {
            p.duration = last.duration.map(|d| last.start.saturating_add(d));
        }
    }
    Ok(())
}
