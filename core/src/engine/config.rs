//! Engine configuration and its documented defaults.

use crate::abr::{AbrAlgorithm, EstimatorConfig};
use crate::drm::DrmConfig;
use crate::model::VideoRange;
use crate::time::{FrameRate, Micros};

use super::io::RequestKind;
use super::sink::SinkMode;

const fn secs(s: i64) -> Micros {
    Micros(s * 1_000_000)
}

const fn millis(ms: i64) -> Micros {
    Micros(ms * 1_000)
}

/// How much media to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BufferGoals {
    /// Fetch ahead until this much is buffered (VOD and DVR playback away from the edge).
    pub ahead: Micros,
    /// Buffer needed before playback starts or resumes after a stall (reported in events;
    /// the host decides when to start).
    pub rebuffer: Micros,
}

impl Default for BufferGoals {
    /// 30 s ahead and 2 s to (re)start: Shaka Player's defaults. At the live edge the
    /// buffer is bounded by the live delay: segments are fetched as they become available.
    fn default() -> Self {
        BufferGoals {
            ahead: secs(30),
            rebuffer: secs(2),
        }
    }
}

/// How one class of request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RetryPolicy {
    /// Retries after the first attempt; the error is fatal after `1 + retries` failures
    /// (or, for optional requests, the feature is given up).
    pub retries: u32,
    /// Delay before the first retry on the same location.
    pub base_delay: Micros,
    /// Cap on the delay.
    pub max_delay: Micros,
    /// Random spread applied to each delay, in thousandths (`500`: ±50%), from the seeded
    /// generator.
    pub jitter_milli: u32,
    /// Give up on one attempt after this long.
    pub timeout: Micros,
}

impl RetryPolicy {
    const fn new(retries: u32, base: Micros, max: Micros, timeout: Micros) -> Self {
        RetryPolicy {
            retries,
            base_delay: base,
            max_delay: max,
            jitter_milli: 200,
            timeout,
        }
    }
}

/// Retry policies per request class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RetryPolicies {
    /// Manifests and HLS media playlists.
    pub manifest: RetryPolicy,
    /// Init and media segments.
    pub segment: RetryPolicy,
    /// Keys and licences.
    pub license: RetryPolicy,
    /// Steering manifests, xlink and time sync: optional, the engine carries on without.
    pub auxiliary: RetryPolicy,
}

impl Default for RetryPolicies {
    /// Defaults (delays double from the base, ±20% jitter):
    ///
    /// | class | retries | base | max | timeout |
    /// |---|---|---|---|---|
    /// | manifest, playlist | 4 | 500 ms | 8 s | 10 s |
    /// | init, media segment | 4 | 250 ms | 4 s | 20 s |
    /// | key, licence | 3 | 1 s | 8 s | 15 s |
    /// | steering, xlink, time sync | 2 | 1 s | 8 s | 10 s |
    fn default() -> Self {
        RetryPolicies {
            manifest: RetryPolicy::new(4, millis(500), secs(8), secs(10)),
            segment: RetryPolicy::new(4, millis(250), secs(4), secs(20)),
            license: RetryPolicy::new(3, secs(1), secs(8), secs(15)),
            auxiliary: RetryPolicy::new(2, secs(1), secs(8), secs(10)),
        }
    }
}

impl RetryPolicies {
    /// The policy of one request kind.
    pub fn of(&self, kind: RequestKind) -> &RetryPolicy {
        match kind {
            RequestKind::Manifest | RequestKind::Playlist => &self.manifest,
            RequestKind::InitSegment | RequestKind::MediaSegment => &self.segment,
            RequestKind::Key | RequestKind::License | RequestKind::Certificate => &self.license,
            RequestKind::Steering | RequestKind::Xlink | RequestKind::TimeSync => &self.auxiliary,
        }
    }
}

/// Engine configuration. `Config::default()` holds the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Config {
    /// Seed of the jitter generator: the same seed and inputs give the same outputs.
    pub seed: u64,
    /// Buffer goals.
    pub buffer: BufferGoals,
    /// Retry policies.
    pub retry: RetryPolicies,
    /// Live delay override (distance from the live edge); `None` follows the manifest (see
    /// the README for the priority).
    pub live_delay: Option<Micros>,
    /// How long a failing location (CDN, BaseURL, pathway) stays out of use.
    pub penalty: Micros,
    /// A live playlist or MPD that has not grown for this many target (segment) durations
    /// is stale: the engine refreshes it from another location.
    pub stale_after_targets: u32,
    /// Adaptive bitrate: the policy, the throughput estimator, dropped-frame bans.
    pub abr: AbrConfig,
    /// Keep the playback state current at least this often (the host may report more often).
    pub tick: Micros,
    /// The form the host's decoder takes media in.
    pub sink: SinkMode,
    /// Key systems the host's CDM supports and the licence servers to use.
    pub drm: DrmConfig,
}

