//! Init data for the CDM, from everywhere a stream carries it: DASH `ContentProtection`
//! (`cenc:pssh`, `mspr:pro`, `cenc:default_KID`), Smooth `ProtectionHeader`, HLS
//! `EXT-X-KEY` / `EXT-X-SESSION-KEY` (`data:` PSSH or PlayReady header, `skd://`), and
//! `pssh` / `tenc` boxes in init segments and fragments (key rotation).

use crate::media::protection::Pssh;
use crate::media::{self, MediaError};
use crate::model::{
    ContentProtection, HlsKey, KeyMethod, KeySystem, Kid, playready_kids, playready_la_url,
};

/// The EME init data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum InitDataType {
    /// One or more `pssh` boxes (`cenc`).
    Cenc,
    /// `{"kids":[...]}` (W3C `keyids`, ClearKey).
    KeyIds,
    /// A FairPlay `skd://` URI, UTF-8 (`skd`).
    Skd,
}

impl InitDataType {
    /// EME spelling.
    pub fn name(self) -> &'static str {
        match self {
            InitDataType::Cenc => "cenc",
            InitDataType::KeyIds => "keyids",
            InitDataType::Skd => "skd",
        }
    }
}

/// What a CDM session is created from.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct InitData {
    /// The key system it is for ([`KeySystem::CommonPssh`] counts as ClearKey).
    pub system: KeySystem,
    /// Its type.
    pub data_type: InitDataType,
    /// The bytes handed to the CDM.
    pub data: Vec<u8>,
    /// The key ids it names (what the licence must bring).
    pub kids: Vec<Kid>,
    /// Licence URL the stream itself names (`dashif:Laurl`, PlayReady `LA_URL`, ClearKey key
    /// URI).
    pub license_url: Option<String>,
    /// Encryption scheme (`cenc`, `cbcs`), when signalled.
    pub scheme: Option<String>,
}

impl std::fmt::Debug for InitData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitData")
            .field("system", &self.system)
            .field("data_type", &self.data_type)
            .field("bytes", &self.data.len())
            .field("kids", &self.kids)
            .field("scheme", &self.scheme)
            .finish()
    }
}

impl InitData {
    /// FairPlay: the content id of an `skd://` URI (what follows `skd://`), which the app
    /// passes to AVContentKeySession and the key server.
    pub fn content_id(&self) -> Option<&str> {
        if self.data_type != InitDataType::Skd {
            return None;
        }
        std::str::from_utf8(&self.data).ok()?.strip_prefix("skd://")
    }
}

/// `{"kids":["<base64url>",...]}`: W3C `keyids` init data.
pub fn keyids_json(kids: &[Kid]) -> Vec<u8> {
    let list: Vec<String> = kids
        .iter()
        .map(|k| format!("\"{}\"", crate::base64::encode_url(&k.0)))
        .collect();
    format!("{{\"kids\":[{}]}}", list.join(",")).into_bytes()
}

fn system_uuid(system: &KeySystem) -> Option<[u8; 16]> {
    let id = Kid::parse(system.system_id()?)?;
    Some(id.0)
}

fn from_pssh(pssh: &Pssh, extra_kids: &[Kid]) -> Option<InitData> {
    let system = KeySystem::from_scheme(&Kid(pssh.system_id).to_string());
    let system = match system {
        KeySystem::CommonPssh => KeySystem::ClearKey,
        KeySystem::Widevine | KeySystem::PlayReady | KeySystem::FairPlay | KeySystem::ClearKey => {
            system
        }
        _ => return None,
    };
    let mut kids: Vec<Kid> = pssh.key_ids.iter().map(|k| Kid(*k)).collect();
    let mut license_url = None;
    if system == KeySystem::PlayReady {
        kids.extend(playready_kids(&pssh.data));
        license_url = playready_la_url(&pssh.data);
    }
    add_kids(&mut kids, extra_kids);
    Some(InitData {
        system,
        data_type: InitDataType::Cenc,
        data: pssh.to_box(),
        kids,
        license_url,
        scheme: None,
    })
}

fn add_kids(kids: &mut Vec<Kid>, more: &[Kid]) {
    for k in more {
        if !kids.contains(k) {
            kids.push(*k);
        }
    }
}

