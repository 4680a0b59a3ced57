//! A second, independent route from an MPD to the model: converts a
//! [`dash_mpd_core::MPD`] (a serde DOM built by another XML reader) into a [`Presentation`].
//!
//! It applies the same rules as the streaming reader of this module — period timing
//! (ISO/IEC 23009-1 §5.3.2.1), addressing inheritance (the nearest level with an addressing
//! element decides the mode; that mode's attributes inherit from the levels above),
//! `SegmentTemplate@duration` counts (`ceil(period / @duration)`, capped by `@endNumber`),
//! `SegmentTimeline` runs (`S@r=-1` up to the next `S@t` or the period end), `SegmentList`,
//! `SegmentBase`, and a bare `BaseURL` as one segment — but shares none of its code: only the
//! model types and the public time helpers. The conformance suite compares the two
//! (`conformance/tests/dash_oracle.rs`); hosts that already hold a `dash_mpd_core::MPD`
//! can use it directly.
//!
//! Rules are held at the [`crate::Strictness::Normal`] level: a broken *shall* is an error,
//! a broken *should* is tolerated silently. No [`crate::Limits`] apply: the DOM is already
//! in memory, and nothing here allocates more than it holds (counts stay lazy).
//! What `dash_mpd_core` does not read (it has no `SegmentList@startNumber` or
//! `@presentationTimeOffset`, no `S@p`, no `ContentSteering` URL, no line numbers) cannot be
//! converted; errors carry line 0.

use std::sync::Arc;
use std::time::Duration;

use dash_mpd_core as dmc;

mod segment;

use segment::{Level, RepCtx, build_index};

use crate::error::ParseError;
use crate::model::{
    Availability, BaseUrl, ByteRange, Bytes, ContentProtection, ContentType, Descriptor, Event,
    EventStream, InitSegment, Kid, ListIndex, LiveParams, ManifestFormat, NewEntry, PendingFetch,
    Period, Presentation, SchemeRef, SegmentBaseIndex, SegmentIndex, ServiceDescription,
    SwitchingSet, TemplateIndex, TemplatePart, TextKind, TimelineIndex, TimelineRun, Track,
    UrlTemplate, UtcTiming, VideoRange, XlinkTarget,
};
use crate::time::{FrameRate, Micros, Timescale, UnixMicros};

const R_TYPE: &str = "ISO/IEC 23009-1 §5.3.1.2: MPD@type is static or dynamic";
const R_AST: &str =
    "ISO/IEC 23009-1 §5.3.1.2: MPD@availabilityStartTime is required for dynamic MPDs";
const R_PERIOD: &str = "ISO/IEC 23009-1 §5.3.1.2: an MPD has at least one Period";
const R_PERIOD_ORDER: &str = "ISO/IEC 23009-1 §5.3.2.1: Period@start values are increasing";
const R_TEMPLATE_ID: &str = "ISO/IEC 23009-1 §5.3.9.4.4: template identifiers are $$, $RepresentationID$, $Number$, $Bandwidth$, $Time$, $SubNumber$";
const R_TEMPLATE_TIMING: &str =
    "ISO/IEC 23009-1 §5.3.9.2: multiple-segment addressing needs @duration or a SegmentTimeline";
const R_S_D: &str = "ISO/IEC 23009-1 §5.3.9.6: S@d is required and positive";
const R_TIMESCALE: &str = "ISO/IEC 23009-1 §5.3.9.2: @timescale is a positive integer";
const R_STATIC_END: &str =
    "ISO/IEC 23009-1 §5.3.9.6: S@r=-1 in a static MPD needs a known period end";
const R_RANGE: &str = "ISO/IEC 23009-1 §5.3.9.2: byte ranges are first-last";
const R_UINT: &str = "ISO/IEC 23009-1 §5.3.7: unsigned integer attribute expected";
const R_KID: &str = "ISO/IEC 23001-7 §11.2: cenc:default_KID is a UUID";
const R_B64: &str = "ISO/IEC 23001-7 §11.2.1: cenc:pssh holds a base64 pssh box";
const RESOLVE_TO_ZERO: &str = "urn:mpeg:dash:resolve-to-zero:2013";

