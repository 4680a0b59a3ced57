//! DRM: which key system to use, what to give the host's CDM, and one licence state machine
//! per CDM session.
//!
//! The CDM belongs to the host (EME in browsers and TVs, MediaDrm on Android,
//! AVContentKeySession on Apple platforms): it makes licence challenges and holds the keys.
//! This module owns the logic around it, the same on every platform:
//! - [`choose`] picks a key system from what the content offers ([`InitData`], read from
//!   DASH `ContentProtection`, HLS `EXT-X-KEY`, Smooth `ProtectionHeader`, `pssh` and `tenc`
//!   boxes) and what the host supports ([`DrmConfig`], with per-[`Platform`] defaults);
//! - [`License`] is one session's licence flow, a state machine whose states only offer the
//!   legal next step: CDM message, licence request (wrapped as the service wants), retries
//!   with backoff, update, key statuses, renewal;
//! - [`clearkey`] is a software ClearKey CDM, and [`decrypt`] the AES it needs, plus HLS
//!   AES-128 whole-segment decryption (which MSE cannot do, so the core does).
//!
//! Key material never appears in errors, events or `Debug` output: [`ContentKey`] prints
//! as `ContentKey(..)`, and licence bodies are never quoted.

pub mod clearkey;
mod config;
pub mod decrypt;
mod error;
mod init_data;
mod license;
mod select;

pub use config::{DrmConfig, KeySystemSupport, LicenseServer, Platform, SessionType, Wrapping};
pub use decrypt::ContentKey;
pub use error::{DrmError, KeyStatus};
pub use init_data::{
    InitData, InitDataType, from_content_protection, from_hls_key, from_segment, keyids_json,
};
pub use license::{
    Active, Answer, Generating, License, LicenseRequest, MessageKind, Outcome, Requesting,
    Updating, Waiting,
};
pub use select::{Choice, choose};
