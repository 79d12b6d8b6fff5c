"""Per-frame outputs of `astseg run` besides the video: mask PNGs and JSON lines.

Mask PNGs are 16-bit label maps (0 = background, else the object's ID; IDs above
65535 wrap around), one file per frame, each written atomically. The JSON-lines
file holds one `FrameResult.to_dict()` per line with COCO RLE masks; it is
written under a partial name and renamed when the run ends, also on Ctrl-C.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from sdk.atomic import ensure_parent, partial_path, write_bytes_atomic
from sdk.errors import OutputError
from sdk.results import FrameResult


class MaskWriter:
    """Writes `<folder>/<frame>.png` (or the source image's name) per frame."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
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
        stem = Path(name).stem if name else f"{result.index:06d}"
        path = self.folder / f"{stem}.png"
        write_bytes_atomic(path, encoded.tobytes())
        self.written += 1
        return path


class JsonLinesWriter:
    """One JSON object per frame, renamed into place by `close()`."""

    def __init__(self, path: Path) -> None:
        ensure_parent(path)
        self.path = path
        self.partial = partial_path(path)
        try:
            self._fh: IO[str] | None = open(self.partial, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise OutputError(f"cannot write {path}: {err.strerror}.") from err
        self.written = 0

    def write(self, result: FrameResult, masks: bool = True) -> None:
        if self._fh is None:
            raise OutputError(f"{self.path} is already closed.")
        try:
            self._fh.write(result.to_json(masks) + "\n")
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {err.strerror}.") from err
        self.written += 1

    def close(self) -> Path:
        """Finish the file under its final name."""
        if self._fh is not None:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                os.replace(self.partial, self.path)
            except OSError as err:
                raise OutputError(f"cannot finish {self.path}: {err.strerror}.") from err
            finally:
                self._fh = None
        return self.path

    def abort(self) -> None:
        """Remove the partial file (after an error that makes its content untrustworthy)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.partial.unlink(missing_ok=True)
