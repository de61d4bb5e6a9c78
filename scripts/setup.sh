#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment, install a requirements file into it, then
# this checkout as the package sleep-kd (editable, no dependencies: the pins are the install).
#   bash scripts/setup.sh [requirements.txt|requirements-dev.txt]
# VENV=/path overrides the environment's folder (default: .venv in the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
requirements="${1:-requirements.txt}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet -r "$requirements"
# The package (the sleep-kd command), once per checkout: skipped when this checkout is installed already.
if ! "$venv/bin/python" - "$PWD" <<'PY'
import json, sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
try:
    url = json.loads(distribution("sleep-kd").read_text("direct_url.json") or "{}").get("url")
except PackageNotFoundError:
    url = None
sys.exit(0 if url == Path(sys.argv[1]).resolve().as_uri() else 1)
PY
then
  # Offline with the environment's own setuptools where it is recent enough, else an isolated build.
  "${pip[@]}" install --quiet --no-deps --no-build-isolation -e . 2>/dev/null \
    || "${pip[@]}" install --quiet --no-deps -e .
fi
