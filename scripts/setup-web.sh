#!/usr/bin/env bash
# Installs what the WebAssembly package and its browser tests need, idempotently: the
# wasm32 target, wasm-bindgen-cli at the crate's pinned version, wasm-pack, Debian's
# Chromium, and the npm tools (binaryen for wasm-opt/wasm2js, playwright-core). Present
# tools are left alone. Recipes: ../shared/TOOLCHAIN.md.
set -euo pipefail
cd "$(dirname "$0")/.."

bindgen=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml)
[ -n "$bindgen" ] || { echo "setup-web: no pinned wasm-bindgen in Cargo.toml" >&2; exit 1; }

rustup target add wasm32-unknown-unknown >/dev/null
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen" ]; then
  # Not --locked: a locked dependency is missing from the registry (TOOLCHAIN.md).
  cargo install wasm-bindgen-cli --version "=$bindgen"
fi
command -v wasm-pack >/dev/null || cargo install wasm-pack --locked

if ! command -v chromium >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium chromium-driver ||
    { $sudo apt-get --fix-broken install -y -qq && $sudo apt-get install -y -qq chromium chromium-driver; }
fi

# npm tools live in wasm/node_modules (lockfile pinned).
(cd wasm && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi)
