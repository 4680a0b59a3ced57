//! Reading media containers: ISO BMFF (fMP4 init and media segments) and MPEG-TS.
//!
//! The foundation of a sample sink. Like the rest of the core it does no I/O: every call
//! takes the bytes of one segment and returns plain data. Work is bounded by the input:
//! no recursion beyond fixed box paths, no allocation sized by a length field (counts are
//! capped by the bytes that remain), and bad input is a [`MediaError`](crate::media::MediaError), never a panic.
//! Times are integer ticks: a track's [`Timescale`](crate::Timescale) for ISO BMFF, 90 kHz
//! for MPEG-TS.

mod aac;
pub mod avc;
mod bits;
pub mod bmff;
pub mod emsg;
pub mod es;
#[doc(hidden)]
pub mod exercise;
pub mod fragment;
pub mod hevc;
pub mod id3;
pub mod init;
pub mod mux;
pub mod protection;
mod reader;
pub mod sample;
pub mod scte35;
pub mod sidx;
pub mod smooth;
pub mod ts;
mod write;

pub use bmff::{Boxes, Mp4Box, boxes, find};
pub use fragment::{Sample, TrackRun, fragment_samples, parse_fragment, tfdt_positions};
pub use init::{AvcConfig, Handler, InitInfo, SampleEntry, TrackInfo, TrexDefaults, parse_init};
pub use sample::{
    AccessUnit, CodecConfig, CodecRecord, SampleEncryption, Samples, Subsample, TrackProtection,
    annex_b,
};
pub use ts::{AdtsFrame, Pes, adts_frames, demux, shift_ts_timestamps};

/// Why media bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The input ends inside a structure.
    #[error("truncated {what}")]
    Truncated {
        /// The structure cut short.
        what: &'static str,
    },
    /// An ISO BMFF box breaks a rule of ISO/IEC 14496-12 (or -14, -15).
    #[error("box '{}': {reason}", fourcc.escape_ascii())]
    BadBox {
        /// The box type.
        fourcc: [u8; 4],
        /// The rule broken.
        reason: &'static str,
    },
    /// A required structure is absent.
    #[error("missing {what}")]
    Missing {
        /// What was looked for.
        what: &'static str,
    },
    /// Valid, but outside what this module reads.
    #[error("unsupported: {what}")]
    Unsupported {
        /// The feature.
        what: String,
    },
    /// MPEG-TS breaks a rule of ISO/IEC 13818-1.
    #[error("MPEG-TS: {reason}")]
    BadTs {
        /// The rule broken.
        reason: &'static str,
    },
    /// An ADTS header breaks a rule of ISO/IEC 14496-3 (1.A.2).
    #[error("ADTS at byte {offset}: {reason}")]
    BadAdts {
        /// Offset of the frame in the input.
        offset: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// An elementary stream (H.264, H.265, AC-3 ...) breaks a rule of its specification.
    #[error("{codec}: {reason}")]
    BadStream {
        /// The codec or syntax (`H.264 SPS`, `AC-3`).
        codec: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
    /// A timed-metadata or signalling payload (ID3, SCTE-35, emsg) is malformed.
    #[error("{format}: {reason}")]
    BadMetadata {
        /// `ID3`, `SCTE-35`, `emsg`.
        format: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
    /// The input asks for more than the readers allow (a count or size limit).
    #[error("limit exceeded: {what}")]
    Limit {
        /// Which limit.
        what: &'static str,
    },
}

/// Result of the media readers.
pub type Result<T, E = MediaError> = std::result::Result<T, E>;

/// Test support: the committed media of `conformance/media` and corrupted copies of it.
#[cfg(test)]
pub(crate) mod testing {
    /// A file of `conformance/media` (made by its `make.sh`).
    pub(crate) fn media(path: &str) -> Vec<u8> {
        let full = format!("{}/../conformance/media/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    /// The bytes of hex digits (a fixture written out as text).
    pub(crate) fn hex(digits: &str) -> Vec<u8> {
        crate::text::hex_decode(digits).unwrap_or_else(|| panic!("not hex: {digits}"))
    }

    /// `n` copies of `data`, each with three bits flipped in its first `span` bytes (seeded).
    pub(crate) fn flipped(
        data: &[u8],
        span: usize,
        n: usize,
    ) -> impl Iterator<Item = Vec<u8>> + '_ {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let span = span.min(data.len()).max(1);
        (0..n).map(move |_| {
            let mut copy = data.to_vec();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if let Some(b) = copy.get_mut((x >> 3) as usize % span) {
                    *b ^= 1 << (x % 8);
                }
            }
            copy
        })
    }
}
