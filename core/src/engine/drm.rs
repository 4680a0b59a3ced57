//! The engine's DRM: it reads init data from every manifest, playlist and segment it sees,
//! chooses the key system once, creates one CDM session per distinct init data (a new one
//! for a rotated key), drives each session's [`License`] state machine through licence
//! requests, retries and renewals, drops the tracks of output-restricted keys, and fetches
//! and applies HLS AES-128 keys itself.

use crate::drm::{
    self, Answer, ContentKey, DrmError, Generating, InitData, KeyStatus, License, Outcome,
};
use crate::model::{KeyMethod, Kid, NameValue, SegmentIndex};
use crate::time::Micros;

use super::event::{ErrorClass, Event, FatalError};
use super::fetch::{Job, Pending, Purpose, Route};
use super::io::{CdmEvent, CdmRequest, DrmSessionId, Method, Output, RequestId, RequestKind};
use super::player::Player;
use super::retry::backoff;

/// DRM state of one loaded presentation.
#[derive(Debug, Default)]
pub(super) struct DrmState {
    /// The key system, once chosen.
    choice: Option<drm::Choice>,
    /// Every init data seen, in order.
    offered: Vec<InitData>,
    sessions: Vec<CdmSession>,
    certificate: Certificate,
    /// HLS whole-segment keys by URI.
    keys: Vec<(String, KeyState)>,
    /// Tracks whose keys are output-restricted.
    pub(super) banned: Vec<String>,
}

#[derive(Debug)]
struct CdmSession {
    id: DrmSessionId,
    init: InitData,
    license: License,
    /// Licence request in flight.
    inflight: Option<RequestId>,
    /// When a waiting session sends again.
    retry_at: Option<Micros>,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum Certificate {
    #[default]
    Unneeded,
    Fetching,
    Ready,
}

#[derive(Debug)]
enum KeyState {
    Fetching,
    Ready(ContentKey),
}

/// How a segment is encrypted, as far as the engine is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SegmentKey {
    /// Key URI.
    pub(super) uri: String,
    /// IV.
    pub(super) iv: [u8; 16],
}

/// The whole-segment key of an HLS segment (`None`: clear, or a CDM decrypts it), or why
/// Playhead cannot play it.
pub(super) fn segment_key(
    keys: &[crate::model::HlsKey],
    sequence: u64,
) -> Result<Option<SegmentKey>, DrmError> {
    let mut cdm = false;
    for k in keys {
        match &k.method {
            KeyMethod::None => {}
            KeyMethod::Aes128 => {
                let uri = k.uri.clone().ok_or_else(|| DrmError::Unsupported {
                    what: "AES-128 key without URI".into(),
                })?;
                return Ok(Some(SegmentKey {
                    uri,
                    iv: k.iv.unwrap_or_else(|| drm::decrypt::hls_iv(sequence)),
                }));
            }
            KeyMethod::SampleAes | KeyMethod::SampleAesCtr => {
                cdm |= drm::from_hls_key(k).is_some();
            }
            other => {
                return Err(DrmError::Unsupported {
                    what: format!("HLS METHOD {other:?}"),
                });
            }
        }
    }
    let sample_aes = keys
        .iter()
        .any(|k| matches!(k.method, KeyMethod::SampleAes | KeyMethod::SampleAesCtr));
    if sample_aes && !cdm {
        return Err(DrmError::Unsupported {
            what: "SAMPLE-AES with a key format no CDM takes (identity)".into(),
        });
    }
    Ok(None)
}

impl DrmState {
    /// The AES-128 key at `uri` has arrived.
    pub(super) fn key_is_ready(&self, uri: &str) -> bool {
        self.keys
            .iter()
            .any(|(u, k)| u == uri && matches!(k, KeyState::Ready(_)))
    }

    /// Next licence retry.
    pub(super) fn next_wakeup(&self) -> Option<Micros> {
        self.sessions.iter().filter_map(|s| s.retry_at).min()
    }
}

pub(super) fn drm_fatal(kind: Option<RequestKind>, e: &DrmError) -> FatalError {
    FatalError {
        class: ErrorClass::Drm,
        kind,
        cause: e.to_string(),
    }
}

