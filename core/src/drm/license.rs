//! One CDM session's licence flow as a state machine whose states offer only the legal next
//! step (the shape of rustls' unbuffered API): a [`Generating`] session takes the CDM's
//! message and becomes [`Requesting`]; its answer makes it [`Updating`] (hand the licence
//! to the CDM), [`Waiting`] (retry after a backoff) or failed; key statuses make an
//! updating session [`Active`]; a renewal message sends an active one back to
//! [`Requesting`]. The engine performs the I/O and keeps a [`License`] per session.

use crate::json::{self, Json};
use crate::model::{KeySystem, Kid, NameValue};

use super::config::{LicenseServer, Wrapping};
use super::error::{DrmError, KeyStatus};
use super::init_data::InitData;

/// Why the CDM sent a message (EME `MediaKeyMessageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
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

impl MessageKind {
    /// EME spelling.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::LicenseRequest => "license-request",
            MessageKind::LicenseRenewal => "license-renewal",
            MessageKind::LicenseRelease => "license-release",
            MessageKind::IndividualizationRequest => "individualization-request",
        }
    }
}

/// A licence request to POST.
#[derive(Clone, PartialEq, Eq)]
pub struct LicenseRequest {
    /// Licence server URL.
    pub url: String,
    /// Headers (content type, the app's tokens).
    pub headers: Vec<NameValue>,
    /// The wrapped CDM message.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for LicenseRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenseRequest")
            .field("url", &crate::url::clip_url(&self.url))
            .field("bytes", &self.body.len())
            .finish()
    }
}

/// How a licence request ended.
#[derive(Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP response.
    Response {
        /// Status.
        status: u16,
        /// Body.
        body: Vec<u8>,
    },
    /// No answer in time.
    Timeout,
    /// A network failure, in the host's words.
    Network(String),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Response { status, body } => {
                write!(f, "Response({status}, {} bytes)", body.len())
            }
            Answer::Timeout => f.write_str("Timeout"),
            Answer::Network(d) => write!(f, "Network({d})"),
        }
    }
}

/// What the session knows in every state.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Context {
    system: KeySystem,
    /// Key ids the content needs from this session (may be empty: Widevine PSSH v0).
    kids: Vec<Kid>,
    /// FairPlay content id (`skd://` URI).
    content_id: Option<String>,
    /// Key statuses as last reported.
    statuses: Vec<(Kid, KeyStatus)>,
    /// Renewals completed.
    renewals: u32,
}

/// Session created; waiting for the CDM's licence challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generating {
    ctx: Context,
}

/// A licence request is in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requesting {
    ctx: Context,
    request: LicenseRequest,
    kind: MessageKind,
    /// Requests made for this message, this one included.
    attempts: u32,
    wrapping: Wrapping,
}

/// A licence request failed in a way worth retrying; resend after the backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    next: Requesting,
}

/// The licence went to the CDM; waiting for its key statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updating {
    ctx: Context,
    renewal: bool,
}

/// Keys are in the CDM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    ctx: Context,
}

/// The outcome of a licence answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Hand this licence to the CDM (EME `update`).
    Update(Updating, Vec<u8>),
    /// Retry later.
    Retry(Waiting),
    /// The session failed.
    Failed(DrmError),
}

/// One session's licence flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// See [`Generating`].
    Generating(Generating),
    /// See [`Requesting`].
    Requesting(Requesting),
    /// See [`Waiting`].
    Waiting(Waiting),
    /// See [`Updating`].
    Updating(Updating),
    /// See [`Active`].
    Active(Active),
    /// It failed for good.
    Failed(DrmError),
    /// Closed by the engine.
    Closed,
}

impl License {
    /// The state's name, for transcripts.
    pub fn name(&self) -> &'static str {
        match self {
            License::Generating(_) => "generating",
            License::Requesting(_) => "requesting",
            License::Waiting(_) => "waiting",
            License::Updating(_) => "updating",
            License::Active(_) => "active",
            License::Failed(_) => "failed",
            License::Closed => "closed",
        }
    }
}

impl Generating {
    /// A session created from `init`.
    pub fn new(init: &InitData) -> Generating {
        Generating {
            ctx: Context {
                system: init.system.clone(),
                kids: init.kids.clone(),
                content_id: init.content_id().map(str::to_owned),
                statuses: Vec::new(),
                renewals: 0,
            },
        }
    }

