//! The Playhead core behind a byte-oriented C ABI, for browsers and TVs without
//! WebAssembly.
//!
//! Built for wasm32 with reference types, multi-value and bulk memory turned off, then
//! turned into plain JavaScript by binaryen's `wasm2js`. `wasm/js/fallback.js` wraps it in
//! the same `Player` class as the wasm-bindgen build, so one browser host drives both. No
//! logic lives here: calls are read, handed to the core, and its answers written back.
//!
//! # The ABI
//! - `ph_alloc(len) -> ptr` and `ph_free(ptr, len)`: buffers in linear memory.
//! - `ph_call(handle, ptr, len, split) -> status`: one call. Bytes `[0, split)` are the call
//!   as JSON (`{"op": "command", "mono": ms, "wall": ms, ...}`), bytes `[split, len)` its
//!   byte argument (a body, a CDM message, key ids). Status 0: the answer is in the output
//!   buffer; 1: an error `{"name", "variant", "message"}` is. `handle` is 0 for the calls
//!   that need no player (`new`, `version`, `count-segments`).
//! - `ph_out_ptr()`, `ph_out_len()`, `ph_out_split()`: the output buffer, JSON then bytes;
//!   the JSON writes a byte field as `{"$bytes": [offset, length]}` into those bytes.
//! - `ph_drop(handle)`: frees a player.
//!
//! Every exported signature is 32-bit only, so the JavaScript needs no imports.

use std::cell::RefCell;

use playhead::drm::MessageKind;
use playhead::engine::{
    Body, CdmEvent, CdmRequest, Command, Config, DrmSessionId, FailureClass, Input, KeyStatusEntry,
    Media, Now, Output, Payload, Playback, Player, RequestId, Response, TimestampOffset,
};
use playhead::{Micros, NameValue, UnixMicros};
use serde::Deserialize;
use serde_json::{Value, json};

/// One call: the times (ms, as hosts read them) and what to do.
#[derive(Deserialize)]
struct Call {
    #[serde(default)]
    mono: f64,
    #[serde(default)]
    wall: f64,
    #[serde(flatten)]
    op: Op,
}

/// The wasm-bindgen build's methods, one variant each; `[bytes]` marks the byte argument.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
enum Op {
    New {
        config: Option<Config>,
    },
    Version,
    /// `[bytes]`: the manifest.
    CountSegments {
        url: Option<String>,
    },
    Command {
        command: Command,
    },
    /// `[bytes]`: the body, unless `held` says the host kept it.
    Response {
        id: u64,
        status: u16,
        headers: Vec<NameValue>,
        held: Option<u64>,
        first_byte_at: f64,
        final_url: Option<String>,
    },
    Progress {
        id: u64,
        received: u64,
        total: Option<u64>,
    },
    Failed {
        id: u64,
        class: FailureClass,
        detail: String,
    },
    Playback {
        playback: Playback,
    },
    Timeout,
    /// `[bytes]`: the message.
    CdmMessage {
        session: u32,
        kind: MessageKind,
    },
    /// `[bytes]`: 16 bytes of key id per status.
    CdmKeyStatuses {
        session: u32,
        statuses: Vec<String>,
    },
    CdmError {
        session: u32,
        detail: String,
    },
    Poll,
    Tracks,
    Stats,
}

/// A failed call, as the JavaScript side throws it.
struct Failure {
    name: &'static str,
    variant: &'static str,
    message: String,
}

fn argument(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure {
        name: "PlayheadArgumentError",
        variant: "bad-argument",
        message: format!("{what}: {e}"),
    }
}

/// The output buffer: JSON, then the bytes it refers to.
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    split: usize,
}

thread_local! {
    static PLAYERS: RefCell<Vec<Option<Player>>> = const { RefCell::new(Vec::new()) };
    static OUT: RefCell<Out> = RefCell::new(Out::default());
}

/// Byte fields gathered while an answer is built.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn add(&mut self, b: &[u8]) -> Value {
        let at = self.0.len();
        self.0.extend_from_slice(b);
        json!({ "$bytes": [at, b.len()] })
    }
}

