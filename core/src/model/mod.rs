//! The format-neutral presentation model that HLS, DASH and Smooth Streaming are read into.
//!
//! presentation -> [`Period`]s -> [`SwitchingSet`]s (DASH adaptation sets, HLS rendition
//! groups and the variant set, Smooth `StreamIndex`) -> [`Track`]s (representations,
//! variants, quality levels), each with a compact [`SegmentIndex`].
//!
//! Every time is an integer: presentation-level values in [`Micros`], segment times in ticks
//! of the track's own [`Timescale`](crate::Timescale).

mod drm;
mod events;
mod list;
mod live;
pub(crate) mod segments;

pub use drm::{
    ContentProtection, HlsKey, KeyMethod, KeySystem, Kid, playready_kids, playready_la_url,
};
pub use events::{CueTag, DateRange, Event, EventStream, NameValue, SchemeRef};
pub use list::{HlsPlaylistInfo, ListEntry, ListIndex, NewEntry, NextSegment, PartialSegment};
pub use live::{
    ContentSteering, LiveParams, PartInfo, PreloadHint, RenditionReport, ServerControl,
    ServiceDescription, UtcTiming,
};
pub use segments::{
    Availability, ByteRange, InitSegment, Segment, SegmentBaseIndex, SegmentIndex, TemplateIndex,
    TemplatePart, TimelineIndex, TimelineRun, UrlTemplate,
};

use crate::time::{FrameRate, Micros, UnixMicros};

/// Which manifest format a presentation was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ManifestFormat {
    /// HLS multivariant (master) playlist.
    HlsMultivariant,
    /// HLS media playlist.
    HlsMedia,
    /// MPEG-DASH MPD.
    Dash,
    /// Microsoft Smooth Streaming client manifest.
    Smooth,
}

impl ManifestFormat {
    /// A multivariant or media playlist.
    pub fn is_hls(self) -> bool {
        matches!(
            self,
            ManifestFormat::HlsMultivariant | ManifestFormat::HlsMedia
        )
    }
}

impl std::fmt::Display for ManifestFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ManifestFormat::HlsMultivariant => "HLS multivariant playlist",
            ManifestFormat::HlsMedia => "HLS media playlist",
            ManifestFormat::Dash => "DASH MPD",
            ManifestFormat::Smooth => "Smooth manifest",
        })
    }
}

/// A whole presentation: what a manifest describes.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Presentation {
    /// Format it was read from.
    pub format: ManifestFormat,
    /// The URL it was read from (base of relative URLs), if known.
    pub url: Option<String>,
    /// `Some` when the presentation is live (DASH dynamic, HLS without ENDLIST, Smooth IsLive).
    pub live: Option<LiveParams>,
    /// Total duration, when the manifest states or implies one.
    pub duration: Option<Micros>,
    /// Minimum buffer the manifest asks for (DASH `@minBufferTime`).
    pub min_buffer_time: Option<Micros>,
    /// Periods in presentation order (HLS and Smooth have exactly one).
    pub periods: Vec<Period>,
    /// Presentation-level base URLs (DASH MPD `BaseURL`), resolved, in priority order.
    pub base_urls: Vec<BaseUrl>,
    /// Presentation-level key hints (HLS `EXT-X-SESSION-KEY`).
    pub session_keys: Vec<HlsKey>,
    /// HLS `EXT-X-SESSION-DATA`.
    pub session_data: Vec<SessionData>,
    /// Content steering (HLS `EXT-X-CONTENT-STEERING`, DASH `ContentSteering`).
    pub steering: Option<ContentSteering>,
    /// Preferred start offset (HLS `EXT-X-START`), relative to the start (or, if negative, the end).
    pub start_offset: Option<Micros>,
    /// DASH `@profiles` / HLS `EXT-X-VERSION` as written.
    pub profiles: Option<String>,
    /// HLS `EXT-X-DEFINE` variables after substitution (name, value).
    pub variables: Vec<NameValue>,
    /// HLS `EXT-X-INDEPENDENT-SEGMENTS`.
    pub independent_segments: bool,
    /// Where updates of a live MPD are fetched from (DASH `Location`), resolved.
    pub locations: Vec<String>,
    /// Things the host must fetch to complete the model (DASH xlink), never fetched by the parser.
    pub pending: Vec<PendingFetch>,
}

