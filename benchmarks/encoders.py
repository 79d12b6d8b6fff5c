"""The annotated video's encoder in the pipeline benchmark: H.264 against OpenCV's mp4v.

`--encoder both` (the default) pairs every end-to-end run (written as H.264, through the
imageio-ffmpeg program when there is no system ffmpeg) with the same run written as mp4v,
in the same process, so both FPS figures come from one benchmark run on the same machine
state. Target: H.264 end-to-end FPS >= 90 % of mp4v's.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

TARGET_H264_VS_MP4V = 0.90
ENCODERS = ("both", "h264", "mp4v", "auto")


def add_encoder_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--encoder",
        choices=ENCODERS,
        default="both",
        help="annotated video codec: h264, mp4v, auto, or both (h264 runs, each paired with "
        "an mp4v run; the default)",
    )


def main_codec(encoder: str) -> str:
    """The codec of the benchmark's main end-to-end runs."""
    return "h264" if encoder == "both" else encoder


def record_pair(run: dict[str, Any], mp4v_summary: Any) -> None:
    """Add the paired mp4v run's figures to one repeat's record."""
    fps = round(mp4v_summary.fps, 2)
    run["mp4v_end_to_end_fps"] = fps
    run["mp4v_stages_ms"] = mp4v_summary.stages_ms
    run["h264_vs_mp4v"] = round(run["end_to_end_fps"] / fps, 4)


def summarise_encoders(report: dict[str, Any], encoder: str) -> None:
    """Medians of both encoders' FPS and of the per-pair ratio, with the 90 % target."""
    runs = report["runs"]
    report["encoder"] = encoder
    if encoder != "both":
        return
    ratio = statistics.median(r["h264_vs_mp4v"] for r in runs)
    report["summary"]["h264_end_to_end_fps"] = statistics.median(r["end_to_end_fps"] for r in runs)
    report["summary"]["mp4v_end_to_end_fps"] = statistics.median(
        r["mp4v_end_to_end_fps"] for r in runs
    )
    report["summary"]["h264_vs_mp4v"] = round(ratio, 4)
    report["targets"]["h264_vs_mp4v"] = {
        "target": f">= {TARGET_H264_VS_MP4V}",
        "value": round(ratio, 4),
        "met": ratio >= TARGET_H264_VS_MP4V,
    }
