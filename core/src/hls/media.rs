//! HLS media playlists: segments, keys, maps, program-date-time, date ranges, LL-HLS.

use std::collections::BTreeMap;

use super::tags::{R_BYTERANGE, byte_range, date_range, key};
use super::{AttrList, Vars, check_header, int, lines, tag_value};
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::NewEntry;
use crate::model::{
    ByteRange, ContentType, CueTag, HlsKey, HlsPlaylistInfo, InitSegment, KeyMethod, ListIndex,
    LiveParams, ManifestFormat, NextSegment, PartInfo, PartialSegment, Period, PreloadHint,
    Presentation, RenditionReport, SegmentIndex, ServerControl, SwitchingSet, Track,
};
use crate::time::{
    Micros, Timescale, UnixMicros, parse_datetime, parse_decimal_ticks, parse_signed_decimal_ticks,
};
use crate::url::{Allow, check, resolve};

const R_EXTINF: &str =
    "RFC 8216 §4.3.2.1: EXTINF duration is a non-negative decimal-floating-point";
const R_SEGMENT: &str = "RFC 8216 §4.3.2.1: each media segment URI MUST follow an EXTINF tag";
const R_TARGET: &str = "RFC 8216 §4.3.3.1: EXT-X-TARGETDURATION is REQUIRED";
const R_TARGET_MAX: &str = "RFC 8216 §4.3.3.1: EXTINF rounded MUST NOT exceed the target duration";
const R_MAP: &str = "RFC 8216 §4.3.2.5: EXT-X-MAP needs URI";
const R_PDT: &str = "RFC 8216 §4.3.2.6: EXT-X-PROGRAM-DATE-TIME is an ISO 8601 date-time";
const R_INT: &str = "RFC 8216 §4.2: decimal-integer expected";
const R_PART: &str = "RFC 8216bis §4.4.4.9: EXT-X-PART needs URI and DURATION";
const R_MIXED: &str =
    "RFC 8216 §4.1: a playlist is either a media or a multivariant playlist, not both";

/// Parses a media playlist into a one-track presentation.
pub(crate) fn parse_presentation(
    text: &str,
    base: &str,
    diag: &mut Diag,
    vars: &mut Vars,
) -> Result<Presentation, ParseError> {
    let mut ctx = MediaCtx::default();
    let index = parse_media(text, base, diag, vars, &mut ctx)?;
    let mut p = Presentation::new(
        ManifestFormat::HlsMedia,
        (!base.is_empty()).then(|| base.to_owned()),
    );
    let info = index.hls.as_deref().cloned().unwrap_or_default();
    let total = Micros::from_ticks(index.end_time(), index.timescale());
    if info.ended || info.playlist_type.as_deref() == Some("VOD") {
        p.duration = Some(total);
    } else {
        let sc = info.server_control.clone().unwrap_or_default();
        p.live = Some(LiveParams {
            update_period: Some(info.target_duration),
            hold_back: sc.hold_back,
            part_hold_back: sc.part_hold_back,
            event: info.playlist_type.as_deref() == Some("EVENT"),
            ..LiveParams::default()
        });
    }
    p.start_offset = ctx.start_offset;
    p.independent_segments = ctx.independent_segments;
    p.profiles = info.version.map(|v| format!("hls-v{v}"));
    p.variables = vars.named();
    let mut set = SwitchingSet::new(guess_content(&index));
    let mut track = Track::new("0".into(), SegmentIndex::Unloaded);
    track.segments = SegmentIndex::List(index);
    diag.add_track()?;
    set.tracks.push(track);
    p.periods
        .push(Period::new(Micros::ZERO, p.duration, vec![set]));
    Ok(p)
}

/// Guesses a media playlist's content from its segment names (a media playlist says nothing else).
fn guess_content(index: &ListIndex) -> ContentType {
    let Some(s) = index.get(0) else {
        return ContentType::Unknown;
    };
    let path = s
        .url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if path.ends_with(".vtt") || path.ends_with(".webvtt") || path.ends_with(".ttml") {
        ContentType::Text
    } else if path.ends_with(".aac")
        || path.ends_with(".mp3")
        || path.ends_with(".ac3")
        || path.ends_with(".ec3")
    {
        ContentType::Audio
    } else {
        ContentType::Unknown
    }
}

