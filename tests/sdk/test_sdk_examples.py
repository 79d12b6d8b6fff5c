"""The example scripts run as a user would run them, against a toy bundle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
from sdk_media import moving_discs

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_print_objects(toy_bundle_dir: Path, short_video: Path) -> None:
    script = ROOT / "examples" / "print_objects.py"
    done = subprocess.run(
        [sys.executable, str(script), str(short_video), "--model", str(toy_bundle_dir)],
        capture_output=True, text=True, env=ENV, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert len(lines) == 60  # 30 frames, two objects each
    assert lines[0].startswith("frame     0  id   1  bbox (")
    missing = subprocess.run(
        [sys.executable, str(script), "nope.mp4", "--model", str(toy_bundle_dir)],
        capture_output=True, text=True, env=ENV,
    )  # fmt: skip
    assert (
        missing.returncode == 1
        and missing.stderr.strip() == "error: nope.mp4 does not exist; check the path."
    )


def test_masks_for_folder(toy_bundle_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, frame in enumerate(moving_discs(3)):
        cv2.imwrite(str(folder / f"p{i}.jpg"), frame)
    out = tmp_path / "masks"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "masks_for_folder.py"), str(folder), str(out),
         "--model", str(toy_bundle_dir)],
        capture_output=True, text=True, env=ENV, check=True,
    )  # fmt: skip
    masks = sorted(p.name for p in out.glob("*.png"))
    assert len(masks) == 6 and len(list(out.glob("*_overlay.jpg"))) == 3
    mask = cv2.imread(str(out / masks[0]), cv2.IMREAD_GRAYSCALE)
    assert set(mask.ravel().tolist()) == {0, 255} and 200 < (mask > 0).sum() < 800