/// Converts a `dash_mpd_core` MPD into the model. `url` is the address the MPD was fetched
/// from (absolute http(s)), the base of its relative URLs; without it relative URLs stay as
/// written.
///
/// ```
/// let xml = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">
///   <Period><AdaptationSet mimeType="video/mp4">
///     <SegmentTemplate media="v/$Number$.m4s" duration="4"/>
///     <Representation id="v1" bandwidth="500000"/>
///   </AdaptationSet></Period></MPD>"#;
/// let mpd = dash_mpd_core::parse(xml).unwrap();
/// let p = playhead::from_dash_mpd_core(&mpd, Some("https://cdn.example/a.mpd")).unwrap();
/// let t = p.tracks().next().unwrap();
/// assert_eq!(t.segments.len(), 3); // ceil(10 / 4)
/// assert_eq!(t.segments.segment(2).unwrap().url, "https://cdn.example/v/3.m4s");
/// ```
pub fn from_dash_mpd_core(mpd: &dmc::MPD, url: Option<&str>) -> Result<Presentation, ParseError> {
    let doc_url = match url {
        Some(u) => absolute_http(u)?,
        None => String::new(),
    };
    let mut p = Presentation::new(
        ManifestFormat::Dash,
        (!doc_url.is_empty()).then(|| doc_url.clone()),
    );
    let dynamic = match mpd.mpdtype.as_deref().map(str::trim) {
        None | Some("static") => false,
        Some("dynamic") => true,
        Some("list") => {
            return Err(ParseError::Unsupported {
                format: ManifestFormat::Dash,
                line: 0,
                detail: "MPD@type=list (5th edition MPD lists)".into(),
            });
        }
        Some(other) => return Err(invalid(R_TYPE, format!("@type={other:?}"))),
    };
    p.profiles = mpd.profiles.clone();
    p.duration = mpd.mediaPresentationDuration.map(micros);
    p.min_buffer_time = mpd.minBufferTime.map(micros);
    let live = LiveParams {
        availability_start: mpd
            .availabilityStartTime
            .map(|t| UnixMicros(t.timestamp_micros())),
        publish_time: mpd.publishTime.map(|t| UnixMicros(t.timestamp_micros())),
        time_shift_depth: mpd.timeShiftBufferDepth.map(micros),
        update_period: mpd.minimumUpdatePeriod.map(micros),
        suggested_delay: mpd.suggestedPresentationDelay.map(micros),
        max_segment_duration: mpd.maxSegmentDuration.map(micros),
        service_description: mpd.ServiceDescription.last().map(service_description),
        utc_timing: mpd
            .UTCTiming
            .iter()
            .map(|u| UtcTiming {
                scheme_id_uri: u.schemeIdUri.clone(),
                value: u.value.clone().unwrap_or_default(),
            })
            .collect(),
        ..LiveParams::default()
    };
    if dynamic && live.availability_start.is_none() {
        return Err(invalid(R_AST, "dynamic MPD without @availabilityStartTime"));
    }
    p.base_urls = base_urls(&mpd.base_url, &doc_url)?;
    let base = p
        .base_urls
        .first()
        .map_or_else(|| doc_url.clone(), |b| b.url.clone());

    // Periods as written (xlink resolve-to-zero ones removed), before timing is known.
    let mut raws: Vec<RawPeriod<'_>> = Vec::new();
    for period in &mpd.periods {
        let index = u32::try_from(raws.len()).unwrap_or(u32::MAX);
        if let Some(href) = &period.href {
            if href.trim() == RESOLVE_TO_ZERO {
                continue;
            }
            p.pending.push(PendingFetch {
                target: XlinkTarget::Period(index),
                url: resolve(&base, href, false)?,
                actuate_on_load: period.actuate.as_deref() == Some("onLoad"),
            });
        }
        let base_urls = base_urls(&period.BaseURL, &base)?;
        let period_base = base_urls
            .first()
            .map_or_else(|| base.clone(), |b| b.url.clone());
        raws.push(RawPeriod {
            src: period,
            index,
            base_urls,
            base: period_base,
        });
    }
    if raws.is_empty() && p.pending.is_empty() && !dynamic {
        return Err(invalid(R_PERIOD, "no Period"));
    }

    // A dynamic MPD's Period with no @start after one with no @duration has not started
    // yet (an Early Available Period, §5.3.2.1): it is not part of the timeline.
    if dynamic {
        let mut previous_open = false;
        raws.retain(|rp| {
            let early = previous_open && rp.src.start.is_none();
            if !early {
                previous_open = rp.src.duration.is_none();
            }
            !early
        });
    }
    // Period timing (§5.3.2.1): a missing @start follows the previous period's end.
    let mut starts: Vec<Micros> = Vec::with_capacity(raws.len());
    for (i, rp) in raws.iter().enumerate() {
        let start = match (rp.src.start, starts.last()) {
            (Some(s), _) => micros(s),
            (None, None) => Micros::ZERO,
            (None, Some(&prev_start)) => match raws[i - 1].src.duration {
                Some(d) => prev_start.saturating_add(micros(d)),
                None => prev_start,
            },
        };
        if let Some(&prev) = starts.last() {
            if start < prev {
                return Err(invalid(
                    R_PERIOD_ORDER,
                    format!("Period starts at {start}, before the previous one at {prev}"),
                ));
            }
        }
        starts.push(start);
    }
    for (i, rp) in raws.iter().enumerate() {
        let start = starts[i];
        let duration = match (rp.src.duration, starts.get(i + 1)) {
            (Some(d), _) => Some(micros(d)),
            (None, Some(next)) => (*next >= start).then(|| Micros(next.0 - start.0)),
            (None, None) => p
                .duration
                .filter(|d| *d >= start)
                .map(|d| Micros(d.0 - start.0)),
        };
        let period = convert_period(rp, start, duration, dynamic, &mut p.pending)?;
        p.periods.push(period);
    }
    if p.duration.is_none() && !dynamic {
        if let Some(last) = p.periods.last() {
            p.duration = last.duration.map(|d| last.start.saturating_add(d));
        }
    }
    if dynamic {
        p.live = Some(live);
    }
    Ok(p)
}

