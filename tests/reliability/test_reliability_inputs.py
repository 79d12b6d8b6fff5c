"""Matrix rows: what a user feeds `astseg run`, `astseg eval` and `astseg train`.

Every row checks the exit code, the message and what is left on disk. Rows already proven
at the CLI elsewhere (run: a missing path, a zero-byte file, a text file named .mp4, a
camera index that does not exist) are listed in docs/guarantees.md, not repeated.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from reliability_cli import assert_success, assert_user_error, astseg, tree
from reliability_media import count_frames, disc_frames, disc_image, disc_image_folder
from trainer_fixtures import DATA_SPEC

# ------------------------------------------------------------------ broken video files


def _broken_videos(folder: Path, clip: Path) -> dict[str, Path]:
    """A zero-byte file, a text file named .mp4, and the first half of a real clip."""
    folder.mkdir(exist_ok=True)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    text = folder / "notes.mp4"
    text.write_text("these are my notes, not a video\n" * 40)
    half = folder / "half.mp4"
    data = clip.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    return {"empty": empty, "text": text, "half": half}


def test_run_refuses_a_truncated_video_and_writes_nothing(
    clip: Path, toy_bundle: Path, tmp_path: Path
) -> None:
    """(A zero-byte file and a text file named .mp4: tests/sdk/test_sdk_run.py.)"""
    video = _broken_videos(tmp_path / "in", clip)["half"]
    out = tmp_path / "out"
    outcome = astseg(
        "run", "--video", video, "--model", toy_bundle, "--out", out / "a.mp4",
        "--json", out / "r.jsonl", "--masks", out / "masks", "--quiet",
    )  # fmt: skip
    assert_user_error(outcome, str(video), "is not a video OpenCV can decode")
    assert tree(out) == set()  # the source is opened before any output is created


@pytest.mark.parametrize("kind", ["empty", "text", "half"])
def test_eval_and_train_refuse_a_broken_video_and_write_nothing(
    kind: str, clip: Path, toy_bundle: Path, tiny_config_file: Path, tmp_path: Path
) -> None:
    video = _broken_videos(tmp_path / "in", clip)[kind]
    scores = tmp_path / "scores.json"
    outcome = astseg("eval", "--model", toy_bundle, "--data", f"video:{video}", "--json", scores)
    assert_user_error(outcome, str(video), "cannot be opened as a video")
    assert not scores.exists()
    run = tmp_path / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", f"video:{video}",
        "--out", run, "--device", "cpu",
    )  # fmt: skip
    assert_user_error(outcome, str(video), "cannot be opened as a video")
    assert not run.exists()  # the data is opened before the run folder is created


@pytest.mark.parametrize(
    ("spec", "message"),
    [("folder:{tmp}/no_such_dir", "does not exist"), ("video:{tmp}/no_such.mp4", "does not exist")],
)
def test_eval_and_train_name_a_missing_data_path(
    spec: str, message: str, toy_bundle: Path, tiny_config_file: Path, tmp_path: Path
) -> None:
    data = spec.format(tmp=tmp_path)
    missing = data.split(":", 1)[1]
    assert_user_error(astseg("eval", "--model", toy_bundle, "--data", data), missing, message)
    run = tmp_path / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", data, "--out", run,
    )  # fmt: skip
    assert_user_error(outcome, missing, message)
    assert not run.exists()
    outcome = astseg("eval", "--model", tmp_path / "no_model", "--data", DATA_SPEC)
    assert_user_error(outcome, "no_model does not exist")


def test_run_gives_up_on_an_unreachable_stream_within_its_timeout(
    toy_bundle: Path, tmp_path: Path
) -> None:
    lines = tmp_path / "out" / "r.jsonl"
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        outcome = astseg(
            "run", "--source", f"rtsp://admin:secret@127.0.0.1:{port}/live", "--timeout", "1",
            "--model", toy_bundle, "--json", lines,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    assert_user_error(
        outcome, f"rtsp://admin:***@127.0.0.1:{port}/live could not be opened within 1 s",
        "reachable",
    )  # fmt: skip
    assert "secret" not in outcome.stdout + outcome.stderr  # the password is never echoed
    # it gave up instead of hanging; the bound leaves a loaded machine room to start astseg
    assert elapsed < 60, elapsed
    assert tree(tmp_path) == set()


# ------------------------------------------------------------------ one corrupt frame


def test_run_goes_on_past_a_corrupt_frame_and_reports_it(
    corrupt_clip: Path, toy_bundle: Path, tmp_path: Path
) -> None:
    out, lines = tmp_path / "annotated.mp4", tmp_path / "results.jsonl"
    outcome = astseg(
        "run", "--video", corrupt_clip, "--model", toy_bundle, "--out", out, "--json", lines
    )
    assert_success(outcome)
    assert "processed 29 frames" in outcome.stdout
    assert "skipped 1 unreadable frames" in outcome.stdout
    assert f"{corrupt_clip}: 1 frame(s) from frame 15 could not be decoded; skipped" in (
        outcome.stderr
    )
    frames = [json.loads(line)["frame"] for line in lines.read_text().splitlines()]
    assert frames == [i for i in range(30) if i != 15]  # source numbering kept, nothing shifted
    assert count_frames(out) == 29
    assert sorted(tree(tmp_path)) == ["annotated.mp4", "results.jsonl"]


def test_eval_and_train_go_on_past_a_corrupt_frame_and_report_it(
    corrupt_clip: Path,
    toy_bundle: Path,
    tiny_config_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scores = tmp_path / "scores.json"
    outcome = astseg(
        "eval", "--model", toy_bundle, "--data", f"video:{corrupt_clip}", "--json", scores
    )
    assert_success(outcome)
    assert json.loads(scores.read_text())["images"] == 29
    # a warning of the 'astseg' logger: on a terminal it is the line Python prints to stderr
    assert f"astseg: {corrupt_clip}: frame 15 could not be decoded; skipped" in caplog.messages
    run = tmp_path / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file,
        "--data", f"video:{corrupt_clip}?size=32", "--out", run, "--device", "cpu",
    )  # fmt: skip
    assert_success(outcome)
    data_line = next(line for line in outcome.stdout.splitlines() if line.startswith("data:"))
    assert data_line.startswith(f"data: video {corrupt_clip} (frame 15 undecodable, skipped)")
    assert data_line.endswith(", 29 images")
    assert "finished step 6/6" in outcome.stdout


# ------------------------------------------------------------------ frames of every kind


def _odd_images(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Images of changing size, gray, BGRA, 16-bit and float, each with one disc.

    Returns the file name -> (what was written, the disc's true mask).
    """
    folder.mkdir()
    written = {}
    for name, (h, w, centre, radius) in {
        "a_colour.png": (96, 128, (40, 40), 14),
        "b_small.png": (48, 80, (60, 24), 9),
        "c_large.png": (150, 100, (50, 100), 20),
    }.items():
        written[name] = disc_image(h, w, centre, radius)
    colour = disc_image(96, 128, (90, 50), 16)
    written["d_gray.png"] = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    written["e_bgra.png"] = np.dstack([colour, np.full((96, 128), 255, np.uint8)])
    written["f_16bit.png"] = colour.astype(np.uint16) * 257
    truths = {}
    for name, image in written.items():
        assert cv2.imwrite(str(folder / name), image)
        truths[name] = (image, _disc_mask(image))
    floating = colour.astype(np.float32) / 255.0
    assert cv2.imwrite(str(folder / "g_float.tiff"), floating)
    truths["g_float.tiff"] = (floating, _disc_mask(colour))
    return truths


