"""Matrix rows: every stop leaves whole files, and the exit code says the work was cut short.

SIGTERM (docker stop, systemctl stop) and SIGHUP (a closed terminal) stop `astseg run` the
way Ctrl-C does: the frame in hand is finished, every output is closed whole under its
final name, one line says so, and the exit code is 128 + the signal's number. `export`
stopped by SIGTERM leaves no staging folder. A full disk under `--json` or `--masks` is one
sentence and leaves no partial file; it is a real, tiny tmpfs where this process may mount
one (root), and a writer patched to raise ENOSPC otherwise and in addition.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from reliability_cli import ROOT, assert_user_error, astseg, cli_env, tree
from reliability_media import count_frames, disc_frames, write_mp4


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 frames: at --max-fps 20 a run lasts 6 s, time enough to stop it midway."""
    return write_mp4(tmp_path_factory.mktemp("long") / "long.mp4", disc_frames(120))


def _start(args: list[str | Path], cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *(str(a) for a in args)],
        cwd=ROOT,
        env=cli_env(ASTSEG_CACHE_DIR=str(cache)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(ready: object, proc: subprocess.Popen[str], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name
)
def test_a_stop_signal_during_run_closes_every_output_whole(
    sig: signal.Signals, toy_bundle: Path, long_clip: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    video, lines, masks = out_dir / "o.mp4", out_dir / "o.jsonl", out_dir / "masks"
    proc = _start(
        ["run", "--video", long_clip, "--model", toy_bundle, "--out", video, "--json", lines,
         "--masks", masks, "--max-fps", "20"],
        tmp_path / "cache",
    )  # fmt: skip
    _wait_until(lambda: masks.is_dir() and len(list(masks.iterdir())) >= 5, proc, "5 masks")
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, f"exit {proc.returncode}\n{stderr}"
    assert "Traceback" not in stderr
    summary = [line for line in stdout.splitlines() if "interrupted" in line]
    assert len(summary) == 1 and f"interrupted by {sig.name} after" in summary[0], stdout
    frames = int(summary[0].split(" after ")[1].split()[0])
    assert 5 <= frames < 120
    assert count_frames(video) == frames  # playable, index written
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(frames))
    pngs = sorted(masks.iterdir())
    assert len(pngs) == frames
    assert all(cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None for p in pngs)
    assert tree(out_dir) == {"o.mp4", "o.jsonl", "masks", *(f"masks/{p.name}" for p in pngs)}


def test_sigterm_during_export_leaves_no_staging_folder(finished_run: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    proc = _start(["export", finished_run, "--out", bundle], tmp_path / "cache")
    _wait_until(lambda: any(tmp_path.glob(".bundle.*.tmp")), proc, "a staging folder", 120)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    assert not list(tmp_path.glob(".bundle*")) and not bundle.exists()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs with 12 KiB free: the JSON lines of the 30-frame clip (about 16 KiB)
    or its 30 mask PNGs (a 4 KiB page each) do not fit."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the patched-writer rows below still run")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as fh:  # fill it, then free 12 KiB (3 pages)
            try:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            except OSError as err:
                assert err.errno == errno.ENOSPC
        os.truncate(filler, max(0, filler.stat().st_size - 12 * 1024))
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_under_json_is_one_sentence_and_leaves_no_partial_file(
    tiny_disk: Path, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    lines = tiny_disk / "results.jsonl"
    proc = _start(["run", "--video", clip, "--model", toy_bundle, "--json", lines, "--quiet"],
                  tmp_path / "cache")  # fmt: skip
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("astseg: error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], stderr
    assert "the unfinished file was removed" in errors[0] and "Traceback" not in stderr
    assert tree(tiny_disk) == {"filler"}


def test_a_full_disk_under_masks_is_one_sentence_and_leaves_no_partial_file(
    tiny_disk: Path, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    masks = tiny_disk / "masks"
    proc = _start(["run", "--video", clip, "--model", toy_bundle, "--masks", masks, "--quiet"],
                  tmp_path / "cache")  # fmt: skip
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("astseg: error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], stderr
    assert "its partial file was removed" in errors[0] and "Traceback" not in stderr
    left = sorted(masks.iterdir())
    assert 0 < len(left) < 30  # some fitted, the rest did not
    assert f"the {len(left)} masks before it in {masks} are whole" in errors[0]
    assert all(p.name.endswith(".png") and not p.name.startswith(".") for p in left)
    assert all(cv2.imread(str(p), cv2.IMREAD_UNCHANGED) is not None for p in left)


@pytest.mark.parametrize("flag", ["--json", "--masks"])
def test_a_write_that_fails_with_enospc_is_one_sentence_and_leaves_no_partial_file(
    flag: str, toy_bundle: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same promise without a tmpfs: the sixth write of the output fails as on a full
    disk (in this process)."""
    real_open = open
    calls = {"writes": 0}

    class FullDisk:
        def __init__(self, fh: object) -> None:
            self._fh = fh

        def write(self, data: object) -> int:
            calls["writes"] += 1
            if calls["writes"] > 5:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self._fh.write(data)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> object:
            return getattr(self._fh, name)

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self._fh.close()  # type: ignore[attr-defined]

    def full_open(path: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        fh = real_open(path, mode, *args, **kwargs)  # type: ignore[call-overload]
        return FullDisk(fh) if "w" in mode and str(tmp_path / "out") in str(path) else fh

    monkeypatch.setattr("sdk.outputs.sinks.open", full_open, raising=False)
    monkeypatch.setattr("sdk.outputs.output_paths.open", full_open, raising=False)
    target = tmp_path / "out" / ("r.jsonl" if flag == "--json" else "masks")
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, flag, target, "--quiet")
    line = assert_user_error(outcome, "No space left on device")
    if flag == "--json":
        assert "the unfinished file was removed" in line
        assert tree(tmp_path / "out") == set()
    else:
        assert "the 5 masks before it" in line
        assert sorted(tree(target)) == [f"{i:06d}.png" for i in range(5)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_during_data_synth_leaves_no_staging_folder(
    sig: signal.Signals, tmp_path: Path
) -> None:
    """Commands without a loop of their own (synth, eval, export) clean up as on Ctrl-C."""
    out = tmp_path / "set"
    proc = _start(["data", "synth", "--out", out, "--count", "200000"], tmp_path / "cache")
    _wait_until(lambda: any(tmp_path.glob(".set.partial-*/*")), proc, "a staged image", 120)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"astseg: interrupted by {sig.name}; unfinished output was removed."
    )
    assert not list(tmp_path.glob(".set*")) and not out.exists()
