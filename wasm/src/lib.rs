//! wasm-bindgen layer for the Playhead core. No logic lives here: each method turns its
//! JavaScript arguments into one core input, and [`Player::poll`] turns the core's outputs
//! into plain JavaScript objects. The browser host (`wasm/js/player.js`) does the I/O.
//!
//! Conventions at this boundary:
//! - Times come in as milliseconds (`performance.now()`, `Date.now()`) and are rounded to
//!   whole microseconds, the core's unit; times going out are microseconds.
//! - Records and enums that carry no bytes cross through serde, spelled as the core's
//!   serde derives spell them (snake_case fields, kebab-case names, externally tagged
//!   enums: `{"Request": {...}}`, `"EndOfStream"`). Byte fields cross as `Uint8Array`.
//! - Every failure is a JavaScript `Error` with `name` (`PlayheadInputError`,
//!   `PlayheadArgumentError`) and `variant` (kebab-case) set, so a host can branch on it.

use js_sys::{Array, Object, Reflect, Uint8Array};
use playhead::drm::MessageKind;
use playhead::engine::{
    Body, CdmEvent, CdmRequest, Command, Config, DrmSessionId, FailureClass, Input, KeyStatusEntry,
    Media, Now, Output, Payload, Playback, Player as Engine, RequestId, Response, TimestampOffset,
};
use playhead::{Micros, NameValue, UnixMicros};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::{JsError, JsValue, wasm_bindgen};

/// The core's version.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Parses a manifest (HLS, DASH or Smooth) fetched from `url` and returns the number of
/// segments its tracks list, or the core's typed error as a JS `Error`.
#[wasm_bindgen(js_name = countSegments)]
pub fn count_segments(bytes: &[u8], url: Option<String>) -> Result<u32, JsError> {
    let opts = playhead::ParseOptions {
        url,
        ..Default::default()
    };
    let parsed = playhead::parse(bytes, &opts).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(u32::try_from(parsed.presentation.segment_count()).unwrap_or(u32::MAX))
}

/// A JavaScript `Error` with `name` and `variant` set.
fn error(name: &str, variant: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name(name);
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(&e, &"variant".into(), &variant.into());
    e.into()
}

fn argument(what: &str, e: impl std::fmt::Display) -> JsValue {
    error(
        "PlayheadArgumentError",
        "bad-argument",
        &format!("{what}: {e}"),
    )
}

/// A JavaScript value read as a core type.
fn from_js<T: DeserializeOwned>(what: &str, v: JsValue) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(v).map_err(|e| argument(what, e))
}

/// A core value as a JavaScript value (`undefined` for a unit).
fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| argument("output", e))
}

fn micros(ms: f64) -> Micros {
    Micros::from_millis_f64(ms)
}

/// A request id from JavaScript (ids are small integers).
fn request(id: f64) -> RequestId {
    RequestId(if id.is_finite() && id >= 0.0 {
        id as u64
    } else {
        u64::MAX
    })
}

fn set_field(o: &Object, key: &str, v: impl Into<JsValue>) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(o, &key.into(), &v.into());
}

/// `null` for `None`, as serde gives the other outputs (a bare `Option` would be `undefined`).
fn or_null(v: Option<impl Into<JsValue>>) -> JsValue {
    v.map_or(JsValue::NULL, Into::into)
}

/// `{tag: value}`, the shape serde gives the other outputs.
fn tagged(tag: &str, value: Object) -> JsValue {
    let o = Object::new();
    set_field(&o, tag, value);
    o.into()
}

fn bytes(b: &[u8]) -> Uint8Array {
    Uint8Array::from(b)
}

/// The engine, driven by a JavaScript host: feed it inputs, then drain [`Player::poll`].
#[wasm_bindgen]
pub struct Player {
    inner: Engine,
}