struct RawPeriod<'a> {
    src: &'a dmc::Period,
    index: u32,
    base_urls: Vec<BaseUrl>,
    base: String,
}

fn convert_period(
    rp: &RawPeriod<'_>,
    start: Micros,
    duration: Option<Micros>,
    dynamic: bool,
    pending: &mut Vec<PendingFetch>,
) -> Result<Period, ParseError> {
    let src = rp.src;
    let mut period = Period {
        id: src.id.clone(),
        start,
        duration,
        base_urls: rp.base_urls.clone(),
        switching_sets: Vec::new(),
        event_streams: Vec::new(),
        asset_id: src.asset_identifier.as_ref().and_then(|a| a.value.clone()),
        properties: properties(&src.essential_property, &src.supplemental_property),
    };
    for es in &src.event_streams {
        if let Some(href) = &es.href {
            pending.push(PendingFetch {
                target: XlinkTarget::EventStream(rp.index),
                url: resolve(&rp.base, href, false)?,
                actuate_on_load: true,
            });
        }
        period.event_streams.push(event_stream(es));
    }
    let period_seg = Level::of(
        src.SegmentBase.as_ref(),
        src.SegmentList.as_ref(),
        src.SegmentTemplate.as_ref(),
    );
    let mut set_index = 0u32;
    for a in &src.adaptations {
        if let Some(href) = &a.href {
            if href.trim() == RESOLVE_TO_ZERO {
                continue;
            }
            pending.push(PendingFetch {
                target: XlinkTarget::AdaptationSet(rp.index, set_index),
                url: resolve(&rp.base, href, false)?,
                actuate_on_load: a.actuate.as_deref() == Some("onLoad"),
            });
        }
        set_index = set_index.saturating_add(1);
        let ctx = PeriodCtx {
            base: &rp.base,
            duration,
            dynamic,
            seg: period_seg,
        };
        period.switching_sets.push(convert_set(a, &ctx)?);
    }
    Ok(period)
}

