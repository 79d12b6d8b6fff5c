#!/usr/bin/env bash
# Creates (or reuses) ./.venv with everything astseg needs, then activates it.
# Sourced by scripts/demo.sh and scripts/test.sh; needs only python3 and pip.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python_bin="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    echo "astseg: creating virtual environment in $venv"
    "$python_bin" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"

# Reinstall only when the dependency list changed since the last setup.
stamp="$venv/.astseg-installed"
wanted="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "astseg: installing dependencies (first run takes a few minutes)"
    python -m pip install --quiet --upgrade pip
    # torch is pinned first so the project's torch range resolves to this build:
    # the CPU wheel where the local index offers it, the CUDA wheel on a GPU machine.
    python -m pip install --quiet "torch==2.13.0"
    python -m pip install --quiet -e "$root[dev]"
    echo "$wanted" > "$stamp"
fi
