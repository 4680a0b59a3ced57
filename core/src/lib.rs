//! # Playhead core
//!
//! A portable video player core: it reads HLS (with Low-Latency HLS), MPEG-DASH (with
//! multi-period and low latency) and Microsoft Smooth Streaming manifests into one exact,
//! format-neutral [`Presentation`] model.
//!
//! What this crate does **not** do: no sockets, no clocks, no threads, no async, no file
//! access, no video decoding. The host fetches bytes and hands them in with the time; the
//! core never performs I/O, so it runs unchanged in a browser (WebAssembly), on a phone
//! (UniFFI), in a CLI and in deterministic simulations.
//!
//! ```
//! use playhead::{parse, ParseOptions};
//!
//! let playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.006,\nseg0.ts\n#EXT-X-ENDLIST\n";
//! let opts = ParseOptions { url: Some("https://cdn.example/live/media.m3u8".into()), ..Default::default() };
//! let parsed = parse(playlist, &opts).unwrap();
//! let track = parsed.presentation.tracks().next().unwrap();
//! let seg = track.segments.segment(0).unwrap();
//! assert_eq!(seg.url, "https://cdn.example/live/seg0.ts");
//! assert_eq!((seg.duration, seg.timescale.get()), (6_006_000, 1_000_000)); // exact: 6.006 s
//! ```
//!
//! Time is never a float: segment times are integer ticks of the track's [`Timescale`],
//! presentation times are [`Micros`]. Bad input is a typed [`ParseError`] that cites the
//! rule broken; resource use is capped by [`Limits`].

#![forbid(unsafe_code)]

pub mod abr;
pub mod base64;
mod dash;
mod diag;
pub mod drm;
pub mod engine;
pub mod error;
mod hls;
mod json;
/// Reading media segments (fMP4 and MPEG-TS): tracks, samples, PES, timestamps.
pub mod media;
pub mod model;
mod options;
mod order;
mod smooth;
mod text;
pub mod time;
mod url;
mod xml;

#[cfg(feature = "dash-mpd-core")]
pub use dash::oracle::from_dash_mpd_core;
pub use dash::refresh::refresh_dash;
pub use error::{LimitKind, ParseError, RefreshError, Warning};
pub use hls::refresh::{RefreshOutcome, refresh_hls_media};
pub use model::*;
pub use options::{Limits, ParseOptions, Strictness};
pub use time::{FrameRate, Micros, Timescale, UnixMicros};
pub use url::validate_base;

/// A parsed presentation and the rule breaks the strictness level tolerated.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The model.
    pub presentation: Presentation,
    /// Tolerated problems, in manifest order.
    pub warnings: Vec<Warning>,
}

/// Sniffs the format of manifest bytes (HLS, DASH, Smooth), or `None`.
pub fn detect(bytes: &[u8]) -> Option<ManifestFormat> {
    text::decode(bytes, None)
        .ok()
        .as_deref()
        .and_then(text::sniff)
}

/// Parses a manifest of any supported format into the model.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Parsed, ParseError> {
    if bytes.len() as u64 > options.limits.max_manifest_bytes {
        return Err(ParseError::LimitExceeded {
            format: text::sniff_lossy(&bytes[..bytes.len().min(4096)])
                .unwrap_or(ManifestFormat::HlsMedia),
            what: LimitKind::ManifestBytes,
            limit: options.limits.max_manifest_bytes,
        });
    }
    let text = match text::decode(bytes, None) {
        Ok(t) => t,
        // Not decodable: name the format if the readable part shows it.
        Err(e) => {
            return Err(match (text::sniff_lossy(bytes), e) {
                (Some(format), ParseError::UnknownFormat { detail }) => {
                    ParseError::Encoding { format, detail }
                }
                (_, e) => e,
            });
        }
    };
    let format = text::sniff(&text).ok_or_else(|| ParseError::UnknownFormat {
        detail: describe_start(&text),
    })?;
    parse_text(&text, format, options)
}

/// Parses manifest text known to be of `format`.
pub fn parse_text(
    text: &str,
    format: ManifestFormat,
    options: &ParseOptions,
) -> Result<Parsed, ParseError> {
    let base = match &options.url {
        Some(u) => validate_base(u).map_err(|detail| ParseError::UnsafeUrl {
            format,
            line: 0,
            url: u.chars().take(120).collect(),
            detail,
        })?,
        None => String::new(),
    };
    match format {
        ManifestFormat::HlsMedia | ManifestFormat::HlsMultivariant => {
            hls::parse(text, &base, options)
        }
        ManifestFormat::Dash => dash::parse(text, &base, options),
        ManifestFormat::Smooth => smooth::parse(text, &base, options),
    }
}

fn describe_start(text: &str) -> String {
    if let Some(root) = text::xml_root_name(text) {
        return format!(
            "XML whose root element is <{root}> (expected <MPD> or <SmoothStreamingMedia>)"
        );
    }
    let start: String = text.trim_start().chars().take(32).collect();
    if start.is_empty() {
        "empty input".into()
    } else {
        format!("starts with {start:?}")
    }
}
