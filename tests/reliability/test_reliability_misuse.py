"""Matrix rows: values and API misuse (issue 23, class 5).

A number that only fits as infinity in a manifest, `Segmenter(threads=-3)`, a Segmenter
used after `close()` or from several threads, `export --max-batch 0`, `export --triton
FILE`, an absurd camera index and a malformed stream URL: each is refused with one sentence
naming the value (and, on the command line, the option), before any work is done.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from reliability_cli import assert_user_error, astseg, tree
from reliability_media import disc_frames

from sdk import Segmenter
from sdk.errors import AstsegError, BundleError


@pytest.mark.parametrize(
    ("field", "text"),
    [("s_min", "1e999"), ("s_max", "-1e999"), ("log_background_activation", "1" + "0" * 5000)],
)
def test_a_number_too_large_for_a_float_in_a_manifest_is_refused(
    field: str, text: str, bundle_copy: Path, clip: Path, tmp_path: Path
) -> None:
    manifest = (bundle_copy / "astseg.json").read_text()
    value = json.dumps(json.loads(manifest)["model"][field])
    (bundle_copy / "astseg.json").write_text(
        manifest.replace(f'"{field}": {value}', f'"{field}": {text}')
    )
    assert text[:8] in (bundle_copy / "astseg.json").read_text()
    with pytest.raises(BundleError, match="astseg.json .* is not valid"):
        Segmenter(bundle_copy)
    outcome = astseg("run", "--video", clip, "--model", bundle_copy, "--json", tmp_path / "o.j")
    assert_user_error(outcome, "astseg.json", "not valid")
    assert not (tmp_path / "o.j").exists()


@pytest.mark.parametrize("threads", [-3, 0, 1.5, True, "2"])
def test_segmenter_threads_that_are_not_a_count_are_refused(
    threads: object, toy_bundle: Path
) -> None:
    with pytest.raises(ValueError, match=rf"threads is {threads!r}; it must be a whole number"):
        Segmenter(toy_bundle, threads=threads)  # type: ignore[arg-type]
    with Segmenter(toy_bundle, threads=1) as seg:  # the smallest count is accepted
        assert seg(disc_frames(1)[0]).index == 0


def test_a_closed_segmenter_refuses_every_call_with_one_sentence(toy_bundle: Path) -> None:
    frame = disc_frames(1)[0]
    seg = Segmenter(toy_bundle)
    seg(frame)
    seg.close()
    seg.close()  # twice is harmless
    for call in (lambda: seg(frame), lambda: seg.batch([frame]), lambda: next(seg.stream([frame]))):
        with pytest.raises(AstsegError, match="this Segmenter was closed"):
            call()


def test_calls_from_several_threads_are_serialised(toy_bundle: Path) -> None:
    frames = disc_frames(20)
    seg = Segmenter(toy_bundle, threads=1)
    indices: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for frame in frames:
                indices.append(seg(frame).index)
        except BaseException as err:  # noqa: BLE001 (any failure fails the test below)
            errors.append(err)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seg.close()
    assert errors == []
    assert sorted(indices) == list(range(80))  # every call got its own frame number


@pytest.mark.parametrize("value", ["0", "-4", "1"])
def test_export_max_batch_below_2_is_refused_before_the_export(
    value: str, finished_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    outcome = astseg("export", finished_run, "--out", out, "--max-batch", value)
    assert_user_error(outcome, "--max-batch", f"got {value}")
    assert tree(tmp_path) == set()


def test_export_triton_onto_a_file_is_refused_before_the_export(
    finished_run: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "triton.txt"
    blocker.write_text("a file")
    for triton, words in ((blocker, "is a file"), (blocker / "repo", "lies under the file")):
        outcome = astseg("export", finished_run, "--out", tmp_path / "b", "--triton", triton)
        assert_user_error(outcome, f"--triton {triton}", words)
        assert sorted(tree(tmp_path)) == ["triton.txt"]  # no bundle, no staging folder


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--camera", "99999999999999999999", "camera index 99999999999999999999 is too large"),
        ("--source", "99999999999999999999", "is too large"),
        ("--source", "rtsp://[::1", "is not a valid URL"),
        ("--source", "rtsp://cam:99999/live", "is not a valid URL"),
        ("--source", "rtsp://user:pw@[::1/live", "is not a valid URL"),
    ],
)
def test_a_camera_or_url_that_cannot_be_is_named_with_its_option(
    flag: str, value: str, words: str, toy_bundle: Path, tmp_path: Path
) -> None:
    outcome = astseg("run", flag, value, "--model", toy_bundle, "--json", tmp_path / "o.jsonl")
    line = assert_user_error(outcome, f"{flag} ", words)
    assert "pw" not in line  # a password in a malformed URL is still not echoed
    assert tree(tmp_path) == set()


def test_segmenter_stream_refuses_an_absurd_camera_index(toy_bundle: Path) -> None:
    with Segmenter(toy_bundle) as seg, pytest.raises(AstsegError, match="is too large"):
        next(seg.stream(10**20))
    assert np.iinfo(np.int32).max < 10**20
