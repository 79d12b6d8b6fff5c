"""Outputs: video under its final name only, ffmpeg by argument list, masks and JSON lines."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from sdk_media import count_frames, moving_discs

from sdk import OutputError, Segmenter
from sdk.outputs import rle
from sdk.outputs.sinks import JsonLinesWriter, MaskWriter
from sdk.outputs.video_writer import VideoWriter, ffmpeg_command


def test_video_is_written_whole_and_read_back(tmp_path: Path) -> None:
    target = tmp_path / "out" / "annotated.mp4"
    writer = VideoWriter(target, fps=15, codec="mp4v")
    for frame in moving_discs(20):
        writer.write(frame)
    assert writer.partial.exists() and not target.exists()  # nothing under the final name yet
    assert writer.close() == target
    assert not writer.partial.exists()
    assert count_frames(target) == 20
    assert writer.codec == "MPEG-4 Part 2 (OpenCV mp4v)"


def test_auto_codec_says_which_and_resizes_changed_frames(tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "a.mp4", fps=None)
    writer.write(np.zeros((120, 160, 3), np.uint8))
    writer.write(np.zeros((240, 320, 3), np.uint8))  # a camera that reconnected at another size
    writer.close()
    assert writer.codec is not None and writer.codec.split(" (")[0] in ("H.264", "MPEG-4 Part 2")
    capture = cv2.VideoCapture(str(tmp_path / "a.mp4"))
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (
        160,
        120,
    )
    assert count_frames(tmp_path / "a.mp4") == 2


def test_abort_and_empty_runs_leave_nothing(tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "x.mp4", fps=10, codec="mp4v")
    writer.write(np.zeros((32, 32, 3), np.uint8))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    assert VideoWriter(tmp_path / "y.mp4", fps=10).close() is None
    assert list(tmp_path.iterdir()) == []


def test_bad_video_outputs(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"must end in one of \.mp4"):
        VideoWriter(tmp_path / "out.gif", fps=10)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(OutputError, match=r"cannot create the folder .*a_file"):
        VideoWriter(blocker / "out.mp4", fps=10)
    with pytest.raises(OutputError, match=r"cannot create the mask folder"):
        MaskWriter(blocker / "masks")


FAKE_FFMPEG = """#!{python}
import json, os, sys
args = sys.argv[1:]
if "-encoders" in args:
    print(" V....D libx264              libx264 H.264 / AVC")
    sys.exit(0)
data = sys.stdin.buffer.read()
with open(args[-1], "wb") as out:
    out.write(data)
with open(os.environ["FAKE_FFMPEG_LOG"], "w") as log:
    json.dump({{"args": args, "bytes": len(data)}}, log)
"""


def test_ffmpeg_is_called_with_an_argument_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ffmpeg"
    fake.write_text(FAKE_FFMPEG.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "ffmpeg.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_FFMPEG_LOG", str(log))
    monkeypatch.setattr(VideoWriter, "_open_opencv", lambda self, fourcc: False)  # no avc1 here
    target = tmp_path / 'it\'s a "test"; rm -rf ~ $(x).mp4'
    writer = VideoWriter(target, fps=12.5)
    for _ in range(3):
        writer.write(np.full((7, 9, 3), 200, np.uint8))
    assert writer.close() == target and target.exists()
    assert writer.codec == "H.264 (ffmpeg libx264)"
    call = json.loads(log.read_text())
    assert call["bytes"] == 3 * 7 * 9 * 3
    assert call["args"][-1] == str(writer.partial)  # one argument, quotes and all
    assert call["args"][call["args"].index("-s") + 1] == "9x7"
    assert call["args"][call["args"].index("-r") + 1] == "12.5"
    assert "yuv420p" in call["args"] and "+faststart" in call["args"]
    assert ffmpeg_command("ffmpeg", "libx264", 9, 7, 30, target)[0] == "ffmpeg"


def test_masks_and_json_lines(toy_bundle_dir: Path, tmp_path: Path) -> None:
    seg = Segmenter(toy_bundle_dir)
    masks = MaskWriter(tmp_path / "masks")
    lines = JsonLinesWriter(tmp_path / "results.jsonl")
    results = [seg(frame) for frame in moving_discs(4)]
    for result in results:
        masks.write(result)
        lines.write(result)
    assert not (tmp_path / "results.jsonl").exists()
    lines.close()
    png = cv2.imread(str(tmp_path / "masks" / "000002.png"), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16 and np.array_equal(png, results[2].label_map)
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in records] == [0, 1, 2, 3]
    first = results[3].objects[0]
    stored = next(o for o in records[3]["objects"] if o["id"] == first.id)
    assert np.array_equal(rle.decode(stored["mask"]), first.mask)
    named = masks.write(results[0], "frame_0042.jpg")
    assert named.name == "frame_0042.png"
    aborted = JsonLinesWriter(tmp_path / "gone.jsonl")
    aborted.write(results[0])
    aborted.abort()
    assert not (tmp_path / "gone.jsonl").exists() and not (tmp_path / "gone.partial.jsonl").exists()
