"""What `astseg run` does once Typer has parsed its options: pick the source, load, run, report.

Kept out of cli.py so the command stays a thin parser and the same entry point
can be called from Python (benchmarks, tests) without a subprocess.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from sdk.errors import AstsegError
from sdk.fixed_camera.background_refresh import DEFAULT_EVERY
from sdk.fixed_camera.fixed_camera import MASK_SOURCES
from sdk.outputs.outputs import OutputOptions, plan_outputs
from sdk.run.pipeline import RunOptions, RunSummary, run_pipeline
from sdk.run.run_inputs import input_paths
from sdk.run.run_report import (
    NO_OUTPUT_HINT,
    RunRecorder,
    with_report_video,
    writes_nothing,
)
from sdk.run.run_values import cap_threads, check_max_fps, check_timeout
from sdk.run.stop_signals import Interrupted, raising_signals, signum_of
from sdk.segmenter import Segmenter
from sdk.sources.sources import open_source


class _ProgressSafeHandler(logging.Handler):
    """Log lines printed above a running progress bar instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # logging must never break a run
            self.handleError(record)


def configure_logging(verbose: bool = True) -> None:
    """One-line `astseg: ...` status messages on stderr; quiet OpenCV's own warnings."""
    import cv2

    logger = logging.getLogger("astseg")
    if not any(isinstance(h, _ProgressSafeHandler) for h in logger.handlers):
        handler = _ProgressSafeHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def pick_source(
    video: str | None, camera: int | None, source: str | None, images: str | None
) -> object:
    """Exactly one of --video, --camera, --source, --images."""
    given = {
        "--video": video,
        "--camera": camera,
        "--source": source,
        "--images": images,
    }
    chosen = [(flag, value) for flag, value in given.items() if value is not None]
    if len(chosen) != 1:
        named = " and ".join(flag for flag, _ in chosen) if chosen else "none"
        raise ValueError(
            f"give exactly one of --video, --camera, --source or --images (got {named})."
        )
    flag, value = chosen[0]
    if flag == "--video":
        path = Path(str(value)).expanduser()
        if not path.exists():
            raise AstsegError(f"video file {path} does not exist; check the path.")
        if path.is_dir():
            raise AstsegError(f"{path} is a folder; use --images for a folder of images.")
    if flag == "--images" and Path(str(value)).expanduser().is_file():
        raise AstsegError(
            f"{value} is a file; --images takes a folder or a glob such as 'frames/*.png'."
        )
    return value


def run_command(
    *,
    video: str | None = None,
    camera: int | None = None,
    source: str | None = None,
    images: str | None = None,
    model: str | None = None,
    backend: str = "auto",
    device: str = "auto",
    outputs: OutputOptions | None = None,
    max_fps: float | None = None,
    stride: int = 1,
    min_score: float = 0.0,
    min_area: int = 16,
    timeout_s: float = 10.0,
    progress: bool = True,
    threads: int | None = None,
    report: Path | None = None,
    masks_from: str | None = None,
    background_every: int | None = None,
) -> RunSummary:
    """Run the pipeline for the CLI; every user error is an AstsegError or ValueError sentence."""
    chosen = pick_source(video, camera, source, images)
    if stride < 1:
        raise ValueError(f"--stride is {stride}; it must be 1 or more.")
    check_max_fps(max_fps)
    check_timeout(timeout_s)
    threads = cap_threads(threads)
    if masks_from is not None and masks_from not in MASK_SOURCES:
        raise ValueError(f"--masks-from is {masks_from!r}; use fused, slots or background.")
    chosen_outputs = with_report_video(outputs or OutputOptions(), report)
    # outputs that are inputs, or one file for two outputs: refused before a frame is read
    plan_outputs(chosen_outputs, *input_paths(chosen, model))
    with raising_signals():  # SIGTERM / SIGHUP while loading stop like Ctrl-C
        try:
            # the source first: a wrong path or a dead camera is reported before a slow load
            frames = open_source(chosen, stride=stride, timeout_s=timeout_s)
        except KeyboardInterrupt as err:
            raise Interrupted(signum_of(err), "while opening the source") from None
        try:
            seg = Segmenter(
                model,
                backend=backend,
                device=device,
                min_score=min_score,
                min_area=min_area,
                threads=threads,
                masks_from=masks_from,
                background_every=DEFAULT_EVERY if background_every is None else background_every,
            )
        except KeyboardInterrupt as err:
            frames.close()
            raise Interrupted(signum_of(err), "while loading the model") from None
        except BaseException:
            frames.close()
            raise
    try:
        try:
            recorder = RunRecorder(report, chosen_outputs.contours)  # creates the report folder
        except BaseException:
            frames.close()
            raise
        if writes_nothing(chosen_outputs):
            logging.getLogger("astseg").warning(NO_OUTPUT_HINT)
        options = RunOptions(
            outputs=chosen_outputs,
            max_fps=max_fps,
            stride=stride,
            progress=progress,
            timeout_s=timeout_s,
            on_result=recorder,
        )
        summary = run_pipeline(seg, frames, options)
        recorder.finish(summary, chosen_outputs)
        return summary
    finally:
        seg.close()
