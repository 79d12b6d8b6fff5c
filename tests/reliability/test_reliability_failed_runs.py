"""Matrix rows: a failed run publishes nothing (issue 23, class 3).

When a run fails for a reason that is not an output's own (a source that raises, a
callback that raises, a "video" that is no image at all), the pipeline aborts every
output: no video or JSON under its final name (not even 0 bytes), and no mask or report
folder the run created and left empty. Mask PNGs written before the failure are whole and
stay. A stop signal is not a failure: it still finishes every output (test_reliability_stops).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from reliability_cli import assert_user_error, astseg, tree
from reliability_media import disc_frames, write_mjpeg

from sdk import Segmenter
from sdk.outputs.outputs import OutputOptions
from sdk.run.options import RunOptions
from sdk.run.pipeline import run_pipeline


def _outputs(folder: Path) -> OutputOptions:
    return OutputOptions(
        out=folder / "a.mp4", json=folder / "r.jsonl", masks=folder / "masks", codec="mp4v"
    )


def test_a_video_named_png_publishes_no_output_and_no_folder(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "in" / "clip.png"
    fake.parent.mkdir()
    shutil.copy(clip, fake)
    out = tmp_path / "out"
    outcome = astseg("run", "--video", fake, "--model", toy_bundle, "--json", out / "r.jsonl",
                     "--masks", out / "masks", "--report", out / "rep")  # fmt: skip
    assert_user_error(outcome, str(fake), "readable image")
    assert tree(out) == set()  # no 0-byte JSON, no empty mask or report folder


def test_a_source_that_raises_publishes_nothing(toy_bundle: Path, tmp_path: Path) -> None:
    def frames() -> Iterator[np.ndarray]:
        raise OSError("the camera's driver went away")
        yield np.zeros((8, 8, 3), np.uint8)  # a generator that fails on its first frame

    with Segmenter(toy_bundle) as seg, pytest.raises(OSError, match="driver went away"):
        run_pipeline(seg, frames(), RunOptions(outputs=_outputs(tmp_path), progress=False))
    assert tree(tmp_path) == set()


def test_a_callback_that_raises_publishes_no_video_or_json(
    toy_bundle: Path, tmp_path: Path
) -> None:
    def callback(result: object, frame: np.ndarray) -> None:
        raise RuntimeError("the user's callback failed")

    options = RunOptions(outputs=_outputs(tmp_path), progress=False, on_result=callback)
    with Segmenter(toy_bundle) as seg, pytest.raises(RuntimeError, match="callback failed"):
        run_pipeline(seg, disc_frames(10), options)
    assert tree(tmp_path) == set()  # the callback runs before a mask is written


def test_a_run_that_succeeds_still_publishes_everything(toy_bundle: Path, tmp_path: Path) -> None:
    with Segmenter(toy_bundle) as seg:
        summary = run_pipeline(
            seg, disc_frames(5), RunOptions(outputs=_outputs(tmp_path), progress=False)
        )
    assert summary.frames == 5
    assert {"a.mp4", "r.jsonl", "masks", "masks/000004.png"} <= tree(tmp_path)


def test_a_video_cut_short_says_so_in_the_summary(toy_bundle: Path, tmp_path: Path) -> None:
    whole = write_mjpeg(tmp_path / "whole.avi", disc_frames(30))
    data = whole.read_bytes()
    frame_starts = [m.start() for m in re.finditer(rb"\xff\xd8\xff", data)]
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: frame_starts[23] - 8])  # the header still declares 30 frames
    outcome = astseg("run", "--video", cut, "--model", toy_bundle, "--json", tmp_path / "r.j")
    assert outcome.code == 0, str(outcome)
    said = "ended after 23 of the 30 frames its header declares (cut short?)"
    assert "processed 23 frames" in outcome.stdout and f"the input {said}" in outcome.stdout
    assert f"{cut} {said}" in outcome.stderr
    whole_run = astseg("run", "--video", whole, "--model", toy_bundle)
    assert whole_run.code == 0 and "ended after" not in whole_run.stdout + whole_run.stderr
