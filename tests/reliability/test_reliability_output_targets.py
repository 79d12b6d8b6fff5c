"""Matrix rows: outputs never destroy what they replace.

Devices, pipes and `-` are written in place (a rename would turn them into regular files);
a symbolic link stays a link and its target gets the output; an output that is an input, or
one file named by two outputs, is refused before a frame is read; two runs writing one
output each publish a whole file; masks of same-named images in different folders do not
overwrite each other. The devices here are private ones made in the test's folder (mknod,
a FIFO, a link to this process's stdout), so a regression can never replace the machine's
own /dev/null or /dev/stdout.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from reliability_cli import (
    ROOT,
    assert_success,
    assert_user_error,
    astseg,
    astseg_process,
    cli_env,
    tree,
)
from reliability_media import count_frames, disc_frames, disc_image, write_mp4


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_json_into_a_character_device_keeps_the_device(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a character device (mknod) needs root")
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the device /dev/null is
    for flag, more in (("--json", ()), ("--out", ())):
        outcome = astseg("run", "--video", clip, "--model", toy_bundle, flag, null, *more)
        assert_success(outcome)
        assert stat.S_ISCHR(os.stat(null).st_mode), f"{flag} replaced the device"
    assert tree(tmp_path) == {"null"}  # no temporary file left beside it


def test_json_into_a_fifo_streams_every_frame_and_keeps_the_fifo(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "frames.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--json", fifo, "--quiet")
    reader.join(timeout=30)
    assert_success(outcome)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [r["frame"] for r in _records(received[0].decode())] == list(range(30))
    assert tree(tmp_path) == {"frames.fifo"}


@pytest.mark.parametrize("spelling", ["-", "link-to-stdout"])
def test_json_to_stdout_prints_the_lines_and_the_summary_goes_to_stderr(
    spelling: str, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    """`-` and a link to this process's stdout (what /dev/stdout is) print the JSON lines."""
    target = spelling
    if spelling == "link-to-stdout":
        target = str(tmp_path / "stdout")
        os.symlink("/proc/self/fd/1", target)
    env = cli_env(ASTSEG_CACHE_DIR=str(tmp_path / "cache"))
    outcome = astseg_process(
        "run", "--video", clip, "--model", toy_bundle, "--json", target, "--quiet", env=env
    )
    assert_success(outcome)
    assert [r["frame"] for r in _records(outcome.stdout)] == list(range(30))
    assert "processed 30 frames" in outcome.stderr
    if spelling == "link-to-stdout":
        assert os.readlink(target) == "/proc/self/fd/1"  # still the link


