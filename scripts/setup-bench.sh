#!/usr/bin/env bash
# Extra installs for benchmarks/ only: pyrender (the OSMesa baseline of bench_render.py) and
# GNU time (/usr/bin/time -v: wall time and peak memory of whole processes, bench_cold_start.py).
# pyrender pins PyOpenGL==3.1.0, whose OSMesa bindings lack OSMesaCreateContextAttribs;
# PyOpenGL 3.1.10 has them, so it is installed over the pin without dependency checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
missing=""
dpkg -s libosmesa6 >/dev/null 2>&1 || missing="$missing libosmesa6"
[ -x /usr/bin/time ] || missing="$missing time"
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
.venv/bin/python -m pip install -q -c constraints.txt "pyrender==0.1.45" 2>&1 | { grep -v "^WARNING: Location" || true; }
.venv/bin/python -m pip install -q --no-deps "PyOpenGL==3.1.10" 2>&1 | { grep -v "^WARNING: Location" || true; }