/// What a set needs from its period.
struct PeriodCtx<'a> {
    base: &'a str,
    duration: Option<Micros>,
    dynamic: bool,
    seg: Level<'a>,
}

fn convert_set(a: &dmc::AdaptationSet, ctx: &PeriodCtx<'_>) -> Result<SwitchingSet, ParseError> {
    let mut set = SwitchingSet::new(ContentType::Unknown);
    set.id = a.id.clone();
    set.language = a.lang.clone();
    set.mime_type = a.mimeType.clone();
    set.labels = a
        .Label
        .iter()
        .map(|l| l.content.trim().to_owned())
        .collect();
    set.roles = a.Role.iter().filter_map(|r| r.value.clone()).collect();
    set.accessibility = a
        .Accessibility
        .iter()
        .map(|d| Descriptor {
            scheme_id_uri: d.schemeIdUri.clone(),
            value: d.value.clone(),
            essential: false,
        })
        .collect();
    set.properties = properties(&a.essential_property, &a.supplemental_property);
    set.trick_mode = set
        .properties
        .iter()
        .any(|d| d.scheme_id_uri == "http://dashif.org/guidelines/trickmode");
    set.protection = a
        .ContentProtection
        .iter()
        .map(protection)
        .collect::<Result<_, _>>()?;
    set.inband_events = inband(&a.InbandEventStream);
    set.base_urls = base_urls(&a.BaseURL, ctx.base)?;
    let set_base = set
        .base_urls
        .first()
        .map_or_else(|| ctx.base.to_owned(), |b| b.url.clone());
    let set_seg = Level::of(
        a.SegmentBase.as_ref(),
        a.SegmentList.as_ref(),
        a.SegmentTemplate.as_ref(),
    );
    let set_width = opt_u32(a.width, "width")?;
    let set_height = opt_u32(a.height, "height")?;
    let set_video_range = video_range(&set.properties);
    let set_channels = a
        .AudioChannelConfiguration
        .last()
        .and_then(|c| c.value.clone());

    let mut kinds = Vec::with_capacity(a.representations.len());
    for (ordinal, r) in a.representations.iter().enumerate() {
        let id = r.id.clone().unwrap_or_else(|| format!("r{ordinal}"));
        let mut track = Track::new(id, SegmentIndex::Unloaded);
        track.bandwidth = r.bandwidth.unwrap_or(0);
        track.mime_type = r.mimeType.clone().or_else(|| a.mimeType.clone());
        track.codecs = r.codecs.clone().or_else(|| a.codecs.clone());
        track.width = opt_u32(r.width, "width")?.or(set_width);
        track.height = opt_u32(r.height, "height")?.or(set_height);
        track.frame_rate = r
            .frameRate
            .as_deref()
            .and_then(FrameRate::parse)
            .or_else(|| a.frameRate.as_deref().and_then(FrameRate::parse));
        track.audio_sampling_rate = sampling_rate(r.audioSamplingRate.as_deref())
            .or_else(|| sampling_rate(a.audioSamplingRate.as_deref()));
        track.audio_channels = r
            .AudioChannelConfiguration
            .last()
            .and_then(|c| c.value.clone())
            .or_else(|| set_channels.clone());
        let rep_properties = properties(&r.essential_property, &r.supplemental_property);
        track.video_range = video_range(&rep_properties).or(set_video_range);
        let mut prot = set.protection.clone();
        for cp in &r.ContentProtection {
            prot.push(protection(cp)?);
        }
        track.protection = prot;
        track.label = r.Label.last().map(|l| l.content.trim().to_owned());
        track.base_urls = base_urls(&r.BaseURL, &set_base)?;
        let rep_base = track
            .base_urls
            .first()
            .map_or_else(|| set_base.clone(), |b| b.url.clone());
        let rep_seg = Level::of(
            r.SegmentBase.as_ref(),
            r.SegmentList.as_ref(),
            r.SegmentTemplate.as_ref(),
        );
        let rep = RepCtx {
            id: &track.id,
            bandwidth: track.bandwidth,
            base: &rep_base,
            period_duration: ctx.duration,
            dynamic: ctx.dynamic,
        };
        track.segments = build_index(&[rep_seg, set_seg, ctx.seg], &rep)?;
        kinds.push(content_type(
            None,
            track.mime_type.as_deref(),
            track.codecs.as_deref(),
        ));
        set.tracks.push(track);
    }
    let declared = content_type(
        a.contentType.as_deref(),
        a.mimeType.as_deref(),
        a.codecs.as_deref(),
    );
    set.content_type = if declared != ContentType::Unknown {
        declared
    } else {
        kinds
            .into_iter()
            .find(|k| *k != ContentType::Unknown)
            .unwrap_or(ContentType::Unknown)
    };
    if set.content_type == ContentType::Text {
        set.text_kind = Some(if set.roles.iter().any(|r| r == "caption") {
            TextKind::Captions
        } else if set.roles.iter().any(|r| r == "forced-subtitle") {
            TextKind::Forced
        } else {
            TextKind::Subtitles
        });
    }
    Ok(set)
}

