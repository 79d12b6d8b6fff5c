"""Soak: a long synthetic video through `Segmenter.stream` and through `astseg run`.

Resident memory at the end stays within 5 % of what it was after the first 500 frames, and
a file source loses no frame. ASTSEG_SOAK_FRAMES sets the length: the default keeps the
suite short (this is what `.ci/run` runs); the full soak is

    ASTSEG_SOAK_FRAMES=10000 python -m pytest -m slow tests/reliability
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from reliability_cli import ROOT, cli_env
from reliability_media import HEIGHT, WIDTH, count_frames

SOAK_FRAMES = int(os.environ.get("ASTSEG_SOAK_FRAMES", "1500"))
BASELINE_FRAMES = 500  # as soak_driver.BASELINE_FRAMES
DRIVER = Path(__file__).resolve().parent / "soak_driver.py"


def soak_frame(index: int) -> np.ndarray:
    """Two discs crossing back and forth; a third comes and goes, so tracks start and end."""
    frame = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)
    t = abs((index % 200) - 100) / 100
    cv2.circle(frame, (round(16 + t * (WIDTH - 32)), HEIGHT // 3), 10, (0, 0, 255), -1)
    cv2.circle(frame, (round(WIDTH - 16 - t * (WIDTH - 32)), 2 * HEIGHT // 3), 8, (0, 255, 0), -1)
    if index % 300 < 120:
        cv2.circle(frame, (WIDTH // 2, HEIGHT // 2), 7, (255, 200, 0), -1)
    return frame


@pytest.fixture(scope="module")
def soak_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("soak") / "soak.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for index in range(SOAK_FRAMES):
        writer.write(soak_frame(index))
    writer.release()
    return path


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["stream", "run"])
def test_a_long_file_stream_keeps_memory_flat_and_drops_no_frame(
    mode: str, soak_video: Path, toy_bundle: Path, tmp_path: Path
) -> None:
    assert SOAK_FRAMES >= 2 * BASELINE_FRAMES, "ASTSEG_SOAK_FRAMES must be at least 1000"
    report = tmp_path / "report.json"
    command = [sys.executable, str(DRIVER), mode, str(toy_bundle), str(soak_video), str(report)]
    if mode == "run":
        command.append(str(tmp_path))
    env = cli_env(ASTSEG_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60 + SOAK_FRAMES / 50
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(report.read_text())
    assert figures["frames"] == list(range(SOAK_FRAMES))  # every frame, in order, once
    baseline, end = figures["rss_baseline"], figures["rss_end"]
    mib = {k: round(v / 2**20, 1) for k, v in figures.items() if k.startswith("rss")}
    assert end <= 1.05 * baseline, f"resident memory grew: {mib} (MiB)"
    if mode == "run":
        assert figures["exit_code"] == 0
        lines = (tmp_path / "results.jsonl").read_text().splitlines()
        assert [json.loads(line)["frame"] for line in lines] == list(range(SOAK_FRAMES))
        assert f"processed {SOAK_FRAMES} frames" in proc.stdout
        assert "dropped" not in proc.stdout and "skipped" not in proc.stdout
        assert count_frames(tmp_path / "annotated.mp4") == SOAK_FRAMES
