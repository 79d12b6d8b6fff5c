"""Files and folders that are not what a command expects: one sentence, never a traceback
(issue 14): text given as a checkpoint, a file given as the demo's folder, a scene size that
cannot fit, an unusable cache folder, a changed cache entry, a folder given as --config."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import torch
from reliability_cli import assert_success, assert_user_error, astseg, astseg_process, cli_env, tree
from trainer_fixtures import DATA_SPEC

from training.data.errors import DataError
from training.data.synth_size import BYTES_PER_PIXEL, check_scene_size

NOT_A_CHECKPOINT = "is not an astseg checkpoint (not a file torch.save wrote)"

# ------------------------------------------------------------------ checkpoints


def test_a_text_file_given_as_a_checkpoint_is_one_sentence_everywhere(
    finished_run: Path, tmp_path: Path
) -> None:
    text = tmp_path / "t.pt"
    text.write_text("hello\n")
    outcome = astseg("export", text, "--out", tmp_path / "b")
    assert_user_error(outcome, f"'{text}' {NOT_A_CHECKPOINT}", "checkpoints/latest.pt")
    assert not (tmp_path / "b").exists()
    assert_user_error(astseg("eval", "--model", text, "--data", DATA_SPEC), NOT_A_CHECKPOINT)
    run = Path(shutil.copytree(finished_run, tmp_path / "run"))
    latest = run / "checkpoints" / "latest.pt"
    latest.write_text("hello\n")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert_user_error(astseg("train", "--resume", "--out", run), f"'{latest}' {NOT_A_CHECKPOINT}")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_the_refusal_of_an_unsafe_pickle_is_whole_words(tmp_path: Path) -> None:
    path = tmp_path / "unsafe.pt"
    payload = {"format": "astseg-checkpoint", "version": 1, "config": {}}
    torch.save({**payload, "model": {"call": print}}, path)  # a global the safe loader refuses
    line = assert_user_error(astseg("export", path, "--out", tmp_path / "b"), "refused for safety")
    assert "(it would call " in line and "print)" in line
    assert line.endswith("; load only checkpoints astseg wrote")
    assert "Weights only load failed" not in line  # torch's paragraph, cut mid-word before


# ------------------------------------------------------------------ demo and data synth


def test_demo_onto_an_existing_file_is_one_sentence(tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    outcome = astseg("demo", "--out", existing, "--frames", "10")
    assert_user_error(outcome, f"--out {existing} is a file, not a folder")
    assert existing.read_text() == "keep me"
    outcome = astseg("demo", "--out", existing / "sub", "--frames", "10")
    assert_user_error(outcome, f"cannot create the demo folder {existing / 'sub'}")


def test_data_synth_refuses_a_size_that_cannot_fit_before_allocating(tmp_path: Path) -> None:
    out = tmp_path / "huge"
    outcome = astseg("data", "synth", "--out", out, "--size", "100000x100000", "--count", "1")
    assert_user_error(outcome, "--size 100000x100000 is 10.0 gigapixels a scene")
    assert not out.exists()
    # Under OpenCV's pixel limit but more than memory: the estimate names both figures.
    with pytest.raises(DataError, match=r"--size 20000x20000 needs about 35\.8 GiB .* 1\.0 GiB"):
        check_scene_size(20000, 20000, available=2**30)
    needed_gib = 20000 * 20000 * BYTES_PER_PIXEL / 2**30
    assert round(needed_gib, 1) == 35.8
    check_scene_size(256, 256, available=2**30)  # what fits is accepted


# ------------------------------------------------------------------ the bundle cache


def _zip_of(bundle: Path, where: Path) -> Path:
    return Path(shutil.make_archive(str(where / "model"), "zip", root_dir=bundle))


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create anything in: mode 555, or /sys for root (whom
    file modes do not stop)."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize("cache", ["a file", "a read-only folder", "under a file"])
def test_an_unusable_cache_falls_back_to_a_private_folder_and_says_so_once(
    cache: str, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    archive = _zip_of(toy_bundle, tmp_path)
    note = tmp_path / "note"
    note.write_text("not a folder")
    root = {
        "a file": note,
        "a read-only folder": _read_only_folder(tmp_path),
        "under a file": note / "cache",
    }[cache]
    out = tmp_path / "r.jsonl"
    outcome = astseg_process(
        "run", "--video", clip, "--model", archive, "--json", out, "--quiet",
        env=cli_env(ASTSEG_CACHE_DIR=str(root)),
    )  # fmt: skip
    assert_success(outcome)
    assert len(out.read_text().splitlines()) == 30
    said = [line for line in outcome.stderr.splitlines() if "cannot be used" in line]
    assert len(said) == 1, outcome.stderr
    assert f"the cache folder {root} cannot be used" in said[0]
    assert "set ASTSEG_CACHE_DIR to a writable folder" in said[0]
    assert "Traceback" not in outcome.stderr
    assert note.read_text() == "not a folder"


def test_a_changed_cache_entry_is_extracted_again_not_blamed_on_the_zip(
    toy_bundle: Path, clip: Path, tmp_path: Path, private_cache: Path
) -> None:
    archive = _zip_of(toy_bundle, tmp_path)
    first = astseg("run", "--video", clip, "--model", archive, "--json", tmp_path / "a.jsonl")
    assert_success(first)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:32]
    cached = private_cache / "bundles" / digest / "encoder.onnx"
    original = cached.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0xFF
    cached.write_bytes(bytes(damaged))  # the cache, not the zip, is changed
    again = astseg("run", "--video", clip, "--model", archive, "--json", tmp_path / "b.jsonl")
    assert_success(again)
    assert "no longer matches its manifest (changed after extraction)" in again.stderr
    assert cached.read_bytes() == original  # extracted afresh from the intact zip
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 30
    assert not [p for p in cached.parent.parent.iterdir() if p.name.startswith(".")]


def test_a_damaged_zip_is_still_blamed_after_a_fresh_extraction(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    broken = Path(shutil.copytree(toy_bundle, tmp_path / "broken"))
    data = bytearray((broken / "encoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / "encoder.onnx").write_bytes(bytes(data))
    archive = _zip_of(broken, tmp_path)
    outcome = astseg("run", "--video", clip, "--model", archive, "--json", tmp_path / "r.jsonl")
    assert_user_error(outcome, f"encoder.onnx in bundle {archive} does not match the sha256")
    assert not (tmp_path / "r.jsonl").exists()


# ------------------------------------------------------------------ configs


def test_a_folder_given_as_config_is_named_as_a_folder(tmp_path: Path) -> None:
    outcome = astseg("train", "--config", tmp_path, "--data", DATA_SPEC, "--out", tmp_path / "run")
    assert_user_error(outcome, f"config file '{tmp_path}' is a folder; give a YAML file")
    assert tree(tmp_path) == set()
