"""Matrix rows: values that must not be accepted, and sentences that must name the real cause.

NaN, infinity and negative numbers for `--max-fps` and `--timeout`; more `--threads` than
this process may use (capped, with one line); a frame size no video encoder takes (named
before the first frame); a refused connection (named as refused, at once); Click's usage
errors (one `astseg: error:` line, exit 2, through the real console entry point too).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from reliability_cli import (
    assert_success,
    assert_user_error,
    astseg,
    astseg_process,
    cli_env,
    tree,
)

from sdk.outputs.video_writer import find_h264_ffmpeg
from tests.mp4_boxes import video_codec_tags


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--max-fps", "nan", "must be a finite number"),
        ("--max-fps", "inf", "must be a finite number"),
        ("--max-fps", "-1", "must be at least 0.01"),
        ("--max-fps", "0", "must be at least 0.01"),
        ("--max-fps", "1e-9", "must be at least 0.01"),
        ("--timeout", "nan", "must be a finite number"),
        ("--timeout", "inf", "must be a finite number"),
        ("--timeout", "-1", "must be more than 0"),
        ("--timeout", "0", "must be more than 0"),
        ("--timeout", "1e12", "at most 86400 seconds"),
    ],
)
def test_a_number_out_of_range_is_refused_naming_its_option(
    flag: str, value: str, words: str, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    lines = tmp_path / "r.jsonl"
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, flag, value, "--json", lines)
    assert_user_error(outcome, f"{flag} is", words)
    assert tree(tmp_path) == set()


def test_more_threads_than_usable_cores_are_capped_with_one_line(
    toy_bundle: Path, clip: Path
) -> None:
    cores = len(os.sched_getaffinity(0))
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--threads", "10000")
    assert_success(outcome)
    said = [line for line in outcome.stderr.splitlines() if "--threads 10000" in line]
    assert said == [
        f"astseg: --threads 10000 is more than the {cores} cores this process may use; "
        f"using {cores}."
    ]
    assert f"{cores} threads" in outcome.stderr  # what the backend line reports it runs with
    assert "processed 30 frames" in outcome.stdout


# 1x1 is no longer among them: H.264 through ffmpeg pads it to 2x2 (see the next test).
@pytest.mark.parametrize(("height", "width"), [(9000, 12000)], ids=["12000x9000"])
def test_a_frame_size_no_encoder_takes_is_named_before_the_first_frame(
    height: int, width: int, toy_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    assert cv2.imwrite(str(frames / "a.png"), np.full((height, width, 3), 90, np.uint8))
    seen: list[int] = []
    monkeypatch.setattr(
        "sdk.segmenter.Segmenter.prepare",
        lambda self, images: seen.append(1) or pytest.fail("a frame was segmented"),
    )
    out, lines = tmp_path / "out" / "o.mp4", tmp_path / "out" / "o.jsonl"
    outcome = astseg("run", "--images", frames, "--model", toy_bundle, "--out", out,
                     "--json", lines)  # fmt: skip
    assert_user_error(outcome, f"frames of {width}x{height} pixels", "resize the frames")
    assert "try another folder" not in outcome.stderr
    assert not seen
    assert tree(tmp_path / "out") == set()  # no partial video, no JSON


def test_a_one_pixel_video_is_named_before_the_first_frame(
    toy_bundle: Path, tmp_path: Path
) -> None:
    tiny = tmp_path / "tiny.avi"
    writer = cv2.VideoWriter(str(tiny), cv2.VideoWriter.fourcc(*"MJPG"), 10, (1, 1))
    assert writer.isOpened()
    for _ in range(5):
        writer.write(np.full((1, 1, 3), 120, np.uint8))
    writer.release()
    out = tmp_path / "out" / "o.mp4"
    outcome = astseg("run", "--video", tiny, "--model", toy_bundle, "--out", out)
    if find_h264_ffmpeg() is not None:  # H.264 pads odd sides to even: a 2x2 video, whole
        assert_success(outcome)
        assert video_codec_tags(out) == ["avc1"]
        capture = cv2.VideoCapture(str(out))
        ok, frame = capture.read()
        capture.release()
        assert ok and frame.shape[:2] == (2, 2)
    else:  # OpenCV alone cannot: the size is named as the cause
        assert_user_error(outcome, "frames of 1x1 pixels", "resize the frames")
        assert tree(tmp_path / "out") == set()


def test_a_refused_connection_is_named_as_refused_at_once(toy_bundle: Path) -> None:
    started = time.monotonic()
    outcome = astseg("run", "--source", "rtsp://127.0.0.1:9/live", "--timeout", "10",
                     "--model", toy_bundle, "--json", "-")  # fmt: skip
    elapsed = time.monotonic() - started
    assert_user_error(outcome, "the connection to 127.0.0.1:9 was refused", "port")
    assert "within 10 s" not in outcome.stderr
    assert elapsed < 8, elapsed  # not the 10 s timeout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--stride", "abc"], "Invalid value for '--stride'"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["run", "--video"], "Option '--video' requires an argument"),
        (["export"], "astseg export: Missing argument 'checkpoint'"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(args: list[str], words: str) -> None:
    outcome = astseg(*args)
    line = assert_user_error(outcome, words)
    assert line.endswith("--help.")
    assert len(outcome.stderr.strip().splitlines()) == 1, outcome.stderr  # no box, no usage
    assert outcome.stdout == ""


def test_a_usage_error_through_the_installed_entry_point_is_one_line(tmp_path: Path) -> None:
    """`python -m cli` runs `main()`, the console script runs `app`: both go through
    AstsegGroup.main."""
    outcome = astseg_process("run", "--stride", "abc", env=cli_env())
    assert outcome.code == 2, str(outcome)
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("astseg: error: astseg run: Invalid value for '--stride'")
    assert lines[0].endswith("; see astseg run --help.")
