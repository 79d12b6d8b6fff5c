"""Matrix rows: every run ends (issue 23, class 4: files over http, the worker threads).

A finite file served over http(s) (it declares its frame count) is read once to its end
like a file, not replayed forever as a live stream. A pipeline thread that dies of a
BaseException (not an Exception: a GeneratorExit, a SystemExit raised in a library, a
test's own kind) used to leave the run waiting for a frame that would never come. Each
worker now passes any failure on and always sends its end marker, and the consumer gives
up on a queue whose producer is gone. The rows wait for the run in a thread or a child
process; the wait only guards against a hang.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_cli import ROOT, assert_success, astseg_process, cli_env, tree
from reliability_media import disc_frames, write_mp4

from sdk import Segmenter
from sdk.errors import AstsegError
from sdk.outputs.outputs import OutputOptions
from sdk.run.options import RunOptions
from sdk.run.pipeline import run_pipeline

HANG_S = 300.0  # far beyond a 12-frame run on any machine: only a hang gets here


class Killed(BaseException):
    """What kills a worker thread without being an Exception."""


def _run_in_thread(seg: Segmenter, options: RunOptions) -> BaseException | None:
    raised: list[BaseException] = []

    def target() -> None:
        try:
            run_pipeline(seg, disc_frames(12), options)
        except BaseException as err:  # noqa: BLE001 (the row inspects what ended the run)
            raised.append(err)

    runner = threading.Thread(target=target, daemon=True)
    runner.start()
    runner.join(HANG_S)
    assert not runner.is_alive(), "the run never ended"
    return raised[0] if raised else None


def _dies_on_third_call(original: Any) -> Any:
    calls = []

    def wrapper(self: Segmenter, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise Killed("a worker died")
        return original(self, *args, **kwargs)

    return wrapper


@pytest.mark.parametrize("stage", ["prepare", "infer", "finish"])
def test_a_worker_killed_by_a_base_exception_ends_the_run_and_publishes_nothing(
    stage: str, toy_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prepare runs on the decode thread, infer on the inference thread, finish on the
    consumer (the caller's thread)."""
    monkeypatch.setattr(Segmenter, stage, _dies_on_third_call(getattr(Segmenter, stage)))
    outputs = OutputOptions(json=tmp_path / "r.jsonl", masks=tmp_path / "masks")
    with Segmenter(toy_bundle) as seg:
        raised = _run_in_thread(seg, RunOptions(outputs=outputs, progress=False))
    assert isinstance(raised, Killed), raised
    assert "r.jsonl" not in tree(tmp_path)  # a failed run publishes no JSON


def test_the_watchdog_ends_a_run_whose_worker_vanished_without_its_end_marker(
    toy_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sdk.run.pipeline.Pipeline._infer_loop", lambda self: None)
    with Segmenter(toy_bundle) as seg:
        raised = _run_in_thread(seg, RunOptions(progress=False))
    assert isinstance(raised, AstsegError), raised
    assert "astseg-infer thread stopped without a word" in str(raised)


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


@pytest.fixture
def served_clip(clip: Path) -> Iterator[str]:
    """The 30-frame clip on a local web server, as a camera vendor's recording would be."""
    handler = functools.partial(_QuietFiles, directory=str(clip.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{clip.name}"
    server.shutdown()
    server.server_close()


def test_a_file_over_http_is_read_once_to_its_end(
    served_clip: str, toy_bundle: Path, tmp_path: Path
) -> None:
    lines = tmp_path / "r.jsonl"
    outcome = astseg_process("run", "--source", served_clip, "--model", toy_bundle,
                             "--json", lines, timeout=HANG_S)  # fmt: skip
    assert_success(outcome)
    assert "processed 30 frames" in outcome.stdout and "reconnect" not in outcome.stderr
    frames = [json.loads(line)["frame"] for line in lines.read_text().splitlines()]
    assert frames == list(range(30))  # every frame once, in order, none dropped
    results: list[int] = []

    def stream() -> None:
        with Segmenter(toy_bundle) as seg:
            results.extend(r.index for r in seg.stream(served_clip))

    reader = threading.Thread(target=stream, daemon=True)
    reader.start()
    reader.join(HANG_S)
    assert not reader.is_alive(), "Segmenter.stream replayed the file"
    assert results == list(range(30))


def _pending_bytes(fd: int) -> int:
    return int(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0])


def test_a_second_signal_ends_a_run_whose_json_pipe_stalled(
    toy_bundle: Path, tmp_path: Path
) -> None:
    """The reader of a --json FIFO stops reading: the run blocks in a write. The first
    SIGINT is recorded; the second ends the run at once (exit 130), the FIFO stays a FIFO."""
    clip = write_mp4(tmp_path / "long.mp4", disc_frames(800))
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader: list[int] = []  # opened for reading and never read: the pipe fills up
    opener = threading.Thread(target=lambda: reader.append(os.open(fifo, os.O_RDONLY)))
    opener.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "run", "--video", str(clip), "--model", str(toy_bundle),
         "--json", str(fifo), "--quiet"],
        cwd=ROOT, env=cli_env(ASTSEG_CACHE_DIR=str(tmp_path / "cache")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        opener.join(HANG_S)
        while _pending_bytes(reader[0]) < 60_000:  # a Linux pipe holds 64 KiB
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.3)  # the writer is blocked now
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
        for fd in reader:
            os.close(fd)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted by SIGINT" in stderr + stdout
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
