#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every check: ruff, mypy, pytest. Tests that need TFLM
# sources run when they are reachable (see README, "Tests") and are skipped with a reason if not.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; python3 -m ruff check tinygen tests scripts bench
echo "== mypy"; python3 -m mypy
echo "== pytest"; python3 -m pytest -q -rs "$@"
