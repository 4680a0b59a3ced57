//! DRM errors and key statuses. Nothing here ever carries key material or a licence body.

use crate::model::Kid;

/// The status of one key in a CDM session (EME `MediaKeyStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum KeyStatus {
    /// The key can decrypt.
    Usable,
    /// The licence expired.
    Expired,
    /// The session was released.
    Released,
    /// The output (HDCP, screen capture) does not meet the licence: the tracks this key
    /// protects cannot be shown here.
    OutputRestricted,
    /// The output is downscaled to meet the licence; playback goes on.
    OutputDownscaled,
    /// Not known yet.
    StatusPending,
    /// The CDM failed with this key.
    InternalError,
    /// Usable later (a licence with a future start).
    UsableInFuture,
}

impl KeyStatus {
    /// EME spelling (`usable`, `output-restricted`, ...).
    pub fn name(self) -> &'static str {
        match self {
            KeyStatus::Usable => "usable",
            KeyStatus::Expired => "expired",
            KeyStatus::Released => "released",
            KeyStatus::OutputRestricted => "output-restricted",
            KeyStatus::OutputDownscaled => "output-downscaled",
            KeyStatus::StatusPending => "status-pending",
            KeyStatus::InternalError => "internal-error",
            KeyStatus::UsableInFuture => "usable-in-future",
        }
    }

    /// Reads the EME spelling.
    pub fn from_name(name: &str) -> Option<KeyStatus> {
        [
            KeyStatus::Usable,
            KeyStatus::Expired,
            KeyStatus::Released,
            KeyStatus::OutputRestricted,
            KeyStatus::OutputDownscaled,
            KeyStatus::StatusPending,
            KeyStatus::InternalError,
            KeyStatus::UsableInFuture,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

impl std::fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why DRM cannot go on. Each variant is a class a host or an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrmError {
    /// The content offers no key system the device supports.
    #[error(
        "no supported key system: the content offers {offered}, the device supports {supported}"
    )]
    NoKeySystem {
        /// Systems in the content.
        offered: String,
        /// Systems the host listed.
        supported: String,
    },
    /// Neither the configuration nor the manifest names a licence server.
    #[error("no licence server for {system}")]
    NoLicenseServer {
        /// The key system.
        system: String,
    },
    /// The licence server refused (HTTP 4xx other than 408 and 429): not retried.
    #[error("licence server refused the request: HTTP {status}")]
    LicenseDenied {
        /// Status.
        status: u16,
    },
    /// The licence server kept failing (HTTP 5xx, 408 or 429) until the retries ran out.
    #[error("licence server failed: HTTP {status} after {attempts} attempts")]
    LicenseServer {
        /// Last status.
        status: u16,
        /// Requests made.
        attempts: u32,
    },
    /// The licence server did not answer in time, retries included.
    #[error("licence server did not answer in time ({attempts} attempts)")]
    LicenseTimeout {
        /// Requests made.
        attempts: u32,
    },
    /// The licence request failed on the network, retries included.
    #[error("licence request failed: {detail} ({attempts} attempts)")]
    LicenseNetwork {
        /// The host's description.
        detail: String,
        /// Requests made.
        attempts: u32,
    },
    /// A 2xx answer that is not a licence in the configured wrapping.
    #[error("malformed licence response: {what}")]
    MalformedLicense {
        /// What is wrong (never the body).
        what: &'static str,
    },
    /// The FairPlay certificate could not be fetched or is empty.
    #[error("server certificate: {what}")]
    Certificate {
        /// What went wrong.
        what: String,
    },
    /// The host's CDM reported an error.
    #[error("CDM error: {detail}")]
    Cdm {
        /// The host's description.
        detail: String,
    },
    /// A key the content needs is unusable (expired, internal error, output-restricted on
    /// every track).
    #[error("key {kid} is {status}")]
    KeyUnusable {
        /// The key.
        kid: Kid,
        /// Its status.
        status: KeyStatus,
    },
    /// The licence holds no key for a key id the content needs.
    #[error("the licence has no key for {kid}")]
    MissingKey {
        /// The key id.
        kid: Kid,
    },
    /// An HLS key (AES-128) could not be fetched.
    #[error("key fetch failed: {cause}")]
    KeyFetch {
        /// Status or failure, with the URL clipped.
        cause: String,
    },
    /// An HLS key is not 16 bytes.
    #[error("key is {len} bytes, AES-128 needs 16")]
    KeyLength {
        /// Bytes received.
        len: usize,
    },
    /// A segment did not decrypt to media: the key is wrong (or the IV).
    #[error("segment did not decrypt ({why}): wrong key?")]
    Decrypt {
        /// What gave it away.
        why: &'static str,
    },
    /// Encryption Playhead does not handle here.
    #[error("unsupported encryption: {what}")]
    Unsupported {
        /// What.
        what: String,
    },
}
