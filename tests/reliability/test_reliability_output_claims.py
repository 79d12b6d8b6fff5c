"""Matrix rows: one output never silently replaces another (issue 23, class 1).

Each output claims the files it will write, folders included (`--masks m` writes
`m/000005.png`, `--report rep` writes `rep/index.html` and `rep/contact_sheet.png`), and
two claims on one file are refused before a frame is read, with nothing written. Outputs
that share a folder without sharing a file still run.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from reliability_cli import assert_success, assert_user_error, astseg, tree
from reliability_media import disc_frames


@pytest.mark.parametrize(
    ("outputs", "words"),
    [
        (["--masks", "m", "--json", "m/000005.png"], ["--masks m", "--json m/000005.png"]),
        (["--masks", "m", "--out", "m/000012.png"], ["--masks m", "--out m/000012.png"]),
        (["--masks", "m", "--json", "m"], ["--masks m", "--json m"]),
    ],
)
def test_a_file_output_onto_a_mask_the_run_will_write_is_refused(
    outputs: list[str], words: list[str], toy_bundle: Path, clip: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, *outputs)
    assert_user_error(outcome, *words, "would both write")
    assert tree(tmp_path) == set()


@pytest.mark.parametrize(
    "outputs",
    [
        ["--report", "rep", "--json", "rep/index.html"],
        ["--report", "rep", "--out", "rep/contact_sheet.png"],
        ["--report", "rep", "--json", "rep/annotated.mp4"],
        ["--report", "rep", "--json", "rep"],
    ],
)
def test_a_file_output_onto_a_report_file_is_refused(
    outputs: list[str], toy_bundle: Path, clip: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, *outputs)
    assert_user_error(outcome, "--report rep", f"{outputs[2]} {outputs[3]}", "would both write")
    assert tree(tmp_path) == set()


def test_an_input_image_named_like_a_report_file_is_refused_only_then(
    toy_bundle: Path, tmp_path: Path
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for name, frame in zip(["a.png", "contact_sheet.png"], disc_frames(2), strict=True):
        cv2.imwrite(str(images / name), frame)
    rep = tmp_path / "rep"
    outcome = astseg("run", "--images", images, "--model", toy_bundle, "--masks", rep,
                     "--report", rep)  # fmt: skip
    assert_user_error(outcome, "--masks", "--report", "contact_sheet.png")
    assert not rep.exists()
    (images / "contact_sheet.png").rename(images / "b.png")  # no shared name: both are kept
    outcome = astseg("run", "--images", images, "--model", toy_bundle, "--masks", rep,
                     "--report", rep)  # fmt: skip
    assert_success(outcome)
    assert {"a.png", "b.png", "index.html", "contact_sheet.png", "annotated.mp4"} <= tree(rep)


def test_outputs_sharing_a_folder_but_no_file_still_run(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    masks = tmp_path / "m"
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--masks", masks,
                     "--json", masks / "results.jsonl", "--report", masks)  # fmt: skip
    assert_success(outcome)
    written = tree(masks)
    assert {"results.jsonl", "index.html", "contact_sheet.png", "000000.png"} <= written
    assert len([n for n in written if n[:6].isdigit()]) == 30


@pytest.mark.parametrize(
    ("flag", "name"),
    [("--grid", "index.html"), ("--json", "metrics.json"), ("--json", "grid.png")],
)
def test_eval_outputs_onto_a_report_file_are_refused(
    flag: str, name: str, toy_bundle: Path, tmp_path: Path
) -> None:
    rep = tmp_path / "rep"
    outcome = astseg("eval", "--model", toy_bundle, "--data", f"folder:{tmp_path / 'none'}",
                     "--report", rep, flag, rep / name)  # fmt: skip
    assert_user_error(outcome, f"--report {rep}", f"{flag} {rep / name}", "would both write")
    assert tree(tmp_path) == set()