impl Default for Config {
    /// Seed 0, [`BufferGoals::default`], [`RetryPolicies::default`], manifest live delay,
    /// 30 s penalty, stale after 3 target durations (RFC 8216bis §6.3.4 reload rules),
    /// [`AbrConfig::default`], 500 ms tick, [`SinkMode::default`], no key system (protected
    /// content needs [`Config::drm`]).
    fn default() -> Self {
        Config {
            seed: 0,
            buffer: BufferGoals::default(),
            retry: RetryPolicies::default(),
            live_delay: None,
            penalty: secs(30),
            stale_after_targets: 3,
            abr: AbrConfig::default(),
            tick: millis(500),
            sink: SinkMode::default(),
            drm: DrmConfig::default(),
        }
    }
}

/// Adaptive bitrate settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct AbrConfig {
    /// The policy choosing the video rendition.
    pub algorithm: AbrAlgorithm,
    /// The throughput estimator (its start value, smallest useful download, windows).
    pub estimator: EstimatorConfig,
    /// When dropped frames ban a rendition.
    pub dropped_frames: DroppedFrames,
    /// Abandon a video segment whose download, at the speed it is arriving, would end
    /// after the buffer runs out, when the lowest rendition allowed would arrive sooner;
    /// the policy then chooses again for the same time (on by default).
    pub abandon: bool,
}

impl Default for AbrConfig {
    fn default() -> Self {
        AbrConfig {
            algorithm: AbrAlgorithm::default(),
            estimator: EstimatorConfig::default(),
            dropped_frames: DroppedFrames::default(),
            abandon: true,
        }
    }
}

/// A rendition that drops more than `percent` of its frames over `window` is not chosen
/// again for `ban` (Shaka Player's defaults: 15 % over 2 s, 30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DroppedFrames {
    /// Share of frames dropped that bans, percent (0 turns bans off).
    pub percent: u32,
    /// Span the share is measured over.
    pub window: Micros,
    /// How long the rendition stays banned.
    pub ban: Micros,
    /// Fewest frames decoded in the window for the share to count.
    pub min_frames: u64,
}

impl Default for DroppedFrames {
    /// 15 % over 2 s bans for 30 s, counted once 20 frames were decoded.
    fn default() -> Self {
        DroppedFrames {
            percent: 15,
            window: secs(2),
            ban: secs(30),
            min_frames: 20,
        }
    }
}

/// Track choices of the viewer or app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Preferences {
    /// Preferred audio language (BCP 47 prefix match).
    pub audio_language: Option<String>,
    /// Text language; `None`: no text track.
    pub text_language: Option<String>,
    /// Fix the video track (manual selection); `None`: adaptive.
    pub video_track: Option<String>,
}

/// What the device can decode and show. Tracks beyond these are never chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Capabilities {
    /// Largest width.
    pub max_width: Option<u32>,
    /// Largest height.
    pub max_height: Option<u32>,
    /// Highest bandwidth, bits per second.
    pub max_bandwidth: Option<u64>,
    /// Highest frame rate.
    pub max_frame_rate: Option<FrameRate>,
    /// Codecs the device decodes; empty: all. An entry is a prefix (`avc1`, `hvc1`,
    /// `mp4a`) or a full RFC 6381 string naming a profile and the highest level
    /// (`avc1.640028`: High up to 4.0; `hvc1.2.4.L153`: Main 10 up to 5.1).
    pub codecs: Vec<String>,
    /// Dynamic ranges the device and display show; empty: all. Tracks without
    /// signalling count as SDR.
    pub video_ranges: Vec<VideoRange>,
    /// The output's HDCP version (`None`: unknown, nothing removed); tracks whose HLS
    /// `HDCP-LEVEL` needs more are not chosen.
    pub hdcp: Option<HdcpLevel>,
    /// The player's on-screen size in device pixels: tracks beyond the smallest one that
    /// covers it are not chosen (hls.js `capLevelToPlayerSize`).
    pub viewport: Option<Size>,
    /// The device's DRM is software-only (Widevine L3, PlayReady SL2000): protected video
    /// taller than this is not chosen (licences for HD usually demand hardware DRM).
    pub software_drm_max_height: Option<u32>,
}

/// Width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Size {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

/// HDCP protection of the video output, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum HdcpLevel {
    /// No HDCP.
    None,
    /// HDCP 1.x (HLS `TYPE-0`).
    Type0,
    /// HDCP 2.2 or later (HLS `TYPE-1`).
    Type1,
}
