//! UniFFI bindings for the Playhead core: Kotlin (Android, Android TV), Swift (iOS, tvOS)
//! and Python (tools, tests). No logic lives here: the [`Player`] object forwards to
//! [`playhead::engine::Player`], and the records and enums restate the engine's own types
//! (see [`types`]), so a host sees the same inputs, outputs, events and stats in every
//! language.
//!
//! # Thread safety
//! A [`Player`] may be shared between threads: each method takes one lock and runs to
//! completion, so calls are serialized. The log callback runs on the calling thread after
//! the lock is released, so it may call the player again. A panic inside the engine (a
//! bug) becomes [`PlayerError::Internal`]; that player then refuses every later call, and
//! the host creates a new one.

uniffi::setup_scaffolding!("playhead");

mod player;
pub mod types;

pub use player::{
    HostError, LogLevel, LogSink, Player, PlayerError, Recording, TimedInput, read_recording,
};

use playhead::drm::{DrmConfig, Platform};
use playhead::engine::{Capabilities, Config, Output};

/// The core's version.
#[uniffi::export]
pub fn playhead_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The engine's documented default configuration, to adjust before creating a [`Player`].
#[uniffi::export]
pub fn default_config() -> Config {
    Config::default()
}

/// The default DRM settings of a platform: its key systems in preference order with their
/// robustness levels. Licence servers still come from the app.
#[uniffi::export]
pub fn drm_config_for_platform(platform: Platform) -> DrmConfig {
    DrmConfig::for_platform(platform)
}

/// The ids of the built-in device profiles (`tizen-2019`, `android-tv-4k`, ...).
#[uniffi::export]
pub fn device_profile_ids() -> Vec<String> {
    playhead::engine::device_profiles()
        .map(|list| list.into_iter().map(|p| p.id).collect())
        .unwrap_or_default()
}

/// The capabilities of a built-in device profile; `None` for an unknown id.
#[uniffi::export]
pub fn device_profile(id: String) -> Option<Capabilities> {
    playhead::engine::device_profile(&id)
}

/// One line describing an output, for logs (sizes and ids, never bytes); `None` for a
/// timeout.
#[uniffi::export]
pub fn describe_output(output: Output) -> Option<String> {
    output.describe()
}