/// Allocates `len` bytes for the JavaScript side to fill.
#[unsafe(no_mangle)]
pub extern "C" fn ph_alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len);
    let ptr = v.as_mut_ptr();
    std::mem::forget(v);
    ptr
}

/// Frees a buffer from [`ph_alloc`].
///
/// # Safety
/// `ptr` and `len` come from one `ph_alloc(len)` call, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ph_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back what ph_alloc gave, once.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
}

/// Runs one call; see the crate docs.
///
/// # Safety
/// `ptr..ptr+len` is readable (a buffer from [`ph_alloc`]) and `split <= len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ph_call(handle: u32, ptr: *const u8, len: usize, split: usize) -> u32 {
    // SAFETY: the caller guarantees the buffer.
    let input = unsafe { std::slice::from_raw_parts(ptr, len) };
    let (call, bytes) = input.split_at(split.min(len));
    let mut extra = Bytes::default();
    let (status, answer) = match run(handle, call, bytes, &mut extra) {
        Ok(v) => (0, v),
        Err(f) => (
            1,
            json!({ "name": f.name, "variant": f.variant, "message": f.message }),
        ),
    };
    OUT.with_borrow_mut(|out| {
        out.buf.clear();
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out.buf, &answer);
        out.split = out.buf.len();
        out.buf.extend_from_slice(&extra.0);
    });
    status
}

/// The output buffer's address.
#[unsafe(no_mangle)]
pub extern "C" fn ph_out_ptr() -> *const u8 {
    OUT.with_borrow(|out| out.buf.as_ptr())
}

/// The output buffer's length.
#[unsafe(no_mangle)]
pub extern "C" fn ph_out_len() -> usize {
    OUT.with_borrow(|out| out.buf.len())
}

/// Where the output buffer's JSON ends and its bytes begin.
#[unsafe(no_mangle)]
pub extern "C" fn ph_out_split() -> usize {
    OUT.with_borrow(|out| out.split)
}

/// Frees a player.
#[unsafe(no_mangle)]
pub extern "C" fn ph_drop(handle: u32) {
    PLAYERS.with_borrow_mut(|players| {
        if let Some(slot) = players.get_mut((handle as usize).wrapping_sub(1)) {
            *slot = None;
        }
    });
}

fn run(handle: u32, call: &[u8], bytes: &[u8], out: &mut Bytes) -> Result<Value, Failure> {
    let call: Call = serde_json::from_slice(call).map_err(|e| argument("call", e))?;
    let now = Now {
        mono: Micros::from_millis_f64(call.mono),
        wall: UnixMicros(Micros::from_millis_f64(call.wall).0),
    };
    let input = match call.op {
        Op::New { config } => {
            let player = Player::new(config.unwrap_or_default());
            return PLAYERS.with_borrow_mut(|players| {
                players.push(Some(player));
                Ok(json!({ "handle": players.len() }))
            });
        }
        Op::Version => return Ok(json!(env!("CARGO_PKG_VERSION"))),
        Op::CountSegments { url } => {
            let opts = playhead::ParseOptions {
                url,
                ..Default::default()
            };
            return match playhead::parse(bytes, &opts) {
                Ok(parsed) => Ok(json!(parsed.presentation.segment_count())),
                Err(e) => Err(Failure {
                    name: "Error",
                    variant: "parse",
                    message: e.to_string(),
                }),
            };
        }
        Op::Command { command } => Input::Command(command),
        Op::Response {
            id,
            status,
            headers,
            held,
            first_byte_at,
            final_url,
        } => Input::Response(Response {
            id: RequestId(id),
            status,
            headers,
            body: match held {
                Some(size) => Body::Held { size },
                None => Body::Bytes(bytes.to_vec()),
            },
            first_byte_at: Micros::from_millis_f64(first_byte_at),
            final_url,
        }),
        Op::Progress {
            id,
            received,
            total,
        } => Input::Progress {
            id: RequestId(id),
            received,
            total,
        },
        Op::Failed { id, class, detail } => Input::Failed {
            id: RequestId(id),
            class,
            detail,
        },
        Op::Playback { playback } => Input::Playback(playback),
        Op::Timeout => Input::Timeout,
        Op::CdmMessage { session, kind } => Input::Cdm(CdmEvent::Message {
            session: DrmSessionId(session),
            kind,
            message: bytes.to_vec(),
        }),
        Op::CdmKeyStatuses { session, statuses } => Input::Cdm(CdmEvent::KeyStatuses {
            session: DrmSessionId(session),
            statuses: KeyStatusEntry::from_eme(bytes, &statuses)
                .map_err(|e| argument("key statuses", e))?,
        }),
        Op::CdmError { session, detail } => Input::Cdm(CdmEvent::Error {
            session: DrmSessionId(session),
            detail,
        }),
        Op::Poll => return with_player(handle, |p| Ok(poll(p, out))),
        Op::Tracks => return with_player(handle, |p| to_json(&p.tracks())),
        Op::Stats => return with_player(handle, |p| to_json(p.stats())),
    };
    with_player(handle, |p| {
        p.handle_input(now, input)
            .map(|()| Value::Null)
            .map_err(|e| Failure {
                name: "PlayheadInputError",
                variant: e.variant(),
                message: e.to_string(),
            })
    })
}