impl Player {
    /// Reads the init data of the presentation as it now stands (after a manifest or a
    /// playlist) and acts on anything new.
    pub(super) fn drm_scan(&mut self) {
        let Some(p) = self.session.as_ref().and_then(|s| s.pres.as_ref()) else {
            return;
        };
        let mut found = Vec::new();
        for key in &p.session_keys {
            found.extend(drm::from_hls_key(key));
        }
        for period in &p.periods {
            for set in &period.switching_sets {
                found.extend(drm::from_content_protection(&set.protection));
                for t in &set.tracks {
                    found.extend(drm::from_content_protection(&t.protection));
                    if let SegmentIndex::List(l) = &t.segments {
                        for keys in l.key_sets() {
                            found.extend(keys.iter().filter_map(drm::from_hls_key));
                        }
                    }
                }
            }
        }
        self.drm_offer(found);
    }

    /// Init data in a fetched init segment or fragment (`pssh`, key rotation).
    pub(super) fn drm_scan_media(&mut self, body: &[u8]) {
        if body.first() == Some(&0x47) || body.len() < 8 {
            return;
        }
        if let Ok(found) = drm::from_segment(body) {
            self.drm_offer(found);
        }
    }

    fn drm_offer(&mut self, found: Vec<InitData>) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let d = &mut s.drm;
        let mut new = false;
        for f in found {
            if !d.offered.contains(&f) {
                d.offered.push(f);
                new = true;
            }
        }
        if !new {
            return;
        }
        if d.choice.is_none() {
            match drm::choose(&d.offered, &self.config.drm) {
                Ok(None) => return,
                Ok(Some(choice)) => {
                    let needs_cert = choice.server.certificate_url.is_some();
                    let event = Event::KeySystemSelected {
                        system: choice.system.clone(),
                        robustness: choice.robustness.clone(),
                    };
                    let url = choice.server.certificate_url.clone();
                    d.choice = Some(choice);
                    self.event(event);
                    if let (true, Some(url)) = (needs_cert, url) {
                        if let Some(s) = self.session.as_mut() {
                            s.drm.certificate = Certificate::Fetching;
                        }
                        let job = Job::new(
                            RequestKind::Certificate,
                            Purpose::Certificate,
                            url,
                            Route::Direct,
                        );
                        self.issue(job);
                        return;
                    }
                }
                Err(e) => {
                    self.fatal(drm_fatal(None, &e));
                    return;
                }
            }
        }
        // FairPlay without a certificate URL: the host's CDM must have one already.
        self.drm_create_sessions();
    }

    /// One CDM session per distinct init data of the chosen system.
    fn drm_create_sessions(&mut self) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let d = &mut s.drm;
        let Some(choice) = d.choice.as_ref() else {
            return;
        };
        if d.certificate == Certificate::Fetching {
            return;
        }
        let mut out = Vec::new();
        for init in d.offered.iter().filter(|i| i.system == choice.system) {
            if d.sessions
                .iter()
                .any(|x| x.init.data == init.data && x.init.data_type == init.data_type)
            {
                continue;
            }
            let id = DrmSessionId(u32::try_from(d.sessions.len()).unwrap_or(u32::MAX));
            out.push(CdmRequest::CreateSession {
                session: id,
                system: choice.system.clone(),
                robustness: choice.robustness.clone(),
                session_type: choice.session_type,
                init_data_type: init.data_type,
                init_data: init.data.clone(),
            });
            d.sessions.push(CdmSession {
                id,
                init: init.clone(),
                license: License::Generating(Generating::new(init)),
                inflight: None,
                retry_at: None,
            });
        }
        for r in out {
            self.out.push_back(Output::Cdm(r));
        }
    }

    /// What the host's CDM reported.
    pub(super) fn on_cdm(&mut self, event: CdmEvent) {
        let id = match &event {
            CdmEvent::Message { session, .. }
            | CdmEvent::KeyStatuses { session, .. }
            | CdmEvent::Error { session, .. } => *session,
        };
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(server) = s.drm.choice.as_ref().map(|c| c.server.clone()) else {
            return;
        };
        let Some(cs) = s.drm.sessions.iter_mut().find(|x| x.id == id) else {
            return;
        };
        let state = std::mem::replace(&mut cs.license, License::Closed);
        let (next, effect) = match (state, event) {
            (License::Generating(g), CdmEvent::Message { kind, message, .. }) => {
                match g.message(kind, &message, &server) {
                    Ok(r) => {
                        let req = r.request().clone();
                        (License::Requesting(r), Effect::Send(req))
                    }
                    Err(e) => (License::Failed(e.clone()), Effect::Fail(e)),
                }
            }
            (License::Active(a), CdmEvent::Message { kind, message, .. }) => {
                match a.message(kind, &message, &server) {
                    Ok(r) => {
                        let req = r.request().clone();
                        (License::Requesting(r), Effect::Send(req))
                    }
                    Err(e) => (License::Failed(e.clone()), Effect::Fail(e)),
                }
            }
            (License::Updating(u), CdmEvent::KeyStatuses { statuses, .. }) => {
                let renewal = u.renewal();
                let list: Vec<(Kid, KeyStatus)> =
                    statuses.iter().map(|e| (e.kid, e.status)).collect();
                match u.statuses(&list) {
                    Ok(a) => {
                        let keys = a.keys().to_vec();
                        (License::Active(a), Effect::Keys(keys, renewal))
                    }
                    Err(e) => (License::Failed(e.clone()), Effect::Fail(e)),
                }
            }
            (License::Active(mut a), CdmEvent::KeyStatuses { statuses, .. }) => {
                let list: Vec<(Kid, KeyStatus)> =
                    statuses.iter().map(|e| (e.kid, e.status)).collect();
                match a.statuses(&list) {
                    Ok(changed) => (License::Active(a), Effect::Keys(changed, false)),
                    Err(e) => (License::Failed(e.clone()), Effect::Fail(e)),
                }
            }
            (_, CdmEvent::Error { detail, .. }) => {
                let e = DrmError::Cdm { detail };
                (License::Failed(e.clone()), Effect::Fail(e))
            }
            // Anything else is out of order (statuses before a licence, a message while a
            // request is in flight): the state stays as it is.
            (state, _) => (state, Effect::None),
        };
        cs.license = next;
        match effect {
            Effect::None => {}
            Effect::Send(req) => self.send_license(id, req.url, req.headers, req.body),
            Effect::Fail(e) => self.fatal(drm_fatal(None, &e)),
            Effect::Keys(keys, renewal) => {
                if renewal {
                    self.event(Event::LicenseRenewed { session: id });
                }
                for (kid, status) in keys {
                    self.event(Event::KeyStatusChanged { kid, status });
                }
                self.drm_restrict();
            }
        }
    }

    fn send_license(
        &mut self,
        session: DrmSessionId,
        url: String,
        headers: Vec<NameValue>,
        body: Vec<u8>,
    ) {
        let mut job = Job::new(
            RequestKind::License,
            Purpose::License { session },
            url,
            Route::Direct,
        );
        job.method = Method::Post;
        job.headers = headers;
        job.body = Some(body);
        let rid = self.issue(job);
        if let Some(cs) = self
            .session
            .as_mut()
            .and_then(|s| s.drm.sessions.iter_mut().find(|x| x.id == session))
        {
            cs.inflight = Some(rid);
            cs.retry_at = None;
        }
    }

    /// A licence request ended (response, failure or timeout): the state machine decides.
    pub(super) fn on_license_answer(&mut self, id: RequestId, p: &Pending, answer: Answer) {
        let Purpose::License { session } = p.job.purpose else {
            return;
        };
        let retries = self.config.retry.license.retries;
        let cause = match &answer {
            Answer::Response { status, .. } => format!("HTTP {status}"),
            Answer::Timeout => "timeout".to_owned(),
            Answer::Network(d) => d.clone(),
        };
        let Some(cs) = self
            .session
            .as_mut()
            .and_then(|s| s.drm.sessions.iter_mut().find(|x| x.id == session))
        else {
            return;
        };
        if cs.inflight != Some(id) {
            return;
        }
        cs.inflight = None;
        let License::Requesting(r) = std::mem::replace(&mut cs.license, License::Closed) else {
            return;
        };
        match r.answer(answer, retries) {
            Outcome::Update(u, license) => {
                cs.license = License::Updating(u);
                self.out
                    .push_back(Output::Cdm(CdmRequest::Update { session, license }));
            }
            Outcome::Retry(w) => {
                let attempt = w.failures();
                let delay = backoff(&self.config.retry.license, attempt, &mut self.rng);
                cs.license = License::Waiting(w);
                cs.retry_at = Some(self.now.mono.saturating_add(delay));
                self.stats.retries = self.stats.retries.saturating_add(1);
                self.event(Event::Retry {
                    kind: RequestKind::License,
                    attempt,
                    delay,
                    cause,
                });
            }
            Outcome::Failed(e) => {
                cs.license = License::Failed(e.clone());
                self.fatal(drm_fatal(Some(RequestKind::License), &e));
            }
        }
    }

    /// Resends licence requests whose backoff ended.
    pub(super) fn drm_timers(&mut self) {
        let now = self.now.mono;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let mut due = Vec::new();
        for cs in &mut s.drm.sessions {
            if cs.retry_at.is_some_and(|t| t <= now) {
                cs.retry_at = None;
                if let License::Waiting(w) = std::mem::replace(&mut cs.license, License::Closed) {
                    let r = w.resend();
                    let req = r.request().clone();
                    cs.license = License::Requesting(r);
                    due.push((cs.id, req));
                }
            }
        }
        for (id, req) in due {
            self.send_license(id, req.url, req.headers, req.body);
        }
    }

    /// Output-restricted keys ban the tracks they protect; with no video track left, the
    /// session fails.
    fn drm_restrict(&mut self) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let restricted: Vec<Kid> = s
            .drm
            .sessions
            .iter()
            .filter_map(|x| match &x.license {
                License::Active(a) => Some(a.restricted()),
                _ => None,
            })
            .flatten()
            .collect();
        let Some(p) = s.pres.as_ref() else {
            return;
        };
        let mut banned = Vec::new();
        let mut video_left = false;
        let mut video_any = false;
        let mut culprit = None;
        for period in &p.periods {
            for set in &period.switching_sets {
                for t in &set.tracks {
                    let mut kids: Vec<Kid> = set
                        .protection
                        .iter()
                        .chain(&t.protection)
                        .flat_map(|c| c.default_kids.iter().copied())
                        .collect();
                    if let SegmentIndex::List(l) = &t.segments {
                        kids.extend(l.key_sets().iter().flatten().filter_map(|k| k.kid));
                    }
                    let hit = kids.iter().find(|k| restricted.contains(k));
                    let video = set.content_type == crate::model::ContentType::Video;
                    video_any |= video;
                    match hit {
                        Some(k) => {
                            culprit = Some(*k);
                            banned.push(t.id.clone());
                        }
                        None => video_left |= video,
                    }
                }
            }
        }
        let changed = banned != s.drm.banned;
        s.drm.banned = banned;
        if let (true, false, Some(kid)) = (video_any, video_left, culprit) {
            let e = DrmError::KeyUnusable {
                kid,
                status: KeyStatus::OutputRestricted,
            };
            self.fatal(drm_fatal(None, &e));
        } else if changed {
            self.reselect();
        }
    }

    /// The FairPlay certificate arrived.
    pub(super) fn on_certificate(&mut self, body: Vec<u8>) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(system) = s.drm.choice.as_ref().map(|c| c.system.clone()) else {
            return;
        };
        if body.is_empty() {
            let e = DrmError::Certificate {
                what: "empty body".into(),
            };
            self.fatal(drm_fatal(Some(RequestKind::Certificate), &e));
            return;
        }
        s.drm.certificate = Certificate::Ready;
        self.out
            .push_back(Output::Cdm(CdmRequest::SetServerCertificate {
                system,
                certificate: body,
            }));
        self.drm_create_sessions();
    }

    /// Whether the key of an AES-128 segment is at hand; starts fetching it when not.
    pub(super) fn key_ready(&mut self, uri: &str) -> bool {
        let Some(s) = self.session.as_mut() else {
            return false;
        };
        match s.drm.keys.iter().find(|(u, _)| u == uri) {
            Some((_, KeyState::Ready(_))) => return true,
            Some((_, KeyState::Fetching)) => return false,
            None => {}
        }
        if let Some(b64) = uri
            .strip_prefix("data:")
            .and_then(|d| d.split_once(";base64,"))
            .map(|(_, b)| b)
        {
            match crate::base64::decode(b64)
                .as_deref()
                .and_then(ContentKey::from_slice)
            {
                Some(k) => {
                    s.drm.keys.push((uri.to_owned(), KeyState::Ready(k)));
                    return true;
                }
                None => {
                    let e = DrmError::KeyLength { len: 0 };
                    self.fatal(drm_fatal(Some(RequestKind::Key), &e));
                    return false;
                }
            }
        }
        s.drm.keys.push((uri.to_owned(), KeyState::Fetching));
        let job = Job::new(
            RequestKind::Key,
            Purpose::Key {
                uri: uri.to_owned(),
            },
            uri.to_owned(),
            Route::Direct,
        );
        self.issue(job);
        false
    }

    /// An AES-128 key arrived.
    pub(super) fn on_key(&mut self, uri: &str, body: &[u8]) {
        let Some(key) = ContentKey::from_slice(body) else {
            let e = DrmError::KeyLength { len: body.len() };
            self.fatal(drm_fatal(Some(RequestKind::Key), &e));
            return;
        };
        if let Some(s) = self.session.as_mut() {
            for (u, k) in &mut s.drm.keys {
                if u == uri {
                    *k = KeyState::Ready(key.clone());
                }
            }
        }
    }

    /// Decrypts an AES-128 segment; `None` after a fatal error (a wrong key shows as bad
    /// padding or as bytes that are neither MPEG-TS nor ISO BMFF).
    pub(super) fn decrypt_segment(
        &mut self,
        key: &SegmentKey,
        mut body: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let found = self.session.as_ref().and_then(|s| {
            s.drm.keys.iter().find_map(|(u, k)| match k {
                KeyState::Ready(k) if *u == key.uri => Some(k.clone()),
                _ => None,
            })
        });
        let result = match found {
            None => Err(DrmError::Decrypt { why: "no key" }),
            Some(k) => drm::decrypt::aes128_cbc_segment(&k, &key.iv, &mut body).and_then(|()| {
                if looks_like_media(&body) {
                    Ok(())
                } else {
                    Err(DrmError::Decrypt {
                        why: "the result is neither MPEG-TS nor ISO BMFF",
                    })
                }
            }),
        };
        match result {
            Ok(()) => Some(body),
            Err(e) => {
                self.fatal(drm_fatal(Some(RequestKind::MediaSegment), &e));
                None
            }
        }
    }

    /// Closes every CDM session (on stop).
    pub(super) fn drm_close_all(&mut self) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let ids: Vec<DrmSessionId> = s
            .drm
            .sessions
            .iter_mut()
            .filter(|x| !matches!(x.license, License::Closed))
            .map(|x| {
                x.license = License::Closed;
                x.id
            })
            .collect();
        for session in ids {
            self.out
                .push_back(Output::Cdm(CdmRequest::Close { session }));
        }
    }

    /// Tracks banned by DRM (output-restricted keys).
    pub(super) fn drm_banned(&self) -> &[String] {
        self.session
            .as_ref()
            .map_or(&[], |s| s.drm.banned.as_slice())
    }
}

enum Effect {
    None,
    Send(drm::LicenseRequest),
    Fail(DrmError),
    Keys(Vec<(Kid, KeyStatus)>, bool),
}

/// MPEG-TS (sync byte at 0 and 188) or ISO BMFF (a box header with a printable type).
fn looks_like_media(b: &[u8]) -> bool {
    let ts = b.first() == Some(&0x47) && b.get(188).is_none_or(|x| *x == 0x47);
    let bmff = b
        .get(4..8)
        .is_some_and(|t| t.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' '));
    ts || bmff
}
