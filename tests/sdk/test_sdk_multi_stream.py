"""Several streams at once: one Segmenter each, every output written, failures kept apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_media import count_frames, moving_discs, write_video

from sdk import AstsegError
from sdk.outputs.outputs import OutputOptions
from sdk.run.multi_stream import Stream, run_streams

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("streams")
    return [
        write_video(folder / "a.mp4", moving_discs(30)),
        write_video(folder / "b.mp4", moving_discs(20, height=96, width=128)),
    ]


def _ids(path: Path) -> list[list[int]]:
    return [
        [o["id"] for o in json.loads(line)["objects"]] for line in path.read_text().splitlines()
    ]


def test_two_streams_run_together_with_their_own_ids(
    toy_bundle_dir: Path, two_clips: list[Path], tmp_path: Path
) -> None:
    streams = [
        Stream(
            clip,
            OutputOptions(out=tmp_path / f"{clip.stem}.mp4", json=tmp_path / f"{clip.stem}.jsonl"),
        )
        for clip in two_clips
    ]
    reports = run_streams(streams, toy_bundle_dir)
    assert [r.summary.frames for r in reports if r.summary] == [30, 20]
    assert all(r.error is None and r.fps > 0 for r in reports)
    assert [r.name for r in reports] == [str(c) for c in two_clips]
    assert count_frames(tmp_path / "a.mp4") == 30 and count_frames(tmp_path / "b.mp4") == 20
    for clip in two_clips:  # each stream numbers its own objects from 1: two discs, IDs 1 and 2
        ids = _ids(tmp_path / f"{clip.stem}.jsonl")
        assert sorted(ids[0]) == [1, 2] and all(set(i) <= {1, 2} for i in ids)
    assert reports[0].line().startswith(f"{two_clips[0]}: processed 30 frames in ")
    assert "FPS" in reports[0].line()


def test_a_failing_source_does_not_stop_the_others(
    toy_bundle_dir: Path, two_clips: list[Path], tmp_path: Path
) -> None:
    reports = run_streams(
        [Stream(tmp_path / "missing.mp4", name="gone"), Stream(two_clips[1], name="ok")],
        toy_bundle_dir,
    )
    assert reports[0].summary is None and "does not exist" in (reports[0].error or "")
    assert reports[0].line().startswith("gone: failed: ")
    assert reports[1].error is None and reports[1].summary is not None
    assert reports[1].summary.frames == 20


def test_pacing_and_bad_arguments(
    toy_bundle_dir: Path, two_clips: list[Path], tmp_path: Path
) -> None:
    paced = run_streams([Stream(two_clips[1])], toy_bundle_dir, max_fps=50)
    summary = paced[0].summary
    # 20 frames at 50 FPS: the last is due 19/50 = 0.38 s after the first
    assert summary is not None and summary.frames == 20 and summary.seconds >= 0.3
    with pytest.raises(ValueError, match="at least one stream"):
        run_streams([], toy_bundle_dir)
    with pytest.raises(ValueError, match="threads is 0"):
        run_streams([Stream(two_clips[0])], toy_bundle_dir, threads=0)
    with pytest.raises(AstsegError):
        run_streams([Stream(two_clips[0])], tmp_path / "no_bundle")


def test_shared_outputs_and_windows_are_refused_before_anything_runs(
    toy_bundle_dir: Path, two_clips: list[Path], tmp_path: Path
) -> None:
    same = OutputOptions(json=tmp_path / "objects.jsonl")
    with pytest.raises(ValueError, match=r"streams 1 and 2 would both write .*objects\.jsonl"):
        run_streams([Stream(two_clips[0], same), Stream(two_clips[1], same)], toy_bundle_dir)
    with pytest.raises(ValueError, match="stream 2 asks for a window"):
        run_streams(
            [Stream(two_clips[0]), Stream(two_clips[1], OutputOptions(show=True))], toy_bundle_dir
        )
    assert list(tmp_path.iterdir()) == []  # nothing was started or written


def test_example_prints_every_stream(
    toy_bundle_dir: Path, two_clips: list[Path], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "multi_stream.py"), *map(str, two_clips),
         "--model", str(toy_bundle_dir), "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1-a: processed 30 frames in ")
    assert lines[1].startswith("2-b: processed 20 frames in ")
    assert lines[2].startswith("2 streams, ") and lines[2].endswith(" frames/s in all")
    assert len((tmp_path / "out" / "1-a.jsonl").read_text().splitlines()) == 30
    assert count_frames(tmp_path / "out" / "2-b.mp4") == 20
