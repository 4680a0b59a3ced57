//! UniFFI bindings for the Playhead core (Kotlin, Swift, Python). No logic lives here:
//! each export is a one-line wrapper over the core. Filled in by the native-bindings work.

uniffi::setup_scaffolding!();

/// The core's version.
#[uniffi::export]
pub fn playhead_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
