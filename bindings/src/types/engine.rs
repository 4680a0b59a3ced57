//! The engine's inputs, outputs, events and configuration, declared for UniFFI. Each
//! declaration restates a `playhead` type (`#[uniffi::remote]`): the compiler checks it
//! against the real one, and the bindings carry the real type with no conversion code.

use playhead::abr::{AbrAlgorithm, EstimatorConfig};
use playhead::drm::{DrmConfig, InitDataType, KeyStatus, MessageKind, SessionType};
use playhead::engine::{
    AbrConfig, Body, BufferGoals, Capabilities, CdmEvent, CdmRequest, Command, Config, Cue,
    CueKind, CueSource, Delivery, DrmSessionId, DroppedFrames, ErrorClass, Event, FailureClass,
    FatalError, HdcpLevel, Input, KeyStatusEntry, LiveWindow, LocationReason, Media, Method, Now,
    Output, Payload, PlayState, Playback, Preferences, Request, RequestId, RequestKind, Response,
    RetryPolicies, RetryPolicy, SeekTarget, SinkMode, Size, Source, Switch, SwitchReason,
    TimestampOffset, TrackInfo,
};
use playhead::media::Samples;
use playhead::model::{
    ByteRange, ContentType, KeySystem, Kid, ManifestFormat, NameValue, VideoRange,
};
use playhead::{FrameRate, Micros, UnixMicros};

use super::Buffered;

/// The current time, as the host sees it. Timers run on `mono`; live windows, availability
/// and program-date-time use `wall`. The engine never reads a clock of its own.
#[uniffi::remote(Record)]
pub struct Now {
    /// Monotonic time from any origin (`performance.now()`, `Instant`, `SystemClock.elapsedRealtime`).
    pub mono: Micros,
    /// Wall-clock time (`Date.now()`), possibly wrong: the engine corrects it with the
    /// presentation's clock-sync sources.
    pub wall: UnixMicros,
}

/// One manifest location of the load list a backend hands out (several CDNs).
#[uniffi::remote(Record)]
pub struct Source {
    /// Manifest URL (absolute http or https).
    pub url: String,
    /// CDN name, for stats and events; defaults to the URL's host.
    pub cdn: Option<String>,
    /// Lower is preferred; equal priorities keep list order.
    pub priority: u32,
}

/// Where to move the playhead.
#[uniffi::remote(Enum)]
pub enum SeekTarget {
    /// A presentation time (clamped to the DVR window when live).
    Position(Micros),
    /// The live edge (the start, for VOD).
    LiveEdge,
    /// The start of the DVR window ("start over"), or 0 for VOD.
    WindowStart,
}

/// What the viewer or the app asks for.
#[uniffi::remote(Enum)]
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
#[uniffi::remote(Enum)]
pub enum Body {
    /// The bytes.
    Bytes(Vec<u8>),
    /// The host holds the bytes; this many.
    Held {
        /// Body size in bytes.
        size: u64,
    },
}

/// An HTTP response to one of the engine's requests.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Enum)]
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
#[uniffi::remote(Enum)]
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

/// The host player's state.
#[uniffi::remote(Record)]
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

/// What the engine asks of the host's CDM (EME `MediaKeys` / `MediaKeySession`, Android
/// `MediaDrm`, Apple `AVContentKeySession`). `Debug` shows the sizes of byte fields only.
#[uniffi::remote(Enum)]
pub enum CdmRequest {
    /// Give the CDM the licence server's certificate (FairPlay; Widevine privacy mode):
    /// EME `setServerCertificate`.
    SetServerCertificate {
        /// The key system.
        system: KeySystem,
        /// The certificate bytes.
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
        init_data: Vec<u8>,
    },
    /// Hand the licence server's answer to the session: EME `update`. The CDM answers with
    /// [`CdmEvent::KeyStatuses`] (or [`CdmEvent::Error`]).
    Update {
        /// The session.
        session: DrmSessionId,
        /// The licence (unwrapped). It holds key material: never log it.
        license: Vec<u8>,
    },
    /// Close the session (EME `close`; a persistent licence stays stored).
    Close {
        /// The session.
        session: DrmSessionId,
    },
}

