//! What goes in and out of the engine: the host's inputs, the engine's outputs, and the
//! requests that connect them.

use crate::drm::{InitDataType, KeyStatus, MessageKind, SessionType};
use crate::model::{ByteRange, ContentType, KeySystem, Kid, NameValue};
use crate::time::{Micros, UnixMicros};

use super::config::{Capabilities, Preferences};
use super::event::Event;
use super::sink::Payload;

/// The current time, as the host sees it. Timers run on `mono`; live windows, availability
/// and program-date-time use `wall`. The engine never reads a clock of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Now {
    /// Monotonic time from any origin (`performance.now()`, `Instant`, `SystemClock.elapsedRealtime`).
    pub mono: Micros,
    /// Wall-clock time (`Date.now()`), possibly wrong: the engine corrects it with the
    /// presentation's clock-sync sources.
    pub wall: UnixMicros,
}

/// Identifies a request the engine asked for; responses and failures name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct RequestId(pub u64);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One manifest location of the load list a backend hands out (several CDNs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Source {
    /// Manifest URL (absolute http or https).
    pub url: String,
    /// CDN name, for stats and events; defaults to the URL's host.
    pub cdn: Option<String>,
    /// Lower is preferred; equal priorities keep list order.
    pub priority: u32,
}

/// Where to move the playhead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SeekTarget {
    /// A presentation time (clamped to the DVR window when live).
    Position(Micros),
    /// The live edge (the start, for VOD).
    LiveEdge,
    /// The start of the DVR window ("start over"), or 0 for VOD.
    WindowStart,
}

/// What the viewer or the app asks for.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Command {
    /// Load a presentation from one of several locations (tried by priority, then failed over).
    Load {
        /// The load list.
        sources: Vec<Source>,
        /// Where to start; `None`: the manifest's start offset, or the live edge.
        start: Option<SeekTarget>,
    },
    /// The viewer pressed play.
    Play,
    /// The viewer pressed pause.
    Pause,
    /// Move the playhead.
    Seek(SeekTarget),
    /// Language and track choices.
    SetPreferences(Preferences),
    /// What the device can decode and display.
    SetCapabilities(Capabilities),
    /// Stop: cancel every request; the player can be loaded again.
    Stop,
}

/// A response body: either the bytes (for what the engine must read: manifests, keys,
/// licences, init segments it parses) or only the size, when the host kept the bytes to
/// append to its decoder itself (see [`Delivery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Body {
    /// The bytes.
    Bytes(Vec<u8>),
    /// The host holds the bytes; this many.
    Held {
        /// Body size in bytes.
        size: u64,
    },
}

impl Body {
    /// Size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Held { size } => *size,
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An HTTP response to one of the engine's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Response {
    /// The request answered.
    pub id: RequestId,
    /// HTTP status.
    pub status: u16,
    /// Response headers the engine may need (`Date`, `Content-Type`, `Age`); names lower case.
    pub headers: Vec<NameValue>,
    /// The body.
    pub body: Body,
    /// When the first byte arrived (monotonic).
    pub first_byte_at: Micros,
    /// URL after redirects, when it differs from the request's.
    pub final_url: Option<String>,
}

/// Why a request produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum FailureClass {
    /// DNS, connection refused or reset, TLS.
    Network,
    /// The host's own timeout fired.
    Timeout,
    /// The body ended early.
    Truncated,
    /// The host aborted it (not after a cancellation from the engine).
    Aborted,
}

/// Whether the host's player is moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum PlayState {
    /// Paused by the viewer (or not started).
    Paused,
    /// Frames are being presented.
    Playing,
    /// Waiting for data (`waiting` event, buffering).
    Stalled,
    /// Reached the end.
    Ended,
}

/// Buffered time ranges of one decoder input (one MSE SourceBuffer).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Buffered {
    /// Which input.
    pub content_type: ContentType,
    /// Ranges in presentation time, sorted.
    pub ranges: Vec<(Micros, Micros)>,
}

/// The host player's state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Playback {
    /// Presentation time of the frame on screen.
    pub position: Micros,
    /// Moving or not.
    pub state: PlayState,
    /// What the decoder inputs hold (empty: the engine keeps its own account).
    pub buffered: Vec<Buffered>,
    /// Frames dropped since load.
    pub dropped_frames: u64,
    /// Frames decoded since load.
    pub decoded_frames: u64,
}