def _disc_mask(image: np.ndarray) -> np.ndarray:
    gray = image if image.ndim == 2 else image[:, :, :3].max(axis=2)
    return gray > gray.max() // 2


def test_run_segments_frames_of_changing_size_depth_and_layout(
    toy_bundle: Path, tmp_path: Path
) -> None:
    truths = _odd_images(tmp_path / "images")
    out, masks = tmp_path / "annotated.mp4", tmp_path / "masks"
    outcome = astseg(
        "run", "--images", tmp_path / "images", "--model", toy_bundle, "--out", out,
        "--masks", masks,
    )  # fmt: skip
    assert_success(outcome)
    assert "processed 7 frames" in outcome.stdout and "skipped" not in outcome.stdout
    for name, (image, truth) in truths.items():
        labels = cv2.imread(str(masks / f"{Path(name).stem}.png"), cv2.IMREAD_UNCHANGED)
        assert labels.shape == image.shape[:2], name  # masks at each frame's own size
        found = labels > 0
        iou = (found & truth).sum() / (found | truth).sum()
        assert iou > 0.8, (name, iou)
    capture = cv2.VideoCapture(str(out))
    size = (capture.get(cv2.CAP_PROP_FRAME_HEIGHT), capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    capture.release()
    assert size == (96, 128)  # every frame resized to the first frame's size
    assert count_frames(out) == 7


def test_eval_and_train_read_gray_bgra_16bit_and_changing_sizes(
    toy_bundle: Path, tiny_config_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "images"
    _odd_images(folder)
    (folder / "notes.txt").write_text("not an image, ignored by its extension")
    scores = tmp_path / "scores.json"
    outcome = astseg("eval", "--model", toy_bundle, "--data", f"folder:{folder}", "--json", scores)
    assert_success(outcome)
    assert json.loads(scores.read_text())["images"] == 6  # the .png files; .tiff is not read
    run = tmp_path / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", f"folder:{folder}",
        "--out", run, "--device", "cpu",
    )  # fmt: skip
    assert_success(outcome)
    data_line = next(line for line in outcome.stdout.splitlines() if line.startswith("data:"))
    assert data_line.startswith(f"data: folder {folder}") and data_line.endswith(", 6 images")
    assert "finished step 6/6" in outcome.stdout


# ------------------------------------------------------------------ folders with other files


def test_run_skips_and_counts_unreadable_files_in_an_image_folder(
    toy_bundle: Path, tmp_path: Path
) -> None:
    folder = disc_image_folder(tmp_path / "images")
    (folder / "f1b.png").write_bytes(b"")  # an image name, zero bytes
    (folder / "readme.txt").write_text("not an image")
    masks = tmp_path / "masks"
    outcome = astseg("run", "--images", folder, "--model", toy_bundle, "--masks", masks)
    assert_success(outcome)
    assert "processed 3 frames" in outcome.stdout
    assert "skipped 1 unreadable frames" in outcome.stdout
    assert f"skipped {folder / 'f1b.png'}: not a readable image" in outcome.stderr
    assert sorted(tree(masks)) == ["f0.png", "f1.png", "f2.png"]
    only_text = tmp_path / "text_only"
    only_text.mkdir()
    (only_text / "readme.txt").write_text("not an image")
    outcome = astseg("run", "--images", only_text, "--model", toy_bundle, "--masks", masks)
    assert_user_error(outcome, str(only_text), "holds no images")


def test_eval_names_an_unreadable_image_in_a_data_folder(toy_bundle: Path, tmp_path: Path) -> None:
    folder = disc_image_folder(tmp_path / "images")
    (folder / "f1b.png").write_text("not a png")
    scores = tmp_path / "scores.json"
    outcome = astseg("eval", "--model", toy_bundle, "--data", f"folder:{folder}", "--json", scores)
    assert_user_error(outcome, str(folder / "f1b.png"), "is not a readable image")
    assert not scores.exists()


@pytest.mark.parametrize("workers", [0, 1])
def test_train_names_an_unreadable_image_in_one_sentence(
    workers: int, tiny_config_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for i, frame in enumerate(disc_frames(7)):
        cv2.imwrite(str(folder / f"f{i}.png"), frame)
    (folder / "f3b.png").write_text("not a png")
    run = tmp_path / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", f"folder:{folder}",
        "--out", run, "--device", "cpu", "--set", f"train.num_workers={workers}",
    )  # fmt: skip
    assert_user_error(outcome, str(folder / "f3b.png"), "is not a readable image")
    assert not any(p.endswith(".tmp") for p in tree(run))
