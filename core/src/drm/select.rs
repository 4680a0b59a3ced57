//! Choosing the key system: the host's order of preference, among those the content offers.

use crate::model::KeySystem;

use super::config::{DrmConfig, LicenseServer, SessionType};
use super::error::DrmError;
use super::init_data::InitData;

/// The key system chosen, and how to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The system.
    pub system: KeySystem,
    /// Robustness to ask for (the host's best), if it listed any.
    pub robustness: Option<String>,
    /// Session type (persistent only when asked for and supported).
    pub session_type: SessionType,
    /// The licence server, its URL filled in from the stream when not configured.
    pub server: LicenseServer,
}

/// Picks the first of the host's systems that the content offers init data for and that
/// decrypts the content's scheme. `Ok(None)` when `offered` is empty (clear content).
pub fn choose(offered: &[InitData], config: &DrmConfig) -> Result<Option<Choice>, DrmError> {
    if offered.is_empty() {
        return Ok(None);
    }
    for support in &config.systems {
        let usable = offered.iter().any(|d| {
            d.system == support.system
                && (support.schemes.is_empty()
                    || d.scheme
                        .as_ref()
                        .is_none_or(|s| support.schemes.contains(s)))
        });
        if !usable {
            continue;
        }
        let mut server = config
            .server(&support.system)
            .cloned()
            .unwrap_or_else(|| LicenseServer {
                url: None,
                ..LicenseServer::new(support.system.clone(), "")
            });
        if server.url.is_none() {
            server.url = offered
                .iter()
                .filter(|d| d.system == support.system)
                .find_map(|d| d.license_url.clone());
        }
        if server.url.is_none() {
            return Err(DrmError::NoLicenseServer {
                system: support.system.to_string(),
            });
        }
        let session_type = if support.persistent_license {
            config.session_type
        } else {
            SessionType::Temporary
        };
        return Ok(Some(Choice {
            system: support.system.clone(),
            robustness: support.robustness.first().cloned(),
            session_type,
            server,
        }));
    }
    let names = |it: &mut dyn Iterator<Item = &KeySystem>| {
        let mut v: Vec<String> = Vec::new();
        for s in it {
            let s = s.to_string();
            if !v.contains(&s) {
                v.push(s);
            }
        }
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    Err(DrmError::NoKeySystem {
        offered: names(&mut offered.iter().map(|d| &d.system)),
        supported: names(&mut config.systems.iter().map(|s| &s.system)),
    })
}
