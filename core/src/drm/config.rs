//! What the host's CDM supports, how to reach the licence servers, and per-platform defaults.

use crate::model::{KeySystem, NameValue};

/// EME session type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum SessionType {
    /// The licence lives as long as the session (EME `temporary`).
    #[default]
    Temporary,
    /// The licence is stored by the CDM for offline or faster restart
    /// (`persistent-license`), when the system supports it.
    PersistentLicense,
}

impl SessionType {
    /// EME spelling.
    pub fn name(self) -> &'static str {
        match self {
            SessionType::Temporary => "temporary",
            SessionType::PersistentLicense => "persistent-license",
        }
    }
}

/// One key system the host's CDM supports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeySystemSupport {
    /// The system.
    pub system: KeySystem,
    /// Robustness levels it offers, best first (`HW_SECURE_ALL`, `SW_SECURE_CRYPTO`, `3000`);
    /// empty: the CDM's default.
    pub robustness: Vec<String>,
    /// Whether it stores licences (`persistent-license`).
    pub persistent_license: bool,
    /// Encryption schemes it decrypts (`cenc`, `cbcs`); empty: any.
    pub schemes: Vec<String>,
}

impl KeySystemSupport {
    /// `system` with the CDM's defaults.
    pub fn new(system: KeySystem) -> KeySystemSupport {
        KeySystemSupport {
            system,
            robustness: Vec::new(),
            persistent_license: false,
            schemes: Vec::new(),
        }
    }
}

/// How a CDM message travels to the licence server and the licence comes back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Wrapping {
    /// The message is the body; the body is the licence (Widevine, PlayReady, ClearKey).
    #[default]
    Raw,
    /// A JSON envelope: `{"<request_field>": "<base64 message>"}` out, and the base64
    /// licence in `<response_field>` of the JSON answer.
    Json {
        /// Field of the request object holding the base64 message.
        request_field: String,
        /// Field of the answer holding the base64 licence.
        response_field: String,
    },
    /// FairPlay as Apple's sample key server takes it: `spc=<base64 SPC>&assetId=<content
    /// id>` form-encoded out; the base64 CKC back, bare or in `<ckc>..</ckc>`.
    FairPlayForm,
}

/// Where and how to request licences for one key system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LicenseServer {
    /// The key system.
    pub system: KeySystem,
    /// Licence URL; `None`: the one in the manifest (`dashif:Laurl`, PlayReady `LA_URL`).
    pub url: Option<String>,
    /// Headers sent with every licence request (tokens, content type).
    pub headers: Vec<NameValue>,
    /// Envelope of request and answer.
    pub wrapping: Wrapping,
    /// Server certificate URL (FairPlay needs one; Widevine may use one for privacy mode).
    pub certificate_url: Option<String>,
}

impl LicenseServer {
    /// A raw licence server at `url` for `system`.
    pub fn new(system: KeySystem, url: &str) -> LicenseServer {
        LicenseServer {
            system,
            url: Some(url.to_owned()),
            headers: Vec::new(),
            wrapping: Wrapping::Raw,
            certificate_url: None,
        }
    }
}

/// DRM settings of the engine ([`Config::drm`](crate::engine::Config::drm)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DrmConfig {
    /// Key systems the host's CDM supports, most preferred first. Empty: protected content
    /// fails with [`DrmError::NoKeySystem`](super::DrmError::NoKeySystem).
    pub systems: Vec<KeySystemSupport>,
    /// Licence servers, one per key system.
    pub servers: Vec<LicenseServer>,
    /// Ask for stored licences where the chosen system supports them.
    pub session_type: SessionType,
}

/// Platforms with documented default key-system orders ([`DrmConfig::for_platform`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Platform {
    /// Chrome, Chromium and other Blink browsers on desktop.
    Chromium,
    /// Firefox.
    Firefox,
    /// Edge on Windows.
    Edge,
    /// Safari (macOS, iPadOS).
    Safari,
    /// Android and Android TV apps (MediaDrm).
    Android,
    /// iOS and tvOS apps (AVContentKeySession).
    Apple,
    /// Samsung Tizen TVs.
    Tizen,
    /// LG webOS TVs.
    WebOs,
    /// Chromecast receivers.
    Chromecast,
}

impl DrmConfig {
    /// The key systems `platform` ships, in the order Playhead prefers them there:
    ///
    /// | platform | order | why |
    /// |---|---|---|
    /// | Chromium, Firefox | Widevine, ClearKey | the only CDMs they ship |
    /// | Edge | PlayReady, Widevine, ClearKey | PlayReady SL3000 is hardware-backed there |
    /// | Safari, Apple | FairPlay | the only CDM |
    /// | Android | Widevine, PlayReady, ClearKey | Widevine on every certified device; PlayReady on some TVs |
    /// | Tizen, webOS | PlayReady, Widevine | PlayReady on every model year; Widevine from 2018 on |
    /// | Chromecast | Widevine, PlayReady | both built in |
    ///
    /// Robustness: Widevine asks `HW_SECURE_ALL` before `SW_SECURE_CRYPTO` on Android and
    /// Chromecast, `SW_SECURE_DECODE`/`SW_SECURE_CRYPTO` in desktop browsers; PlayReady asks
    /// `3000` before `2000` on Edge. Licence servers still come from the app.
    pub fn for_platform(platform: Platform) -> DrmConfig {
        use KeySystem::{ClearKey, FairPlay, PlayReady, Widevine};
        let with = |system: KeySystem, robustness: &[&str]| KeySystemSupport {
            robustness: robustness.iter().map(|r| (*r).to_owned()).collect(),
            ..KeySystemSupport::new(system)
        };
        let wv_hw = || with(Widevine, &["HW_SECURE_ALL", "SW_SECURE_CRYPTO"]);
        let wv_sw = || with(Widevine, &["SW_SECURE_DECODE", "SW_SECURE_CRYPTO"]);
        let systems = match platform {
            Platform::Chromium | Platform::Firefox => vec![wv_sw(), with(ClearKey, &[])],
            Platform::Edge => vec![
                with(PlayReady, &["3000", "2000"]),
                wv_sw(),
                with(ClearKey, &[]),
            ],
            Platform::Safari | Platform::Apple => vec![with(FairPlay, &[])],
            Platform::Android => vec![wv_hw(), with(PlayReady, &[]), with(ClearKey, &[])],
            Platform::Tizen | Platform::WebOs => vec![with(PlayReady, &[]), wv_hw()],
            Platform::Chromecast => vec![wv_hw(), with(PlayReady, &[])],
        };
        DrmConfig {
            systems,
            ..DrmConfig::default()
        }
    }

    /// The licence server configured for `system`.
    pub fn server(&self, system: &KeySystem) -> Option<&LicenseServer> {
        self.servers.iter().find(|s| &s.system == system)
    }
}