    /// The CDM's challenge arrived: wrap it for `server`.
    pub fn message(
        self,
        kind: MessageKind,
        message: &[u8],
        server: &LicenseServer,
    ) -> Result<Requesting, DrmError> {
        Requesting::new(self.ctx, kind, message, server)
    }
}

impl Requesting {
    fn new(
        ctx: Context,
        kind: MessageKind,
        message: &[u8],
        server: &LicenseServer,
    ) -> Result<Requesting, DrmError> {
        let url = server
            .url
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| DrmError::NoLicenseServer {
                system: ctx.system.to_string(),
            })?;
        let (body, content_type) = wrap(&ctx, &server.wrapping, message);
        let mut headers = Vec::new();
        if !server
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("content-type"))
        {
            headers.push(header("content-type", content_type));
        }
        if ctx.system == KeySystem::PlayReady && server.wrapping == Wrapping::Raw {
            headers.push(header(
                "soapaction",
                "\"http://schemas.microsoft.com/DRM/2007/03/protocols/AcquireLicense\"",
            ));
        }
        headers.extend(server.headers.iter().cloned());
        Ok(Requesting {
            ctx,
            request: LicenseRequest { url, headers, body },
            kind,
            attempts: 1,
            wrapping: server.wrapping.clone(),
        })
    }

    /// The request to send.
    pub fn request(&self) -> &LicenseRequest {
        &self.request
    }

    /// What the CDM asked for.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// Requests made so far for this message.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The server answered, or did not. `retries` is how many times a failing request may
    /// be repeated: HTTP 5xx, 408 and 429, timeouts and network failures are retried; any
    /// other 4xx is a refusal, and a 2xx that is not a licence is malformed (neither is
    /// retried: asking again brings the same answer).
    pub fn answer(self, answer: Answer, retries: u32) -> Outcome {
        let again = self.attempts <= retries;
        let attempts = self.attempts;
        match answer {
            Answer::Response { status, body } if (200..300).contains(&status) => {
                match unwrap(&self.ctx.system, &self.wrapping, &body) {
                    Ok(license) => Outcome::Update(
                        Updating {
                            renewal: self.kind == MessageKind::LicenseRenewal,
                            ctx: self.ctx,
                        },
                        license,
                    ),
                    Err(what) => Outcome::Failed(DrmError::MalformedLicense { what }),
                }
            }
            Answer::Response { status, .. } if status >= 500 || status == 408 || status == 429 => {
                if again {
                    Outcome::Retry(Waiting { next: self })
                } else {
                    Outcome::Failed(DrmError::LicenseServer { status, attempts })
                }
            }
            Answer::Response { status, .. } => Outcome::Failed(DrmError::LicenseDenied { status }),
            Answer::Timeout if again => Outcome::Retry(Waiting { next: self }),
            Answer::Timeout => Outcome::Failed(DrmError::LicenseTimeout { attempts }),
            Answer::Network(_) if again => Outcome::Retry(Waiting { next: self }),
            Answer::Network(detail) => {
                Outcome::Failed(DrmError::LicenseNetwork { detail, attempts })
            }
        }
    }
}

impl Waiting {
    /// Failures so far (1 after the first).
    pub fn failures(&self) -> u32 {
        self.next.attempts
    }

    /// Sends the same request again.
    pub fn resend(self) -> Requesting {
        let mut next = self.next;
        next.attempts = next.attempts.saturating_add(1);
        next
    }
}

impl Updating {
    /// True when this licence renewed an active one.
    pub fn renewal(&self) -> bool {
        self.renewal
    }

    /// The CDM reported the keys of the session. Every key id the content needs must be
    /// there: expired, released and internal-error keys fail the session; an
    /// output-restricted key does not (the engine drops the tracks it protects).
    pub fn statuses(self, statuses: &[(Kid, KeyStatus)]) -> Result<Active, DrmError> {
        let mut active = Active { ctx: self.ctx };
        if self.renewal {
            active.ctx.renewals = active.ctx.renewals.saturating_add(1);
        }
        active.statuses(statuses)?;
        if active.ctx.statuses.is_empty() {
            return match active.ctx.kids.first() {
                Some(kid) => Err(DrmError::MissingKey { kid: *kid }),
                None => Err(DrmError::Cdm {
                    detail: "the licence brought no key".to_owned(),
                }),
            };
        }
        if let Some(kid) = active
            .ctx
            .kids
            .iter()
            .find(|k| !active.ctx.statuses.iter().any(|(s, _)| s == *k))
        {
            return Err(DrmError::MissingKey { kid: *kid });
        }
        Ok(active)
    }
}

