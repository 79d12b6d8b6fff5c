"""Outputs appear whole or not at all: write to a unique partial name, then rename.

A reader (or a user after Ctrl-C or a full disk) never finds a half-written file
under the final name: the rename is atomic on one filesystem. The partial name is
unique per writer (sdk/outputs/output_paths.py), so two runs writing one output never share it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sdk.errors import OutputError
from sdk.outputs.output_paths import Target, write_output_bytes


def ensure_parent(path: Path) -> None:
    """Create the output's folder, or raise OutputError naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(
            f"cannot create the folder {path.parent} for {path.name}: {err.strerror}."
        ) from err
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"the folder {path.parent} is not writable; choose another output path.")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` (a regular file or a new name) through a unique partial file."""
    write_output_bytes(Target(path, path, direct=False), data)
