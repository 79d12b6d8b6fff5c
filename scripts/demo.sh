#!/usr/bin/env bash
# Sets up ./.venv if needed, then runs the astseg demo (no GPU, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
astseg demo "$@"