/// Identifies a CDM session the engine asked the host to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct DrmSessionId(pub u32);

impl std::fmt::Display for DrmSessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// What the engine asks of the host's CDM (EME `MediaKeys` / `MediaKeySession`, Android
/// `MediaDrm`, Apple `AVContentKeySession`). `Debug` shows the sizes of byte fields only.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CdmRequest {
    /// Give the CDM the licence server's certificate (FairPlay; Widevine privacy mode):
    /// EME `setServerCertificate`.
    SetServerCertificate {
        /// The key system.
        system: KeySystem,
        /// The certificate bytes.
        #[cfg_attr(feature = "serde", serde(serialize_with = "byte_count"))]
        certificate: Vec<u8>,
    },
    /// Create a session and generate a licence request from `init_data`: EME
    /// `createSession(session_type)` + `generateRequest(init_data_type, init_data)`. The
    /// CDM answers with [`CdmEvent::Message`].
    CreateSession {
        /// Name it in every event about it.
        session: DrmSessionId,
        /// Key system (EME name: [`KeySystem::eme_name`]).
        system: KeySystem,
        /// Robustness to ask `requestMediaKeySystemAccess` for, when chosen.
        robustness: Option<String>,
        /// Session type.
        session_type: SessionType,
        /// Init data type.
        init_data_type: InitDataType,
        /// Init data.
        #[cfg_attr(feature = "serde", serde(serialize_with = "byte_count"))]
        init_data: Vec<u8>,
    },
    /// Hand the licence server's answer to the session: EME `update`. The CDM answers with
    /// [`CdmEvent::KeyStatuses`] (or [`CdmEvent::Error`]).
    Update {
        /// The session.
        session: DrmSessionId,
        /// The licence (unwrapped). It holds key material: never log it.
        #[cfg_attr(feature = "serde", serde(serialize_with = "byte_count"))]
        license: Vec<u8>,
    },
    /// Close the session (EME `close`; a persistent licence stays stored).
    Close {
        /// The session.
        session: DrmSessionId,
    },
}

#[cfg(feature = "serde")]
fn byte_count<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{} bytes", b.len()))
}

impl std::fmt::Debug for CdmRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl std::fmt::Display for CdmRequest {
    /// One line, for logs and transcripts: sizes, never bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdmRequest::SetServerCertificate {
                system,
                certificate,
            } => {
                write!(
                    f,
                    "set-server-certificate {system} ({} bytes)",
                    certificate.len()
                )
            }
            CdmRequest::CreateSession {
                session,
                system,
                robustness,
                session_type,
                init_data_type,
                init_data,
            } => write!(
                f,
                "create-session {session} {system} {} {} ({} bytes){}",
                session_type.name(),
                init_data_type.name(),
                init_data.len(),
                robustness
                    .as_ref()
                    .map(|r| format!(" robustness {r}"))
                    .unwrap_or_default()
            ),
            CdmRequest::Update { session, license } => {
                write!(f, "update {session} ({} bytes)", license.len())
            }
            CdmRequest::Close { session } => write!(f, "close {session}"),
        }
    }
}

/// One key and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyStatusEntry {
    /// Key id.
    pub kid: Kid,
    /// Status.
    pub status: KeyStatus,
}

impl KeyStatusEntry {
    /// Reads an EME key-status map as hosts pass it: `kids` holds 16 bytes per key,
    /// `statuses` the EME spelling of each status.
    pub fn from_eme(kids: &[u8], statuses: &[String]) -> Result<Vec<KeyStatusEntry>, String> {
        let chunks = kids.chunks_exact(16);
        if !chunks.remainder().is_empty() || chunks.len() != statuses.len() {
            return Err("want 16 bytes of key id per status".to_owned());
        }
        chunks
            .zip(statuses)
            .map(|(kid, status)| {
                let mut id = [0u8; 16];
                id.copy_from_slice(kid);
                let status = KeyStatus::from_name(status)
                    .ok_or_else(|| format!("unknown key status: {status}"))?;
                Ok(KeyStatusEntry {
                    kid: Kid(id),
                    status,
                })
            })
            .collect()
    }
}

