#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install a requirements file into it.
#   bash scripts/setup.sh [requirements.txt|requirements-dev.txt]
# VENV=/path overrides the environment's folder (default: .venv in the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
requirements="${1:-requirements.txt}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
