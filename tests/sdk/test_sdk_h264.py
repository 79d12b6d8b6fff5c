"""H.264 with no system ffmpeg: the imageio-ffmpeg program encodes it, yuv420p, index first."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from sdk_media import count_frames, moving_discs

from sdk import OutputError
from sdk.outputs import video_writer
from sdk.outputs.video_writer import VideoWriter
from tests.mp4_boxes import top_level_boxes, video_codec_tags

ROOT = Path(__file__).resolve().parents[2]


def _path_without_ffmpeg() -> str:
    """PATH with every folder that holds an `ffmpeg` removed."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not (Path(f) / "ffmpeg").exists())


@pytest.fixture
def no_ffmpeg_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_without_ffmpeg())
    assert shutil.which("ffmpeg") is None


def test_h264_without_ffmpeg_on_path(tmp_path: Path, no_ffmpeg_on_path: None) -> None:
    target = tmp_path / "annotated.mp4"
    writer = VideoWriter(target, fps=15, codec="h264")
    for frame in moving_discs(20, height=61, width=83):  # odd sides: padded to even for yuv420p
        writer.write(frame)
    assert writer.close() == target
    assert writer.codec == "H.264 (ffmpeg libx264)"
    assert video_codec_tags(target) == ["avc1"]
    boxes = top_level_boxes(target)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart: index before data
    assert count_frames(target) == 20
    capture = cv2.VideoCapture(str(target))
    try:
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(15.0)
    finally:
        capture.release()


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux-only")
def test_the_pipe_to_ffmpeg_holds_two_frames(tmp_path: Path, no_ffmpeg_on_path: None) -> None:
    writer = VideoWriter(tmp_path / "wide.mp4", fps=25, codec="h264")
    writer.write(np.zeros((480, 640, 3), np.uint8))
    assert writer._proc is not None and writer._proc.stdin is not None
    size = fcntl.fcntl(writer._proc.stdin.fileno(), fcntl.F_GETPIPE_SZ)
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    assert size >= min(2 * 640 * 480 * 3, limit) and size > 1 << 16
    writer.close()
    small = VideoWriter(tmp_path / "small.mp4", fps=25, codec="h264")
    small.write(np.zeros((32, 32, 3), np.uint8))
    assert small._proc is not None and small._proc.stdin is not None
    assert fcntl.fcntl(small._proc.stdin.fileno(), fcntl.F_GETPIPE_SZ) == 1 << 16  # not shrunk
    small.close()


def test_auto_picks_h264_and_mp4v_is_still_the_fallback(
    tmp_path: Path, no_ffmpeg_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = list(moving_discs(5))
    writer = VideoWriter(tmp_path / "auto.mp4", fps=10)
    for frame in frames:
        writer.write(frame)
    writer.close()
    assert video_codec_tags(tmp_path / "auto.mp4") == ["avc1"]
    # a platform whose imageio-ffmpeg wheel has no binary, and an OpenCV without H.264
    monkeypatch.setattr(video_writer, "bundled_ffmpeg", lambda: None)
    opencv = VideoWriter._open_opencv
    monkeypatch.setattr(
        VideoWriter, "_open_opencv", lambda self, fourcc: fourcc == "mp4v" and opencv(self, fourcc)
    )
    fallback = VideoWriter(tmp_path / "fallback.mp4", fps=10)
    for frame in frames:
        fallback.write(frame)
    fallback.close()
    assert fallback.codec == "MPEG-4 Part 2 (OpenCV mp4v)"
    assert video_codec_tags(tmp_path / "fallback.mp4") == ["mp4v"]
    with pytest.raises(OutputError, match="H.264 was requested"):
        VideoWriter(tmp_path / "h264.mp4", fps=10, codec="h264").write(frames[0])


def test_astseg_run_writes_h264_with_no_ffmpeg_on_path(
    tmp_path: Path, toy_bundle_dir: Path, short_video: Path
) -> None:
    env = {**os.environ, "PATH": _path_without_ffmpeg(), "PYTHONPATH": str(ROOT)}
    out = tmp_path / "annotated.mp4"
    outcome = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "run",
            "--video",
            str(short_video),
            "--model",
            str(toy_bundle_dir),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert outcome.returncode == 0, outcome.stderr
    assert "H.264 (ffmpeg libx264)" in outcome.stderr + outcome.stdout
    assert video_codec_tags(out) == ["avc1"]
    assert np.diff([top_level_boxes(out).index(b) for b in ("moov", "mdat")])[0] > 0