/// One track of the loaded presentation, flattened for hosts and their UIs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrackInfo {
    /// Index of its period.
    pub period: u32,
    /// The track's id.
    pub id: String,
    /// Video, audio, text...
    pub content_type: ContentType,
    /// MIME type (the track's, else its switching set's).
    pub mime_type: Option<String>,
    /// RFC 6381 codecs.
    pub codecs: Option<String>,
    /// Peak bits per second.
    pub bandwidth: u64,
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
    /// Language (the track's, else its switching set's).
    pub language: Option<String>,
    /// Label.
    pub label: Option<String>,
}

/// What the host's CDM reports.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CdmEvent {
    /// The session has a message for the licence server (EME `message` event; FairPlay: the
    /// SPC).
    Message {
        /// The session.
        session: DrmSessionId,
        /// Why.
        kind: MessageKind,
        /// The challenge bytes.
        message: Vec<u8>,
    },
    /// The session's keys and their statuses (EME `keystatuseschange`: the whole map).
    KeyStatuses {
        /// The session.
        session: DrmSessionId,
        /// Every key of the session.
        statuses: Vec<KeyStatusEntry>,
    },
    /// The CDM failed (`generateRequest` or `update` rejected, session closed by the CDM).
    Error {
        /// The session.
        session: DrmSessionId,
        /// The host's description.
        detail: String,
    },
}

impl std::fmt::Debug for CdmEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdmEvent::Message {
                session,
                kind,
                message,
            } => write!(
                f,
                "Message({session}, {}, {} bytes)",
                kind.name(),
                message.len()
            ),
            CdmEvent::KeyStatuses { session, statuses } => {
                let list: Vec<String> = statuses
                    .iter()
                    .map(|e| format!("{} {}", e.kid, e.status))
                    .collect();
                write!(f, "KeyStatuses({session}, [{}])", list.join(", "))
            }
            CdmEvent::Error { session, detail } => write!(f, "Error({session}, {detail})"),
        }
    }
}

/// Everything the host feeds the engine.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Input {
    /// The viewer or app.
    Command(Command),
    /// A response arrived in full.
    Response(Response),
    /// Part of a body arrived (for throughput estimation and abandonment).
    Progress {
        /// The request.
        id: RequestId,
        /// Bytes received so far.
        received: u64,
        /// `Content-Length`, when known.
        total: Option<u64>,
    },
    /// A request failed without a response.
    Failed {
        /// The request.
        id: RequestId,
        /// Why.
        class: FailureClass,
        /// The host's description.
        detail: String,
    },
    /// The host player's state changed, or time passed.
    Playback(Playback),
    /// The deadline of the last [`Output::Timeout`] passed.
    Timeout,
    /// The CDM reported something.
    Cdm(CdmEvent),
}

/// What a request fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum RequestKind {
    /// Multivariant playlist, MPD or Smooth manifest.
    Manifest,
    /// HLS media playlist.
    Playlist,
    /// Initialization segment.
    InitSegment,
    /// Media segment.
    MediaSegment,
    /// Decryption key (HLS AES-128).
    Key,
    /// DRM licence.
    License,
    /// DRM server certificate (FairPlay).
    Certificate,
    /// Content-steering manifest.
    Steering,
    /// Remote element (DASH xlink).
    Xlink,
    /// Clock synchronisation (DASH UTCTiming).
    TimeSync,
}

impl RequestKind {
    /// Short name used in transcripts and stats.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Manifest => "manifest",
            RequestKind::Playlist => "playlist",
            RequestKind::InitSegment => "init",
            RequestKind::MediaSegment => "segment",
            RequestKind::Key => "key",
            RequestKind::License => "license",
            RequestKind::Certificate => "certificate",
            RequestKind::Steering => "steering",
            RequestKind::Xlink => "xlink",
            RequestKind::TimeSync => "time-sync",
        }
    }
}

/// Who receives a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Delivery {
    /// Hand the bytes to the engine ([`Body::Bytes`]).
    Engine,
    /// Keep the bytes and answer with [`Body::Held`]; the engine then says, with
    /// [`Output::Media`], when and how to append them to the decoder. Media bytes thus
    /// cross the FFI boundary zero times.
    Host,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
}

