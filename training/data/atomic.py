"""Atomic file and folder writes: readers never see a half-written file or dataset."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from sdk.errors import OutputError
from sdk.outputs.output_paths import output_target, write_output_bytes
from training.data.errors import DataError


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes `data` to a unique temporary sibling, then renames it over `path`.

    A device, pipe, socket or `-` is written in place and a link's target is replaced, never
    the link (sdk/outputs/output_paths.py): `--json /dev/null` must not turn /dev/null into a file.
    """
    try:
        write_output_bytes(output_target(path, "output"), data)
    except OutputError as err:
        raise DataError(str(err).rstrip(".")) from None


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def staged_directory(out: str | Path) -> Iterator[Path]:
    """Yields a temporary sibling folder that becomes `out` only if the block succeeds.

    `out` must not exist or be empty, so a finished dataset is never mixed with old files,
    and an interrupted run leaves no folder that looks complete.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"output folder {out} already exists and is not empty; choose another")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create {out.parent}: {err.strerror or err}") from None
    stage = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
        if out.exists():
            out.rmdir()
        os.replace(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
