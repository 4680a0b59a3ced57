//! Model, DRM and media types the engine's API names, declared for UniFFI (see
//! [`super::engine`]).

use playhead::drm::{
    DrmConfig, InitDataType, KeyStatus, KeySystemSupport, LicenseServer, MessageKind, Platform,
    SessionType, Wrapping,
};
use playhead::media::{
    AccessUnit, CodecConfig, CodecRecord, Handler, SampleEncryption, Samples, Subsample,
    TrackProtection,
};
use playhead::model::{ByteRange, ContentType, KeySystem, ManifestFormat, NameValue, VideoRange};
use playhead::{FrameRate, Timescale};

use super::{FourCc, KeyBytes};

/// Which manifest format a presentation was read from.
#[uniffi::remote(Enum)]
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

/// Kind of media a switching set carries.
#[uniffi::remote(Enum)]
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

/// HDR signalling: the transfer characteristics.
#[uniffi::remote(Enum)]
pub enum VideoRange {
    /// Standard dynamic range.
    Sdr,
    /// Perceptual quantizer (HDR10, Dolby Vision PQ); CICP 16.
    Pq,
    /// Hybrid log-gamma; CICP 18.
    Hlg,
}

/// A DRM key system, identified by its DASH/CENC system id.
#[uniffi::remote(Enum)]
pub enum KeySystem {
    /// Widevine: edef8ba9-79d6-4ace-a3c8-27dcd51d21ed.
    Widevine,
    /// PlayReady: 9a04f079-9840-4286-ab92-e65be0885f95.
    PlayReady,
    /// FairPlay: 94ce86fb-07ff-4f43-adb8-93d2fa968ca2.
    FairPlay,
    /// W3C ClearKey: e2719d58-a985-b3c9-781a-b030af78d30e.
    ClearKey,
    /// W3C common PSSH: 1077efec-c0b2-4d02-ace3-3c1e52e2fb4b.
    CommonPssh,
    /// `urn:mpeg:dash:mp4protection:2011`: the scheme signal, not a key system.
    Mp4Protection,
    /// HLS `KEYFORMAT="identity"` (AES-128 with a key from the URI).
    Identity,
    /// Anything else: the scheme URI or KEYFORMAT as written (lowercased).
    Other(String),
}

/// A byte range of a resource.
#[uniffi::remote(Record)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Number of bytes; `None` means to the end of the resource.
    pub length: Option<u64>,
}

/// A name and its value as written (HLS `EXT-X-DEFINE` variables, DATERANGE `X-` attributes).
#[uniffi::remote(Record)]
pub struct NameValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A frame rate as an exact ratio (`30000/1001`).
#[uniffi::remote(Record)]
pub struct FrameRate {
    /// Frames per `den` seconds.
    pub num: u32,
    /// Seconds (never zero).
    pub den: u32,
}

/// The status of one key in a CDM session (EME `MediaKeyStatus`).
#[uniffi::remote(Enum)]
pub enum KeyStatus {
    /// The key can decrypt.
    Usable,
    /// The licence expired.
    Expired,
    /// The session was released.
    Released,
    /// The output (HDCP, screen capture) does not meet the licence: the tracks this key
    /// protects cannot be shown here.
    OutputRestricted,
    /// The output is downscaled to meet the licence; playback goes on.
    OutputDownscaled,
    /// Not known yet.
    StatusPending,
    /// The CDM failed with this key.
    InternalError,
    /// Usable later (a licence with a future start).
    UsableInFuture,
}

/// The EME init data type.
#[uniffi::remote(Enum)]
pub enum InitDataType {
    /// One or more `pssh` boxes (`cenc`).
    Cenc,
    /// `{"kids":[...]}` (W3C `keyids`, ClearKey).
    KeyIds,
    /// A FairPlay `skd://` URI, UTF-8 (`skd`).
    Skd,
}

/// Why the CDM sent a message (EME `MediaKeyMessageType`).
#[uniffi::remote(Enum)]
pub enum MessageKind {
    /// The first licence request of a session (FairPlay: the SPC).
    LicenseRequest,
    /// A renewal of an active licence.
    LicenseRenewal,
    /// A release of a persistent licence.
    LicenseRelease,
    /// Device provisioning (sent to the licence server too).
    IndividualizationRequest,
}

/// EME session type.
#[uniffi::remote(Enum)]
pub enum SessionType {
    /// The licence lives as long as the session (EME `temporary`).
    Temporary,
    /// The licence is stored by the CDM for offline or faster restart
    /// (`persistent-license`), when the system supports it.
    PersistentLicense,
}

