"""What `astseg run` adds around the pipeline: the closing object summary, the hint when a
run writes nothing, and the HTML report of `--report DIR`.

`RunRecorder` is the pipeline's per-result callback. It always keeps the clip's timeline
(a count per frame and one record per ID), and with a report folder also a few annotated
frames spread over the whole clip (bounded: at most eight small tiles are held).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from sdk.errors import OutputError
from sdk.outputs.output_paths import ensure_parent, write_output_file
from sdk.outputs.outputs import OutputOptions
from sdk.outputs.report import Report, metric_rows, write_report
from sdk.outputs.timeline import ClipTimeline, SpreadSample
from sdk.results import FrameResult
from sdk.run.pipeline import RunSummary

log = logging.getLogger("astseg")

SHEET_FRAMES = 4
SHEET_NAME = "contact_sheet.png"
REPORT_VIDEO = "annotated.mp4"  # the report's video when no --out is given
TILE_WIDTH = 320
NO_OUTPUT_HINT = (
    "astseg: nothing will be written; add --out annotated.mp4 (video), --json results.jsonl "
    "(masks as RLE), --masks DIR (PNGs), --report DIR (HTML page) or --show (window)."
)


def with_report_video(outputs: OutputOptions, report: Path | None) -> OutputOptions:
    """The run's outputs; a report shows a video, written into its folder unless --out."""
    if report is not None and outputs.out is None:
        return replace(outputs, out=report / REPORT_VIDEO)
    return outputs


def writes_nothing(outputs: OutputOptions) -> bool:
    return not (outputs.out or outputs.masks or outputs.json or outputs.show)


def _tile(image: np.ndarray, title: str) -> np.ndarray:
    height = max(1, round(image.shape[0] * TILE_WIDTH / image.shape[1]))
    tile = cv2.resize(image, (TILE_WIDTH, height), interpolation=cv2.INTER_AREA)
    cv2.rectangle(tile, (0, 0), (TILE_WIDTH, 20), (0, 0, 0), -1)
    cv2.putText(tile, title, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return tile


class RunRecorder:
    """Called with every result and its frame, in order; `finish` completes the summary."""

    def __init__(self, report: Path | None = None, contours: bool = True) -> None:
        self.report = report
        self.created = report is not None and not report.exists()
        if report is not None:  # an unusable folder is reported before the run, not after it
            ensure_parent(report / "index.html")
        self.contours = contours
        self.timeline = ClipTimeline()
        self.sheet: SpreadSample[np.ndarray] | None = (
            SpreadSample(SHEET_FRAMES) if report is not None else None
        )
        self.first_time: float | None = None
        self.last_time: float | None = None

    def __call__(self, result: FrameResult, frame: np.ndarray) -> None:
        self.timeline.add(obj.id for obj in result.objects)
        if self.first_time is None:
            self.first_time = result.timestamp
        self.last_time = result.timestamp
        if self.sheet is None:
            return
        if not self.sheet.wants_next():
            self.sheet.skip()
            return
        annotated = result.plot(frame, contours=self.contours)
        row = np.concatenate(
            [_tile(frame, f"frame {result.index}"), _tile(annotated, "astseg: masks + IDs")],
            axis=1,
        )
        self.sheet.add(row)

    def abort(self) -> None:
        """After a failed run: remove the report folder if this run created it and it is
        still empty (a report is written only at the end of a run that succeeded)."""
        if self.report is not None and self.created:
            with contextlib.suppress(OSError):
                self.report.rmdir()

    def clip_fps(self) -> float | None:
        """Frames per second of the processed frames, from their first and last timestamps."""
        frames = self.timeline.frames
        if frames < 2 or self.first_time is None or self.last_time is None:
            return None
        span = self.last_time - self.first_time
        return (frames - 1) / span if span > 0 else None

    def finish(self, summary: RunSummary, outputs: OutputOptions) -> None:
        """Add the objects line to the summary; write the report if one was asked for."""
        summary.objects = self.timeline.line()
        if self.report is None or self.sheet is None:
            return
        images = []
        rows = [row for _, row in self.sheet.chosen()]
        if rows:
            sheet_path = self.report / SHEET_NAME
            ok, png = cv2.imencode(".png", np.concatenate(rows, axis=0))
            if not ok:
                raise OutputError(f"cannot encode {sheet_path}.")
            write_output_file(sheet_path, png.tobytes())
            images.append(("Frames across the clip: input | astseg", sheet_path))
        video = outputs.out if outputs.out is not None and outputs.out.is_file() else None
        counts = list(self.timeline.counts)
        report = Report(
            title=f"astseg run: {summary.source}",
            video=video,
            images=images,
            metrics=metric_rows(
                [
                    ("frames", summary.frames),
                    ("end-to-end FPS", f"{summary.fps:.1f}"),
                    ("distinct IDs", len(self.timeline.lifetimes)),
                    ("objects per frame (mean)", float(np.mean(counts)) if counts else None),
                    ("objects per frame (most)", max(counts) if counts else None),
                    ("dropped live frames", summary.dropped),
                    ("skipped unreadable frames", summary.skipped),
                    *((f"{stage} ms/frame", ms) for stage, ms in summary.stages_ms.items()),
                    ("backend", summary.backend),
                ]
            ),
            timeline=self.timeline,
            fps=self.clip_fps(),
            notes=["interrupted before the end of the source"] if summary.interrupted else [],
        )
        summary.outputs.append(str(write_report(report, self.report)))