impl Active {
    /// Key statuses as last reported.
    pub fn keys(&self) -> &[(Kid, KeyStatus)] {
        &self.ctx.statuses
    }

    /// Keys whose output is restricted: the tracks they protect must not be chosen.
    pub fn restricted(&self) -> Vec<Kid> {
        self.ctx
            .statuses
            .iter()
            .filter(|(_, s)| *s == KeyStatus::OutputRestricted)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Renewals completed.
    pub fn renewals(&self) -> u32 {
        self.ctx.renewals
    }

    /// New key statuses (EME `keystatuseschange`): returns those that changed, or the
    /// error when a key the content needs became unusable.
    pub fn statuses(
        &mut self,
        statuses: &[(Kid, KeyStatus)],
    ) -> Result<Vec<(Kid, KeyStatus)>, DrmError> {
        let mut changed = Vec::new();
        for (kid, status) in statuses {
            match self.ctx.statuses.iter_mut().find(|(k, _)| k == kid) {
                Some((_, s)) if s == status => continue,
                Some((_, s)) => *s = *status,
                None => self.ctx.statuses.push((*kid, *status)),
            }
            changed.push((*kid, *status));
        }
        let needed = |k: &Kid| self.ctx.kids.is_empty() || self.ctx.kids.contains(k);
        if let Some((kid, status)) = self.ctx.statuses.iter().find(|(k, s)| {
            needed(k)
                && matches!(
                    s,
                    KeyStatus::Expired | KeyStatus::Released | KeyStatus::InternalError
                )
        }) {
            return Err(DrmError::KeyUnusable {
                kid: *kid,
                status: *status,
            });
        }
        Ok(changed)
    }

    /// The CDM asks to renew (or sends another message): request again.
    pub fn message(
        self,
        kind: MessageKind,
        message: &[u8],
        server: &LicenseServer,
    ) -> Result<Requesting, DrmError> {
        Requesting::new(self.ctx, kind, message, server)
    }
}

fn header(name: &str, value: &str) -> NameValue {
    NameValue {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

fn wrap(ctx: &Context, wrapping: &Wrapping, message: &[u8]) -> (Vec<u8>, &'static str) {
    match wrapping {
        Wrapping::Raw => (
            message.to_vec(),
            match ctx.system {
                KeySystem::PlayReady => "text/xml; charset=utf-8",
                KeySystem::ClearKey => "application/json",
                _ => "application/octet-stream",
            },
        ),
        Wrapping::Json { request_field, .. } => (
            format!(
                "{{\"{}\":\"{}\"}}",
                json_escape(request_field),
                crate::base64::encode(message)
            )
            .into_bytes(),
            "application/json",
        ),
        Wrapping::FairPlayForm => {
            let spc = form_escape(&crate::base64::encode(message));
            let asset = form_escape(ctx.content_id.as_deref().unwrap_or(""));
            (
                format!("spc={spc}&assetId={asset}").into_bytes(),
                "application/x-www-form-urlencoded",
            )
        }
    }
}

fn json_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The largest licence answer read (JSON and base64 envelopes are parsed in memory).
const MAX_LICENSE: usize = 1 << 20;

/// The licence inside an answer body; the error names what is wrong, never the content.
fn unwrap(system: &KeySystem, wrapping: &Wrapping, body: &[u8]) -> Result<Vec<u8>, &'static str> {
    if body.is_empty() {
        return Err("empty body");
    }
    if body.len() > MAX_LICENSE {
        return Err("larger than 1 MiB");
    }
    let license = match wrapping {
        Wrapping::Raw => body.to_vec(),
        Wrapping::Json { response_field, .. } => {
            let doc = json::parse(body).map_err(|_| "not JSON")?;
            let field = doc
                .get(response_field)
                .and_then(Json::as_str)
                .ok_or("the licence field is missing")?;
            crate::base64::decode(field).ok_or("the licence field is not base64")?
        }
        Wrapping::FairPlayForm => {
            let text = std::str::from_utf8(body).map_err(|_| "not text")?.trim();
            let text = text
                .strip_prefix("<ckc>")
                .and_then(|t| t.strip_suffix("</ckc>"))
                .unwrap_or(text);
            crate::base64::decode(text.trim()).ok_or("the CKC is not base64")?
        }
    };
    if license.is_empty() {
        return Err("empty licence");
    }
    if *system == KeySystem::ClearKey {
        super::clearkey::check_license(&license)?;
    }
    Ok(license)
}
