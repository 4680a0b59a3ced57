//! DASH `AdaptationSet` and `Representation`: the attributes and descriptors they share,
//! content protection, and base URLs.

use super::segment::Levels;
use crate::diag::Diag;
use crate::error::{Line, ParseError};
use crate::model::{
    BaseUrl, Bytes, ContentProtection, ContentType, Descriptor, Kid, PendingFetch, SchemeRef,
    SegmentIndex, SwitchingSet, TextKind, Track, VideoRange, XlinkTarget, playready_kids,
};
use crate::time::FrameRate;
use crate::url::{Allow, resolve};
use crate::xml::{Elem, Xml};

const R_REP_ID: &str = "ISO/IEC 23009-1 §5.3.5.2: Representation@id is required";
const R_BANDWIDTH: &str = "ISO/IEC 23009-1 §5.3.5.2: Representation@bandwidth is required";
const R_UINT: &str = "ISO/IEC 23009-1 §5.3.7: unsigned integer attribute expected";
const R_KID: &str = "ISO/IEC 23001-7 §11.2: cenc:default_KID is a UUID";
const R_B64: &str = "ISO/IEC 23001-7 §11.2.1: cenc:pssh holds a base64 pssh box";
const TEXT_MAX: usize = 1 << 20;

/// Attributes and descriptors common to AdaptationSet and Representation (inherited).
#[derive(Debug, Clone, Default)]
pub(crate) struct Common {
    pub(crate) mime_type: Option<String>,
    pub(crate) codecs: Option<String>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) frame_rate: Option<FrameRate>,
    pub(crate) sampling_rate: Option<u32>,
    pub(crate) channels: Option<String>,
    pub(crate) video_range: Option<VideoRange>,
    pub(crate) protection: Vec<ContentProtection>,
    pub(crate) properties: Vec<Descriptor>,
    pub(crate) inband: Vec<SchemeRef>,
}

impl Common {
    fn read_attrs(el: &Elem<'_>, line: Line, diag: &mut Diag) -> Result<Common, ParseError> {
        Ok(Common {
            mime_type: el.attr("mimeType"),
            codecs: el.attr("codecs"),
            width: u32_attr(el, "width", line, diag)?,
            height: u32_attr(el, "height", line, diag)?,
            frame_rate: el.attr_str("frameRate").and_then(|f| FrameRate::parse(&f)),
            sampling_rate: el
                .attr_str("audioSamplingRate")
                .and_then(|v| v.split_whitespace().next().and_then(|s| s.parse().ok())),
            ..Common::default()
        })
    }