#[wasm_bindgen]
impl Player {
    /// A player with `config` (any subset of the core's `Config`; `undefined` for the
    /// defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<Player, JsValue> {
        let config: Config = if config.is_undefined() || config.is_null() {
            Config::default()
        } else {
            from_js("config", config)?
        };
        Ok(Player {
            inner: Engine::new(config),
        })
    }

    fn input(&mut self, mono: f64, wall: f64, input: Input) -> Result<(), JsValue> {
        let now = Now {
            mono: micros(mono),
            wall: UnixMicros(micros(wall).0),
        };
        self.inner
            .handle_input(now, input)
            .map_err(|e| error("PlayheadInputError", e.variant(), &e.to_string()))
    }

    /// A user command, as the core's `Command` serializes (`"Play"`,
    /// `{"Seek": "LiveEdge"}`, `{"Load": {"sources": [...], "start": null}}`).
    pub fn command(&mut self, mono: f64, wall: f64, command: JsValue) -> Result<(), JsValue> {
        let command: Command = from_js("command", command)?;
        self.input(mono, wall, Input::Command(command))
    }

    /// A response arrived in full: `body` when the engine asked for the bytes, otherwise
    /// `held` bytes kept by the host. `headers`: `[{name, value}]`, names lower case.
    #[allow(clippy::too_many_arguments)]
    pub fn response(
        &mut self,
        mono: f64,
        wall: f64,
        id: f64,
        status: u16,
        headers: JsValue,
        body: Option<Vec<u8>>,
        held: f64,
        first_byte_at: f64,
        final_url: Option<String>,
    ) -> Result<(), JsValue> {
        let headers: Vec<NameValue> = from_js("headers", headers)?;
        let body = match body {
            Some(b) => Body::Bytes(b),
            None => Body::Held {
                size: held.max(0.0) as u64,
            },
        };
        let response = Response {
            id: request(id),
            status,
            headers,
            body,
            first_byte_at: micros(first_byte_at),
            final_url,
        };
        self.input(mono, wall, Input::Response(response))
    }

    /// Part of a body arrived.
    pub fn progress(
        &mut self,
        mono: f64,
        wall: f64,
        id: f64,
        received: f64,
        total: Option<f64>,
    ) -> Result<(), JsValue> {
        let input = Input::Progress {
            id: request(id),
            received: received.max(0.0) as u64,
            total: total.map(|t| t.max(0.0) as u64),
        };
        self.input(mono, wall, input)
    }

    /// A request failed without a response; `class`: `network`, `timeout`, `truncated`,
    /// `aborted`.
    pub fn failed(
        &mut self,
        mono: f64,
        wall: f64,
        id: f64,
        class: &str,
        detail: String,
    ) -> Result<(), JsValue> {
        let class: FailureClass = from_js("failure class", class.into())?;
        let input = Input::Failed {
            id: request(id),
            class,
            detail,
        };
        self.input(mono, wall, input)
    }

    /// The host player's state, as the core's `Playback` serializes (times in µs).
    pub fn playback(&mut self, mono: f64, wall: f64, playback: JsValue) -> Result<(), JsValue> {
        let playback: Playback = from_js("playback", playback)?;
        self.input(mono, wall, Input::Playback(playback))
    }

    /// The deadline of the last timeout passed.
    pub fn timeout(&mut self, mono: f64, wall: f64) -> Result<(), JsValue> {
        self.input(mono, wall, Input::Timeout)
    }

    /// The CDM session has a message for the licence server (EME `message`); `kind` is
    /// the EME `messageType`.
    #[wasm_bindgen(js_name = cdmMessage)]
    pub fn cdm_message(
        &mut self,
        mono: f64,
        wall: f64,
        session: u32,
        kind: &str,
        message: Vec<u8>,
    ) -> Result<(), JsValue> {
        let kind: MessageKind = from_js("message type", kind.into())?;
        let event = CdmEvent::Message {
            session: DrmSessionId(session),
            kind,
            message,
        };
        self.input(mono, wall, Input::Cdm(event))
    }

    /// The session's whole key-status map (EME `keystatuseschange`): `kids` holds 16 bytes
    /// per key, `statuses` the EME status of each.
    #[wasm_bindgen(js_name = cdmKeyStatuses)]
    pub fn cdm_key_statuses(
        &mut self,
        mono: f64,
        wall: f64,
        session: u32,
        kids: Vec<u8>,
        statuses: Vec<String>,
    ) -> Result<(), JsValue> {
        let entries =
            KeyStatusEntry::from_eme(&kids, &statuses).map_err(|e| argument("key statuses", e))?;
        let event = CdmEvent::KeyStatuses {
            session: DrmSessionId(session),
            statuses: entries,
        };
        self.input(mono, wall, Input::Cdm(event))
    }

    /// The CDM failed for this session.
    #[wasm_bindgen(js_name = cdmError)]
    pub fn cdm_error(
        &mut self,
        mono: f64,
        wall: f64,
        session: u32,
        detail: String,
    ) -> Result<(), JsValue> {
        let event = CdmEvent::Error {
            session: DrmSessionId(session),
            detail,
        };
        self.input(mono, wall, Input::Cdm(event))
    }

    /// Every output up to and including the next `{"Timeout": µs | null}`.
    pub fn poll(&mut self) -> Result<Array, JsValue> {
        let out = Array::new();
        loop {
            let o = self.inner.poll_output();
            let last = matches!(o, Output::Timeout(_));
            out.push(&output(o)?);
            if last {
                return Ok(out);
            }
        }
    }

    /// The presentation's tracks once loaded: `[{period, id, content_type, mime_type,
    /// codecs, bandwidth, width, height, language, label}]` (empty before).
    pub fn tracks(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.tracks())
    }

    /// Quality-of-experience statistics, as the core's `Stats` serializes.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.stats())
    }
}

