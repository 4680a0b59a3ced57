//! Live parameters: availability, time-shift window, update timing, target latency,
//! LL-HLS server control, clock sync and content steering.

use crate::time::{Micros, UnixMicros};

/// Parameters of a live (dynamic) presentation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LiveParams {
    /// DASH `@availabilityStartTime`.
    pub availability_start: Option<UnixMicros>,
    /// DASH `@publishTime`.
    pub publish_time: Option<UnixMicros>,
    /// DVR window: DASH `@timeShiftBufferDepth`, Smooth `DVRWindowLength`. `None`: unbounded
    /// (HLS: the playlist's own window).
    pub time_shift_depth: Option<Micros>,
    /// How often to refresh: DASH `@minimumUpdatePeriod`, HLS target duration.
    pub update_period: Option<Micros>,
    /// DASH `@suggestedPresentationDelay`.
    pub suggested_delay: Option<Micros>,
    /// HLS `HOLD-BACK`.
    pub hold_back: Option<Micros>,
    /// HLS `PART-HOLD-BACK`.
    pub part_hold_back: Option<Micros>,
    /// DASH `@maxSegmentDuration`.
    pub max_segment_duration: Option<Micros>,
    /// DASH `ServiceDescription`.
    pub service_description: Option<ServiceDescription>,
    /// DASH `UTCTiming` elements, in order.
    pub utc_timing: Vec<UtcTiming>,
    /// HLS `EXT-X-PLAYLIST-TYPE:EVENT` (the window only grows).
    pub event: bool,
}

/// DASH `ServiceDescription` latency and playback-rate targets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ServiceDescription {
    /// `Latency@target`.
    pub target_latency: Option<Micros>,
    /// `Latency@min`.
    pub min_latency: Option<Micros>,
    /// `Latency@max`.
    pub max_latency: Option<Micros>,
    /// `PlaybackRate@min` in thousandths.
    pub min_playback_rate_milli: Option<u32>,
    /// `PlaybackRate@max` in thousandths.
    pub max_playback_rate_milli: Option<u32>,
}

/// A DASH `UTCTiming` clock-sync source.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct UtcTiming {
    /// `@schemeIdUri` (`urn:mpeg:dash:utc:http-iso:2014`, ...).
    pub scheme_id_uri: String,
    /// `@value` (a URL or a direct value).
    pub value: String,
}

/// HLS `EXT-X-SERVER-CONTROL`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ServerControl {
    /// `CAN-SKIP-UNTIL`.
    pub can_skip_until: Option<Micros>,
    /// `CAN-SKIP-DATERANGES=YES`.
    pub can_skip_dateranges: bool,
    /// `HOLD-BACK`.
    pub hold_back: Option<Micros>,
    /// `PART-HOLD-BACK`.
    pub part_hold_back: Option<Micros>,
    /// `CAN-BLOCK-RELOAD=YES`.
    pub can_block_reload: bool,
}

/// HLS `EXT-X-PART-INF`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PartInfo {
    /// `PART-TARGET`.
    pub part_target: Micros,
}

/// HLS `EXT-X-PRELOAD-HINT`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PreloadHint {
    /// `TYPE` (`PART` or `MAP`).
    pub hint_type: String,
    /// `URI`, resolved.
    pub url: String,
    /// `BYTERANGE-START`.
    pub byte_range_start: Option<u64>,
    /// `BYTERANGE-LENGTH`.
    pub byte_range_length: Option<u64>,
}

/// HLS `EXT-X-RENDITION-REPORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RenditionReport {
    /// `URI`, resolved.
    pub url: String,
    /// `LAST-MSN`.
    pub last_msn: Option<u64>,
    /// `LAST-PART`.
    pub last_part: Option<u64>,
}

/// Content steering (HLS `EXT-X-CONTENT-STEERING`, DASH `ContentSteering`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ContentSteering {
    /// Steering server URL, resolved.
    pub server_url: String,
    /// Initial pathway (`PATHWAY-ID`, `@defaultServiceLocation`).
    pub default_pathway: Option<String>,
    /// DASH `@queryBeforeStart`.
    pub query_before_start: bool,
    /// DASH `@proxyServerURL`.
    pub proxy_server_url: Option<String>,
}
