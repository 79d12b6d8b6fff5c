"""Files from strangers: nothing in a checkpoint, bundle, source name or config runs code or
writes outside its place.

Loader-level proofs live beside the loaders (tests/training/test_checkpoint.py,
tests/sdk/test_sdk_bundle.py, tests/sdk/test_sdk_sources.py, tests/sdk/test_sdk_outputs.py);
these rows go through the commands, and a scan of the product source keeps the rules.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from reliability_cli import ROOT, assert_success, assert_user_error, astseg, tree
from trainer_fixtures import DATA_SPEC

from sdk.outputs.video_writer import VideoWriter

# ------------------------------------------------------------------ pickles that run code


class _RunsCode:
    """Unpickling this calls os.system: the classic malicious checkpoint."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


@pytest.fixture
def malicious_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    """A checkpoint that looks like astseg's and would `touch` a marker when unpickled."""
    marker = tmp_path / "code_ran"
    path = tmp_path / "downloaded.pt"
    payload = {"format": "astseg-checkpoint", "version": 1, "config": {}, "state": {}}
    torch.save({**payload, "model": _RunsCode(f"touch '{marker}'")}, path)
    # Control: a plain unpickler really runs it (in a child, so this process stays clean).
    code = f"import torch; torch.load({str(path)!r}, weights_only=False)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert marker.exists(), "the crafted checkpoint does not run code; the rows prove nothing"
    marker.unlink()
    return path, marker


def test_a_checkpoint_whose_pickle_runs_code_is_refused_by_every_command(
    malicious_checkpoint: tuple[Path, Path], finished_run: Path, tmp_path: Path
) -> None:
    evil, marker = malicious_checkpoint
    refused = "holds objects other than tensors and plain values and was refused for safety"
    assert_user_error(astseg("eval", "--model", evil, "--data", DATA_SPEC), str(evil), refused)
    assert_user_error(astseg("export", evil, "--out", tmp_path / "bundle"), refused)
    assert not (tmp_path / "bundle").exists()
    run = Path(shutil.copytree(finished_run, tmp_path / "run"))
    shutil.copy(evil, run / "checkpoints" / "latest.pt")
    assert_user_error(astseg("train", "--resume", "--out", run), refused)
    outcome = astseg(
        "train", "--preset", "cpu", "--data", DATA_SPEC, "--out", tmp_path / "new",
        "--background-from", evil,
    )  # fmt: skip
    assert_user_error(outcome, refused)
    assert not (tmp_path / "new").exists()
    assert not marker.exists()  # the code never ran


# ------------------------------------------------------------------ hostile bundle archives


