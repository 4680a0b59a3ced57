//! Microsoft Smooth Streaming client manifests ([MS-SSTR] §2.2.2): VOD and live, PlayReady
//! `ProtectionHeader`, UTF-16 with a BOM (decoded before this reader runs).
//!
//! Smooth fragments have no init segment: each track keeps its `CodecPrivateData` so the
//! media layer can synthesize one. Fragment URLs come from the `StreamIndex@Url` template,
//! with `{bitrate}` and `{CustomAttributes}` filled per quality level and `{start time}`
//! left as the timeline's `$Time$`.

use crate::Parsed;
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::segments::{push_run, run_ends};
use crate::model::{
    Availability, Bytes, ContentProtection, ContentType, KeySystem, LiveParams, ManifestFormat,
    Period, Presentation, SegmentIndex, SwitchingSet, TemplatePart, TextKind, TimelineIndex,
    TimelineRun, Track, UrlTemplate, playready_kids,
};
use crate::options::ParseOptions;
use crate::time::{Micros, Timescale};
use crate::url::{Allow, check, check_template_head};
use crate::xml::{Elem, Ev, Xml};

const R_ROOT: &str = "[MS-SSTR] §2.2.2.1: the root element is SmoothStreamingMedia";
const R_TIMESCALE: &str = "[MS-SSTR] §2.2.2.1: TimeScale is a positive integer";
const R_URL: &str = "[MS-SSTR] §2.2.2.3: StreamIndex needs Url with {start time}";
const R_C: &str = "[MS-SSTR] §2.2.2.6: c@d is required unless the next c@t gives it";
const R_QL: &str = "[MS-SSTR] §2.2.2.5: QualityLevel needs Bitrate and FourCC";
const R_CPD: &str = "[MS-SSTR] §2.2.2.5: CodecPrivateData is hex-encoded codec configuration";
const R_UINT: &str = "[MS-SSTR] §2.2.2: unsigned integer attribute expected";

/// Parses a Smooth client manifest.
pub(crate) fn parse(text: &str, base: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let mut diag = Diag::new(ManifestFormat::Smooth, opts);
    diag.check_size(text.len())?;
    let mut x = Xml::new(text);
    let root = x.root(&mut diag, R_ROOT)?;
    if root.name() != b"SmoothStreamingMedia" {
        return Err(diag.invalid(x.line(), R_ROOT, "root element is not SmoothStreamingMedia"));
    }
    let presentation = read_root(&root, &mut x, base, &mut diag)?;
    Ok(Parsed {
        presentation,
        warnings: diag.warnings,
    })
}

fn uint(el: &Elem<'_>, name: &str, line: Line, diag: &mut Diag) -> Result<Option<u64>, ParseError> {
    match el.attr_str(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => {
                diag.shall(line, R_UINT, format!("@{name}={v:?}"))?;
                Ok(None)
            }
        },
    }
}

fn timescale(el: &Elem<'_>, line: Line, diag: &mut Diag) -> Result<Option<Timescale>, ParseError> {
    match uint(el, "TimeScale", line, diag)? {
        None => Ok(None),
        Some(t) => match u32::try_from(t).ok().and_then(Timescale::new) {
            Some(ts) => Ok(Some(ts)),
            None => Err(diag.invalid(line, R_TIMESCALE, format!("TimeScale={t}"))),
        },
    }
}