/// A DASH `BaseURL` (or HLS/Smooth location) with its redundancy attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BaseUrl {
    /// Absolute http(s) URL.
    pub url: String,
    /// `@serviceLocation` (CDN name).
    pub service_location: Option<String>,
    /// DVB `@dvb:priority`.
    pub priority: Option<u32>,
    /// DVB `@dvb:weight`.
    pub weight: Option<u32>,
    /// Low-latency availability signalled on the BaseURL (added to the addressing's).
    pub availability: Availability,
}

/// HLS `EXT-X-SESSION-DATA`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionData {
    /// `DATA-ID`.
    pub data_id: String,
    /// `VALUE`.
    pub value: Option<String>,
    /// `URI`, resolved.
    pub uri: Option<String>,
    /// `LANGUAGE`.
    pub language: Option<String>,
}

/// Something the host must fetch (the parser never does).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PendingFetch {
    /// What the fetched document replaces.
    pub target: XlinkTarget,
    /// Absolute URL.
    pub url: String,
    /// `onLoad` (fetch now) or `onRequest` (fetch when needed).
    pub actuate_on_load: bool,
}

/// What an xlink resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum XlinkTarget {
    /// Period at this index.
    Period(u32),
    /// Adaptation set at (period, set) indexes.
    AdaptationSet(u32, u32),
    /// An EventStream of the period at this index.
    EventStream(u32),
    /// Another element (named) of the period at this index.
    Other(u32, String),
}

/// A period: an interval of the presentation with one set of tracks.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Period {
    /// `Period@id`.
    pub id: Option<String>,
    /// Start in presentation time.
    pub start: Micros,
    /// Duration, when known.
    pub duration: Option<Micros>,
    /// Period-level base URLs, resolved.
    pub base_urls: Vec<BaseUrl>,
    /// Switching sets.
    pub switching_sets: Vec<SwitchingSet>,
    /// Manifest-carried events (DASH EventStream, HLS DATERANGE live on the track info).
    pub event_streams: Vec<EventStream>,
    /// DASH `AssetIdentifier` value.
    pub asset_id: Option<String>,
    /// Period-level Supplemental/EssentialProperty descriptors.
    pub properties: Vec<Descriptor>,
}

/// Kind of media a switching set carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ContentType {
    /// Video (possibly muxed with audio: see the codecs).
    Video,
    /// Audio.
    Audio,
    /// Subtitles or captions.
    Text,
    /// Thumbnails / image tracks.
    Image,
    /// Not stated and not inferable.
    Unknown,
}

impl ContentType {
    /// The kind of media one RFC 6381 codec (`avc1.64001f`, `mp4a.40.2`, `wvtt`) carries.
    pub fn of_codec(codec: &str) -> ContentType {
        const VIDEO: &[&str] = &[
            "avc", "hvc", "hev", "vp08", "vp09", "vp8", "vp9", "av01", "dvh", "dva", "mp4v", "vc-1",
        ];
        const AUDIO: &[&str] = &[
            "mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "mp3", "alac", "dtsc", "dtse", "dtsh",
            "dtsl", "wma",
        ];
        const TEXT: &[&str] = &["stpp", "wvtt", "tx3g", "ttml", "c608", "c708"];
        let c = codec.trim().to_ascii_lowercase();
        let is = |prefixes: &[&str]| prefixes.iter().any(|p| c.starts_with(p));
        if is(VIDEO) {
            ContentType::Video
        } else if is(AUDIO) {
            ContentType::Audio
        } else if is(TEXT) {
            ContentType::Text
        } else {
            ContentType::Unknown
        }
    }
}

/// Kind of a text track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum TextKind {
    /// Subtitles (translation of dialogue).
    Subtitles,
    /// Captions (dialogue and sounds, for the hard of hearing).
    Captions,
    /// Closed captions carried in the video (CEA-608/708).
    ClosedCaptions,
    /// Forced narrative subtitles.
    Forced,
}

/// HDR signalling: the transfer characteristics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum VideoRange {
    /// Standard dynamic range.
    Sdr,
    /// Perceptual quantizer (HDR10, Dolby Vision PQ); CICP 16.
    Pq,
    /// Hybrid log-gamma; CICP 18.
    Hlg,
}

