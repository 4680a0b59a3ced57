//! A simulated CDM and licence server, so DRM flows run in simulated time.
//!
//! ClearKey is real: the session's request comes from Playhead's software ClearKey CDM and
//! the server answers a JWK set. Widevine, PlayReady and FairPlay are stand-ins with the
//! same message flow: the challenge is `challenge:<system>:<kid>,<kid>`, the licence
//! `license:<kid>,<kid>`, and the key ids come from the real init data (PSSH v1 key ids,
//! the PlayReady header's KIDs, a Widevine PSSH's `key_id` fields, the `skd://` URI).

use playhead::Micros;
use playhead::drm::clearkey::ClearKeyCdm;
use playhead::drm::{InitDataType, KeyStatus, MessageKind};
use playhead::engine::{CdmEvent, CdmRequest, DrmSessionId, KeyStatusEntry};
use playhead::media::protection::parse_pssh_boxes;
use playhead::model::{KeySystem, Kid, playready_kids};

/// What the simulated CDM does besides answering.
#[derive(Debug, Clone, Default)]
pub struct CdmScript {
    /// Every active session asks for a renewal at these times.
    pub renew_at: Vec<Micros>,
    /// At each time, the key reports this status (output-restricted, expired).
    pub status_at: Vec<(Micros, Kid, KeyStatus)>,
}

#[derive(Debug)]
struct Session {
    id: DrmSessionId,
    system: KeySystem,
    kids: Vec<Kid>,
    active: bool,
}

/// The simulated CDM.
#[derive(Debug, Default)]
pub struct SimCdm {
    clearkey: ClearKeyCdm,
    sessions: Vec<Session>,
    script: CdmScript,
    /// Whether a server certificate was set.
    pub certificate: bool,
}

/// Key ids of init data, as a CDM would find them.
pub fn init_data_kids(data_type: InitDataType, data: &[u8]) -> Vec<Kid> {
    match data_type {
        InitDataType::KeyIds => {
            playhead::drm::clearkey::init_data_kids(data_type, data).unwrap_or_default()
        }
        InitDataType::Skd => std::str::from_utf8(data)
            .ok()
            .and_then(|u| u.strip_prefix("skd://"))
            .and_then(|id| Kid::parse(id.split(['?', '/']).next().unwrap_or("")))
            .into_iter()
            .collect(),
        InitDataType::Cenc => {
            let mut kids = Vec::new();
            for p in parse_pssh_boxes(data).unwrap_or_default() {
                kids.extend(p.key_ids.iter().map(|k| Kid(*k)));
                kids.extend(playready_kids(&p.data));
                kids.extend(widevine_key_ids(&p.data));
            }
            kids.dedup();
            kids
        }
    }
}

/// `key_id` (field 2, bytes) of a Widevine PSSH data protobuf.
fn widevine_key_ids(data: &[u8]) -> Vec<Kid> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= data.len() {
        let tag = data[at];
        at += 1;
        match tag & 7 {
            0 => {
                while at < data.len() && data[at] & 0x80 != 0 {
                    at += 1;
                }
                at += 1;
            }
            2 => {
                let len = usize::from(data[at]);
                at += 1;
                if data[at..].len() < len || data[at - 1] & 0x80 != 0 {
                    break;
                }
                if tag == 0x12 && len == 16 {
                    out.extend(<[u8; 16]>::try_from(&data[at..at + 16]).ok().map(Kid));
                }
                at += len;
            }
            _ => break,
        }
    }
    out
}