/// One key and its status.
#[uniffi::remote(Record)]
pub struct KeyStatusEntry {
    /// Key id.
    pub kid: Kid,
    /// Status.
    pub status: KeyStatus,
}

/// One track of the loaded presentation, flattened for hosts and their UIs.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Enum)]
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

/// Everything the host feeds the engine.
#[uniffi::remote(Enum)]
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
#[uniffi::remote(Enum)]
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

/// Who receives a response body.
#[uniffi::remote(Enum)]
pub enum Delivery {
    /// Hand the bytes to the engine ([`Body::Bytes`]).
    Engine,
    /// Keep the bytes and answer with [`Body::Held`]; the engine then says, with
    /// [`Output::Media`], when and how to append them to the decoder. Media bytes thus
    /// cross the FFI boundary zero times.
    Host,
}

/// HTTP method.
#[uniffi::remote(Enum)]
pub enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
}

/// A request for the host to perform.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Enum)]
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
#[uniffi::remote(Record)]
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
#[uniffi::remote(Enum)]
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

/// The class of an error: what went wrong, in terms a host can act on.
#[uniffi::remote(Enum)]
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

/// An error that ends playback.
#[uniffi::remote(Record)]
pub struct FatalError {
    /// Class.
    pub class: ErrorClass,
    /// The request kind that failed last, if a request.
    pub kind: Option<RequestKind>,
    /// The last cause, in words (status, URL, parser message).
    pub cause: String,
}

/// Why the video (or audio) track changed.
#[uniffi::remote(Enum)]
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

/// Why requests moved to another location.
#[uniffi::remote(Enum)]
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

/// The live window, in presentation time.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Enum)]
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

/// What a cue means.
#[uniffi::remote(Enum)]
pub enum CueKind {
    /// An ad break (or other opportunity to leave the program) starts: SCTE-35 out point
    /// (splice_insert out of network, a segmentation descriptor that starts a break),
    /// `SCTE35-OUT`, an HLS interstitial.
    AdStart,
    /// The break ends: SCTE-35 in point, `SCTE35-IN`.
    AdEnd,
    /// Anything else: timed metadata for the app.
    Metadata,
}

/// Where a cue came from.
#[uniffi::remote(Enum)]
pub enum CueSource {
    /// HLS `EXT-X-DATERANGE`.
    DateRange,
    /// DASH `EventStream` in the MPD.
    EventStream,
    /// An `emsg` box in a media segment.
    Emsg,
    /// ID3 timed metadata in MPEG-TS.
    Id3,
}

/// An ad break or a piece of timed metadata, at an exact presentation time.
#[uniffi::remote(Record)]
pub struct Cue {
    /// What it means.
    pub kind: CueKind,
    /// Where it came from.
    pub source: CueSource,
    /// `schemeIdUri` (DASH, `emsg`), DATERANGE `CLASS`, or `ID3`.
    pub scheme: String,
    /// Identifies the cue within its source and scheme (DATERANGE `ID`, event `@id`,
    /// `emsg` id); repeats of one id are announced once.
    pub id: String,
    /// Presentation time it applies at.
    pub start: Micros,
    /// How long it lasts, when known (a break's duration).
    pub duration: Option<Micros>,
    /// The payload: a SCTE-35 splice_info_section, an ID3 tag, or the message data. Decode
    /// SCTE-35 with [`crate::media::scte35::parse_splice_info`], ID3 with
    /// [`crate::media::id3::parse_id3`].
    pub data: Vec<u8>,
}

/// How much media to hold.
#[uniffi::remote(Record)]
pub struct BufferGoals {
    /// Fetch ahead until this much is buffered (VOD and DVR playback away from the edge).
    pub ahead: Micros,
    /// Buffer needed before playback starts or resumes after a stall (reported in events;
    /// the host decides when to start).
    pub rebuffer: Micros,
}

/// How one class of request is retried.
#[uniffi::remote(Record)]
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

/// Retry policies per request class.
#[uniffi::remote(Record)]
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