def _zip(path: Path, entries: dict[str | zipfile.ZipInfo, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("astseg.json", "{}")
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../escaped.txt", "points outside the bundle"),
        ("models/../../escaped.txt", "points outside the bundle"),
        ("{outside}/escaped.txt", "points outside the bundle"),
        ("{symlink}", "contains a symbolic link"),
        ("{bomb}", "possible zip bomb"),
    ],
)
def test_a_hostile_bundle_zip_is_refused_before_anything_is_extracted(
    entry: str, message: str, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ASTSEG_CACHE_DIR", str(cache))
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = tmp_path / "downloads" / "model.zip"
    archive.parent.mkdir()
    if entry == "{symlink}":
        _zip(archive, {_symlink("encoder.onnx"): str(outside / "escaped.txt").encode()})
    elif entry == "{bomb}":  # 100 MiB of zeros deflate to ~100 KiB: a 1000-fold expansion
        _zip(archive, {"encoder.onnx": bytes(100 << 20)})
        assert archive.stat().st_size < 1 << 20
    else:
        _zip(archive, {entry.format(outside=outside): b"written by the archive"})
    outcome = astseg("run", "--video", clip, "--model", archive, "--json", tmp_path / "r.jsonl")
    assert_user_error(outcome, str(archive), message)
    assert tree(outside) == set()
    assert not (tmp_path / "escaped.txt").exists() and not (cache.parent / "escaped.txt").exists()
    assert tree(cache / "bundles") == set()  # no extraction was even started
    assert sorted(tree(tmp_path)) == [
        "cache",
        "cache/bundles",
        "downloads",
        "downloads/model.zip",
        "outside",
    ]


# ------------------------------------------------------------------ names are not commands

NASTY_NAME = 'it\'s a "clip"; touch pwned_by_name $(touch pwned_by_subst) `touch pwned_tick` #'
FAKE_FFMPEG = """#!{python}
import json, os, sys
args = sys.argv[1:]
if "-encoders" in args:
    print(" V....D libx264              libx264 H.264 / AVC")
    sys.exit(0)
with open(args[-1], "wb") as out:
    out.write(sys.stdin.buffer.read())
with open(os.environ["FAKE_FFMPEG_ARGS"], "w") as log:
    json.dump(args, log)
"""


def _no_pwned_files(*folders: Path) -> None:
    for folder in folders:
        assert not list(folder.glob("pwned*")), folder


def test_names_with_quotes_semicolons_and_substitutions_are_only_names(
    toy_bundle: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = tmp_path / f"{NASTY_NAME}.mp4"
    shutil.copy(clip, video)
    out = tmp_path / "out" / f"{NASTY_NAME}.mp4"
    lines = tmp_path / "out" / f"{NASTY_NAME}.jsonl"
    # H.264 through an ffmpeg on PATH (this fake one records the arguments it was given)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").write_text(FAKE_FFMPEG.format(python=sys.executable))
    (bin_dir / "ffmpeg").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_FFMPEG_ARGS", str(tmp_path / "ffmpeg_args.json"))
    monkeypatch.setattr(VideoWriter, "_open_opencv", lambda self, fourcc: fourcc == "mp4v")
    monkeypatch.chdir(tmp_path)
    outcome = astseg("run", "--video", video, "--model", toy_bundle, "--out", out, "--json", lines)
    assert_success(outcome)
    assert "processed 30 frames" in outcome.stdout and "H.264 (ffmpeg libx264)" in outcome.stdout
    args = json.loads((tmp_path / "ffmpeg_args.json").read_text())
    partial = Path(args[-1])  # one argument, verbatim: the unique partial name beside `out`
    assert partial.parent == out.parent and partial.name.startswith(f".{NASTY_NAME}.")
    assert partial.name.endswith(".partial.mp4") and len(partial.name) == len(NASTY_NAME) + 22
    assert out.is_file() and len(lines.read_text().splitlines()) == 30
    for source, message in (
        (f"$(touch {tmp_path}/pwned_source)", "does not exist; check the path"),
        ("ftp://host/x; touch pwned_scheme", "'ftp://' sources are not supported"),
    ):
        assert_user_error(astseg("run", "--source", source, "--model", toy_bundle), message)
    _no_pwned_files(tmp_path, tmp_path / "out", ROOT)


# ------------------------------------------------------------------ YAML is data, not code


def test_yaml_that_would_construct_objects_is_refused(finished_run: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    tag = f'!!python/object/apply:os.system ["touch {marker}"]'
    config = tmp_path / "config.yaml"
    config.write_text(f"train:\n  lr: {tag}\n")
    run = tmp_path / "run"
    base = ("train", "--preset", "cpu", "--data", DATA_SPEC, "--out", run)
    assert_user_error(astseg(*base, "--config", config), str(config), "is not valid YAML")
    assert_user_error(astseg(*base, "--set", f"train.lr={tag}"), "'train.lr'", "is not valid YAML")
    assert not run.exists()
    resumed = Path(shutil.copytree(finished_run, tmp_path / "resumed"))
    (resumed / "config.yaml").write_text(f"train:\n  lr: {tag}\n")
    outcome = astseg("train", "--resume", "--out", resumed, "--set", "train.steps=8")
    assert_user_error(outcome, str(resumed / "config.yaml"), "is not valid YAML")
    assert not marker.exists()


# ------------------------------------------------------------------ the rules, in the source

UNSAFE_CALLS = {
    ("os", "system"): "runs a shell",
    ("os", "popen"): "runs a shell",
    ("subprocess", "getoutput"): "runs a shell",
    ("subprocess", "getstatusoutput"): "runs a shell",
    ("yaml", "load"): "can construct objects; use yaml.safe_load",
    ("yaml", "unsafe_load"): "can construct objects; use yaml.safe_load",
    ("yaml", "full_load"): "can construct objects; use yaml.safe_load",
    ("pickle", "load"): "runs code from the file",
    ("pickle", "loads"): "runs code from the file",
    ("marshal", "loads"): "loads code",
}


def _product_files() -> list[Path]:
    files = [ROOT / "cli.py"]
    for folder in ("sdk", "training", "export"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def _dotted(node: ast.expr) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.insert(0, node.id)
    return tuple(parts)


def _problems(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        keywords = {k.arg: k.value for k in node.keywords}
        if name[-2:] in UNSAFE_CALLS:
            found.append(f"{where}: {'.'.join(name)} {UNSAFE_CALLS[name[-2:]]}")
        if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
            found.append(f"{where}: {name[0]}() runs text as code")
        shell = keywords.get("shell")
        if shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
            found.append(f"{where}: shell= must not be used")
        if name[-1:] in (("Popen",), ("run",), ("call",), ("check_call",), ("check_output",)):
            first = node.args[0] if node.args else None
            if name[0] == "subprocess" and isinstance(first, (ast.Constant, ast.JoinedStr)):
                found.append(f"{where}: subprocess given a command string, not a list")
        if name[-2:] == ("torch", "load"):
            weights_only = keywords.get("weights_only")
            if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                found.append(f"{where}: torch.load without weights_only=True")
        if name[-2:] == ("np", "load") or name[-2:] == ("numpy", "load"):
            allow = keywords.get("allow_pickle")
            if allow is not None and not (isinstance(allow, ast.Constant) and not allow.value):
                found.append(f"{where}: np.load with allow_pickle")
    return found


def test_the_product_never_shells_out_or_unpickles_untrusted_files() -> None:
    files = _product_files()
    assert len(files) > 100 and ROOT / "sdk" / "outputs" / "video_writer.py" in files
    problems = [problem for path in files for problem in _problems(path)]
    assert problems == []


def test_the_scan_catches_each_unsafe_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan above can fail: each forbidden pattern is reported."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os, subprocess, yaml, torch, pickle, numpy as np\n"
        "os.system('ls')\n"
        "subprocess.run('ls -l', shell=True)\n"
        "subprocess.Popen(f'ffmpeg -i {x}')\n"
        "yaml.load(text, Loader=yaml.Loader)\n"
        "torch.load(path)\n"
        "torch.load(path, weights_only=False)\n"
        "pickle.loads(data)\n"
        "np.load(path, allow_pickle=True)\n"
        "eval(text)\n"
        "model.eval()\n"  # a method named eval is fine
    )
    problems = _problems(bad)
    assert [p.split(":")[1] for p in problems] == [
        "2", "3", "3", "4", "5", "6", "7", "8", "9", "10"
    ]  # fmt: skip