// ---------------------------------------------------------------------------------------
// Descriptors, protection, events
// ---------------------------------------------------------------------------------------

fn properties(
    essential: &[dmc::EssentialProperty],
    supplemental: &[dmc::SupplementalProperty],
) -> Vec<Descriptor> {
    let e = essential.iter().map(|d| Descriptor {
        scheme_id_uri: d.schemeIdUri.clone(),
        value: d.value.clone(),
        essential: true,
    });
    let s = supplemental.iter().map(|d| Descriptor {
        scheme_id_uri: d.schemeIdUri.clone(),
        value: d.value.clone(),
        essential: false,
    });
    e.chain(s).collect()
}

fn video_range(props: &[Descriptor]) -> Option<VideoRange> {
    props
        .iter()
        .rev()
        .filter(|d| d.scheme_id_uri == "urn:mpeg:mpegB:cicp:TransferCharacteristics")
        .find_map(|d| match d.value.as_deref().map(str::trim) {
            Some("16") => Some(VideoRange::Pq),
            Some("18") => Some(VideoRange::Hlg),
            Some("1" | "6" | "13" | "14" | "15") => Some(VideoRange::Sdr),
            _ => None,
        })
}

fn inband(v: &[dmc::InbandEventStream]) -> Vec<SchemeRef> {
    v.iter()
        .map(|i| SchemeRef {
            scheme_id_uri: i.schemeIdUri.clone(),
            value: i.value.clone(),
        })
        .collect()
}