/// A request for the host to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Request {
    /// Answer with this id.
    pub id: RequestId,
    /// What it fetches.
    pub kind: RequestKind,
    /// For media: which decoder input.
    pub content_type: Option<ContentType>,
    /// HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Byte range (send as a `Range` header).
    pub byte_range: Option<ByteRange>,
    /// Extra headers.
    pub headers: Vec<NameValue>,
    /// Request body (POST).
    pub body: Option<Vec<u8>>,
    /// 0 is most urgent.
    pub priority: u8,
    /// Who gets the body.
    pub delivery: Delivery,
    /// Give up after this long (the engine also times out on its own).
    pub timeout: Micros,
}

/// How the host maps a segment's media timestamps onto the presentation timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TimestampOffset {
    /// Add this to media timestamps (MSE `timestampOffset`): DASH and Smooth, known from
    /// the manifest (period start minus presentation time offset).
    Offset(Micros),
    /// HLS: media timestamps are arbitrary; after a discontinuity (or at start), place the
    /// first sample of this segment at its presentation `start` (MSE
    /// `timestampOffset = start - first PTS`). The same offset holds until the next change.
    AlignToStart,
}

/// Media to append to one decoder input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Media {
    /// The response the media came from (`None` for a synthesized init segment).
    pub request: Option<RequestId>,
    /// What to append: the body the host holds, bytes, or access units.
    pub payload: Payload,
    /// Which decoder input.
    pub content_type: ContentType,
    /// Track id in the presentation.
    pub track: String,
    /// True for an initialization segment.
    pub init: bool,
    /// Presentation time covered (empty for init segments).
    pub start: Micros,
    /// End of the presentation time covered.
    pub end: Micros,
    /// Timestamp mapping in effect from this append on.
    pub timestamp_offset: TimestampOffset,
    /// Increments at each HLS discontinuity and DASH period change: the host resets its
    /// timestamp mapping when it changes.
    pub timeline: u32,
}

/// Everything the engine asks of the host. Drain [`super::Player::poll_output`] until it
/// returns [`Output::Timeout`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Output {
    /// Perform this request.
    Request(Request),
    /// Abort this request; any late answer is ignored.
    Cancel(RequestId),
    /// Append media to the decoder.
    Media(Media),
    /// Move the host player's playhead (after load, a seek or a clamp).
    SetPosition(Micros),
    /// No more media will come: signal end of stream to the decoder (MSE `endOfStream()`).
    EndOfStream,
    /// Ask the CDM to do this.
    Cdm(CdmRequest),
    /// Something happened.
    Event(Event),
    /// Nothing more to do until this monotonic time, or until the next input (`None`:
    /// nothing scheduled).
    Timeout(Option<Micros>),
}

impl Output {
    /// One line for logs and transcripts (sizes and ids, never bytes); `None` for
    /// [`Output::Timeout`]. The conformance scenarios' golden transcripts and the binding
    /// parity suites compare these lines.
    pub fn describe(&self) -> Option<String> {
        let request = |m: &Media| m.request.map_or_else(|| "-".into(), |id| id.to_string());
        Some(match self {
            Output::Timeout(_) => return None,
            Output::Request(r) => format!(
                "request {} {}{} {}",
                r.id,
                r.kind.name(),
                r.content_type
                    .map(|c| format!(" {c:?}").to_lowercase())
                    .unwrap_or_default(),
                r.url
            ),
            Output::Cancel(id) => format!("cancel {id}"),
            Output::Media(m) if m.init => {
                format!("init {} {:?} {}", request(m), m.content_type, m.track).to_lowercase()
            }
            Output::Media(m) => format!(
                "media {} {} {} [{}, {}) timeline {} {:?}",
                request(m),
                format!("{:?}", m.content_type).to_lowercase(),
                m.track,
                transcript_secs(m.start),
                transcript_secs(m.end),
                m.timeline,
                m.timestamp_offset
            ),
            Output::SetPosition(p) => format!("set-position {}", transcript_secs(*p)),
            Output::EndOfStream => "end-of-stream".into(),
            Output::Event(e) => format!("event {e}"),
            Output::Cdm(c) => format!("cdm {c}"),
        })
    }
}

/// `12.345` (the transcripts' form, kept as the goldens have it).
fn transcript_secs(t: Micros) -> String {
    let ms = t.0 / 1000;
    format!("{}.{:03}", ms / 1000, (ms % 1000).abs())
}
