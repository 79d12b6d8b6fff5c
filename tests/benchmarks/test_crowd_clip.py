"""The pipeline benchmark's crowd case: skipped cleanly without its clip, and, on a small
stand-in clip, run end to end with its figures read back from the JSON lines written."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from crowd_clip import (
    CROWD_CLIP,
    SUMMARY_KEYS,
    crowd_summary,
    crowd_targets,
    measure_crowd,
)
from pipeline import parse_args, run_once


def test_a_missing_clip_skips_the_case_with_its_reason(tmp_path, capsys):
    calls = []
    missing = tmp_path / "nowhere" / "crowd.avi"
    entry = measure_crowd(lambda *a: calls.append(a), missing, tmp_path, 3, None)
    assert calls == []  # nothing was run
    assert entry["skipped"] == (
        f"the crowd clip {missing} is missing, so fps_720p_crowd is not measured"
    )
    assert "crowd case skipped: the crowd clip" in capsys.readouterr().out
    assert crowd_summary(entry) == dict.fromkeys(SUMMARY_KEYS)
    assert crowd_targets(entry, 2, 2) == {}
    json.dumps(entry)  # the record stays JSON


def test_crowd_option():
    assert parse_args([]).crowd_clip == CROWD_CLIP
    assert parse_args(["--quick"]).crowd_clip is None  # quick mode: not unless asked
    assert parse_args(["--crowd", "none"]).crowd_clip is None
    assert parse_args(["--quick", "--crowd", "c.avi"]).crowd_clip == Path("c.avi").resolve()


def _walkers(path: Path, frames: int = 10) -> Path:
    """Bright squares walking across a grey floor, 320x240 MJPG."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (320, 240))
    for t in range(frames):
        frame = np.full((240, 320, 3), 90, np.uint8)
        for k in range(3):
            x, y = 20 + 12 * t + 70 * k, 40 + 60 * k
            frame[y : y + 30, x : x + 20] = (230, 200 - 50 * k, 40 + 60 * k)
        writer.write(frame)
    writer.release()
    return path


def test_a_clip_runs_end_to_end_and_its_figures_come_from_the_json(tmp_path):
    pytest.importorskip("onnxruntime")
    clip = _walkers(tmp_path / "walkers.avi")
    entry = measure_crowd(run_once, clip, tmp_path, 1, None)
    assert "skipped" not in entry and entry["frames"] == 10
    (run,) = entry["runs"]
    lines = [json.loads(line) for line in (tmp_path / "crowd-0.jsonl").read_text().splitlines()]
    counts = [len(line["objects"]) for line in lines]
    assert run["objects_per_frame"] == pytest.approx(np.mean(counts), abs=1e-3)
    assert any("H.264" in out for out in run["outputs"])
    summary = crowd_summary(entry)
    assert summary["fps_720p_crowd"] == run["end_to_end_fps"] > 0
    assert summary["crowd_tracking_ms"] == run["stages_ms"]["track"]
    assert summary["crowd_objects_per_frame"] == run["objects_per_frame"]
    targets = crowd_targets(entry, cores=8, target_cores=2)
    assert targets["fps_720p_crowd"]["met"] is None  # not judged off the target core count
