#!/usr/bin/env bash
# Sets up ./.venv if needed, then runs lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ruff check .
ruff format --check .
mypy
python -m pytest "$@"
