#!/usr/bin/env bash
# Installs what the native-binding suites need, idempotently: JDK 17 and Debian's JNA (the
# Kotlin binding's runtime), the Kotlin compiler from npm (bindings/tests/kotlin, lockfile
# pinned), gcc (the Swift header check), and a Python venv with pytest in target/py.
# Present tools are left alone. Recipes: ../shared/TOOLCHAIN.md.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null && command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
command -v gcc >/dev/null || missing+=(gcc)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi

(cd bindings/tests/kotlin &&
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi)

req=bindings/tests/python/requirements.txt
if [ ! -x target/py/bin/python ] || ! cmp -s "$req" target/py/requirements.txt; then
  python3 -m venv target/py
  target/py/bin/pip install -q --disable-pip-version-check -r "$req"
  cp "$req" target/py/requirements.txt
fi
