//! What the sample sink hands a platform decoder (MediaCodec, VideoToolbox): access units
//! with exact times, the codec configuration they need, and per-sample encryption for the
//! CDM. Every reader (fMP4, MPEG-TS, Smooth) produces these, and the fMP4 writer consumes
//! them.

use super::init::Handler;
use crate::time::Timescale;

/// A decoder configuration record, as the container carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CodecRecord {
    /// H.264: an AVCDecoderConfigurationRecord (the body of `avcC`, ISO/IEC 14496-15 5.3.3).
    Avc(Vec<u8>),
    /// H.265: an HEVCDecoderConfigurationRecord (the body of `hvcC`, ISO/IEC 14496-15 8.3.3).
    Hevc(Vec<u8>),
    /// AAC and other MPEG-4 audio: the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1).
    Aac(Vec<u8>),
    /// AC-3: the body of `dac3` (ETSI TS 102 366 F.4), 3 bytes.
    Ac3(Vec<u8>),
    /// E-AC-3: the body of `dec3` (ETSI TS 102 366 F.6).
    Ec3(Vec<u8>),
    /// Opus: the body of `dOps`.
    Opus(Vec<u8>),
    /// ID3 timed metadata (MPEG-TS stream type 0x15); samples are whole ID3v2 tags.
    Id3,
    /// Anything else: the sample entry type and its first child box body, as found.
    Other {
        /// Sample entry fourcc.
        fourcc: [u8; 4],
        /// The configuration bytes, possibly empty.
        bytes: Vec<u8>,
    },
}

/// How a track is encrypted (ISO/IEC 23001-7: `schm` and `tenc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TrackProtection {
    /// `cenc`, `cbcs`, `cens` or `cbc1`.
    pub scheme: [u8; 4],
    /// `tenc` default_KID.
    pub default_kid: [u8; 16],
    /// `tenc` default_Per_Sample_IV_Size: 0, 8 or 16 (0: the constant IV is used).
    pub default_iv_size: u8,
    /// `tenc` default_constant_IV (when the IV size is 0).
    pub default_constant_iv: Option<Vec<u8>>,
    /// Pattern encryption (`cbcs`, `cens`): encrypted 16-byte blocks per pattern.
    pub crypt_byte_block: u8,
    /// Pattern encryption: clear 16-byte blocks per pattern.
    pub skip_byte_block: u8,
}

/// What a decoder is set up with for one track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CodecConfig {
    /// Track id: the `tkhd` track_ID, or for MPEG-TS the PID.
    pub track_id: u32,
    /// Video, audio or other.
    pub handler: Handler,
    /// RFC 6381 codecs parameter (`avc1.64001f`, `mp4a.40.2`, `ac-3`), when known.
    pub codec: Option<String>,
    /// Ticks per second of the samples' times (90 kHz for MPEG-TS).
    pub timescale: Timescale,
    /// The configuration record.
    pub record: CodecRecord,
    /// Video width in pixels.
    pub width: Option<u32>,
    /// Video height in pixels.
    pub height: Option<u32>,
    /// Audio channel count.
    pub channels: Option<u32>,
    /// Audio sample rate in Hz.
    pub sample_rate: Option<u32>,
    /// Encryption, when the track is protected.
    pub protection: Option<TrackProtection>,
}

impl CodecConfig {
    /// An unprotected video track's configuration from its parameter sets: codecs string,
    /// record and picture size.
    pub(crate) fn video(
        track_id: u32,
        timescale: Timescale,
        codec: String,
        record: CodecRecord,
        (width, height): (u32, u32),
    ) -> Self {
        CodecConfig {
            track_id,
            handler: Handler::Video,
            codec: Some(codec),
            timescale,
            record,
            width: Some(width),
            height: Some(height),
            channels: None,
            sample_rate: None,
            protection: None,
        }
    }
}

/// One range of a subsample-encrypted sample: `clear` bytes, then `protected` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Subsample {
    /// Bytes in the clear.
    pub clear: u32,
    /// Encrypted bytes that follow.
    pub protected: u32,
}

/// How one sample is encrypted (`senc`, or `saiz`/`saio` auxiliary information).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SampleEncryption {
    /// The per-sample IV (empty when the track's constant IV applies).
    pub iv: Vec<u8>,
    /// Subsample map; empty: the whole sample is encrypted.
    pub subsamples: Vec<Subsample>,
}

/// One access unit: a video frame or an audio frame, in decode order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AccessUnit {
    /// The track ([`CodecConfig::track_id`]).
    pub track_id: u32,
    /// Decode time, in ticks of the track's timescale.
    pub dts: i64,
    /// Presentation time, in ticks of the track's timescale.
    pub pts: i64,
    /// Duration in ticks (0 when unknown).
    pub duration: u32,
    /// A random access point (IDR / IRAP for video; every audio frame).
    pub keyframe: bool,
    /// The bytes. H.264 and H.265 are NAL units each preceded by a 4-byte big-endian
    /// length (the MP4 form VideoToolbox takes; see [`annex_b`] for MediaCodec). AAC is
    /// the raw frame without ADTS header; AC-3 the whole sync frame.
    pub data: Vec<u8>,
    /// Encryption of this sample, when protected.
    pub encryption: Option<SampleEncryption>,
}

/// The samples of one segment, with the configurations that apply to them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Samples {
    /// The configuration of every track the samples belong to.
    pub configs: Vec<CodecConfig>,
    /// Access units, in decode order per track.
    pub units: Vec<AccessUnit>,
}

/// Converts length-prefixed NAL units (`nal_length_size` bytes each, 1 to 4) to Annex B
/// byte stream form with 4-byte start codes, as MediaCodec takes them. A length running
/// past the end stops the conversion at the last whole NAL unit.
pub fn annex_b(data: &[u8], nal_length_size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    let mut rest = data;
    let n = nal_length_size.clamp(1, 4);
    while rest.len() >= n {
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        let Some(nal) = rest.get(n..n + len) else {
            break;
        };
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
        rest = &rest[n + len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_replaces_lengths_with_start_codes() {
        let mp4 = [0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 1, 0x06];
        assert_eq!(annex_b(&mp4, 4), [0, 0, 0, 1, 0x65, 0xaa, 0, 0, 0, 1, 0x06]);
        // A length past the end keeps only the whole units before it.
        assert_eq!(annex_b(&[0, 0, 0, 1, 9, 0, 0, 0, 5, 1], 4), [0, 0, 0, 1, 9]);
        assert_eq!(
            annex_b(&[1, 7, 2, 8, 9], 1),
            [0, 0, 0, 1, 7, 0, 0, 0, 1, 8, 9]
        );
    }
}