/// One key system the host's CDM supports.
#[uniffi::remote(Record)]
pub struct KeySystemSupport {
    /// The system.
    pub system: KeySystem,
    /// Robustness levels it offers, best first (`HW_SECURE_ALL`, `SW_SECURE_CRYPTO`, `3000`);
    /// empty: the CDM's default.
    pub robustness: Vec<String>,
    /// Whether it stores licences (`persistent-license`).
    pub persistent_license: bool,
    /// Encryption schemes it decrypts (`cenc`, `cbcs`); empty: any.
    pub schemes: Vec<String>,
}

/// How a CDM message travels to the licence server and the licence comes back.
#[uniffi::remote(Enum)]
pub enum Wrapping {
    /// The message is the body; the body is the licence (Widevine, PlayReady, ClearKey).
    Raw,
    /// A JSON envelope: `{"<request_field>": "<base64 message>"}` out, and the base64
    /// licence in `<response_field>` of the JSON answer.
    Json {
        /// Field of the request object holding the base64 message.
        request_field: String,
        /// Field of the answer holding the base64 licence.
        response_field: String,
    },
    /// FairPlay as Apple's sample key server takes it: `spc=<base64 SPC>&assetId=<content
    /// id>` form-encoded out; the base64 CKC back, bare or in `<ckc>..</ckc>`.
    FairPlayForm,
}

/// Where and how to request licences for one key system.
#[uniffi::remote(Record)]
pub struct LicenseServer {
    /// The key system.
    pub system: KeySystem,
    /// Licence URL; `None`: the one in the manifest (`dashif:Laurl`, PlayReady `LA_URL`).
    pub url: Option<String>,
    /// Headers sent with every licence request (tokens, content type).
    pub headers: Vec<NameValue>,
    /// Envelope of request and answer.
    pub wrapping: Wrapping,
    /// Server certificate URL (FairPlay needs one; Widevine may use one for privacy mode).
    pub certificate_url: Option<String>,
}

/// DRM settings of the engine ([`Config::drm`](crate::engine::Config::drm)).
#[uniffi::remote(Record)]
pub struct DrmConfig {
    /// Key systems the host's CDM supports, most preferred first. Empty: protected content
    /// fails with [`DrmError::NoKeySystem`](super::DrmError::NoKeySystem).
    pub systems: Vec<KeySystemSupport>,
    /// Licence servers, one per key system.
    pub servers: Vec<LicenseServer>,
    /// Ask for stored licences where the chosen system supports them.
    pub session_type: SessionType,
}

/// Platforms with documented default key-system orders ([`DrmConfig::for_platform`]).
#[uniffi::remote(Enum)]
pub enum Platform {
    /// Chrome, Chromium and other Blink browsers on desktop.
    Chromium,
    /// Firefox.
    Firefox,
    /// Edge on Windows.
    Edge,
    /// Safari (macOS, iPadOS).
    Safari,
    /// Android and Android TV apps (MediaDrm).
    Android,
    /// iOS and tvOS apps (AVContentKeySession).
    Apple,
    /// Samsung Tizen TVs.
    Tizen,
    /// LG webOS TVs.
    WebOs,
    /// Chromecast receivers.
    Chromecast,
}

/// A decoder configuration record, as the container carries it.
#[uniffi::remote(Enum)]
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
        fourcc: FourCc,
        /// The configuration bytes, possibly empty.
        bytes: Vec<u8>,
    },
}

/// How a track is encrypted (ISO/IEC 23001-7: `schm` and `tenc`).
#[uniffi::remote(Record)]
pub struct TrackProtection {
    /// `cenc`, `cbcs`, `cens` or `cbc1`.
    pub scheme: FourCc,
    /// `tenc` default_KID.
    pub default_kid: KeyBytes,
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
#[uniffi::remote(Record)]
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

/// One range of a subsample-encrypted sample: `clear` bytes, then `protected` bytes.
#[uniffi::remote(Record)]
pub struct Subsample {
    /// Bytes in the clear.
    pub clear: u32,
    /// Encrypted bytes that follow.
    pub protected: u32,
}

/// How one sample is encrypted (`senc`, or `saiz`/`saio` auxiliary information).
#[uniffi::remote(Record)]
pub struct SampleEncryption {
    /// The per-sample IV (empty when the track's constant IV applies).
    pub iv: Vec<u8>,
    /// Subsample map; empty: the whole sample is encrypted.
    pub subsamples: Vec<Subsample>,
}

/// One access unit: a video frame or an audio frame, in decode order.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Record)]
pub struct Samples {
    /// The configuration of every track the samples belong to.
    pub configs: Vec<CodecConfig>,
    /// Access units, in decode order per track.
    pub units: Vec<AccessUnit>,
}

/// The track's kind, from `hdlr`.
#[uniffi::remote(Enum)]
pub enum Handler {
    /// `vide`.
    Video,
    /// `soun`.
    Audio,
    /// Any other handler type (`text`, `subt`, `meta`, ...).
    Other(FourCc),
}
