"""Outputs appear whole or not at all: write to a partial name, then rename.

A reader (or a user after Ctrl-C or a full disk) never finds a half-written file
under the final name: the rename is atomic on one filesystem.
"""

from __future__ import annotations

import os
from pathlib import Path

from sdk.errors import OutputError


def partial_path(path: Path) -> Path:
    """`out/annotated.mp4` -> `out/annotated.partial.mp4` (the suffix kept for the muxer)."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


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
    """Write `data` to `path` through a partial file and a rename."""
    tmp = partial_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {err.strerror or err}.") from err