/// Playlist-level values that live on the presentation rather than the track.
#[derive(Debug, Default)]
pub(crate) struct MediaCtx {
    pub(crate) start_offset: Option<Micros>,
    pub(crate) independent_segments: bool,
}

/// Segment-level state between a segment's tags and its URI line.
#[derive(Default)]
struct Pending {
    duration: Option<u64>,
    byte_range: Option<ByteRange>,
    /// The byte range had no offset: it must continue the previous range of the same URI.
    range_continues: bool,
    discontinuity: bool,
    gap: bool,
    pdt: Option<UnixMicros>,
}

/// Parses a media playlist into a segment list with its HLS details.
pub(crate) fn parse_media(
    text: &str,
    base: &str,
    diag: &mut Diag,
    vars: &mut Vars,
    ctx: &mut MediaCtx,
) -> Result<ListIndex, ParseError> {
    check_header(text, diag)?;
    let mut list = ListIndex::new(Timescale::MICROS, base.to_owned(), 0);
    let mut info = HlsPlaylistInfo::default();
    let mut target: Option<u64> = None;
    let mut pending = Pending::default();
    // Keys in effect, one per KEYFORMAT.
    let mut keys: BTreeMap<String, HlsKey> = BTreeMap::new();
    let mut key_idx: u32 = 0;
    let mut keys_dirty = false;
    let mut map_idx: u32 = 0;
    // End of the previous byte range and its URI, for ranges without an offset.
    let mut last_range: Option<(String, u64)> = None;
    let mut last_part_range: Option<(String, u64)> = None;
    let mut max_extinf: u64 = 0;
    let mut first_segment_line: Option<Line> = None;

    for (n, line) in lines(text) {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') {
            // A media segment URI.
            let uri = vars.substitute(line, n, diag)?;
            diag.check_url_len(n, uri.len())?;
            check(&uri, Allow::Http).map_err(|r| diag.unsafe_url(n, &uri, &r))?;
            let Some(duration) = pending.duration.take() else {
                diag.shall(n, R_SEGMENT, format!("URI {:?} without EXTINF", clip(&uri)))?;
                pending = Pending::default();
                continue;
            };
            first_segment_line.get_or_insert(n);
            diag.add_segments(1)?;
            if keys_dirty {
                key_idx = list.add_key_set(keys.values().cloned().collect());
                keys_dirty = false;
            }
            if pending.range_continues && last_range.as_ref().is_some_and(|(u, _)| *u != *uri) {
                diag.shall(n, R_BYTERANGE, format!("byte range without offset, but the previous range was of another resource than {:?}", clip(&uri)))?;
            }
            last_range = pending.byte_range.map(|r| {
                (
                    uri.to_string(),
                    r.start.saturating_add(r.length.unwrap_or(0)),
                )
            });
            max_extinf = max_extinf.max(duration);
            list.push(NewEntry {
                uri: &uri,
                duration,
                byte_range: pending.byte_range,
                discontinuity: pending.discontinuity,
                gap: pending.gap,
                program_date_time: pending.pdt,
                key: key_idx,
                map: map_idx,
            });
            pending = Pending::default();
            continue;
        }
        if !line.starts_with("#EXT") {
            continue; // a comment
        }
        let (tag, substituted) = tag_value(line, vars, n, diag)?;
        let value: &str = &substituted;
        match tag {
            "EXTM3U" => {}
            "EXTINF" => {
                let dur = match value.split_once(',') {
                    Some((dur, _title)) => dur,
                    None => {
                        diag.should(n, R_EXTINF, "EXTINF without the comma before the title")?;
                        value
                    }
                }
                .trim_ascii();
                let d = parse_decimal_ticks(dur, Timescale::MICROS)
                    .map_err(|e| diag.invalid(n, R_EXTINF, e.to_string()))?;
                pending.duration = Some(d);
            }
            "EXT-X-BYTERANGE" => {
                pending.byte_range = Some(byte_range(value, n, diag, last_range.as_ref())?);
                pending.range_continues = !value.contains('@');
            }
            "EXT-X-DISCONTINUITY" => pending.discontinuity = true,
            "EXT-X-GAP" => pending.gap = true,
            "EXT-X-PROGRAM-DATE-TIME" => match parse_datetime(value) {
                Ok(t) => pending.pdt = Some(t),
                Err(e) => diag.shall(n, R_PDT, e.to_string())?,
            },
            "EXT-X-KEY" => {
                info.listed_before_first_key.get_or_insert(list.len());
                let attrs = AttrList::parse(value, n, diag)?;
                match key(&attrs, base, n, diag)? {
                    Some(k) if k.method == KeyMethod::None => keys.clear(),
                    Some(k) => {
                        keys.insert(k.keyformat.clone().unwrap_or_else(|| "identity".into()), k);
                    }
                    None => {}
                }
                keys_dirty = true;
            }
            "EXT-X-MAP" => {
                info.listed_before_first_map.get_or_insert(list.len());
                let attrs = AttrList::parse(value, n, diag)?;
                let Some(uri) = attrs.get("URI") else {
                    diag.shall(n, R_MAP, "EXT-X-MAP without URI")?;
                    continue;
                };
                let url =
                    resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                let byte_range = match attrs.get("BYTERANGE") {
                    Some(r) => Some(byte_range(r, n, diag, None)?),
                    None => None,
                };
                // The keys in effect at the EXT-X-MAP decrypt the init section too.
                let keys = keys.values().cloned().collect();
                map_idx = list.add_map(InitSegment {
                    url,
                    byte_range,
                    keys,
                });
            }
            "EXT-X-TARGETDURATION" => {
                let t = match int(value) {
                    Some(v) => v.saturating_mul(1_000_000),
                    None => {
                        diag.should(
                            n,
                            R_TARGET,
                            format!("target duration {value:?} is not a decimal-integer"),
                        )?;
                        parse_decimal_ticks(value, Timescale::MICROS)
                            .map_err(|e| diag.invalid(n, R_TARGET, e.to_string()))?
                    }
                };
                target = Some(t);
            }
            "EXT-X-MEDIA-SEQUENCE" => {
                info.media_sequence = int(value)
                    .ok_or_else(|| diag.invalid(n, R_INT, format!("media sequence {value:?}")))?;
            }
            "EXT-X-DISCONTINUITY-SEQUENCE" => {
                info.discontinuity_sequence = int(value).ok_or_else(|| {
                    diag.invalid(n, R_INT, format!("discontinuity sequence {value:?}"))
                })?;
            }
            "EXT-X-ENDLIST" => info.ended = true,
            "EXT-X-PLAYLIST-TYPE" => info.playlist_type = Some(value.trim().to_owned()),
            "EXT-X-I-FRAMES-ONLY" => info.iframes_only = true,
            "EXT-X-VERSION" => info.version = int(value).and_then(|v| u32::try_from(v).ok()),
            "EXT-X-INDEPENDENT-SEGMENTS" => ctx.independent_segments = true,
            "EXT-X-START" => {
                let attrs = AttrList::parse(value, n, diag)?;
                if let Some(off) = attrs.get("TIME-OFFSET") {
                    ctx.start_offset = parse_signed_decimal_ticks(off, Timescale::MICROS)
                        .ok()
                        .map(Micros);
                }
            }
            "EXT-X-DEFINE" => {
                let attrs = AttrList::parse(value, n, diag)?;
                vars.define(&attrs, n, diag)?;
            }
            "EXT-X-SERVER-CONTROL" => {
                let a = AttrList::parse(value, n, diag)?;
                let secs = |k: &str| {
                    a.get(k)
                        .and_then(|v| parse_decimal_ticks(v, Timescale::MICROS).ok())
                        .map(|v| Micros(v as i64))
                };
                info.server_control = Some(ServerControl {
                    can_skip_until: secs("CAN-SKIP-UNTIL"),
                    can_skip_dateranges: a.yes("CAN-SKIP-DATERANGES"),
                    hold_back: secs("HOLD-BACK"),
                    part_hold_back: secs("PART-HOLD-BACK"),
                    can_block_reload: a.yes("CAN-BLOCK-RELOAD"),
                });
            }
            "EXT-X-PART-INF" => {
                let a = AttrList::parse(value, n, diag)?;
                let t = a
                    .get("PART-TARGET")
                    .and_then(|v| parse_decimal_ticks(v, Timescale::MICROS).ok())
                    .ok_or_else(|| {
                        diag.invalid(
                            n,
                            "RFC 8216bis §4.4.3.7: EXT-X-PART-INF needs PART-TARGET",
                            value.to_owned(),
                        )
                    })?;
                info.part_info = Some(PartInfo {
                    part_target: Micros(t as i64),
                });
            }
            "EXT-X-PART" => {
                let a = AttrList::parse(value, n, diag)?;
                let (Some(uri), Some(d)) = (a.get("URI"), a.get("DURATION")) else {
                    diag.shall(n, R_PART, "EXT-X-PART without URI or DURATION")?;
                    continue;
                };
                let url =
                    resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                let d = parse_decimal_ticks(d, Timescale::MICROS)
                    .map_err(|e| diag.invalid(n, R_PART, e.to_string()))?;
                // Without an offset, a part's range continues the previous part's, which
                // must be of the same resource (RFC 8216bis §4.4.4.9).
                let byte_range = match a.get("BYTERANGE") {
                    Some(r) => {
                        let range = byte_range(r, n, diag, last_part_range.as_ref())?;
                        if !r.contains('@')
                            && last_part_range.as_ref().is_some_and(|(u, _)| u != uri)
                        {
                            diag.shall(n, R_BYTERANGE, format!("part byte range without offset, but the previous part was of another resource than {:?}", clip(uri)))?;
                        }
                        Some(range)
                    }
                    None => None,
                };
                last_part_range = byte_range.map(|r| {
                    (
                        uri.to_owned(),
                        r.start.saturating_add(r.length.unwrap_or(0)),
                    )
                });
                diag.add_segments(1)?;
                info.parts.push(PartialSegment {
                    segment_number: next_number(&info, &list),
                    url,
                    duration: Micros(d as i64),
                    independent: a.yes("INDEPENDENT"),
                    byte_range,
                    gap: a.yes("GAP"),
                });
            }
            "EXT-X-PRELOAD-HINT" => {
                let a = AttrList::parse(value, n, diag)?;
                if let (Some(t), Some(uri)) = (a.get("TYPE"), a.get("URI")) {
                    let url =
                        resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                    info.preload_hints.push(PreloadHint {
                        hint_type: t.to_owned(),
                        url,
                        byte_range_start: a.get("BYTERANGE-START").and_then(int),
                        byte_range_length: a.get("BYTERANGE-LENGTH").and_then(int),
                    });
                } else {
                    diag.shall(
                        n,
                        "RFC 8216bis §4.4.5.3: EXT-X-PRELOAD-HINT needs TYPE and URI",
                        value.to_owned(),
                    )?;
                }
            }
            "EXT-X-RENDITION-REPORT" => {
                let a = AttrList::parse(value, n, diag)?;
                if let Some(uri) = a.get("URI") {
                    let url =
                        resolve(base, uri, Allow::Http).map_err(|r| diag.unsafe_url(n, uri, &r))?;
                    info.rendition_reports.push(RenditionReport {
                        url,
                        last_msn: a.get("LAST-MSN").and_then(int),
                        last_part: a.get("LAST-PART").and_then(int),
                    });
                }
            }
            "EXT-X-SKIP" => {
                let a = AttrList::parse(value, n, diag)?;
                let skipped = a.get("SKIPPED-SEGMENTS").and_then(int).ok_or_else(|| {
                    diag.invalid(
                        n,
                        "RFC 8216bis §4.4.5.2: EXT-X-SKIP needs SKIPPED-SEGMENTS",
                        value.to_owned(),
                    )
                })?;
                info.skipped_segments = Some(skipped);
                info.recently_removed_dateranges = a
                    .get("RECENTLY-REMOVED-DATERANGES")
                    .map(|ids| {
                        ids.split('\t')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "EXT-X-DATERANGE" => {
                let a = AttrList::parse(value, n, diag)?;
                let held = a
                    .get("ID")
                    .and_then(|id| info.date_ranges.iter().position(|d| d.id == id));
                let earlier = held.map(|i| &info.date_ranges[i]);
                if let Some(dr) = date_range(&a, earlier, n, diag)? {
                    match held {
                        // Tags of one ID describe one range.
                        Some(i) => {
                            info.date_ranges[i] = info.date_ranges[i].clone().merged_with(dr)
                        }
                        None => {
                            diag.add_event()?;
                            info.date_ranges.push(dr);
                        }
                    }
                }
            }
            "EXT-X-CUE-OUT"
            | "EXT-X-CUE-IN"
            | "EXT-X-CUE-OUT-CONT"
            | "EXT-X-SCTE35"
            | "EXT-OATCLS-SCTE35"
            | "EXT-X-CUE"
            | "EXT-X-SPLICEPOINT-SCTE35"
            | "EXT-X-ASSET" => {
                diag.add_event()?;
                info.cues.push(CueTag {
                    segment_number: next_number(&info, &list),
                    line: line.to_owned(),
                });
            }
            "EXT-X-STREAM-INF"
            | "EXT-X-I-FRAME-STREAM-INF"
            | "EXT-X-MEDIA"
            | "EXT-X-SESSION-DATA"
            | "EXT-X-SESSION-KEY" => {
                return Err(diag.invalid(
                    n,
                    R_MIXED,
                    format!("multivariant tag #{tag} in a media playlist"),
                ));
            }
            _ => {} // Unknown tags MUST be ignored (RFC 8216 §4.1).
        }
    }
    if pending.duration.is_some() {
        diag.should(0, R_SEGMENT, "EXTINF at the end without a URI")?;
    }
    let next = next_number(&info, &list);
    if info.parts.iter().any(|p| p.segment_number == next) || !info.preload_hints.is_empty() {
        let last = list.len().checked_sub(1).and_then(|i| list.get(i));
        let extrapolated = last.and_then(|s| {
            let d = crate::time::rescale(s.duration, s.timescale, Timescale::MICROS);
            Some(UnixMicros(
                s.program_date_time?
                    .0
                    .saturating_add(i64::try_from(d).ok()?),
            ))
        });
        info.next_segment = Some(NextSegment {
            number: next,
            discontinuity: pending.discontinuity,
            gap: pending.gap,
            program_date_time: pending.pdt.or(extrapolated),
            keys: keys.values().cloned().collect(),
            init: (map_idx as usize)
                .checked_sub(1)
                .and_then(|m| list.maps().get(m))
                .cloned(),
        });
    }
    match target {
        Some(t) => {
            info.target_duration = Micros(i64::try_from(t).unwrap_or(i64::MAX));
            // Rounded to the nearest integer, EXTINF must not exceed the target.
            if max_extinf > t && max_extinf.saturating_add(500_000) / 1_000_000 * 1_000_000 > t {
                diag.should(
                    first_segment_line.unwrap_or(0),
                    R_TARGET_MAX,
                    format!(
                        "longest EXTINF {} exceeds target duration {}",
                        Micros(max_extinf as i64),
                        Micros(t as i64)
                    ),
                )?;
            }
        }
        None => {
            diag.should(
                0,
                R_TARGET,
                "no EXT-X-TARGETDURATION; using the longest EXTINF",
            )?;
            info.target_duration = Micros(
                i64::try_from(max_extinf.div_ceil(1_000_000).saturating_mul(1_000_000))
                    .unwrap_or(i64::MAX),
            );
        }
    }
    list.first_number = info
        .media_sequence
        .saturating_add(info.skipped_segments.unwrap_or(0));
    list.shrink_to_fit();
    list.hls = Some(Box::new(info));
    Ok(list)
}

/// Media sequence number of the next segment to be listed (after any skipped ones).
fn next_number(info: &HlsPlaylistInfo, list: &ListIndex) -> u64 {
    info.media_sequence
        .saturating_add(info.skipped_segments.unwrap_or(0))
        .saturating_add(list.len() as u64)
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;
