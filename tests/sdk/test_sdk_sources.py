"""Sources: parsed without a shell, files read whole, live sources drop old frames, reconnect."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from sdk_media import ClosedCamera, FakeCamera, moving_discs, write_video

from sdk import Reconnect, SourceError, open_source, parse_source
from sdk.sources.live import LiveSource
from sdk.sources.sources import redact_url


def test_parse_source_kinds(tmp_path: Path, short_video: Path) -> None:
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f"{i}.png"), np.zeros((4, 4, 3), np.uint8))
    (images / "notes.txt").write_text("not an image")
    assert parse_source(0).kind == "camera" and parse_source("2").value == 2
    assert parse_source("rtsp://cam.local/stream").kind == "stream"
    assert parse_source("HTTPS://example.org/live.m3u8").kind == "stream"
    assert parse_source(short_video).kind == "video"
    assert parse_source(f"file://{short_video}").value == short_video
    assert parse_source(images / "0.png").kind == "image"
    folder = parse_source(images)
    assert folder.kind == "images" and [p.name for p in folder.value] == ["0.png", "1.png", "2.png"]
    assert len(parse_source(str(images / "*.png")).value) == 3
    assert parse_source(np.zeros((2, 2), np.uint8)).kind == "arrays"
    assert parse_source([np.zeros((2, 2), np.uint8)]).kind == "arrays"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("ftp://host/video.mp4", r"'ftp://' sources are not supported"),
        ("javascript://alert(1)", r"'javascript://' sources are not supported"),
        ("/no/such/video.mp4", r"does not exist"),
        ("/no/such/*.png", r"matches no images"),
        (-1, r"camera index -1 is negative"),
        (True, r"is not a source"),
        (3.5, r"a float is not a source"),
    ],
)
def test_unusable_sources_are_one_sentence(source: object, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_source(source)


def test_shell_characters_are_just_characters(tmp_path: Path) -> None:
    name = tmp_path / "a b'; touch pwned #.mp4"
    write_video(name, moving_discs(3))
    with open_source(str(name)) as source:
        assert sum(1 for _ in source) == 3
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_redact_url() -> None:
    assert (
        redact_url("rtsp://admin:secret@10.0.0.2:554/live") == "rtsp://admin:***@10.0.0.2:554/live"
    )
    assert redact_url("rtsp://10.0.0.2/live") == "rtsp://10.0.0.2/live"


def test_video_file_yields_every_frame_with_media_time(short_video: Path) -> None:
    with open_source(short_video) as source:
        assert not source.live and source.total == 30 and source.fps == pytest.approx(15)
        frames = list(source)
    assert [f.index for f in frames] == list(range(30))
    assert frames[15].timestamp == pytest.approx(1.0)
    assert frames[0].image.shape == (120, 160, 3)
    with open_source(short_video, stride=4) as source:
        assert source.total == 8
        assert [f.index for f in source] == [0, 4, 8, 12, 16, 20, 24, 28]


def test_broken_video_files(tmp_path: Path, short_video: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match=r"is empty \(0 bytes\)"):
        open_source(empty)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(SourceError, match=r"is not a video OpenCV can decode"):
        open_source(text)
    truncated = tmp_path / "half.mp4"
    truncated.write_bytes(short_video.read_bytes()[:2000])
    with pytest.raises(SourceError, match=r"is not a video OpenCV can decode"):
        open_source(truncated)


def test_image_folder_skips_unreadable_files(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((5, 6), i * 50, np.uint16))
    (tmp_path / "1b.png").write_text("broken")
    with open_source(tmp_path) as source:
        frames = list(source)
        assert source.skipped == 1
    assert [f.name for f in frames] == ["0.png", "1.png", "2.png"]
    assert frames[2].image.dtype == np.uint16 and int(frames[2].image.max()) == 100
    only_broken = tmp_path / "bad"
    only_broken.mkdir()
    (only_broken / "x.jpg").write_text("broken")
    with (
        pytest.raises(SourceError, match=r"none of the 1 files"),
        open_source(only_broken) as source,
    ):
        list(source)
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(SourceError, match=r"holds no images"):
        open_source(empty)


def test_missing_camera_and_unreachable_stream_fail_fast() -> None:
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"camera 7 did not open"):
        open_source(7)
    with pytest.raises(
        SourceError,
        match=r"rtsp://user:\*\*\*@127\.0\.0\.1:9/x: the connection to 127\.0\.0\.1:9 was refused",
    ):
        open_source("rtsp://user:pw@127.0.0.1:9/x", timeout_s=2)
    assert time.monotonic() - start < 10


def test_live_source_reconnects_with_a_new_size_and_counts_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cameras = iter([FakeCamera(40, (48, 64)), ClosedCamera(0, (1, 1)), FakeCamera(30, (72, 96))])
    source = LiveSource(
        lambda: next(cameras, ClosedCamera(0, (1, 1))),
        "camera 0",
        "camera 0 did not open",
        Reconnect(first_delay=0.01, max_delay=0.02, max_attempts=3),
    )
    sizes, indices = [], []
    with pytest.raises(
        SourceError, match=r"camera 0 was lost and did not come back after 3 attempts"
    ):
        for frame in source:
            sizes.append(frame.image.shape[:2])
            indices.append(frame.index)
            time.sleep(0.02)  # slower than the camera: older frames must be dropped
    source.close()
    assert (48, 64) in sizes and (72, 96) in sizes
    assert source.reconnects == 1
    assert source.dropped > 10
    assert len(sizes) + source.dropped == 70
    assert indices == sorted(set(indices))  # newest first never goes back in time
    assert "camera 0 lost; reconnecting in 0.0 s (attempt 1)" in caplog.text
    assert "camera 0 reconnected" in caplog.text


def test_live_source_that_never_opens() -> None:
    with pytest.raises(SourceError, match=r"no camera here"):
        LiveSource(lambda: ClosedCamera(0, (1, 1)), "camera 3", "no camera here")


def test_live_source_close_stops_the_reader() -> None:
    source = LiveSource(lambda: FakeCamera(10**6, (8, 8)), "camera 0", "no")
    first = next(iter(source))
    assert first.index == 0
    source.close()
    assert not any(t.name == "astseg-live-reader" and t.is_alive() for t in threading.enumerate())


def test_live_source_reports_a_failing_driver() -> None:
    def opener() -> FakeCamera:
        if opened:
            raise RuntimeError("driver crashed")
        opened.append(1)
        return FakeCamera(3, (8, 8))

    opened: list[int] = []
    source = LiveSource(opener, "camera 1", "no", Reconnect(first_delay=0.01))
    with pytest.raises(SourceError, match=r"camera 1 failed while reading: driver crashed"):
        list(source)
    source.close()
