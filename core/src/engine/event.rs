//! Events the engine reports, and the classes of its errors.

use crate::drm::KeyStatus;
use crate::model::{ContentType, KeySystem, Kid, ManifestFormat};
use crate::time::{Micros, UnixMicros};

use super::cues::{Cue, CueKind};
use super::io::{DrmSessionId, RequestKind};

/// The class of an error: what went wrong, in terms a host can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ErrorClass {
    /// A manifest or playlist could not be read or refreshed.
    Manifest,
    /// The server answered with an HTTP error.
    Http,
    /// No response: network failure, truncated body.
    Network,
    /// No response in time.
    Timeout,
    /// A live playlist stopped growing.
    Stale,
    /// No track the device can play.
    NoPlayableTracks,
    /// DRM.
    Drm,
}

impl ErrorClass {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Manifest => "manifest",
            ErrorClass::Http => "http",
            ErrorClass::Network => "network",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Stale => "stale",
            ErrorClass::NoPlayableTracks => "no-playable-tracks",
            ErrorClass::Drm => "drm",
        }
    }
}

/// An error that ends playback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[error("{} error{}: {cause}", class.name(), kind.map(|k| format!(" on {}", k.name())).unwrap_or_default())]
pub struct FatalError {
    /// Class.
    pub class: ErrorClass,
    /// The request kind that failed last, if a request.
    pub kind: Option<RequestKind>,
    /// The last cause, in words (status, URL, parser message).
    pub cause: String,
}

/// Why the video (or audio) track changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum SwitchReason {
    /// First choice.
    Initial,
    /// Throughput allows more.
    AbrUp,
    /// Throughput or buffer require less.
    AbrDown,
    /// The app chose a track, or returned to adaptive.
    Manual,
    /// Device capabilities changed.
    Capabilities,
    /// A new period (DASH multi-period) has its own tracks.
    Period,
    /// The rendition on screen dropped too many frames and is banned for a while.
    DroppedFrames,
}

impl SwitchReason {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            SwitchReason::Initial => "initial",
            SwitchReason::AbrUp => "abr-up",
            SwitchReason::AbrDown => "abr-down",
            SwitchReason::Manual => "manual",
            SwitchReason::Capabilities => "capabilities",
            SwitchReason::Period => "period",
            SwitchReason::DroppedFrames => "dropped-frames",
        }
    }
}

/// Why requests moved to another location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum LocationReason {
    /// A request failed there.
    Failure,
    /// Its live playlist went stale.
    Stale,
    /// The steering server ranked another pathway first.
    Steering,
    /// The penalty of a preferred location ended.
    Recovered,
}

impl LocationReason {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            LocationReason::Failure => "failure",
            LocationReason::Stale => "stale",
            LocationReason::Steering => "steering",
            LocationReason::Recovered => "recovered",
        }
    }
}

/// The live window, in presentation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LiveWindow {
    /// Earliest position that can be played.
    pub start: Micros,
    /// Latest position the engine plays from (the live edge minus the live delay).
    pub edge: Micros,
    /// End of the newest available media.
    pub end: Micros,
    /// Live delay in effect.
    pub delay: Micros,
    /// Wall-clock time of presentation time 0, when known (DASH availability start, HLS
    /// program-date-time): `position + wall_at_zero` is the wall-clock time on screen.
    pub wall_at_zero: Option<UnixMicros>,
}

/// Something the host may show, log or count.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "event", rename_all = "kebab-case"))]
pub enum Event {
    /// The manifest was read.
    Loaded {
        /// Format.
        format: ManifestFormat,
        /// Live or VOD.
        live: bool,
        /// Duration, for VOD.
        duration: Option<Micros>,
    },
    /// A track was chosen for a decoder input.
    TrackSelected {
        /// Which input.
        content_type: ContentType,
        /// Previous track id.
        from: Option<String>,
        /// New track id.
        to: String,
        /// Its bandwidth.
        bandwidth: u64,
        /// Why.
        reason: SwitchReason,
    },
    /// The live window moved (after a refresh) or was first known.
    LiveWindow(LiveWindow),
    /// A seek target outside the window was clamped, or playback was moved forward because
    /// the live window slid past its position (or past the segment it needed next).
    SeekClamped {
        /// Asked for.
        requested: Micros,
        /// Used.
        position: Micros,
    },
    /// Requests now go to another location.
    LocationChanged {
        /// Previous location name.
        from: String,
        /// New location name.
        to: String,
        /// Why.
        reason: LocationReason,
    },
    /// A request failed and will be retried.
    Retry {
        /// What.
        kind: RequestKind,
        /// Failures so far for this request.
        attempt: u32,
        /// Wait before the retry.
        delay: Micros,
        /// Cause.
        cause: String,
    },
    /// A live playlist or MPD stopped growing.
    Stale {
        /// Location name.
        location: String,
    },
    /// The wall clock was corrected from the server's.
    ClockSynced {
        /// Server time minus local wall time.
        offset: Micros,
    },
    /// The steering server set the pathway order.
    Steered {
        /// Pathway priority.
        priority: Vec<String>,
    },
    /// Playback waits for data.
    StallStarted {
        /// Position.
        position: Micros,
    },
    /// Playback resumed.
    StallEnded {
        /// Stall length.
        duration: Micros,
    },
    /// The first frame was shown.
    FirstFrame {
        /// From the load command.
        startup: Micros,
    },
    /// A live stream ended: it is now VOD with this duration; playback continues.
    LiveEnded {
        /// Final duration.
        duration: Micros,
    },
    /// A fetched segment could not be read for the decoder (see
    /// [`SinkMode`](super::SinkMode)); it was skipped and playback goes on.
    MediaSkipped {
        /// Which input.
        content_type: ContentType,
        /// Track id.
        track: String,
        /// Presentation time the segment covered.
        start: Micros,
        /// Why.
        cause: String,
    },
    /// An ad break or timed metadata, announced once, ahead of its time when the stream
    /// allows.
    Cue(Cue),
    /// The key system was chosen (once per load).
    KeySystemSelected {
        /// The system.
        system: KeySystem,
        /// Robustness asked for.
        robustness: Option<String>,
    },
    /// A key's status changed (a licence arrived, expired, or the output changed).
    KeyStatusChanged {
        /// Key id.
        kid: Kid,
        /// New status.
        status: KeyStatus,
    },
    /// A licence renewal reached the CDM.
    LicenseRenewed {
        /// The session.
        session: DrmSessionId,
    },
    /// Playback reached the end.
    Ended,
    /// Playback stopped for good.
    Error(FatalError),
}

