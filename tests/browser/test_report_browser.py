"""The demo's HTML report in a real browser: Debian's headless Chromium plays the H.264 video.

Skipped only where chromium is not installed, and never under CI (CI=true), where
`.ci/run` installs it: there a missing browser fails the test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chromium import check_report, find_chromium  # noqa: E402

FRAMES = 50


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = os.environ.get("CHROMIUM") or find_chromium()
    if exe is None:
        reason = "chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)
    return exe


def test_demo_report_plays_in_chromium(chromium: str, tmp_path: Path) -> None:
    from training.demo import run_demo
    from training.demo import video_fps as clip_fps

    out = tmp_path / "demo"
    report = run_demo(out, frames=FRAMES)
    index = out / "index.html"
    assert Path(report.outputs["report"]) == index
    fps = clip_fps(out / "annotated.mp4")
    assert fps is not None
    version, page = check_report(chromium, index, out / "report-screenshot.png")
    print(f"checked with {version}")
    assert page["error"] is None, page
    assert page["h264"] == "probably", page  # this build has the H.264 decoder
    assert page["readyState"] >= 2, page  # HAVE_CURRENT_DATA: a frame is decoded
    assert abs(page["duration"] - FRAMES / fps) <= 1 / fps, page
    assert (page["width"], page["height"]) == (320, 240), page
    # the frame drawn at mid-clip is a picture, not a flat (black/grey) image; a flat frame
    # has variance 0, and 8-bit noise alone gives about 1/12
    assert page["frameVariance"] > 50, page
    assert 5 < page["frameMean"] < 250, page
    assert [image["src"] for image in page["images"]] == ["contact_sheet.png"], page
    assert all(image["w"] > 0 for image in page["images"]), page  # every image loaded
    assert page["externalRefs"] == [], page  # relative links only
    shot = (out / "report-screenshot.png").read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
