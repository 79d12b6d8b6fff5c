#!/usr/bin/env bash
# Sets up ./.venv if needed, then runs lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ruff check .
ruff format --check .
mypy
# The suite's training, export and video tests write about 2 GB under the temp folder at once.
tmp="${TMPDIR:-/tmp}"
free_kb=$(df -Pk "$tmp" | awk 'NR==2 {print $4}')
if [ "$free_kb" -lt $((3 * 1024 * 1024)) ]; then
    echo "test.sh: $tmp has $((free_kb / 1024)) MB free; the test suite needs about 3 GB there (set TMPDIR to a roomier folder)." >&2
    exit 1
fi
python -m pytest "$@"
