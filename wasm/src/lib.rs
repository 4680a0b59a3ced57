//! wasm-bindgen layer for the Playhead core. No logic lives here: each export is a one-line
//! wrapper over the core. The player API arrives with the WebAssembly work; for now the
//! layer proves that the parsers run in WebAssembly with no host I/O (CI checks that the
//! module imports nothing from `env`).

use wasm_bindgen::prelude::{JsError, wasm_bindgen};

/// The core's version.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Parses a manifest (HLS, DASH or Smooth) fetched from `url` and returns the number of
/// segments its tracks list, or the core's typed error as a JS `Error`.
#[wasm_bindgen(js_name = countSegments)]
pub fn count_segments(bytes: &[u8], url: Option<String>) -> Result<u32, JsError> {
    let opts = playhead::ParseOptions {
        url,
        ..Default::default()
    };
    let parsed = playhead::parse(bytes, &opts).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(u32::try_from(parsed.presentation.segment_count()).unwrap_or(u32::MAX))
}
