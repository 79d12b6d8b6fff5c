"""A long stream in a fresh process, measuring its resident memory as it goes.

    python soak_driver.py stream BUNDLE VIDEO REPORT.json
    python soak_driver.py run BUNDLE VIDEO REPORT.json OUT_DIR

`stream` iterates `Segmenter.stream(VIDEO)`; `run` is `astseg run --video VIDEO --out
OUT_DIR/annotated.mp4 --json OUT_DIR/results.jsonl --quiet` in this process. The report
holds the frame numbers seen, the RSS after frame BASELINE_FRAMES, the RSS at the end, and
the largest RSS in between. A fresh process keeps other tests' memory out of the figures.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

BASELINE_FRAMES = 500


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Meter:
    def __init__(self) -> None:
        self.frames: list[int] = []
        self.baseline = 0
        self.peak = 0

    def frame(self, index: int) -> None:
        self.frames.append(index)
        if len(self.frames) == BASELINE_FRAMES:
            self.baseline = rss_bytes()
        elif len(self.frames) > BASELINE_FRAMES and len(self.frames) % 100 == 0:
            self.peak = max(self.peak, rss_bytes())

    def report(self, path: Path, **extra: Any) -> None:
        end = rss_bytes()
        summary = {
            "frames": self.frames,
            "rss_baseline": self.baseline,
            "rss_end": end,
            "rss_peak": max(self.peak, end),
            **extra,
        }
        path.write_text(json.dumps(summary))


def stream(bundle: str, video: str, report: Path) -> None:
    from sdk import Segmenter

    meter = Meter()
    with Segmenter(bundle, threads=1) as seg:
        for result in seg.stream(video):
            meter.frame(result.index)
    meter.report(report)


def run(bundle: str, video: str, report: Path, out: Path) -> None:
    from cli import app
    from sdk.outputs.outputs import RunOutputs

    meter = Meter()
    write = RunOutputs.write

    def counting_write(self: RunOutputs, result: Any, name: str | None = None) -> Any:
        meter.frame(result.index)
        return write(self, result, name)

    RunOutputs.write = counting_write  # type: ignore[method-assign]
    args = ["run", "--video", video, "--model", bundle, "--out", str(out / "annotated.mp4"),
            "--json", str(out / "results.jsonl"), "--quiet"]  # fmt: skip
    try:
        app(args, prog_name="astseg")
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    meter.report(report, exit_code=code)


if __name__ == "__main__":
    mode, bundle_arg, video_arg, report_arg = sys.argv[1:5]
    if mode == "stream":
        stream(bundle_arg, video_arg, Path(report_arg))
    else:
        run(bundle_arg, video_arg, Path(report_arg), Path(sys.argv[5]))