fn output(o: Output) -> Result<JsValue, JsValue> {
    match o {
        Output::Media(m) => Ok(media(m)),
        Output::Cdm(c) => Ok(cdm(c)),
        other => to_js(&other),
    }
}

/// `{"Media": {...}}` with the payload as `Uint8Array` or `"held"`.
fn media(m: Media) -> JsValue {
    let o = Object::new();
    set_field(&o, "request", or_null(m.request.map(|r| r.0 as f64)));
    let payload: JsValue = match &m.payload {
        Payload::Held => "held".into(),
        Payload::Bytes(b) => bytes(b).into(),
        // The browser host asks for container bytes; access units have no MSE use.
        Payload::Samples(_) => JsValue::NULL,
    };
    set_field(&o, "payload", payload);
    set_field(
        &o,
        "content_type",
        to_js(&m.content_type).unwrap_or_default(),
    );
    set_field(&o, "track", m.track);
    set_field(&o, "init", m.init);
    set_field(&o, "start", m.start.0 as f64);
    set_field(&o, "end", m.end.0 as f64);
    let offset: JsValue = match m.timestamp_offset {
        TimestampOffset::Offset(t) => (t.0 as f64).into(),
        TimestampOffset::AlignToStart => "align".into(),
    };
    set_field(&o, "timestamp_offset", offset);
    set_field(&o, "timeline", m.timeline);
    tagged("Media", o)
}

/// `{"Cdm": {"type": ..., ...}}` with byte fields as `Uint8Array`.
fn cdm(c: CdmRequest) -> JsValue {
    let o = Object::new();
    match c {
        CdmRequest::SetServerCertificate {
            system,
            certificate,
        } => {
            set_field(&o, "type", "set-server-certificate");
            set_field(&o, "system", system.eme_name());
            set_field(&o, "certificate", bytes(&certificate));
        }
        CdmRequest::CreateSession {
            session,
            system,
            robustness,
            session_type,
            init_data_type,
            init_data,
        } => {
            set_field(&o, "type", "create-session");
            set_field(&o, "session", session.0);
            set_field(&o, "system", system.eme_name());
            set_field(&o, "robustness", or_null(robustness));
            set_field(&o, "session_type", session_type.name());
            set_field(&o, "init_data_type", init_data_type.name());
            set_field(&o, "init_data", bytes(&init_data));
        }
        CdmRequest::Update { session, license } => {
            set_field(&o, "type", "update");
            set_field(&o, "session", session.0);
            set_field(&o, "license", bytes(&license));
        }
        CdmRequest::Close { session } => {
            set_field(&o, "type", "close");
            set_field(&o, "session", session.0);
        }
    }
    tagged("Cdm", o)
}