def test_a_link_as_output_stays_a_link_and_its_target_is_written(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    real, link = tmp_path / "real.jsonl", tmp_path / "results.jsonl"
    real.write_text("old\n")
    os.symlink(real.name, link)
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--json", link, "--quiet")
    assert_success(outcome)
    assert link.is_symlink() and os.readlink(link) == "real.jsonl"
    assert len(_records(real.read_text())) == 30
    assert tree(tmp_path) == {"real.jsonl", "results.jsonl"}


def test_an_output_that_is_an_input_is_refused_before_a_frame_is_read(
    toy_bundle: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = tmp_path / "in.mp4"
    video.write_bytes(clip.read_bytes())
    os.link(video, tmp_path / "hard.mp4")
    before = video.read_bytes()
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i:03d}.png"), disc_image(64, 64, (20 + i, 30), 8))
    images_before = {p.name: p.read_bytes() for p in frames.iterdir()}

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a frame source was opened before the outputs were checked")

    monkeypatch.setattr("sdk.run.run_command.open_source", no_reading)
    cases = [
        (("--video", video, "--out", video), "--out", "is the input"),
        (("--video", video, "--json", video), "--json", "is the input"),
        (("--video", video, "--json", tmp_path / "sub" / ".." / "in.mp4"), "--json", "input"),
        (("--video", video, "--out", tmp_path / "hard.mp4"), "--out", "is the input"),
        (("--images", frames, "--masks", frames), "--masks", "is the input folder"),
        (("--images", f"{frames}/*.png", "--masks", tmp_path / "frames"), "--masks", "input"),
        (("--video", video, "--masks", toy_bundle, "--quiet"), "--masks", "input folder"),
    ]
    for args, flag, words in cases:
        outcome = astseg("run", *args, "--model", toy_bundle)
        assert_user_error(outcome, flag, words, "nothing was read")
    assert video.read_bytes() == before
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == images_before
    left = {"in.mp4", "hard.mp4", "frames", *(f"frames/{n}" for n in images_before)}
    assert tree(tmp_path) == left


def test_one_file_for_two_outputs_is_refused(toy_bundle: Path, clip: Path, tmp_path: Path) -> None:
    both = tmp_path / "both.mp4"
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--out", both, "--json", both)
    assert_user_error(outcome, f"--out {both} and --json {both} would both write", "its own name")
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--json", both, "--masks", both)
    assert_user_error(outcome, f"--json {both} and --masks {both} would both write")
    assert tree(tmp_path) == set()


@pytest.mark.parametrize(
    ("flag", "words"),
    [("--json", "--json {} is a folder"), ("--out", "--out {} is a folder")],
)
def test_a_folder_given_as_an_output_file_is_refused_before_the_run(
    flag: str, words: str, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    masks = tmp_path / "masks"
    outcome = astseg(
        "run", "--video", clip, "--model", toy_bundle, flag, folder, "--masks", masks, "--quiet"
    )  # fmt: skip
    assert_user_error(outcome, words.format(folder), "give a file name inside it")
    assert tree(tmp_path) == {"existing", "existing/keep.txt"}  # no mask, no partial file


def test_two_runs_writing_one_output_leave_one_of_them_whole(
    toy_bundle: Path, tmp_path: Path
) -> None:
    long_clip = write_mp4(tmp_path / "a.mp4", disc_frames(40))
    short_clip = write_mp4(tmp_path / "b.mp4", disc_frames(25, 80, 112))
    shared = tmp_path / "out" / "shared.jsonl"
    env = cli_env(ASTSEG_CACHE_DIR=str(tmp_path / "cache"))
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "run",
                "--video",
                str(video),
                "--model",
                str(toy_bundle),
                "--json",
                str(shared),
                "--max-fps",
                "25",
                "--quiet",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for video in (long_clip, short_clip)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    records = _records(shared.read_text())  # every line parses: no interleaved writes
    sources = {r["source"] for r in records}
    assert len(sources) == 1, sources  # one run's file, not a mix
    expected = 40 if sources == {str(long_clip)} else 25
    assert [r["frame"] for r in records] == list(range(expected))
    assert tree(shared.parent) == {"shared.jsonl"}


def test_images_with_one_name_in_two_folders_keep_two_masks(
    toy_bundle: Path, tmp_path: Path
) -> None:
    root = tmp_path / "cams"
    for camera, count in (("east", 2), ("west", 1)):
        (root / camera).mkdir(parents=True)
        for i in range(count):
            image = disc_image(64, 64, (20 + 10 * i, 30 if camera == "east" else 40), 9)
            cv2.imwrite(str(root / camera / f"{i:04d}.png"), image)
    masks = tmp_path / "masks"
    outcome = astseg("run", "--images", f"{root}/*/*.png", "--model", toy_bundle,
                     "--masks", masks)  # fmt: skip
    assert_success(outcome)
    assert f"{masks}/ (3 masks)" in outcome.stdout
    written = sorted(str(p.relative_to(masks)) for p in masks.rglob("*.png"))
    assert written == ["east/0000.png", "east/0001.png", "west/0000.png"]
    west = cv2.imread(str(masks / "west" / "0000.png"), cv2.IMREAD_UNCHANGED)
    east = cv2.imread(str(masks / "east" / "0000.png"), cv2.IMREAD_UNCHANGED)
    assert west is not None and east is not None and not np.array_equal(west, east)


def test_images_with_one_stem_and_two_extensions_keep_two_masks(
    toy_bundle: Path, tmp_path: Path
) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "0001.png"), disc_image(64, 64, (20, 30), 9))
    cv2.imwrite(str(frames / "0001.jpg"), disc_image(64, 64, (40, 30), 9))
    masks = tmp_path / "masks"
    outcome = astseg("run", "--images", frames, "--model", toy_bundle, "--masks", masks)
    assert_success(outcome)
    assert sorted(p.name for p in masks.iterdir()) == ["0001.jpg.png", "0001.png.png"]


def test_a_video_written_through_a_device_is_whole(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    """--out into a FIFO: the finished MP4 is copied in; the reader gets a playable file."""
    fifo = tmp_path / "video.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--out", fifo, "--quiet")
    reader.join(timeout=30)
    assert_success(outcome)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(received[0])
    assert count_frames(copy) == 30
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_eval_writes_a_device_in_place_and_refuses_to_overwrite_its_model(
    bundle_copy: Path, tmp_path: Path
) -> None:
    from trainer_fixtures import DATA_SPEC

    fifo = tmp_path / "scores.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    outcome = astseg("eval", "--model", bundle_copy, "--data", DATA_SPEC, "--json", fifo)
    reader.join(timeout=30)
    assert_success(outcome)
    assert json.loads(received[0])["images"] == 20 and stat.S_ISFIFO(os.stat(fifo).st_mode)

    manifest = bundle_copy / "astseg.json"
    before = manifest.read_bytes()
    outcome = astseg("eval", "--model", bundle_copy, "--data", DATA_SPEC, "--json", manifest)
    assert_user_error(outcome, f"--json {manifest} is the input", "Choose another output path")
    assert manifest.read_bytes() == before
    scores = tmp_path / "scores.json"
    outcome = astseg(
        "eval", "--model", bundle_copy, "--data", DATA_SPEC, "--json", scores, "--grid", scores
    )
    assert_user_error(outcome, f"--json {scores} and --grid {scores} would both write")
    outcome = astseg("eval", "--model", bundle_copy, "--data", DATA_SPEC, "--json", tmp_path)
    assert_user_error(outcome, f"--json {tmp_path} is a folder")
    assert tree(tmp_path) == {
        "scores.fifo",
        "bundle",
        *(f"bundle/{p.name}" for p in bundle_copy.iterdir()),
    }