/// Init data from the `ContentProtection` descriptors of one adaptation set or track (or a
/// Smooth `ProtectionHeader`), one per key system they make usable.
pub fn from_content_protection(list: &[ContentProtection]) -> Vec<InitData> {
    let mut default_kids: Vec<Kid> = Vec::new();
    let mut scheme = None;
    for cp in list {
        add_kids(&mut default_kids, &cp.default_kids);
        if cp.system == KeySystem::Mp4Protection {
            scheme = cp.value.clone().filter(|v| v == "cenc" || v == "cbcs");
        }
    }
    let mut out: Vec<InitData> = Vec::new();
    for cp in list {
        let parsed = cp.pssh.as_deref().and_then(|b| {
            media::protection::parse_pssh_boxes(b)
                .ok()
                .and_then(|v| v.into_iter().next())
        });
        let mut found = match (&cp.system, parsed, &cp.playready_header) {
            (_, Some(pssh), _) => from_pssh(&pssh, &default_kids),
            (KeySystem::PlayReady, None, Some(pro)) => {
                system_uuid(&KeySystem::PlayReady).and_then(|id| {
                    from_pssh(
                        &Pssh {
                            system_id: id,
                            key_ids: Vec::new(),
                            data: pro.to_vec(),
                        },
                        &default_kids,
                    )
                })
            }
            (KeySystem::ClearKey | KeySystem::CommonPssh, None, _) if !default_kids.is_empty() => {
                Some(InitData {
                    system: KeySystem::ClearKey,
                    data_type: InitDataType::KeyIds,
                    data: keyids_json(&default_kids),
                    kids: default_kids.clone(),
                    license_url: None,
                    scheme: None,
                })
            }
            _ => None,
        };
        if let Some(d) = found.as_mut() {
            d.scheme = scheme.clone();
            if cp.license_url.is_some() {
                d.license_url = cp.license_url.clone();
            }
            // A ClearKey descriptor may bring the licence URL while the common PSSH
            // descriptor brings the data: merge them.
            if let Some(same) = out.iter_mut().find(|o| o.system == d.system) {
                if same.license_url.is_none() {
                    same.license_url = d.license_url.take();
                }
                continue;
            }
        }
        out.extend(found);
    }
    // A ClearKey descriptor with a licence URL only, plus a common PSSH elsewhere in the
    // list, is handled above; a ClearKey URL with no data at all gets `keyids`.
    out
}

/// Init data of an HLS key, for the methods a CDM decrypts (`SAMPLE-AES`,
/// `SAMPLE-AES-CTR`); `None` for `NONE`, whole-segment AES (the core decrypts those) and
/// key formats no CDM takes.
pub fn from_hls_key(key: &HlsKey) -> Option<InitData> {
    if !matches!(key.method, KeyMethod::SampleAes | KeyMethod::SampleAesCtr) {
        return None;
    }
    let scheme = Some(
        if key.method == KeyMethod::SampleAes {
            "cbcs"
        } else {
            "cenc"
        }
        .to_owned(),
    );
    let uri = key.uri.as_deref()?;
    let kids: Vec<Kid> = key.kid.into_iter().collect();
    let data_uri = || {
        let (_, b64) = uri.strip_prefix("data:")?.split_once(";base64,")?;
        crate::base64::decode(b64)
    };
    let mut found = match &key.system {
        KeySystem::Widevine | KeySystem::PlayReady => {
            let bytes = data_uri()?;
            let pssh = match media::protection::parse_pssh_boxes(&bytes) {
                Ok(v) if !v.is_empty() => v.into_iter().next()?,
                // PlayReady: the header object itself.
                _ => Pssh {
                    system_id: system_uuid(&key.system)?,
                    key_ids: Vec::new(),
                    data: bytes,
                },
            };
            from_pssh(&pssh, &kids)?
        }
        KeySystem::FairPlay => InitData {
            system: KeySystem::FairPlay,
            data_type: InitDataType::Skd,
            data: uri.as_bytes().to_vec(),
            kids,
            license_url: None,
            scheme: None,
        },
        KeySystem::ClearKey | KeySystem::CommonPssh if !kids.is_empty() => InitData {
            system: KeySystem::ClearKey,
            data_type: InitDataType::KeyIds,
            data: keyids_json(&kids),
            kids,
            license_url: uri.starts_with("http").then(|| uri.to_owned()),
            scheme: None,
        },
        _ => return None,
    };
    found.scheme = scheme;
    Some(found)
}

/// Init data in an init segment or a fragment: its `pssh` boxes (in-band, and key rotation
/// when in a `moof`), with the `tenc` default KIDs of an init segment added.
pub fn from_segment(data: &[u8]) -> Result<Vec<InitData>, MediaError> {
    let pssh = media::protection::parse_pssh_boxes(data)?;
    if pssh.is_empty() {
        return Ok(Vec::new());
    }
    let mut tenc_kids = Vec::new();
    let mut scheme = None;
    if let Ok(info) = media::parse_init(data) {
        for t in &info.tracks {
            if let Some(p) = &t.config.protection {
                add_kids(&mut tenc_kids, &[Kid(p.default_kid)]);
                scheme = std::str::from_utf8(&p.scheme).ok().map(str::to_owned);
            }
        }
    }
    let mut out: Vec<InitData> = Vec::new();
    for p in &pssh {
        if let Some(mut d) = from_pssh(p, &tenc_kids) {
            d.scheme = scheme.clone();
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    Ok(out)
}
