//! Every type the API names. Most restate a `playhead` type for UniFFI (`engine`, `model`);
//! newtypes cross as their inner value (custom types below); the few core types with tuple
//! fields cross through a bridge record of the same shape.

mod engine;
mod model;

use playhead::engine::{DrmSessionId, ErrorClass, RequestId, Switch};
use playhead::model::{ContentType, Kid};
use playhead::{Micros, Timescale, UnixMicros};

use crate::PlayerError;

uniffi::custom_type!(Micros, i64, {
    remote,
    lower: |m| m.0,
    try_lift: |v| Ok(Micros(v)),
});

uniffi::custom_type!(UnixMicros, i64, {
    remote,
    lower: |m| m.0,
    try_lift: |v| Ok(UnixMicros(v)),
});

uniffi::custom_type!(RequestId, u64, {
    remote,
    lower: |r| r.0,
    try_lift: |v| Ok(RequestId(v)),
});

uniffi::custom_type!(DrmSessionId, u32, {
    remote,
    lower: |s| s.0,
    try_lift: |v| Ok(DrmSessionId(v)),
});

/// A value the core's type cannot hold: refused as [`PlayerError::InvalidInput`] (UniFFI
/// hands a lift error of the function's own error type to the host as that error).
fn bad_value(reason: String) -> uniffi::deps::anyhow::Error {
    uniffi::deps::anyhow::Error::new(PlayerError::InvalidInput {
        kind: "bad-value".to_owned(),
        reason,
    })
}

fn exact<const N: usize>(what: &str, v: &[u8]) -> uniffi::Result<[u8; N]> {
    <[u8; N]>::try_from(v).map_err(|_| bad_value(format!("{what}: {} bytes, want {N}", v.len())))
}

uniffi::custom_type!(Kid, Vec<u8>, {
    remote,
    lower: |k| k.0.to_vec(),
    try_lift: |v| Ok(Kid(exact("key id", &v)?)),
});

uniffi::custom_type!(Timescale, u32, {
    remote,
    lower: |t| t.get(),
    try_lift: |v| Timescale::new(v).ok_or_else(|| bad_value("timescale 0".to_owned())),
});

/// A four-character code (sample entry, handler, protection scheme), as 4 bytes.
pub type FourCc = [u8; 4];
uniffi::custom_type!(FourCc, Vec<u8>, {
    remote,
    lower: |f| f.to_vec(),
    try_lift: |v| exact("four-character code", &v),
});

/// A 16-byte key id, as bytes.
pub type KeyBytes = [u8; 16];
uniffi::custom_type!(KeyBytes, Vec<u8>, {
    remote,
    lower: |k| k.to_vec(),
    try_lift: |v| exact("key id", &v),
});

/// A presentation time range, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TimeRange {
    /// Start.
    pub start: Micros,
    /// End.
    pub end: Micros,
}

/// Buffered time ranges of one decoder input (one MSE SourceBuffer, one MediaCodec).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BufferedRanges {
    /// Which input.
    pub content_type: ContentType,
    /// Ranges in presentation time, sorted.
    pub ranges: Vec<TimeRange>,
}

/// The core's `Buffered` (ranges as pairs) crosses as [`BufferedRanges`].
pub(crate) type Buffered = playhead::engine::Buffered;
uniffi::custom_type!(Buffered, BufferedRanges, {
    remote,
    lower: |b| BufferedRanges {
        content_type: b.content_type,
        ranges: b.ranges.into_iter().map(|(start, end)| TimeRange { start, end }).collect(),
    },
    try_lift: |b| Ok(Buffered {
        content_type: b.content_type,
        ranges: b.ranges.into_iter().map(|r| (r.start, r.end)).collect(),
    }),
});

/// Failed requests and fatal errors of one class.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorCount {
    /// The class.
    pub error_class: ErrorClass,
    /// How many.
    pub count: u32,
}

/// Bytes received from one location.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CdnBytes {
    /// CDN name.
    pub cdn: String,
    /// Bytes.
    pub bytes: u64,
}

/// QoE statistics of one session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Stats {
    /// From the load command to the first media handed to the decoder.
    pub time_to_first_media: Option<Micros>,
    /// From the load command to the first frame the host reported.
    pub startup_time: Option<Micros>,
    /// Stalls after the first frame (seeks excluded).
    pub stall_count: u32,
    /// Their total duration.
    pub stall_time: Micros,
    /// Time spent playing.
    pub play_time: Micros,
    /// Video track switches (the first choice included); the most recent 256 are kept.
    pub switches: Vec<Switch>,
    /// All switches, including those no longer in `switches`.
    pub switch_count: u32,
    /// Time-weighted average bandwidth of the video track while playing, bits per second.
    pub average_bitrate: u64,
    /// Frames dropped, as the host reported.
    pub dropped_frames: u64,
    /// Frames decoded, as the host reported.
    pub decoded_frames: u64,
    /// Failed requests and fatal errors by class.
    pub errors: Vec<ErrorCount>,
    /// Retries performed.
    pub retries: u32,
    /// Location (CDN) changes.
    pub location_changes: u32,
    /// Location requests go to now.
    pub cdn: Option<String>,
    /// Bytes received per location.
    pub bytes_by_cdn: Vec<CdnBytes>,
    /// Last throughput estimate, bits per second.
    pub bandwidth_estimate: u64,
    /// Position behind the live edge when last reported (live only).
    pub live_latency: Option<Micros>,
}

impl From<&playhead::engine::Stats> for Stats {
    fn from(s: &playhead::engine::Stats) -> Self {
        Stats {
            time_to_first_media: s.time_to_first_media,
            startup_time: s.startup_time,
            stall_count: s.stall_count,
            stall_time: s.stall_time,
            play_time: s.play_time,
            switches: s.switches.clone(),
            switch_count: s.switch_count,
            average_bitrate: s.average_bitrate,
            dropped_frames: s.dropped_frames,
            decoded_frames: s.decoded_frames,
            errors: s
                .errors
                .iter()
                .map(|&(error_class, count)| ErrorCount { error_class, count })
                .collect(),
            retries: s.retries,
            location_changes: s.location_changes,
            cdn: s.cdn.clone(),
            bytes_by_cdn: s
                .bytes_by_cdn
                .iter()
                .map(|(cdn, bytes)| CdnBytes {
                    cdn: cdn.clone(),
                    bytes: *bytes,
                })
                .collect(),
            bandwidth_estimate: s.bandwidth_estimate,
            live_latency: s.live_latency,
        }
    }
}
