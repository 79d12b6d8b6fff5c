"""Per-frame outputs of `astseg run` besides the video: mask PNGs and JSON lines.

Mask PNGs are 16-bit label maps (0 = background, else the object's ID; IDs above
65535 wrap around), one file per frame, each written atomically. The JSON-lines
file holds one `FrameResult.to_dict()` per line with COCO RLE masks; it is
written under a unique partial name and renamed when the run ends, also on Ctrl-C and
SIGTERM; a device, pipe or `-` is written in place (sdk/outputs/output_paths.py). A write that
fails (a full disk) removes the partial file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from sdk.errors import OutputError
from sdk.outputs.output_paths import (
    Target,
    ensure_parent,
    output_target,
    publish,
    write_output_file,
)
from sdk.results import FrameResult


class MaskWriter:
    """Writes `<folder>/<frame>.png` per frame, or `<folder>/<name>.png` where `name` is the
    source image's path under the images' common folder (so two `a.png` in different
    subfolders of a glob keep two masks)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created = not folder.exists()  # removed again by abort() while still empty
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"cannot create the mask folder {folder}: {err.strerror}.") from err
        if not os.access(folder, os.W_OK):
            raise OutputError(
                f"the mask folder {folder} is not writable; choose another --masks folder."
            )
        self.written = 0

    def write(self, result: FrameResult, name: str | None = None) -> Path:
        ids = result.label_map
        wrapped = np.where(ids > 0, (ids - 1) % 65535 + 1, 0).astype(np.uint16)
        ok, encoded = cv2.imencode(".png", wrapped)
        if not ok:
            raise OutputError(f"OpenCV could not encode the mask of frame {result.index} as PNG.")
        path = self.folder / mask_file_name(name, result.index)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_output_file(path, encoded.tobytes())
        except (OSError, OutputError) as err:
            why = err.strerror if isinstance(err, OSError) else str(err).rstrip(".")
            raise OutputError(
                f"cannot write the mask {path} ({why}); its partial file was removed and the "
                f"{self.written} masks before it in {self.folder} are whole. Free space or "
                "choose another --masks folder."
            ) from err
        self.written += 1
        return path

    def abort(self) -> None:
        """After a failed run: the masks written are whole and stay; a folder this run
        created and left empty is removed, so nothing looks like a finished output."""
        if self.created and self.written == 0:
            with contextlib.suppress(OSError):
                self.folder.rmdir()


def mask_file_name(name: str | None, index: int) -> Path:
    """`a/b.jpg` -> `a/b.png`; a name that would leave the folder keeps only its last part."""
    if not name:
        return Path(f"{index:06d}.png")
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        relative = Path(relative.name)
    return relative.with_suffix(".png")


class JsonLinesWriter:
    """One JSON object per frame, renamed into place by `close()` (written in place when
    the target is a device, a pipe or stdout)."""

    def __init__(self, path: Path | Target) -> None:
        target = path if isinstance(path, Target) else output_target(path, "--json")
        self.target = target
        self.path = target.shown
        self.partial: Path | None = None
        try:
            if target.stdout:
                self._fh: IO[str] | None = sys.stdout
            elif target.direct:
                self._fh = open(target.real, "w", encoding="utf-8")  # noqa: SIM115
            else:
                ensure_parent(target.real)
                self.partial = target.temporary()
                self._fh = open(self.partial, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {err.strerror}.") from err
        self.written = 0

    def _failed(self, err: OSError) -> OutputError:
        return OutputError(
            f"cannot write {self.path}: {err.strerror}; the unfinished file was removed. "
            "Free space or choose another --json path, and run again."
        )

    def write(self, result: FrameResult, masks: bool = True) -> None:
        if self._fh is None:
            raise OutputError(f"{self.path} is already closed.")
        try:
            self._fh.write(result.to_json(masks) + "\n")
            if self.target.direct:
                self._fh.flush()  # a pipe's reader gets each frame as it is done
        except OSError as err:
            self.abort()
            raise self._failed(err) from err
        self.written += 1

    def close(self) -> Path:
        """Finish the file under its final name."""
        fh, self._fh = self._fh, None
        if fh is None:
            return self.path
        try:
            fh.flush()
            if self.partial is not None:
                os.fsync(fh.fileno())
        except OSError as err:
            self._fh = fh
            self.abort()
            raise self._failed(err) from err
        if fh is not sys.stdout:
            fh.close()
        if self.partial is not None:
            publish(self.partial, self.target)
        return self.path

    def abort(self) -> None:
        """Remove the partial file (after an error that makes its content untrustworthy)."""
        fh, self._fh = self._fh, None
        if fh is not None and fh is not sys.stdout:
            if self.target.direct:  # a pipe whose reader stopped would block the flush
                with contextlib.suppress(OSError):
                    os.close(fh.fileno())
            with contextlib.suppress(OSError, ValueError):  # a full disk fails the flush too
                fh.close()
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)