fn secs(t: Micros) -> String {
    let ms = t.0 / 1000;
    let sign = if ms < 0 { "-" } else { "" };
    format!("{sign}{}.{:03}", (ms / 1000).abs(), (ms % 1000).abs())
}

impl std::fmt::Display for Event {
    /// One line, for logs and transcripts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Loaded {
                format,
                live,
                duration,
            } => write!(
                f,
                "loaded {format} {}{}",
                if *live { "live" } else { "vod" },
                duration
                    .map(|d| format!(" duration {}", secs(d)))
                    .unwrap_or_default()
            ),
            Event::TrackSelected {
                content_type,
                from,
                to,
                bandwidth,
                reason,
            } => write!(
                f,
                "track-selected {} {} -> {to} ({bandwidth} bit/s, {})",
                format!("{content_type:?}").to_lowercase(),
                from.as_deref().unwrap_or("-"),
                reason.name()
            ),
            Event::LiveWindow(w) => write!(
                f,
                "live-window [{}, {}] edge {} delay {}",
                secs(w.start),
                secs(w.end),
                secs(w.edge),
                secs(w.delay)
            ),
            Event::SeekClamped {
                requested,
                position,
            } => {
                write!(
                    f,
                    "seek-clamped {} -> {}",
                    secs(*requested),
                    secs(*position)
                )
            }
            Event::LocationChanged { from, to, reason } => {
                write!(f, "location-changed {from} -> {to} ({})", reason.name())
            }
            Event::Retry {
                kind,
                attempt,
                delay,
                cause,
            } => write!(
                f,
                "retry {} attempt {attempt} in {}: {cause}",
                kind.name(),
                secs(*delay)
            ),
            Event::Stale { location } => write!(f, "stale {location}"),
            Event::ClockSynced { offset } => write!(f, "clock-synced offset {}", secs(*offset)),
            Event::Steered { priority } => write!(f, "steered {}", priority.join(",")),
            Event::StallStarted { position } => write!(f, "stall-started at {}", secs(*position)),
            Event::StallEnded { duration } => write!(f, "stall-ended after {}", secs(*duration)),
            Event::FirstFrame { startup } => write!(f, "first-frame after {}", secs(*startup)),
            Event::LiveEnded { duration } => write!(f, "live-ended duration {}", secs(*duration)),
            Event::MediaSkipped {
                content_type,
                track,
                start,
                cause,
            } => write!(
                f,
                "media-skipped {} {track} at {}: {cause}",
                format!("{content_type:?}").to_lowercase(),
                secs(*start)
            ),
            Event::Cue(c) => write!(
                f,
                "cue {} {:?} '{}' {} at {}{}",
                match c.kind {
                    CueKind::AdStart => "ad-start",
                    CueKind::AdEnd => "ad-end",
                    CueKind::Metadata => "metadata",
                },
                c.source,
                c.scheme,
                c.id,
                secs(c.start),
                c.duration
                    .map(|d| format!(" for {}", secs(d)))
                    .unwrap_or_default()
            ),
            Event::KeySystemSelected { system, robustness } => write!(
                f,
                "key-system-selected {system}{}",
                robustness
                    .as_ref()
                    .map(|r| format!(" robustness {r}"))
                    .unwrap_or_default()
            ),
            Event::KeyStatusChanged { kid, status } => {
                write!(f, "key-status {kid} {status}")
            }
            Event::LicenseRenewed { session } => write!(f, "license-renewed {session}"),
            Event::Ended => write!(f, "ended"),
            Event::Error(e) => write!(f, "error {e}"),
        }
    }
}