fn hexes(kids: &[Kid]) -> String {
    kids.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl SimCdm {
    /// A CDM following `script`.
    pub fn new(script: CdmScript) -> SimCdm {
        SimCdm {
            script,
            ..SimCdm::default()
        }
    }

    /// Answers a request of the engine.
    pub fn handle(&mut self, r: &CdmRequest) -> Vec<CdmEvent> {
        match r {
            CdmRequest::SetServerCertificate { .. } => {
                self.certificate = true;
                Vec::new()
            }
            CdmRequest::CreateSession {
                session,
                system,
                session_type,
                init_data_type,
                init_data,
                ..
            } => {
                let kids = init_data_kids(*init_data_type, init_data);
                let message = if *system == KeySystem::ClearKey {
                    match self.clearkey.generate_request(
                        system,
                        *init_data_type,
                        init_data,
                        *session_type,
                    ) {
                        Ok(m) => m,
                        Err(e) => {
                            return vec![CdmEvent::Error {
                                session: *session,
                                detail: e.to_string(),
                            }];
                        }
                    }
                } else if *system == KeySystem::FairPlay && !self.certificate {
                    return vec![CdmEvent::Error {
                        session: *session,
                        detail: "no server certificate".into(),
                    }];
                } else {
                    format!("challenge:{system}:{}", hexes(&kids)).into_bytes()
                };
                self.sessions.push(Session {
                    id: *session,
                    system: system.clone(),
                    kids,
                    active: false,
                });
                vec![CdmEvent::Message {
                    session: *session,
                    kind: MessageKind::LicenseRequest,
                    message,
                }]
            }
            CdmRequest::Update { session, license } => {
                let Some(s) = self.sessions.iter_mut().find(|s| s.id == *session) else {
                    return Vec::new();
                };
                let statuses = if s.system == KeySystem::ClearKey {
                    match self.clearkey.update(license) {
                        Ok(st) => st,
                        Err(e) => {
                            return vec![CdmEvent::Error {
                                session: *session,
                                detail: e.to_string(),
                            }];
                        }
                    }
                } else {
                    let text = String::from_utf8_lossy(license);
                    let Some(list) = text.strip_prefix("license:") else {
                        return vec![CdmEvent::Error {
                            session: *session,
                            detail: "licence rejected".into(),
                        }];
                    };
                    list.split(',')
                        .filter_map(Kid::parse)
                        .map(|k| (k, KeyStatus::Usable))
                        .collect()
                };
                s.active = true;
                vec![CdmEvent::KeyStatuses {
                    session: *session,
                    statuses: statuses
                        .into_iter()
                        .map(|(kid, status)| KeyStatusEntry { kid, status })
                        .collect(),
                }]
            }
            CdmRequest::Close { session } => {
                self.sessions.retain(|s| s.id != *session);
                Vec::new()
            }
        }
    }

    /// The next scripted event after `t`.
    pub fn next_event(&self, t: Micros) -> Option<Micros> {
        self.script
            .renew_at
            .iter()
            .copied()
            .chain(self.script.status_at.iter().map(|(at, _, _)| *at))
            .filter(|at| *at > t)
            .min()
    }

    /// Scripted events due in `(from, to]`.
    pub fn due(&mut self, from: Micros, to: Micros) -> Vec<CdmEvent> {
        let within = |at: Micros| at > from && at <= to;
        let mut out = Vec::new();
        for at in self.script.renew_at.clone() {
            if within(at) {
                for s in self.sessions.iter().filter(|s| s.active) {
                    let message = if s.system == KeySystem::ClearKey {
                        playhead::drm::clearkey::license_request(
                            &s.kids,
                            playhead::drm::SessionType::Temporary,
                        )
                    } else {
                        format!("renew:{}:{}", s.system, hexes(&s.kids)).into_bytes()
                    };
                    out.push(CdmEvent::Message {
                        session: s.id,
                        kind: MessageKind::LicenseRenewal,
                        message,
                    });
                }
            }
        }
        for (at, kid, status) in self.script.status_at.clone() {
            if within(at) {
                for s in self
                    .sessions
                    .iter()
                    .filter(|s| s.active && s.kids.contains(&kid))
                {
                    out.push(CdmEvent::KeyStatuses {
                        session: s.id,
                        statuses: vec![KeyStatusEntry { kid, status }],
                    });
                }
            }
        }
        out
    }
}

/// The simulated licence server: a JWK set with `keys` for ClearKey requests, `license:..`
/// for the stand-in systems' challenges and renewals; 403 when it knows none of the keys.
#[derive(Debug, Clone, Default)]
pub struct SimLicenseServer {
    /// ClearKey keys (key id, key).
    pub keys: Vec<(Kid, [u8; 16])>,
    /// Answer 200 with a body that is not a licence.
    pub malformed: bool,
}

impl SimLicenseServer {
    /// Status and body for a licence request body.
    pub fn answer(&self, body: &[u8]) -> (u16, Vec<u8>) {
        if self.malformed {
            return (200, b"<html>gateway says hello</html>".to_vec());
        }
        let text = String::from_utf8_lossy(body);
        // A JSON envelope: this server answers without the licence field, as a misconfigured
        // proxy does.
        if text.starts_with("{\"challenge\"") {
            return (200, br#"{"status":"ok"}"#.to_vec());
        }
        // FairPlay, Apple's form: spc=<base64>&assetId=<content id>; the CKC comes back as
        // base64 in <ckc> tags, and only for the asset the SPC is for.
        if let Some(form) = text.strip_prefix("spc=") {
            let (spc, asset) = form.split_once("&assetId=").unwrap_or((form, ""));
            let spc = spc
                .replace("%2B", "+")
                .replace("%2F", "/")
                .replace("%3D", "=");
            let challenge = playhead::base64::decode(&spc).unwrap_or_default();
            let challenge = String::from_utf8_lossy(&challenge).into_owned();
            let kids = challenge.rsplit(':').next().unwrap_or("");
            if Kid::parse(asset).map(|k| k.to_string()).as_deref() != Some(kids) {
                return (403, Vec::new());
            }
            let ckc = playhead::base64::encode(format!("license:{kids}").as_bytes());
            return (200, format!("<ckc>{ckc}</ckc>").into_bytes());
        }
        if let Some(rest) = text
            .strip_prefix("challenge:")
            .or_else(|| text.strip_prefix("renew:"))
        {
            let kids = rest.split_once(':').map_or("", |(_, k)| k);
            return (200, format!("license:{kids}").into_bytes());
        }
        // ClearKey: {"kids":[..]}.
        let kids =
            playhead::drm::clearkey::init_data_kids(InitDataType::KeyIds, body).unwrap_or_default();
        let found: Vec<String> = kids
            .iter()
            .filter_map(|k| self.keys.iter().find(|(id, _)| id == k))
            .map(|(id, key)| {
                format!(
                    r#"{{"kty":"oct","kid":"{}","k":"{}"}}"#,
                    playhead::base64::encode_url(&id.0),
                    playhead::base64::encode_url(key)
                )
            })
            .collect();
        if found.is_empty() {
            return (403, Vec::new());
        }
        (
            200,
            format!(r#"{{"keys":[{}],"type":"temporary"}}"#, found.join(",")).into_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use playhead::drm::SessionType;
    use playhead::drm::clearkey::{license_request, parse_license};

    #[test]
    fn the_stand_in_flow_round_trips_and_clearkey_is_real() {
        let kid = Kid::parse("00112233445566778899aabbccddeeff").unwrap();
        let server = SimLicenseServer {
            keys: vec![(kid, [7; 16])],
            malformed: false,
        };
        let (status, body) = server.answer(&license_request(&[kid], SessionType::Temporary));
        assert_eq!(status, 200);
        assert_eq!(parse_license(&body).unwrap().len(), 1);
        let other = Kid::parse("ffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(
            server
                .answer(&license_request(&[other], SessionType::Temporary))
                .0,
            403
        );
        assert_eq!(
            server
                .answer(format!("challenge:widevine:{kid}").as_bytes())
                .1,
            format!("license:{kid}").into_bytes()
        );
    }
}
