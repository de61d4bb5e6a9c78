#!/usr/bin/env bash
# Set up and run the whole test suite: bash scripts/test.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
"${VENV:-.venv}/bin/python" -m pytest -q "$@"
