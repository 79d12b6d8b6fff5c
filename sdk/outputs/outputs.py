"""Everything `astseg run` does with a result: draw it, show it, write video, masks and JSON.

Grouped so the pipeline has one object to feed and to finish: `finish()` closes
every file under its final name (also after Ctrl-C), `abort()` removes partial
files after an error that makes them untrustworthy.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sdk.errors import OutputError
from sdk.outputs.output_paths import Target, check_outputs, output_target
from sdk.outputs.sinks import JsonLinesWriter, MaskWriter
from sdk.outputs.video_writer import VideoWriter
from sdk.results import FrameResult

WINDOW = "astseg"


@dataclass(frozen=True)
class OutputOptions:
    out: Path | None = None  # annotated video
    masks: Path | None = None  # folder of per-frame 16-bit label PNGs
    json: Path | None = None  # JSON lines with RLE masks
    show: bool = False  # a window with the annotated frames (q or Esc stops)
    contours: bool = True
    codec: str = "auto"


def check_display() -> None:
    """Refuse --show early, with a reason, where no window can open."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise OutputError("--show needs a display, and this session has none (DISPLAY is not set).")
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error as err:
        raise OutputError(
            "--show needs OpenCV with GUI support, and the installed build has none "
            "(pip install opencv-python instead of opencv-python-headless)."
        ) from err


def plan_outputs(
    options: OutputOptions, inputs: Iterable[Path] = (), input_folders: Iterable[Path] = ()
) -> dict[str, Target]:
    """Where --out and --json go, refusing (before a frame is read) a folder given as a
    file, a file given as --masks, an output that is an input, and one file for two outputs."""
    targets = {}
    if options.out is not None:
        targets["--out"] = output_target(options.out, "--out")
    if options.json is not None:
        targets["--json"] = output_target(options.json, "--json")
    folders = {}
    if options.masks is not None:
        if options.masks.exists() and not options.masks.is_dir():
            raise OutputError(
                f"--masks {options.masks} is a file; --masks takes a folder (new or existing)."
            )
        folders["--masks"] = options.masks
    check_outputs(targets, folders, inputs, input_folders)
    return targets


class RunOutputs:
    """The outputs one run writes; `write` returns (draw ms, encode ms) for the stage timings."""

    def __init__(
        self,
        options: OutputOptions,
        fps: float | None,
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        self.options = options
        if options.show:
            check_display()
        targets = plan_outputs(options)
        out, json = targets.get("--out"), targets.get("--json")
        self.video = VideoWriter(out, fps, options.codec) if out is not None else None
        self.json: JsonLinesWriter | None = None
        try:
            if self.video is not None and frame_size is not None:
                self.video.open(*frame_size)  # an unencodable size fails before the first frame
            self.masks = MaskWriter(options.masks) if options.masks else None
            self.json = JsonLinesWriter(json) if json is not None else None
        except BaseException:
            if self.video is not None:
                self.video.abort()
            raise
        self.stop_requested = False

    def write(self, result: FrameResult, name: str | None = None) -> tuple[float, float]:
        t0 = time.perf_counter()
        annotated: np.ndarray | None = None
        if self.video is not None or self.options.show:
            annotated = result.plot(contours=self.options.contours)
        t1 = time.perf_counter()
        if self.video is not None and annotated is not None:
            self.video.write(annotated)
        if self.masks is not None:
            self.masks.write(result, name)
        if self.json is not None:
            self.json.write(result)
        t2 = time.perf_counter()
        if self.options.show and annotated is not None:
            cv2.imshow(WINDOW, annotated)
            if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                self.stop_requested = True
        return (t1 - t0) * 1000, (t2 - t1) * 1000

    def finish(self) -> list[str]:
        """Close every output under its final name; return what was written.

        A video that cannot be finished (cut short by a full disk) is removed, and its error
        is raised once the other outputs are finished.
        """
        written = []
        failure: OutputError | None = None
        if self.video is not None:
            try:
                path = self.video.close()
            except OutputError as err:
                path, failure = None, err
            if path is not None:
                written.append(f"{path} ({self.video.codec})")
        if self.json is not None:
            written.append(str(self.json.close()))
        if self.masks is not None and self.masks.written:
            written.append(f"{self.masks.folder}/ ({self.masks.written} masks)")
        if self.options.show:
            cv2.destroyWindow(WINDOW)
        if failure is not None:
            raise failure
        return written

    def abort(self) -> None:
        """Remove partial files; mask PNGs already written stay (each one is complete), and
        a mask folder the run created and left empty is removed."""
        if self.video is not None:
            self.video.abort()
        if self.json is not None:
            self.json.abort()
        if self.masks is not None:
            self.masks.abort()