fn read_root(
    root: &Elem<'_>,
    x: &mut Xml<'_>,
    base: &str,
    diag: &mut Diag,
) -> Result<Presentation, ParseError> {
    let line = x.line();
    let ts = timescale(root, line, diag)?.unwrap_or(Timescale::HNS);
    let live = root
        .attr_str("IsLive")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut p = Presentation::new(
        ManifestFormat::Smooth,
        (!base.is_empty()).then(|| base.to_owned()),
    );
    p.profiles = Some(format!(
        "smooth-{}.{}",
        root.attr("MajorVersion").unwrap_or_else(|| "2".into()),
        root.attr("MinorVersion").unwrap_or_else(|| "0".into())
    ));
    let duration = uint(root, "Duration", line, diag)?
        .filter(|d| *d > 0)
        .map(|d| Micros::from_ticks(d, ts));
    if live {
        let dvr = uint(root, "DVRWindowLength", line, diag)?
            .filter(|d| *d > 0)
            .map(|d| Micros::from_ticks(d, ts));
        p.live = Some(LiveParams {
            time_shift_depth: dvr,
            ..LiveParams::default()
        });
    } else {
        p.duration = duration;
    }
    let mut protection: Vec<ContentProtection> = Vec::new();
    let mut sets: Vec<SwitchingSet> = Vec::new();
    if !root.empty {
        x.children(root, diag, |x, c, diag| {
            match c.name() {
                b"Protection" => read_protection(&c, x, diag, &mut protection)?,
                b"StreamIndex" => {
                    if let Some(s) = read_stream(&c, x, base, ts, diag)? {
                        sets.push(s);
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    for s in &mut sets {
        s.protection = protection.clone();
        for t in &mut s.tracks {
            t.protection = protection.clone();
        }
    }
    p.periods.push(Period::new(Micros::ZERO, p.duration, sets));
    Ok(p)
}

fn read_protection(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    diag: &mut Diag,
    out: &mut Vec<ContentProtection>,
) -> Result<(), ParseError> {
    if el.empty {
        return Ok(());
    }
    loop {
        match x.next(diag)? {
            Ev::End | Ev::Eof => break,
            Ev::Text(_) => {}
            Ev::Start(c) if c.name() == b"ProtectionHeader" => {
                let line = x.line();
                let id = c.attr("SystemID").unwrap_or_default();
                let text = x.text(&c, diag, 1 << 20)?;
                let mut cp = ContentProtection::new(&format!(
                    "urn:uuid:{}",
                    id.trim().trim_matches(['{', '}'])
                ));
                match crate::base64::decode(text.trim()) {
                    Some(bytes) => {
                        if cp.system == KeySystem::PlayReady {
                            cp.default_kids = playready_kids(&bytes);
                            cp.playready_header = Some(Bytes::from(bytes));
                        } else {
                            cp.pssh = Some(Bytes::from(bytes));
                        }
                    }
                    None => diag.shall(
                        line,
                        "[MS-SSTR] §2.2.2.2: ProtectionHeader holds base64",
                        "not base64",
                    )?,
                }
                out.push(cp);
            }
            Ev::Start(c) => x.skip(&c, diag)?,
        }
    }
    Ok(())
}

/// RFC 6381 codecs string from FourCC and CodecPrivateData.
fn codecs(fourcc: &str, private: &[u8]) -> Option<String> {
    let f = fourcc.to_ascii_uppercase();
    Some(match f.as_str() {
        "H264" | "AVC1" | "DAVC" => {
            // The SPS follows a start code: 67 profile constraints level.
            let sps = private
                .windows(4)
                .position(|w| w == [0, 0, 1, 0x67] || (w[..3] == [0, 0, 1] && w[3] & 0x1f == 7))?;
            let b = private.get(sps + 4..sps + 7)?;
            format!("avc1.{:02X}{:02X}{:02X}", b[0], b[1], b[2])
        }
        "HVC1" | "HEV1" | "H265" => "hvc1".into(),
        "AACL" => "mp4a.40.2".into(),
        "AACH" => "mp4a.40.5".into(),
        "EC-3" => "ec-3".into(),
        "AC-3" => "ac-3".into(),
        "TTML" => "stpp".into(),
        "WVC1" => "vc-1".into(),
        "WMAP" => "wma.2".into(),
        _ => return None,
    })
}

/// The URL template with `{bitrate}` and `{CustomAttributes}` filled in.
fn url_template(url: &str, bitrate: u64, custom: &str, base: &str) -> UrlTemplate {
    let filled = url
        .replace("{bitrate}", &bitrate.to_string())
        .replace("{Bitrate}", &bitrate.to_string())
        .replace("{CustomAttributes}", custom);
    let mut parts = Vec::new();
    let mut rest = filled.as_str();
    loop {
        let at = ["{start time}", "{start_time}"]
            .iter()
            .filter_map(|t| rest.find(t).map(|i| (i, t.len())))
            .min();
        match at {
            Some((i, len)) => {
                if i > 0 {
                    parts.push(TemplatePart::Literal(rest[..i].to_owned()));
                }
                parts.push(TemplatePart::Time(0));
                rest = &rest[i + len..];
            }
            None => {
                if !rest.is_empty() {
                    parts.push(TemplatePart::Literal(rest.to_owned()));
                }
                break;
            }
        }
    }
    UrlTemplate {
        base: base.to_owned(),
        parts,
    }
}

fn read_stream(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    base: &str,
    parent_ts: Timescale,
    diag: &mut Diag,
) -> Result<Option<SwitchingSet>, ParseError> {
    let line = x.line();
    let ts = timescale(el, line, diag)?.unwrap_or(parent_ts);
    let kind = el.attr("Type").unwrap_or_default().to_ascii_lowercase();
    let content_type = match kind.as_str() {
        "video" => ContentType::Video,
        "audio" => ContentType::Audio,
        "text" => ContentType::Text,
        _ => ContentType::Unknown,
    };
    let name = el.attr("Name");
    let url = el.attr("Url");
    diag.add_set()?;
    let mut set = SwitchingSet::new(content_type);
    set.id = name.clone().or_else(|| Some(kind.clone()));
    set.language = el.attr("Language");
    if content_type == ContentType::Text {
        set.text_kind = Some(match el.attr("Subtype").as_deref() {
            Some("CAPT") => TextKind::Captions,
            _ => TextKind::Subtitles,
        });
    }
    let mut levels: Vec<(Track, String)> = Vec::new();
    let mut runs: Vec<TimelineRun> = Vec::new();
    // A c without @d, waiting for the next c@t.
    let mut open: Option<(u64, u32, Line)> = None;
    let mut next_start = 0u64;
    if !el.empty {
        x.plain_children(el, b"c", diag, |x, c, diag| {
            match c.name() {
                b"QualityLevel" => {
                    let l = x.line();
                    if let Some(level) = read_level(
                        &c,
                        x,
                        name.as_deref().unwrap_or(&kind),
                        levels.len(),
                        l,
                        diag,
                    )? {
                        levels.push(level);
                    }
                }
                b"c" => {
                    let l = x.line();
                    let t = uint(&c, "t", l, diag)?;
                    let d = uint(&c, "d", l, diag)?;
                    let r = uint(&c, "r", l, diag)?.unwrap_or(1).max(1);
                    let start = t.unwrap_or(next_start);
                    if let Some((s, n, _)) = open.take() {
                        if start > s {
                            push_run(&mut runs, s, start - s, n, true);
                        }
                    }
                    let count = u32::try_from(r).unwrap_or(u32::MAX);
                    diag.add_segments(u64::from(count))?;
                    match d.filter(|d| *d > 0) {
                        Some(d) => {
                            push_run(&mut runs, start, d, count, true);
                            next_start = start.saturating_add(d.saturating_mul(u64::from(count)));
                        }
                        None => open = Some((start, 1, l)),
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    if let Some((_, _, l)) = open {
        diag.shall(l, R_C, "last c without @d")?;
    }
    let Some(url) = url else {
        diag.shall(line, R_URL, "StreamIndex without Url")?;
        return Ok(None);
    };
    if !url.contains("{start time}") && !url.contains("{start_time}") {
        diag.shall(line, R_URL, format!("Url {url:?} has no {{start time}}"))?;
    }
    check(&url, Allow::Http).map_err(|r| diag.unsafe_url(line, &url, &r))?;
    let runs: std::sync::Arc<[TimelineRun]> = runs.into();
    let ends = run_ends(&runs);
    for (mut track, custom) in levels {
        diag.add_track()?;
        diag.add_segments(ends.last().copied().unwrap_or(0))?;
        let media = url_template(&url, track.bandwidth, &custom, base);
        // CustomAttributes are filled in: the result must still be an http(s) reference.
        if let Err(r) = check_template_head(&media.sample()) {
            return Err(diag.unsafe_url(line, &media.sample(), &r));
        }
        diag.check_url_len(line, media.sample().len())?;
        track.segments = SegmentIndex::Timeline(TimelineIndex {
            timescale: ts,
            presentation_time_offset: 0,
            start_number: 0,
            runs: runs.clone(),
            ends: ends.clone(),
            media,
            init: None,
            open_ended: false,
            availability: Availability::default(),
        });
        set.tracks.push(track);
    }
    Ok(Some(set))
}

fn read_level(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    stream: &str,
    ordinal: usize,
    line: Line,
    diag: &mut Diag,
) -> Result<Option<(Track, String)>, ParseError> {
    let Some(bitrate) = uint(el, "Bitrate", line, diag)? else {
        diag.shall(line, R_QL, "QualityLevel without Bitrate")?;
        x.skip(el, diag)?;
        return Ok(None);
    };
    let fourcc = el.attr("FourCC").unwrap_or_default();
    let private = match el.attr("CodecPrivateData") {
        None => Vec::new(),
        Some(h) => match crate::text::hex_decode(h.trim()) {
            Some(bytes) => bytes,
            None => {
                diag.shall(
                    line,
                    R_CPD,
                    "CodecPrivateData is not an even number of hex digits",
                )?;
                Vec::new()
            }
        },
    };
    let index = el.attr("Index").unwrap_or_else(|| ordinal.to_string());
    let mut t = Track::new(format!("{stream}-{index}"), SegmentIndex::Unloaded);
    t.bandwidth = bitrate;
    t.codecs = codecs(&fourcc, &private);
    if fourcc.is_empty() {
        diag.should(line, R_QL, "QualityLevel without FourCC")?;
    }
    let dim = |a: &str, b: &str| {
        el.attr(a)
            .or_else(|| el.attr(b))
            .and_then(|v| v.trim().parse().ok())
    };
    t.width = dim("MaxWidth", "Width");
    t.height = dim("MaxHeight", "Height");
    t.audio_sampling_rate = el
        .attr_str("SamplingRate")
        .and_then(|v| v.trim().parse().ok());
    t.audio_channels = el.attr("Channels");
    t.codec_private_data = (!private.is_empty()).then_some(Bytes::from(private));
    // CustomAttributes: Name=Value pairs joined with commas for the URL template.
    let mut custom: Vec<String> = Vec::new();
    x.children(el, diag, |x, c, diag| {
        if c.name() == b"CustomAttributes" {
            x.children(&c, diag, |_, a, _| {
                if a.name() == b"Attribute" {
                    if let (Some(n), Some(v)) = (a.attr("Name"), a.attr("Value")) {
                        custom.push(format!("{n}={v}"));
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(Some((t, custom.join(","))))
}

#[cfg(test)]
mod tests {
    use crate::{ContentType, KeySystem, ParseOptions, parse};

    #[test]
    fn reads_streams_levels_and_timeline() {
        let text = r#"<?xml version="1.0"?>
<SmoothStreamingMedia MajorVersion="2" MinorVersion="0" Duration="60000000">
  <StreamIndex Type="video" Name="video" Url="QualityLevels({bitrate})/Fragments(video={start time})" Chunks="3">
    <QualityLevel Index="0" Bitrate="1000000" FourCC="H264" MaxWidth="1280" MaxHeight="720" CodecPrivateData="000000016764000DAC2CA50E11BFF040003F0520C0C0C800001F480005DC0300001C1200038273F8C7180000E090001C139FC63876848945800000000168E9093525"/>
    <c t="0" d="20000000" r="2"/><c d="20000000"/>
  </StreamIndex>
  <StreamIndex Type="audio" Name="audio" Language="en" Url="QualityLevels({bitrate})/Fragments(audio={start time})">
    <QualityLevel Bitrate="128000" FourCC="AACL" SamplingRate="48000" Channels="2" CodecPrivateData="1190">
      <CustomAttributes><Attribute Name="lang" Value="en"/></CustomAttributes>
    </QualityLevel>
    <QualityLevel Bitrate="64000" FourCC="AACL" SamplingRate="48000" Channels="2" CodecPrivateData="1190"/>
    <c t="0" d="20000000"/><c d="20000000"/><c d="20000000"/>
  </StreamIndex>
</SmoothStreamingMedia>"#;
        let opts = ParseOptions {
            url: Some("https://ss.example/vod/x.ism/Manifest".into()),
            ..Default::default()
        };
        let p = parse(text.as_bytes(), &opts).unwrap().presentation;
        assert_eq!(p.duration, Some(crate::Micros(6_000_000)));
        let sets = &p.periods[0].switching_sets;
        assert_eq!(sets[0].content_type, ContentType::Video);
        let v = &sets[0].tracks[0];
        assert_eq!(v.codecs.as_deref(), Some("avc1.64000D"));
        assert_eq!(v.segments.len(), 3);
        let s = v.segments.segment(2).unwrap();
        assert_eq!(s.start, 40_000_000);
        assert_eq!(
            s.url,
            "https://ss.example/vod/x.ism/QualityLevels(1000000)/Fragments(video=40000000)"
        );
        assert_eq!(sets[1].tracks[0].codecs.as_deref(), Some("mp4a.40.2"));
        assert_eq!(
            sets[1].tracks.len(),
            2,
            "a level after one with CustomAttributes is kept"
        );
        assert_eq!(sets[1].tracks[1].segments.len(), 3);
        if let crate::SegmentIndex::Timeline(t) = &sets[1].tracks[0].segments {
            assert_eq!(t.runs.len(), 1, "written-out chunks merge into one run");
        }
        let _ = KeySystem::PlayReady;
    }
}
