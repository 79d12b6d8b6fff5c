"""`astseg run` end to end, one-sentence errors, Ctrl-C, live sources, a torch-free import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sdk_media import ClosedCamera, FakeCamera, count_frames, moving_discs, write_video
from typer.testing import CliRunner

from sdk import Reconnect, Segmenter
from sdk.outputs.outputs import OutputOptions
from sdk.run.options import RunOptions
from sdk.run.pipeline import run_pipeline
from sdk.sources.live import LiveSource

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _run(runner: CliRunner, *args: str) -> tuple[int, str]:
    from cli import app

    result = runner.invoke(app, ["run", *args])
    return result.exit_code, result.output


def test_run_writes_video_masks_and_json(
    runner: CliRunner, toy_bundle_dir: Path, short_video: Path, tmp_path: Path
) -> None:
    out, masks, lines = tmp_path / "annotated.mp4", tmp_path / "masks", tmp_path / "results.jsonl"
    code, output = _run(
        runner,
        "--video", str(short_video),
        "--model", str(toy_bundle_dir),
        "--out", str(out),
        "--masks", str(masks),
        "--json", str(lines),
    )  # fmt: skip
    assert code == 0, output
    assert "processed 30 frames" in output and "ms/frame: decode" in output
    assert count_frames(out) == 30
    assert len(list(masks.glob("*.png"))) == 30
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(30))
    ids = [sorted(o["id"] for o in r["objects"]) for r in records]
    assert ids == [[1, 2]] * 30  # both discs keep their IDs for the whole clip
    assert not list(tmp_path.glob("*.partial*"))


def test_threads_reach_the_backend(toy_bundle_dir: Path, short_video: Path) -> None:
    from sdk.options import SegmenterOptions
    from sdk.run.run_command import run_command

    options = RunOptions(SegmenterOptions(threads=1), progress=False)
    summary = run_command(video=str(short_video), model=str(toy_bundle_dir), options=options)
    assert summary.frames == 30
    assert "1 threads" in summary.backend


def test_run_with_stride_and_images(
    runner: CliRunner, toy_bundle_dir: Path, short_video: Path, tmp_path: Path
) -> None:
    lines = tmp_path / "r.jsonl"
    code, output = _run(
        runner,
        "--video",
        str(short_video),
        "--model",
        str(toy_bundle_dir),
        "--stride",
        "3",
        "--json",
        str(lines),
        "--quiet",
    )
    assert code == 0, output
    assert [json.loads(x)["frame"] for x in lines.read_text().splitlines()] == list(range(0, 30, 3))
    folder = tmp_path / "imgs"
    folder.mkdir()
    import cv2

    for i, frame in enumerate(moving_discs(4)):
        cv2.imwrite(str(folder / f"f{i}.png"), frame)
    (folder / "readme.txt").write_text("ignored")
    masks = tmp_path / "masks"
    code, output = _run(
        runner, "--images", str(folder), "--model", str(toy_bundle_dir), "--masks", str(masks)
    )
    assert code == 0, output
    assert sorted(p.name for p in masks.iterdir()) == ["f0.png", "f1.png", "f2.png", "f3.png"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--video", "/no/such.mp4"], "video file /no/such.mp4 does not exist"),
        ([], "give exactly one of --video, --camera, --source or --images (got none)"),
        (["--camera", "0", "--images", "x"], "(got --camera and --images)"),
        (["--camera", "7"], "camera 7 did not open"),
        (
            ["--source", "rtsp://127.0.0.1:9/live", "--timeout", "2"],
            "the connection to 127.0.0.1:9 was refused",
        ),
        (["--source", "gopher://host/x"], "'gopher://' sources are not supported"),
        (["--video", "{empty}"], "is empty (0 bytes)"),
        (["--video", "{text}"], "is not a video OpenCV can decode"),
        (["--video", "{video}", "--model", "/no/bundle"], "model bundle /no/bundle does not exist"),
        (["--video", "{video}", "--backend", "tensorrt", "--device", "cpu"], "needs a GPU"),
        (["--video", "{video}", "--out", "{tmp}/out.gif"], "must end in one of .mp4"),
        (["--video", "{video}", "--stride", "0"], "--stride is 0"),
        (["--video", "{video}", "--max-fps", "-1"], "--max-fps is -1"),
        (["--video", "{video}", "--threads", "0"], "--threads is 0"),
    ],
)
def test_user_errors_are_one_sentence(
    runner: CliRunner,
    toy_bundle_dir: Path,
    short_video: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("hello\n" * 100)
    filled = [
        a.format(
            empty=tmp_path / "empty.mp4",
            text=tmp_path / "text.mp4",
            video=short_video,
            tmp=tmp_path,
        )
        for a in args
    ]
    if "--model" not in filled:
        filled += ["--model", str(toy_bundle_dir)]
    code, output = _run(runner, *filled)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("astseg: error:")]
    assert len(errors) == 1
    assert not list(tmp_path.glob("*.partial*")) and not (tmp_path / "out.gif").exists()


def test_bad_bundle_is_one_sentence(
    runner: CliRunner, bundle_copy: Path, short_video: Path
) -> None:
    (bundle_copy / "encoder.onnx").write_bytes(b"garbage")
    code, output = _run(runner, "--video", str(short_video), "--model", str(bundle_copy))
    assert code == 2 and "encoder.onnx in bundle" in output and "Traceback" not in output


def test_ctrl_c_finishes_a_playable_video(toy_bundle_dir: Path, tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.mp4", moving_discs(80))
    out = tmp_path / "annotated.mp4"
    command = [
        sys.executable, str(ROOT / "cli.py"), "run", "--video", str(video),
        "--model", str(toy_bundle_dir), "--out", str(out), "--max-fps", "20",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".annotated.*.partial.mp4")) and process.poll() is None:
        assert time.monotonic() < deadline, "the run never opened its video"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr  # interrupted work is not a success
    assert "interrupted by SIGINT after" in stdout
    assert "Traceback" not in stderr
    written = count_frames(out)
    assert 1 <= written < 80
    assert not list(tmp_path.glob("*.partial*")) and not list(tmp_path.glob(".*.partial*"))


def test_pipeline_on_a_live_source_drops_but_keeps_up(toy_bundle_dir: Path, tmp_path: Path) -> None:
    seg = Segmenter(toy_bundle_dir)
    # Inference takes at least 5 ms a frame while the camera delivers one every 1 ms: the
    # source must drop frames on any machine (a fast one would otherwise keep up with a toy).
    infer = seg.infer

    def slow_infer(prepared):  # type: ignore[no-untyped-def]
        time.sleep(0.005)
        return infer(prepared)

    seg.infer = slow_infer  # type: ignore[method-assign]
    cameras = iter([FakeCamera(300, (120, 160), delay=0.001)])
    camera = LiveSource(
        lambda: next(cameras, ClosedCamera(0, (1, 1))),
        "camera 0",
        "no camera",
        Reconnect(first_delay=0.01, max_attempts=1),
    )
    lines = tmp_path / "live.jsonl"
    with pytest.raises(Exception, match=r"camera 0 was lost"):
        run_pipeline(seg, camera, RunOptions(outputs=OutputOptions(json=lines), progress=False))
    records = lines.read_text().splitlines()  # finished under its final name despite the error
    assert 0 < len(records) < 300
    assert camera.dropped > 0
    assert len(records) + camera.dropped <= 300


def test_segmenter_stream_over_a_file_drops_nothing(
    toy_bundle_dir: Path, short_video: Path
) -> None:
    results = list(Segmenter(toy_bundle_dir).stream(short_video))
    assert [r.index for r in results] == list(range(30))
    assert results[10].timestamp == pytest.approx(10 / 15)
    assert results[0].source == str(short_video)
    assert all(len(r) == 2 for r in results)


def test_import_sdk_loads_neither_torch_nor_onnxruntime() -> None:
    code = "import sdk, sys; assert not {'torch', 'onnxruntime'} & set(sys.modules)"
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_segmenting_does_not_load_torch(toy_bundle_dir: Path) -> None:
    code = (
        "import sys, numpy as np; from sdk import Segmenter; "
        f"seg = Segmenter({str(toy_bundle_dir)!r}); seg(np.zeros((40, 50, 3), np.uint8)); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_frame_arrays_accepted_by_pipeline(toy_bundle_dir: Path, tmp_path: Path) -> None:
    frames = [np.asarray(f) for f in moving_discs(5)]
    summary = run_pipeline(
        Segmenter(toy_bundle_dir),
        frames,
        RunOptions(outputs=OutputOptions(out=tmp_path / "a.mp4"), progress=False),
    )
    assert summary.frames == 5 and summary.dropped == 0
    assert set(summary.stages_ms) >= {"decode", "pre", "infer", "post", "track", "draw", "encode"}
    assert count_frames(tmp_path / "a.mp4") == 5
