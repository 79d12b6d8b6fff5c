"""Matrix rows: outputs that cannot be written, and a disk that fills up mid-write.

Tests run as root, for whom no folder is read-only, so "not writable" is a path whose
parent is a regular file (mkdir and open fail with ENOTDIR for root too). A full disk is a
child process under RLIMIT_FSIZE with SIGXFSZ ignored: every write past the limit fails
with EFBIG, as writes on a full disk fail with ENOSPC. The in-process variants (a patched
writer that raises ENOSPC, the file-size limit on one checkpoint write) are in
tests/training/trainer/test_checkpoint_writes.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pytest
from reliability_cli import (
    assert_success,
    assert_user_error,
    astseg,
    astseg_process,
    cli_env,
    tree,
)
from reliability_media import count_frames
from trainer_fixtures import DATA_SPEC

from sdk.outputs import video_writer
from sdk.outputs.video_writer import VideoWriter
from training.checkpoint import load_checkpoint, load_model


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A regular file: nothing can be created beneath it, not even by root."""
    path = tmp_path / "a_file"
    path.write_text("I am a file, not a folder")
    return path


@pytest.mark.parametrize(
    ("flag", "name", "message"),
    [
        ("--out", "annotated.mp4", "cannot create the folder"),
        ("--masks", "masks", "cannot create the mask folder"),
        ("--json", "results.jsonl", "cannot create the folder"),
    ],
)
def test_run_refuses_an_output_it_cannot_create(
    flag: str, name: str, message: str, blocker: Path, toy_bundle: Path, clip: Path
) -> None:
    target = blocker / "sub" / name
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, flag, target, "--quiet")
    assert_user_error(outcome, message, str(blocker))
    assert tree(blocker.parent) == {"a_file"} and blocker.is_file()


def test_eval_train_and_export_refuse_an_output_they_cannot_create(
    blocker: Path,
    toy_bundle: Path,
    tiny_config_file: Path,
    finished_run: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scored(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval scored the model before checking where its results go")

    with monkeypatch.context() as patched:
        patched.setattr("training.evaluation.command.evaluate", scored)
        for flag, name in (("--json", "s.json"), ("--grid", "g.png")):
            outcome = astseg(
                "eval", "--model", toy_bundle, "--data", DATA_SPEC, flag, blocker / "sub" / name
            )
            assert_user_error(outcome, f"cannot write {blocker / 'sub' / name}", "choose another")
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", DATA_SPEC,
        "--out", blocker / "run", "--device", "cpu",
    )  # fmt: skip
    assert_user_error(outcome, f"cannot create run folder '{blocker / 'run'}'", "choose another")
    outcome = astseg("export", finished_run, "--out", blocker / "sub" / "bundle")
    assert_user_error(outcome, str(blocker), "choose another --out")
    assert tree(blocker.parent) == {"a_file"} and blocker.is_file()


def test_eval_creates_the_folders_of_its_outputs(toy_bundle: Path, tmp_path: Path) -> None:
    scores, grid = tmp_path / "new" / "scores.json", tmp_path / "new" / "pictures" / "grid.png"
    outcome = astseg(
        "eval", "--model", toy_bundle, "--data", DATA_SPEC, "--json", scores, "--grid", grid
    )
    assert_success(outcome)
    assert json.loads(scores.read_text())["images"] == 20
    assert cv2.imread(str(grid)) is not None


def test_full_disk_during_a_checkpoint_keeps_the_previous_one_and_resume_finishes(
    finished_run: Path, tmp_path: Path
) -> None:
    run = Path(shutil.copytree(finished_run, tmp_path / "run"))
    latest = run / "checkpoints" / "latest.pt"
    before = latest.read_bytes()
    limit = len(before) // 2  # the next latest.pt cannot be written whole
    more = ("--set", "train.steps=8", "--set", "train.frozen_background_steps=2")
    outcome = astseg_process("train", "--resume", "--out", run, *more, file_size_limit=limit)
    assert_user_error(
        outcome,
        f"could not write checkpoint {latest} (File too large)",
        f"{latest} is intact",
        "then continue with --resume",
    )
    assert latest.read_bytes() == before  # not a byte changed
    assert load_model(latest)[2]["step"] == 6
    assert not [p for p in tree(run) if p.endswith(".tmp")]
    outcome = astseg_process("train", "--resume", "--out", run, *more)  # space freed
    assert_success(outcome)
    assert "resuming at step 6 of 10" in outcome.stdout
    assert "finished step 10/10" in outcome.stdout
    assert load_checkpoint(latest)["step"] == 10


LIMIT = 6_000  # bytes: half the annotated clip; a mask PNG is a few hundred


def test_full_disk_during_the_annotated_video_removes_it_and_says_so(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    out, masks = tmp_path / "out" / "annotated.mp4", tmp_path / "out" / "masks"
    env = cli_env(ASTSEG_CACHE_DIR=str(tmp_path / "cache"))
    outcome = astseg_process(
        "run", "--video", clip, "--model", toy_bundle, "--out", out, "--masks", masks,
        "--quiet", env=env, file_size_limit=LIMIT,
    )  # fmt: skip
    assert_user_error(
        outcome, f"{out} could not be written whole", "free space or choose another folder"
    )
    assert not out.exists() and not (out.parent / "annotated.partial.mp4").exists()
    pngs = sorted(masks.iterdir())  # every mask PNG is complete on its own, so they stay
    assert len(pngs) == 30
    assert all(cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None for p in pngs)
    outcome = astseg_process(
        "run", "--video", clip, "--model", toy_bundle, "--out", out, "--quiet", env=env
    )
    assert_success(outcome)
    assert count_frames(out) == 30  # without the limit the same command writes it whole
    assert out.stat().st_size > 1.5 * LIMIT


def test_a_video_cut_short_still_lets_the_other_outputs_finish(
    toy_bundle: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON lines outgrow the video here, so a file-size limit cannot fail the video
    alone; the read-back check of a video OpenCV wrote is made to fail instead."""
    monkeypatch.setattr(video_writer, "find_h264_ffmpeg", lambda: None)  # OpenCV writes it
    monkeypatch.setattr(VideoWriter, "_written_whole", lambda self: False)
    out, lines = tmp_path / "annotated.mp4", tmp_path / "results.jsonl"
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--out", out, "--json", lines)
    assert_user_error(outcome, f"{out} could not be written whole", "so it was removed")
    assert sorted(tree(tmp_path)) == ["results.jsonl"]  # no video, no partial files
    assert len(lines.read_text().splitlines()) == 30