/// Engine configuration. `Config::default()` holds the documented defaults.
#[uniffi::remote(Record)]
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

/// Adaptive bitrate settings.
#[uniffi::remote(Record)]
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

/// A rendition that drops more than `percent` of its frames over `window` is not chosen
/// again for `ban` (Shaka Player's defaults: 15 % over 2 s, 30 s).
#[uniffi::remote(Record)]
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

/// Track choices of the viewer or app.
#[uniffi::remote(Record)]
pub struct Preferences {
    /// Preferred audio language (BCP 47 prefix match).
    pub audio_language: Option<String>,
    /// Text language; `None`: no text track.
    pub text_language: Option<String>,
    /// Fix the video track (manual selection); `None`: adaptive.
    pub video_track: Option<String>,
}

/// What the device can decode and show. Tracks beyond these are never chosen.
#[uniffi::remote(Record)]
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
#[uniffi::remote(Record)]
pub struct Size {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

/// HDCP protection of the video output, lowest first.
#[uniffi::remote(Enum)]
pub enum HdcpLevel {
    /// No HDCP.
    None,
    /// HDCP 1.x (HLS `TYPE-0`).
    Type0,
    /// HDCP 2.2 or later (HLS `TYPE-1`).
    Type1,
}

/// One track switch.
#[uniffi::remote(Record)]
pub struct Switch {
    /// Monotonic time.
    pub at: Micros,
    /// Track id.
    pub to: String,
    /// Bandwidth of the new track.
    pub bandwidth: u64,
    /// Why.
    pub reason: SwitchReason,
}

/// How the host's decoder takes media; chosen by the host in
/// [`Config::sink`](super::Config::sink).
#[uniffi::remote(Enum)]
pub enum SinkMode {
    /// Container bytes for a byte-stream decoder (MSE `SourceBuffer.appendBuffer`). fMP4 and,
    /// when `mpeg_ts` is true, MPEG-TS go through as fetched, held by the host; MPEG-TS is
    /// remuxed to fMP4 when `mpeg_ts` is false; Smooth fragments get a synthesized init
    /// segment and a `tfdt`.
    Segments {
        /// The decoder takes MPEG-TS (`MediaSource.isTypeSupported('video/mp2t; ...')`).
        mpeg_ts: bool,
    },
    /// Access units with their codec configuration and encryption (Android MediaCodec,
    /// Apple VideoToolbox / AVSampleBufferDisplayLayer). Every media body goes through the
    /// core.
    Samples,
    /// Bodies exactly as fetched, never read by the core (Smooth fragments keep lacking an
    /// init segment and `tfdt`): for hosts with a demuxer of their own, and simulations
    /// whose bodies are not real media.
    AsFetched,
}

/// What to append, in the form the [`SinkMode`] asks for.
#[uniffi::remote(Enum)]
pub enum Payload {
    /// The response body the host holds, as fetched.
    Held,
    /// These bytes: a remuxed or rewritten segment, or a synthesized init segment.
    Bytes(Vec<u8>),
    /// Access units ([`SinkMode::Samples`]). For an init segment: the configurations only.
    Samples(Samples),
}

/// The built-in policies.
#[uniffi::remote(Enum)]
pub enum AbrAlgorithm {
    /// Playhead's model-predictive policy ([`PlayheadAbr`]).
    Playhead,
    /// The highest rung under 90 % of a dual moving average (dash.js, Shaka Player).
    ThroughputRule,
    /// BOLA-BASIC (Spiteri et al., INFOCOM 2016), with dash.js's parameters.
    Bola,
    /// RobustMPC (Yin et al., SIGCOMM 2015).
    RobustMpc,
}

/// How the estimator behaves. `EstimatorConfig::default()` holds the documented defaults.
#[uniffi::remote(Record)]
pub struct EstimatorConfig {
    /// Throughput assumed before the first sample, bits per second.
    pub start: u64,
    /// Downloads smaller than this give no rate sample, bytes.
    pub min_bytes: u64,
    /// Samples kept for the policies.
    pub history: u32,
    /// Samples in the harmonic mean of [`BandwidthEstimator::estimate`].
    pub window: u32,
}
