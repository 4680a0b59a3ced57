//! W3C ClearKey (EME §9.1): the licence request (`{"kids":[..],"type":..}`) and the JWK set
//! answer, and a software CDM for hosts without one (the CLI, tests) that keeps the keys
//! for [`super::decrypt`].

use crate::json::{self, Json};
use crate::media::protection::parse_pssh_boxes;
use crate::model::{KeySystem, Kid};

use super::config::SessionType;
use super::decrypt::ContentKey;
use super::error::{DrmError, KeyStatus};
use super::init_data::InitDataType;

/// The most keys one licence may carry.
const MAX_KEYS: usize = 1024;

/// The licence request for `kids`.
pub fn license_request(kids: &[Kid], session_type: SessionType) -> Vec<u8> {
    let list: Vec<String> = kids
        .iter()
        .map(|k| format!("\"{}\"", crate::base64::encode_url(&k.0)))
        .collect();
    format!(
        "{{\"kids\":[{}],\"type\":\"{}\"}}",
        list.join(","),
        session_type.name()
    )
    .into_bytes()
}

/// The key ids of ClearKey init data: `keyids` JSON, or `cenc` `pssh` boxes (the common
/// system's, or any version 1 box's KIDs).
pub fn init_data_kids(data_type: InitDataType, data: &[u8]) -> Result<Vec<Kid>, DrmError> {
    let bad = |what: &str| DrmError::Cdm {
        detail: format!("ClearKey init data: {what}"),
    };
    let kids: Vec<Kid> = match data_type {
        InitDataType::KeyIds => {
            let doc = json::parse(data).map_err(|_| bad("not JSON"))?;
            doc.get("kids")
                .map(Json::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(Json::as_str)
                .filter_map(crate::base64::decode)
                .filter_map(|b| <[u8; 16]>::try_from(b).ok().map(Kid))
                .collect()
        }
        InitDataType::Cenc => parse_pssh_boxes(data)
            .map_err(|_| bad("not pssh boxes"))?
            .iter()
            .flat_map(|p| p.key_ids.iter().map(|k| Kid(*k)))
            .collect(),
        InitDataType::Skd => return Err(bad("skd is FairPlay's")),
    };
    if kids.is_empty() {
        return Err(bad("no key ids"));
    }
    Ok(kids)
}

/// Reads a JWK set (`{"keys":[{"kty":"oct","kid":..,"k":..}]}`). The error never quotes it.
pub fn parse_license(license: &[u8]) -> Result<Vec<(Kid, ContentKey)>, &'static str> {
    let doc = json::parse(license).map_err(|_| "not JSON")?;
    let keys = doc.get("keys").ok_or("not a JWK set")?.as_array();
    if keys.is_empty() {
        return Err("a JWK set with no key");
    }
    if keys.len() > MAX_KEYS {
        return Err("too many keys");
    }
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        if k.get("kty").and_then(Json::as_str) != Some("oct") {
            return Err("a key that is not kty oct");
        }
        let field = |name| {
            k.get(name)
                .and_then(Json::as_str)
                .and_then(crate::base64::decode)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
        };
        let kid = field("kid").ok_or("a kid that is not 16 bytes of base64url")?;
        let key = field("k").ok_or("a key that is not 16 bytes of base64url")?;
        out.push((Kid(kid), ContentKey::new(key)));
    }
    Ok(out)
}

pub(super) fn check_license(license: &[u8]) -> Result<(), &'static str> {
    parse_license(license).map(|_| ())
}

/// A software ClearKey CDM: what EME's `org.w3.clearkey` does, for hosts that decrypt
/// themselves. Keys stay inside; [`ClearKeyCdm::key`] hands one to the decryptor.
#[derive(Debug, Default)]
pub struct ClearKeyCdm {
    keys: Vec<(Kid, ContentKey)>,
}

impl ClearKeyCdm {
    /// A CDM with no keys.
    pub fn new() -> ClearKeyCdm {
        ClearKeyCdm::default()
    }

    /// `generateRequest`: the licence request for ClearKey init data.
    pub fn generate_request(
        &self,
        system: &KeySystem,
        data_type: InitDataType,
        data: &[u8],
        session_type: SessionType,
    ) -> Result<Vec<u8>, DrmError> {
        if *system != KeySystem::ClearKey {
            return Err(DrmError::Cdm {
                detail: format!("the software CDM only does ClearKey, not {system}"),
            });
        }
        Ok(license_request(
            &init_data_kids(data_type, data)?,
            session_type,
        ))
    }

    /// `update`: takes the JWK set; returns the status of every key it brought.
    pub fn update(&mut self, license: &[u8]) -> Result<Vec<(Kid, KeyStatus)>, DrmError> {
        let keys = parse_license(license).map_err(|what| DrmError::Cdm {
            detail: format!("ClearKey licence: {what}"),
        })?;
        let mut statuses = Vec::with_capacity(keys.len());
        for (kid, key) in keys {
            self.keys.retain(|(k, _)| *k != kid);
            self.keys.push((kid, key));
            statuses.push((kid, KeyStatus::Usable));
        }
        Ok(statuses)
    }

    /// The key for `kid`, once a licence brought it.
    pub fn key(&self, kid: &Kid) -> Option<ContentKey> {
        self.keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, v)| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_jwk_set_round_trip_without_quoting_keys() {
        let kid = Kid::parse("00112233445566778899aabbccddeeff").unwrap();
        let req = license_request(&[kid], SessionType::Temporary);
        assert_eq!(
            String::from_utf8(req).unwrap(),
            r#"{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":"temporary"}"#
        );
        let kids =
            init_data_kids(InitDataType::KeyIds, &super::super::keyids_json(&[kid])).unwrap();
        assert_eq!(kids, vec![kid]);
        let jwk = br#"{"keys":[{"kty":"oct","kid":"ABEiM0RVZneImaq7zN3u_w","k":"ASNFZ4mrze8BI0VniavN7w"}],"type":"temporary"}"#;
        let mut cdm = ClearKeyCdm::new();
        assert_eq!(cdm.update(jwk).unwrap(), vec![(kid, KeyStatus::Usable)]);
        assert_eq!(
            cdm.key(&kid),
            ContentKey::from_slice(&[
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                0xcd, 0xef
            ])
        );
        for bad in [
            &b"{"[..],
            b"{}",
            br#"{"keys":[]}"#,
            br#"{"keys":[{"kty":"oct","kid":"AA","k":"AA"}]}"#,
        ] {
            let e = cdm.update(bad).unwrap_err().to_string();
            assert!(!e.contains("ASNF"), "{e}");
        }
        assert!(!format!("{cdm:?}").contains("ASNF") && !format!("{cdm:?}").contains("1, 35"));
    }
}