fn with_player(
    handle: u32,
    f: impl FnOnce(&mut Player) -> Result<Value, Failure>,
) -> Result<Value, Failure> {
    PLAYERS.with_borrow_mut(
        |players| match players.get_mut((handle as usize).wrapping_sub(1)) {
            Some(Some(p)) => f(p),
            _ => Err(argument("player", format!("no player {handle}"))),
        },
    )
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| argument("output", e))
}

/// Every output up to and including the next `{"Timeout": µs | null}`, shaped as the
/// wasm-bindgen build gives them.
fn poll(p: &mut Player, out: &mut Bytes) -> Value {
    let mut all = Vec::new();
    loop {
        let o = p.poll_output();
        let last = matches!(o, Output::Timeout(_));
        all.push(match o {
            Output::Media(m) => json!({ "Media": media(m, out) }),
            Output::Cdm(c) => json!({ "Cdm": cdm(c, out) }),
            // The core's own types always serialize.
            other => serde_json::to_value(&other).unwrap_or(Value::Null),
        });
        if last {
            return Value::Array(all);
        }
    }
}

fn media(m: Media, out: &mut Bytes) -> Value {
    json!({
        "request": m.request.map(|r| r.0),
        "payload": match &m.payload {
            Payload::Held => json!("held"),
            Payload::Bytes(b) => out.add(b),
            // The browser host asks for container bytes; access units have no MSE use.
            Payload::Samples(_) => Value::Null,
        },
        "content_type": m.content_type,
        "track": m.track,
        "init": m.init,
        "start": m.start.0,
        "end": m.end.0,
        "timestamp_offset": match m.timestamp_offset {
            TimestampOffset::Offset(t) => json!(t.0),
            TimestampOffset::AlignToStart => json!("align"),
        },
        "timeline": m.timeline,
    })
}

fn cdm(c: CdmRequest, out: &mut Bytes) -> Value {
    match c {
        CdmRequest::SetServerCertificate {
            system,
            certificate,
        } => json!({
            "type": "set-server-certificate",
            "system": system.eme_name(),
            "certificate": out.add(&certificate),
        }),
        CdmRequest::CreateSession {
            session,
            system,
            robustness,
            session_type,
            init_data_type,
            init_data,
        } => json!({
            "type": "create-session",
            "session": session.0,
            "system": system.eme_name(),
            "robustness": robustness,
            "session_type": session_type.name(),
            "init_data_type": init_data_type.name(),
            "init_data": out.add(&init_data),
        }),
        CdmRequest::Update { session, license } => json!({
            "type": "update",
            "session": session.0,
            "license": out.add(&license),
        }),
        CdmRequest::Close { session } => json!({ "type": "close", "session": session.0 }),
    }
}
