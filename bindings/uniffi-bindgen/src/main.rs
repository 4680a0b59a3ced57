//! `cargo run -p uniffi-bindgen -- generate target/debug/libplayhead_ffi.so --language kotlin
//! --out-dir DIR`: the generator pinned to the UniFFI version the library is built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