/// A generic descriptor (`Role`, `Accessibility`, `EssentialProperty`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Descriptor {
    /// `@schemeIdUri`.
    pub scheme_id_uri: String,
    /// `@value`.
    pub value: Option<String>,
    /// True for `EssentialProperty` (a player that does not understand it must skip the element).
    pub essential: bool,
}

/// A set of tracks a player may switch between seamlessly.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SwitchingSet {
    /// DASH `@id`, HLS `GROUP-ID`, Smooth `Name`.
    pub id: Option<String>,
    /// Media kind.
    pub content_type: ContentType,
    /// MIME type (`video/mp4`), when stated.
    pub mime_type: Option<String>,
    /// Language (BCP 47 as written).
    pub language: Option<String>,
    /// Human-readable labels (DASH `Label`, HLS `NAME`).
    pub labels: Vec<String>,
    /// Roles (`main`, `alternate`, `commentary`, `caption`, `subtitle`, `description`, ...).
    pub roles: Vec<String>,
    /// Accessibility descriptors.
    pub accessibility: Vec<Descriptor>,
    /// Essential/Supplemental properties.
    pub properties: Vec<Descriptor>,
    /// Text kind, for text sets.
    pub text_kind: Option<TextKind>,
    /// HLS `DEFAULT=YES`.
    pub default: bool,
    /// HLS `AUTOSELECT=YES`.
    pub autoselect: bool,
    /// Trick-mode set (HLS I-frame playlists, DASH trick-mode adaptation sets).
    pub trick_mode: bool,
    /// Content protection on the set.
    pub protection: Vec<ContentProtection>,
    /// In-band event streams the media carries (`InbandEventStream`).
    pub inband_events: Vec<SchemeRef>,
    /// Set-level base URLs (DASH AdaptationSet `BaseURL`), resolved, in priority order.
    pub base_urls: Vec<BaseUrl>,
    /// Tracks.
    pub tracks: Vec<Track>,
}

/// One encoding a player can fetch: a representation, variant, rendition or quality level.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Track {
    /// DASH `@id`, HLS `STABLE-VARIANT-ID` / `STABLE-RENDITION-ID` or a generated one.
    pub id: String,
    /// Peak bits per second (DASH `@bandwidth`, HLS `BANDWIDTH`, Smooth `Bitrate`).
    pub bandwidth: u64,
    /// HLS `AVERAGE-BANDWIDTH`.
    pub average_bandwidth: Option<u64>,
    /// RFC 6381 codecs, as written (`avc1.64001f,mp4a.40.2`).
    pub codecs: Option<String>,
    /// MIME type, when stated on the track.
    pub mime_type: Option<String>,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Exact frame rate.
    pub frame_rate: Option<FrameRate>,
    /// HDR signalling.
    pub video_range: Option<VideoRange>,
    /// Audio channels as written (`2`, `6`, `16/JOC`, a DASH channel configuration value).
    pub audio_channels: Option<String>,
    /// Audio sampling rate in Hz.
    pub audio_sampling_rate: Option<u32>,
    /// HLS `HDCP-LEVEL` (`TYPE-0`, `TYPE-1`, `NONE`).
    pub hdcp_level: Option<String>,
    /// Language, when the track has its own (HLS renditions).
    pub language: Option<String>,
    /// Label, when the track has its own (HLS `NAME`).
    pub label: Option<String>,
    /// Track-level base URLs (DASH Representation `BaseURL`), resolved.
    pub base_urls: Vec<BaseUrl>,
    /// Content protection on the track.
    pub protection: Vec<ContentProtection>,
    /// HLS variant / rendition specifics.
    pub hls: Option<HlsTrackInfo>,
    /// Smooth `CodecPrivateData` (hex decoded) and related fields, for init synthesis.
    pub codec_private_data: Option<Bytes>,
    /// Where the media segments are.
    pub segments: SegmentIndex,
}

