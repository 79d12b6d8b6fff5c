"""What `astseg run` does once Typer has parsed its options: pick the source, load, run, report.

Kept out of cli.py so the command stays a thin parser and the same entry point
can be called from Python (benchmarks, tests) without a subprocess.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

from sdk.errors import AstsegError, SourceError
from sdk.fixed_camera.fixed_camera import MASK_SOURCES
from sdk.outputs.outputs import plan_outputs
from sdk.run.options import RunOptions
from sdk.run.pipeline import RunSummary, run_pipeline
from sdk.run.run_claims import check_run_claims
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
from sdk.sources.sources import open_source, parse_source, redact_url_text


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
    if flag in ("--camera", "--source"):
        try:
            parse_source(value)  # a malformed URL or an absurd index, named with its option
        except SourceError as err:
            raise SourceError(f"{flag} {redact_url_text(str(value))}: {err}") from None
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
    options: RunOptions | None = None,
    report: Path | None = None,
) -> RunSummary:
    """Run the pipeline for the CLI; every user error is an AstsegError or ValueError sentence.

    Exactly one of video, camera, source and images; `options.on_result` is replaced by the
    recorder of the run's summary and report.
    """
    chosen = pick_source(video, camera, source, images)
    options = options or RunOptions()
    if options.stride < 1:
        raise ValueError(f"--stride is {options.stride}; it must be 1 or more.")
    check_max_fps(options.max_fps)
    check_timeout(options.timeout_s)
    segmenter = replace(options.segmenter, threads=cap_threads(options.segmenter.threads))
    masks_from = segmenter.masks_from
    if masks_from is not None and masks_from not in MASK_SOURCES:
        raise ValueError(f"--masks-from is {masks_from!r}; use fused, slots or background.")
    # two outputs writing one file (folders included), then outputs that are inputs:
    # refused before a frame is read
    check_run_claims(options.outputs, report, chosen, options.stride)
    chosen_outputs = with_report_video(options.outputs, report)
    plan_outputs(chosen_outputs, *input_paths(chosen, model))
    with raising_signals():  # SIGTERM / SIGHUP while loading stop like Ctrl-C
        try:
            # the source first: a wrong path or a dead camera is reported before a slow load
            frames = open_source(chosen, stride=options.stride, timeout_s=options.timeout_s)
        except KeyboardInterrupt as err:
            raise Interrupted(signum_of(err), "while opening the source") from None
        try:
            seg = Segmenter.from_options(model, segmenter)
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
        run = replace(options, segmenter=segmenter, outputs=chosen_outputs, on_result=recorder)
        try:
            summary = run_pipeline(seg, frames, run)
        except BaseException:
            recorder.abort()  # a failed run leaves no empty report folder behind
            raise
        recorder.finish(summary, chosen_outputs)
        return summary
    finally:
        seg.close()
