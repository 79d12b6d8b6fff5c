"""Benchmarks in quick mode: one tiny model exported once, each benchmark run once per session.

Each benchmark runs as users run it (`python benchmarks/NAME.py --quick ...`, its own
process) with its JSON and plot sent to a temporary folder, so the real results under
benchmarks/results/ and docs/ are never touched. The runs overlap, so their figures mean
nothing; the tests check what the results hold and how their numbers relate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

HANG_S = 3600.0  # a benchmark still running after an hour has hung

SCRIPTS = {
    "inference": "inference.py",
    "pipeline": "pipeline.py",
    "classical": "classical.py",
    "training": "train_speed.py",
    "footprint": "footprint.py",
    "scaling": "scaling.py",
}


@pytest.fixture(scope="session")
def tiny_subject(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A random-init `quick` model: its checkpoint and its bundle (fused + separate graphs)."""
    from subjects import prepare

    return prepare({"out": str(tmp_path_factory.mktemp("subject")), "model": "quick"})


@pytest.fixture(scope="session")
def tiny_cdnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CDnet-format sequence: a bright square crossing a grey 80x60 frame, 24 frames,
    frames 5-24 scored, the top four rows outside the ROI."""
    import cv2
    import numpy as np

    root = tmp_path_factory.mktemp("cdnet") / "baseline" / "square"
    (root / "input").mkdir(parents=True)
    (root / "groundtruth").mkdir()
    for n in range(1, 25):
        frame = np.full((60, 80, 3), 90, np.uint8)
        truth = np.zeros((60, 80), np.uint8)
        x = 4 + 2 * n
        frame[20:32, x : x + 12] = (240, 240, 240)
        truth[20:32, x : x + 12] = 255
        cv2.imwrite(str(root / "input" / f"in{n:06d}.png"), frame)
        cv2.imwrite(str(root / "groundtruth" / f"gt{n:06d}.png"), truth)
    (root / "temporalROI.txt").write_text("5 24\n")
    roi = np.full((60, 80), 255, np.uint8)
    roi[:4] = 0
    cv2.imwrite(str(root / "ROI.bmp"), roi)
    return root


class QuickRuns:
    """The six benchmarks in quick mode, started together on first use (they are mostly
    interpreter and import start-up, which overlaps well), each result read when asked for."""

    def __init__(self, folder: Path, subject: dict[str, Any], cdnet: Path) -> None:
        self.folder, self.subject, self.cdnet = folder, subject, cdnet
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def arguments(self, name: str) -> list[str]:
        bundle, checkpoint = self.subject["bundle"], self.subject["checkpoint"]
        return {
            "inference": ["--checkpoint", checkpoint, "--rounds", "2", "--rounds-b8", "1"],
            "pipeline": ["--bundle", bundle, "--frames", "12", "--infer-calls", "5"],
            "classical": [
                *("--bundle", bundle, "--frames", "24", "--warmup-frames", "4"),
                *("--cdnet", str(self.cdnet)),
            ],
            "training": [],
            "footprint": ["--bundle", bundle, "--b3-bundle", bundle, "--frames", "4"],
            "scaling": ["--checkpoint", checkpoint, "--calls", "2"],
        }[name]

    def json_path(self, name: str) -> Path:
        return self.folder / ("train_speed.json" if name == "training" else f"{name}.json")

    def png_path(self, name: str) -> Path:
        return self.folder / f"bench-{name}.png"

    def start_all(self) -> None:
        for name, script in SCRIPTS.items():
            command = [
                *(sys.executable, str(BENCHMARKS / script), "--quick"),
                *("--json", str(self.json_path(name)), "--png", str(self.png_path(name))),
                *self.arguments(name),
            ]
            log = (self.folder / f"{name}.log").open("wb")
            self.running[name] = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)

    def __call__(self, name: str) -> dict[str, Any]:
        if not self.running:
            self.start_all()
        if name not in self.results:
            # a ceiling only against a hang: six benchmarks share the cores, so on a loaded
            # machine they take many times their usual minute, and that is no failure
            code = self.running[name].wait(timeout=HANG_S)
            log = (self.folder / f"{name}.log").read_text(errors="replace")
            assert code == 0, f"{name} failed with exit code {code}:\n{log[-3000:]}"
            self.results[name] = json.loads(self.json_path(name).read_text())
        return self.results[name]

    def close(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory, tiny_subject: dict[str, Any], tiny_cdnet: Path
) -> Iterator[QuickRuns]:
    runs = QuickRuns(tmp_path_factory.mktemp("results"), tiny_subject, tiny_cdnet)
    yield runs
    runs.close()
