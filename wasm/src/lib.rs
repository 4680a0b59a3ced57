//! wasm-bindgen layer for the Playhead core. No logic lives here: each export is a one-line
//! wrapper over the core. Filled in by the WebAssembly work.

use wasm_bindgen::prelude::wasm_bindgen;

/// The core's version.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