    /// Handles a child element shared by both levels; returns false when not one of them.
    fn read_child(
        &mut self,
        c: &Elem<'_>,
        x: &mut Xml<'_>,
        diag: &mut Diag,
    ) -> Result<bool, ParseError> {
        match c.name() {
            b"ContentProtection" => self.protection.push(read_protection(c, x, diag)?),
            b"EssentialProperty" | b"SupplementalProperty" => {
                let d = descriptor(c, c.name() == b"EssentialProperty");
                if d.scheme_id_uri == "urn:mpeg:mpegB:cicp:TransferCharacteristics" {
                    self.video_range = match d.value.as_deref() {
                        Some("16") => Some(VideoRange::Pq),
                        Some("18") => Some(VideoRange::Hlg),
                        Some("1" | "6" | "13" | "14" | "15") => Some(VideoRange::Sdr),
                        _ => self.video_range,
                    };
                }
                self.properties.push(d);
                x.skip(c, diag)?;
            }
            b"AudioChannelConfiguration" => {
                self.channels = c.attr("value");
                x.skip(c, diag)?;
            }
            b"InbandEventStream" => {
                self.inband.push(SchemeRef {
                    scheme_id_uri: c.attr("schemeIdUri").unwrap_or_default(),
                    value: c.attr("value"),
                });
                x.skip(c, diag)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// This level's values over the parent's.
    pub(crate) fn over(&self, parent: &Common) -> Common {
        let mut protection = parent.protection.clone();
        protection.extend(self.protection.iter().cloned());
        let mut properties = parent.properties.clone();
        properties.extend(self.properties.iter().cloned());
        let mut inband = parent.inband.clone();
        inband.extend(self.inband.iter().cloned());
        Common {
            mime_type: self.mime_type.clone().or_else(|| parent.mime_type.clone()),
            codecs: self.codecs.clone().or_else(|| parent.codecs.clone()),
            width: self.width.or(parent.width),
            height: self.height.or(parent.height),
            frame_rate: self.frame_rate.or(parent.frame_rate),
            sampling_rate: self.sampling_rate.or(parent.sampling_rate),
            channels: self.channels.clone().or_else(|| parent.channels.clone()),
            video_range: self.video_range.or(parent.video_range),
            protection,
            properties,
            inband,
        }
    }
}

fn u32_attr(
    el: &Elem<'_>,
    name: &str,
    line: Line,
    diag: &mut Diag,
) -> Result<Option<u32>, ParseError> {
    match el.attr_str(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => {
                diag.shall(line, R_UINT, format!("@{name}={v:?}"))?;
                Ok(None)
            }
        },
    }
}

pub(crate) fn descriptor(c: &Elem<'_>, essential: bool) -> Descriptor {
    Descriptor {
        scheme_id_uri: c.attr("schemeIdUri").unwrap_or_default(),
        value: c.attr("value"),
        essential,
    }
}

/// Reads a `BaseURL`, resolved against `parent`.
pub(crate) fn read_base_url(
    c: &Elem<'_>,
    x: &mut Xml<'_>,
    parent: &str,
    diag: &mut Diag,
) -> Result<BaseUrl, ParseError> {
    let line = x.line();
    let text = x.text(c, diag, usize::MAX)?;
    let text = text.trim();
    diag.check_url_len(line, text.len())?;
    let url = resolve(parent, text, Allow::Http).map_err(|r| diag.unsafe_url(line, text, &r))?;
    Ok(BaseUrl {
        url,
        service_location: c.attr("serviceLocation"),
        priority: c.attr_str("priority").and_then(|v| v.parse().ok()),
        weight: c.attr_str("weight").and_then(|v| v.parse().ok()),
        availability: super::segment::availability(c, line, diag)?,
    })
}

fn read_protection(
    c: &Elem<'_>,
    x: &mut Xml<'_>,
    diag: &mut Diag,
) -> Result<ContentProtection, ParseError> {
    let line = x.line();
    let mut cp = ContentProtection::new(&c.attr("schemeIdUri").unwrap_or_default());
    cp.value = c.attr("value");
    cp.robustness = c.attr("robustness");
    cp.ref_id = c.attr("refId").or_else(|| c.attr("ref"));
    if let Some(kids) = c.attr("default_KID") {
        for k in kids.split_whitespace() {
            match Kid::parse(k) {
                Some(kid) => cp.default_kids.push(kid),
                None => diag.shall(line, R_KID, format!("default_KID {k:?}"))?,
            }
        }
    }
    if c.empty {
        return Ok(cp);
    }
    x.children(c, diag, |x, e, diag| {
        match e.name() {
            b"pssh" => {
                let t = x.text(&e, diag, TEXT_MAX)?;
                match crate::base64::decode(t.trim()) {
                    Some(b) => cp.pssh = Some(Bytes::from(b)),
                    None => diag.shall(line, R_B64, "cenc:pssh is not base64")?,
                }
            }
            b"pro" | b"PRO" => {
                let t = x.text(&e, diag, TEXT_MAX)?;
                match crate::base64::decode(t.trim()) {
                    Some(b) => cp.playready_header = Some(Bytes::from(b)),
                    None => diag.shall(line, R_B64, "mspr:pro is not base64")?,
                }
            }
            b"laurl" | b"Laurl" | b"LaURL" => {
                let attr = e.attr("licenseUrl");
                let t = x.text(&e, diag, 8192)?;
                let u = attr.unwrap_or_else(|| t.trim().to_owned());
                if !u.is_empty() {
                    cp.license_url = resolve("", &u, Allow::Http).ok();
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    // A PlayReady header names its key ids: surface them when the descriptor does not.
    if cp.default_kids.is_empty() {
        if let Some(pro) = &cp.playready_header {
            cp.default_kids = playready_kids(&pro.0);
        }
    }
    Ok(cp)
}

/// An AdaptationSet as read: its set attributes, inherited values and representations.
pub(crate) struct RawSet {
    pub(crate) set: SwitchingSet,
    pub(crate) common: Common,
    pub(crate) seg: Levels,
    pub(crate) base: String,
    pub(crate) reps: Vec<RawRep>,
    pub(crate) content_type: Option<String>,
}

/// A Representation as read.
pub(crate) struct RawRep {
    pub(crate) track: Track,
    pub(crate) common: Common,
    pub(crate) seg: Levels,
    pub(crate) base: String,
    pub(crate) line: Line,
}

/// Reads an AdaptationSet (its base resolves against `parent_base`).
pub(crate) fn read_set(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    parent_base: &str,
    indexes: (u32, u32),
    pending: &mut Vec<PendingFetch>,
    diag: &mut Diag,
) -> Result<Option<RawSet>, ParseError> {
    let line = x.line();
    let target = XlinkTarget::AdaptationSet(indexes.0, indexes.1);
    if super::xlink(el, x, parent_base, target, pending, diag)? {
        return Ok(None);
    }
    diag.add_set()?;
    let mut set = SwitchingSet::new(ContentType::Unknown);
    set.id = el.attr("id");
    set.language = el.attr("lang");
    let mut raw = RawSet {
        common: Common::read_attrs(el, line, diag)?,
        set,
        seg: Levels::default(),
        base: parent_base.to_owned(),
        reps: Vec::new(),
        content_type: el.attr("contentType"),
    };
    if el.empty {
        return Ok(Some(raw));
    }
    let mut bases_seen = false;
    x.children(el, diag, |x, c, diag| {
        if raw.common.read_child(&c, x, diag)? || raw.seg.read_child(&c, x, diag)? {
            return Ok(());
        }
        match c.name() {
            b"BaseURL" => {
                let b = read_base_url(&c, x, parent_base, diag)?;
                if !bases_seen {
                    raw.base = b.url.clone();
                    bases_seen = true;
                }
                raw.set.base_urls.push(b);
            }
            b"Role" => {
                if let Some(v) = c.attr("value") {
                    raw.set.roles.push(v);
                }
            }
            b"Accessibility" => {
                raw.set.accessibility.push(descriptor(&c, false));
            }
            b"Label" => {
                let t = x.text(&c, diag, 4096)?;
                raw.set.labels.push(t.trim().to_owned());
            }
            b"Representation" => {
                let n = raw.reps.len();
                let base = raw.base.clone();
                raw.reps.push(read_rep(&c, x, &base, n, diag)?);
            }
            _ => {}
        }

        Ok(())
    })?;
    Ok(Some(raw))
}

fn read_rep(
    el: &Elem<'_>,
    x: &mut Xml<'_>,
    parent_base: &str,
    ordinal: usize,
    diag: &mut Diag,
) -> Result<RawRep, ParseError> {
    let line = x.line();
    let id = match el.attr("id") {
        Some(id) => id,
        None => {
            diag.should(
                line,
                R_REP_ID,
                format!("Representation without @id: named r{ordinal}"),
            )?;
            format!("r{ordinal}")
        }
    };
    let bandwidth = match el.attr_str("bandwidth").map(|b| b.trim().parse::<u64>()) {
        Some(Ok(b)) => b,
        Some(Err(_)) => {
            diag.shall(
                line,
                R_BANDWIDTH,
                format!("@bandwidth={:?}", el.attr("bandwidth").unwrap_or_default()),
            )?;
            0
        }
        None => {
            diag.should(
                line,
                R_BANDWIDTH,
                "Representation without @bandwidth: taken as 0",
            )?;
            0
        }
    };
    let mut track = Track::new(id, SegmentIndex::Unloaded);
    track.bandwidth = bandwidth;
    let mut raw = RawRep {
        common: Common::read_attrs(el, line, diag)?,
        track,
        seg: Levels::default(),
        base: parent_base.to_owned(),
        line,
    };
    if el.empty {
        return Ok(raw);
    }
    x.children(el, diag, |x, c, diag| {
        if raw.common.read_child(&c, x, diag)? || raw.seg.read_child(&c, x, diag)? {
            return Ok(());
        }
        match c.name() {
            b"BaseURL" => {
                let b = read_base_url(&c, x, parent_base, diag)?;
                if raw.track.base_urls.is_empty() {
                    raw.base = b.url.clone();
                }
                raw.track.base_urls.push(b);
            }
            b"Label" => {
                let t = x.text(&c, diag, 4096)?;
                raw.track.label = Some(t.trim().to_owned());
            }
            _ => {}
        }

        Ok(())
    })?;
    Ok(raw)
}

/// Fills a track from its effective (inherited) common values.
pub(crate) fn apply_common(track: &mut Track, c: &Common) {
    track.mime_type = c.mime_type.clone();
    track.codecs = c.codecs.clone();
    track.width = c.width;
    track.height = c.height;
    track.frame_rate = c.frame_rate;
    track.audio_sampling_rate = c.sampling_rate;
    track.audio_channels = c.channels.clone();
    track.video_range = c.video_range;
    track.protection = c.protection.clone();
}

/// Content type from `@contentType`, then MIME type, then codecs.
pub(crate) fn content_type(
    declared: Option<&str>,
    mime: Option<&str>,
    codecs: Option<&str>,
) -> ContentType {
    let from = |s: &str| match s {
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
        if let Some(t) = from(m.split('/').next().unwrap_or("")) {
            return t;
        }
        if m.contains("ttml") || m.contains("vtt") {
            return ContentType::Text;
        }
    }
    if let Some(c) = codecs {
        let t = ContentType::of_codec(c.split(',').next().unwrap_or(""));
        if t != ContentType::Unknown {
            return t;
        }
    }
    ContentType::Unknown
}

/// Text kind from roles.
pub(crate) fn text_kind(roles: &[String]) -> TextKind {
    if roles.iter().any(|r| r == "caption") {
        TextKind::Captions
    } else if roles.iter().any(|r| r == "forced-subtitle") {
        TextKind::Forced
    } else {
        TextKind::Subtitles
    }
}