/// HLS specifics of a track.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HlsTrackInfo {
    /// Media playlist URLs, resolved: more than one for redundant variants, in order.
    pub playlists: Vec<HlsPlaylistRef>,
    /// `AUDIO` group id.
    pub audio_group: Option<String>,
    /// `VIDEO` group id.
    pub video_group: Option<String>,
    /// `SUBTITLES` group id.
    pub subtitles_group: Option<String>,
    /// `CLOSED-CAPTIONS` group id (or `NONE`).
    pub closed_captions: Option<String>,
    /// `INSTREAM-ID` of a closed-captions rendition.
    pub instream_id: Option<String>,
    /// `SCORE`.
    pub score: Option<String>,
    /// `ALLOWED-CPC`.
    pub allowed_cpc: Option<String>,
    /// `REQ-VIDEO-LAYOUT`.
    pub video_layout: Option<String>,
    /// `CHARACTERISTICS`.
    pub characteristics: Option<String>,
    /// Rendition without `URI`: carried inside the variant's media.
    pub embedded: bool,
    /// Rendition `DEFAULT=YES`.
    pub default: bool,
    /// Rendition `AUTOSELECT=YES`.
    pub autoselect: bool,
    /// Rendition `FORCED=YES` (subtitles).
    pub forced: bool,
}

/// A media playlist location of an HLS track: one copy of a variant (redundant copies
/// and content-steering pathways each have theirs, with their own rendition groups).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HlsPlaylistRef {
    /// Absolute URL.
    pub url: String,
    /// `PATHWAY-ID` (content steering), when given.
    pub pathway_id: Option<String>,
    /// `AUDIO` group id of this copy.
    pub audio_group: Option<String>,
    /// `VIDEO` group id of this copy.
    pub video_group: Option<String>,
    /// `SUBTITLES` group id of this copy.
    pub subtitles_group: Option<String>,
    /// `CLOSED-CAPTIONS` group id (or `NONE`) of this copy.
    pub closed_captions: Option<String>,
}

/// Raw bytes (base64 in JSON), shared: the tracks that inherit a PSSH box or a PlayReady
/// header hold one copy.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub std::sync::Arc<[u8]>);

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v.into())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({})", crate::base64::encode(&self.0))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::base64::encode(&self.0))
    }
}

impl Presentation {
    /// An empty presentation of `format`.
    pub fn new(format: ManifestFormat, url: Option<String>) -> Self {
        Presentation {
            format,
            url,
            live: None,
            duration: None,
            min_buffer_time: None,
            periods: Vec::new(),
            base_urls: Vec::new(),
            session_keys: Vec::new(),
            session_data: Vec::new(),
            steering: None,
            start_offset: None,
            profiles: None,
            variables: Vec::new(),
            independent_segments: false,
            locations: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// All tracks of all periods.
    pub fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.periods
            .iter()
            .flat_map(|p| p.switching_sets.iter())
            .flat_map(|s| s.tracks.iter())
    }

    /// Segments of all tracks, counted without materializing them (open-ended live timelines
    /// count what is listed).
    pub fn segment_count(&self) -> u64 {
        self.tracks().map(|t| t.segments.len()).sum()
    }

    /// True for live presentations.
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Wall-clock availability start of a live presentation, when stated.
    pub fn availability_start(&self) -> Option<UnixMicros> {
        self.live.as_ref().and_then(|l| l.availability_start)
    }
}

impl Period {
    /// A period holding `switching_sets`, without id, base URLs, events or descriptors.
    pub fn new(start: Micros, duration: Option<Micros>, switching_sets: Vec<SwitchingSet>) -> Self {
        Period {
            id: None,
            start,
            duration,
            base_urls: Vec::new(),
            switching_sets,
            event_streams: Vec::new(),
            asset_id: None,
            properties: Vec::new(),
        }
    }
}

impl SwitchingSet {
    /// An empty set of `content_type`.
    pub fn new(content_type: ContentType) -> Self {
        SwitchingSet {
            id: None,
            content_type,
            mime_type: None,
            language: None,
            labels: Vec::new(),
            roles: Vec::new(),
            accessibility: Vec::new(),
            properties: Vec::new(),
            text_kind: None,
            default: false,
            autoselect: false,
            trick_mode: false,
            protection: Vec::new(),
            inband_events: Vec::new(),
            base_urls: Vec::new(),
            tracks: Vec::new(),
        }
    }
}

impl Track {
    /// A track with only an id and a segment index.
    pub fn new(id: String, segments: SegmentIndex) -> Self {
        Track {
            id,
            bandwidth: 0,
            average_bandwidth: None,
            codecs: None,
            mime_type: None,
            width: None,
            height: None,
            frame_rate: None,
            video_range: None,
            audio_channels: None,
            audio_sampling_rate: None,
            hdcp_level: None,
            language: None,
            label: None,
            base_urls: Vec::new(),
            protection: Vec::new(),
            hls: None,
            codec_private_data: None,
            segments,
        }
    }
}
