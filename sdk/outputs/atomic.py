"""Files and folders appear whole or not at all: write beside the final name, then rename.

The one place astseg writes atomically: the runtime's outputs (through
sdk/outputs/output_paths.py), export's bundles and manifests, the trainer's checkpoints and
run files, datasets. A reader (or a user after Ctrl-C, a kill or a full disk) never finds
half a file under the final name: the rename is atomic on one filesystem. The partial name
is unique per writer, so two processes writing one file never share it.

Errors are the OSError the system gave: each caller says it in its own sentence (the
runtime as an OutputError, the trainer as a TrainingError).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def readable(path: Path, directory: bool = False) -> None:
    """The permissions a new file or folder gets (mkstemp and mkdtemp make them private)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def _new_sibling(path: Path, suffix: str | None) -> tuple[int, Path]:
    if suffix is None:  # `.NAME.XXXXXXXX.partial.SUFFIX`: muxers read the suffix
        prefix, suffix = f".{path.stem}.", f".partial{path.suffix}"
    else:  # `.NAME.SUFFIX.XXXXXXXX{suffix}`, e.g. the trainer's `.tmp`, swept on resume
        prefix = f".{path.name}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    return fd, Path(name)


def unique_sibling(path: Path, suffix: str | None = None) -> Path:
    """A new, empty, private file beside `path` to write into, then `publish_file`."""
    fd, name = _new_sibling(path, suffix)
    os.close(fd)
    return name


def publish_file(temporary: Path, final: Path) -> None:
    """Rename a finished temporary file over `final` (or into its place)."""
    readable(temporary)
    os.replace(temporary, final)


@contextlib.contextmanager
def atomic_file(
    path: Path, *, suffix: str | None = None, durable: bool = False
) -> Iterator[BinaryIO]:
    """A binary file that becomes `path` only if the block ends without an exception.

    suffix: the partial file's name (see `_new_sibling`). durable: fsync before the rename,
    so the new file, not an empty one, is there after a power cut (checkpoints).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = _new_sibling(path, suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        publish_file(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes_atomic(
    path: Path, data: bytes, *, suffix: str | None = None, durable: bool = False
) -> None:
    """Write `data` to `path` whole or not at all (see `atomic_file`)."""
    with atomic_file(path, suffix=suffix, durable=durable) as handle:
        handle.write(data)


def publish_dir(staging: Path, final: Path) -> None:
    """Rename a finished `staging` folder to `final`, replacing an existing `final` folder."""
    readable(staging, directory=True)
    for child in staging.iterdir():
        readable(child, directory=child.is_dir())
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """A folder `.NAME.partial-PID` beside `out` that becomes `out` only if the block
    succeeds; an interrupted run leaves no folder that looks complete."""
    stage = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
        publish_dir(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