fn protection(c: &dmc::ContentProtection) -> Result<ContentProtection, ParseError> {
    let mut cp = ContentProtection::new(&c.schemeIdUri);
    cp.value = c.value.clone();
    cp.robustness = c.robustness.clone();
    cp.ref_id = c.refId.clone().or_else(|| c.r#ref.clone());
    if let Some(kids) = &c.default_KID {
        for k in kids.split_whitespace() {
            cp.default_kids
                .push(Kid::parse(k).ok_or_else(|| invalid(R_KID, format!("default_KID {k:?}")))?);
        }
    }
    if let Some(t) = c.cenc_pssh.last().and_then(|p| p.content.as_deref()) {
        cp.pssh = Some(Bytes(
            crate::base64::decode(t.trim())
                .ok_or_else(|| invalid(R_B64, "cenc:pssh is not base64"))?
                .into(),
        ));
    }
    if let Some(t) = c.msprpro.as_ref().and_then(|p| p.content.as_deref()) {
        cp.playready_header = Some(Bytes(
            crate::base64::decode(t.trim())
                .ok_or_else(|| invalid(R_B64, "mspr:pro is not base64"))?
                .into(),
        ));
    }
    let laurl = c
        .laurl
        .as_ref()
        .or(c.clearkey_laurl.as_ref())
        .and_then(|l| l.content.as_deref())
        .map(str::trim);
    if let Some(u) = laurl.filter(|u| !u.is_empty()) {
        cp.license_url = resolve("", u, false).ok();
    }
    Ok(cp)
}

fn event_stream(es: &dmc::EventStream) -> EventStream {
    let scte35_bin = es.schemeIdUri.starts_with("urn:scte:scte35:2013:bin");
    EventStream {
        scheme_id_uri: es.schemeIdUri.clone(),
        value: es.value.clone(),
        timescale: es
            .timescale
            .and_then(|t| u32::try_from(t).ok())
            .and_then(Timescale::new)
            .unwrap_or(Timescale::SECONDS),
        presentation_time_offset: es.presentationTimeOffset.unwrap_or(0),
        events: es
            .event
            .iter()
            .map(|e| {
                let text = e.content.as_deref().unwrap_or("").trim();
                let scte35 = if scte35_bin {
                    crate::base64::decode(text).map(Bytes::from)
                } else {
                    None
                };
                Event {
                    id: e.id.clone(),
                    presentation_time: e.presentationTime.unwrap_or(0),
                    duration: e.duration,
                    message: e.messageData.clone().or_else(|| {
                        (!text.is_empty() && scte35.is_none()).then(|| text.to_owned())
                    }),
                    scte35,
                }
            })
            .collect(),
    }
}

fn service_description(sd: &dmc::ServiceDescription) -> ServiceDescription {
    let ms = |v: Option<f64>| {
        v.filter(|v| v.is_finite() && v.fract() == 0.0)
            .map(|v| Micros((v as i64).saturating_mul(1000)))
    };
    let milli = |v: Option<f64>| {
        v.filter(|v| v.is_finite() && *v >= 0.0)
            .and_then(|v| u32::try_from((v * 1000.0).round() as u64).ok())
    };
    let mut out = ServiceDescription::default();
    if let Some(l) = sd.Latency.last() {
        out.target_latency = ms(l.target);
        out.min_latency = ms(l.min);
        out.max_latency = ms(l.max);
    }
    if let Some(r) = sd.PlaybackRate.last() {
        out.min_playback_rate_milli = milli(r.min);
        out.max_playback_rate_milli = milli(r.max);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Small conversions
// ---------------------------------------------------------------------------------------

fn invalid(rule: &'static str, detail: impl Into<String>) -> ParseError {
    ParseError::Invalid {
        format: ManifestFormat::Dash,
        line: 0,
        rule,
        detail: detail.into(),
    }
}

/// A `std::time::Duration` (what `dash_mpd_core` reads xs:durations into) in microseconds,
/// rounded half-up.
fn micros(d: Duration) -> Micros {
    let us = d
        .as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_nanos().saturating_add(500) / 1000));
    Micros(i64::try_from(us).unwrap_or(i64::MAX))
}

fn opt_u32(v: Option<u64>, name: &str) -> Result<Option<u32>, ParseError> {
    v.map(|n| u32::try_from(n).map_err(|_| invalid(R_UINT, format!("@{name}={n}"))))
        .transpose()
}

fn sampling_rate(v: Option<&str>) -> Option<u32> {
    v.and_then(|v| v.split_whitespace().next())
        .and_then(|s| s.parse().ok())
}

/// Content type from `@contentType`, then the MIME type, then the codecs.
fn content_type(declared: Option<&str>, mime: Option<&str>, codecs: Option<&str>) -> ContentType {
    let from = |s: &str| match s.trim() {
        "video" => Some(ContentType::Video),
        "audio" => Some(ContentType::Audio),
        "text" => Some(ContentType::Text),
        "image" => Some(ContentType::Image),
        _ => None,
    };
    if let Some(t) = declared.and_then(from) {
        return t;
    }
    if let Some(m) = mime {
        if let Some(t) = m.split('/').next().and_then(from) {
            return t;
        }
        if m.contains("ttml") || m.contains("vtt") {
            return ContentType::Text;
        }
    }
    let c = codecs.unwrap_or("").trim();
    if c.is_empty() {
        ContentType::Unknown
    } else if ["stpp", "wvtt", "tx3g", "ttml"]
        .iter()
        .any(|p| c.starts_with(p))
    {
        ContentType::Text
    } else if [
        "avc", "hvc", "hev", "vp0", "vp8", "vp9", "av01", "dvh", "dva", "mp4v",
    ]
    .iter()
    .any(|p| c.starts_with(p))
    {
        ContentType::Video
    } else if ["mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "dts"]
        .iter()
        .any(|p| c.starts_with(p))
    {
        ContentType::Audio
    } else {
        ContentType::Unknown
    }
}

// ---------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------

fn base_urls(v: &[dmc::BaseURL], parent: &str) -> Result<Vec<BaseUrl>, ParseError> {
    v.iter()
        .map(|b| {
            Ok(BaseUrl {
                url: resolve(parent, &b.base, false)?,
                service_location: b.serviceLocation.clone(),
                priority: b.priority.and_then(|p| u32::try_from(p).ok()),
                weight: b.weight.and_then(|w| u32::try_from(w).ok()),
                availability: Availability::default(),
            })
        })
        .collect()
}

fn unsafe_url(reference: &str, detail: impl Into<String>) -> ParseError {
    ParseError::UnsafeUrl {
        format: ManifestFormat::Dash,
        line: 0,
        url: reference.chars().take(120).collect(),
        detail: detail.into(),
    }
}

fn absolute_http(u: &str) -> Result<String, ParseError> {
    let parsed = ::url::Url::parse(u).map_err(|e| unsafe_url(u, e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed.into()),
        s => Err(unsafe_url(
            u,
            format!("base URL scheme {s:?} is not http(s)"),
        )),
    }
}

/// The scheme of a reference (`[A-Za-z][A-Za-z0-9+.-]*:`), if it has one.
fn scheme(reference: &str) -> Option<&str> {
    let (s, _) = reference.split_once(':')?;
    let mut b = s.bytes();
    (b.next()?.is_ascii_alphabetic()
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
    .then_some(s)
}

/// Refuses references a host must not be made to fetch: only http(s), and `data:` where allowed.
fn check_scheme(reference: &str, allow_data: bool) -> Result<(), ParseError> {
    match scheme(reference.trim_start()) {
        None => Ok(()),
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => Ok(()),
        Some(s) if allow_data && s.eq_ignore_ascii_case("data") => Ok(()),
        Some(s) => Err(unsafe_url(
            reference,
            format!("scheme {:?} is not http(s)", s.to_ascii_lowercase()),
        )),
    }
}

/// Resolves `reference` against `base` (RFC 3986); without an absolute base, relative
/// references are joined as text.
fn resolve(base: &str, reference: &str, allow_data: bool) -> Result<String, ParseError> {
    let reference = reference.trim();
    check_scheme(reference, allow_data)?;
    match ::url::Url::parse(base) {
        Ok(b) => {
            let joined = b
                .join(reference)
                .map_err(|e| unsafe_url(reference, e.to_string()))?;
            check_scheme(joined.as_str(), allow_data)?;
            Ok(joined.into())
        }
        Err(_) if scheme(reference).is_some() => ::url::Url::parse(reference)
            .map(Into::into)
            .map_err(|e| unsafe_url(reference, e.to_string())),
        Err(_) if base.is_empty() || reference.starts_with('/') => Ok(reference.to_owned()),
        Err(_) => Ok(match base.rfind('/') {
            Some(i) => format!("{}{reference}", &base[..=i]),
            None => reference.to_owned(),
        }),
    }
}
