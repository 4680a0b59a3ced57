#!/usr/bin/env bash
# Installs what the native-binding suites need, idempotently: JDK 17 and Debian's JNA (the
# Kotlin binding's runtime), the Kotlin compiler from npm (bindings/tests/kotlin, lockfile
# pinned), gcc (the Swift header check), and a Python venv with pytest in target/py.
# Present tools are left alone. Recipes: ../shared/TOOLCHAIN.md.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
# kotlinc targets JVM 17: an older default JDK does not do.
jdk=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
[ "${jdk:-0}" -ge 17 ] 2>/dev/null || missing+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
command -v gcc >/dev/null || missing+=(gcc)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi

# The stamp is written only after a complete install, so an interrupted one is redone.
(cd bindings/tests/kotlin &&
  if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
    npm ci --no-audit --no-fund && touch node_modules/.installed
  fi)

req=bindings/tests/python/requirements.txt
if [ ! -x target/py/bin/python ] || ! cmp -s "$req" target/py/requirements.txt; then
  python3 -m venv target/py
  target/py/bin/pip install -q --disable-pip-version-check -r "$req"
  cp "$req" target/py/requirements.txt
fi
