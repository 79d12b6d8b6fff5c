"""Open whatever a user points at: a video file, camera, stream URL, image(s), or numpy frames.

Sources are parsed, never passed to a shell: an int or a string of digits is a
camera index; a string with "://" must use rtsp, rtsps, rtmp, rtmps, http, https
(a stream) or file (a path), and any other scheme is refused; an existing
directory is read as images in name order; a string with * ? or [ that names no
file is a glob of images; an existing file is an image when its extension says
so and a video otherwise; an ndarray is one frame and any other iterable yields
frames. Files never drop frames; cameras and streams are live (see sdk.sources.live).
"""

from __future__ import annotations

import glob
import logging
import os
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from sdk.errors import SourceError
from sdk.sources.frame_source import FrameSource, SourceFrame
from sdk.sources.image_decode import UnreadableImage, decode_image
from sdk.sources.live import LiveSource, Reconnect
from sdk.sources.quiet import quiet_native_stderr
from sdk.sources.stream_probe import stream_failure

log = logging.getLogger("astseg")

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm", ".jp2"}
)
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https")
SOURCE_TIMEOUT_S = 10.0  # how long a camera or stream may take to open (--timeout)
MAX_CAMERA_INDEX = 9_999  # far beyond any machine; OpenCV takes the index as a 32-bit int
_MAX_BAD_READS = 30  # consecutive undecodable frames before a video counts as ended

SourceKind = Literal["camera", "stream", "video", "image", "images", "arrays"]


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source: what it is and the value to open it with."""

    kind: SourceKind
    value: Any  # int index, URL str, Path, list[Path], or an iterable of arrays
    shown: str  # how messages name it (credentials in URLs are masked)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for logs and messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def redact_url_text(text: str) -> str:
    """A URL that may not parse, with anything between `://` and `@` hidden."""
    scheme, sep, rest = text.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def _camera(index: int) -> SourceSpec:
    if index < 0:
        raise SourceError(f"camera index {index} is negative; cameras are numbered from 0.")
    if index > MAX_CAMERA_INDEX:
        raise SourceError(
            f"camera index {index} is too large; cameras are numbered from 0 (the first) "
            f"up to {MAX_CAMERA_INDEX}."
        )
    return SourceSpec("camera", index, f"camera {index}")


def _image_files(paths: Iterable[str | Path]) -> list[Path]:
    return sorted(
        Path(p) for p in paths if Path(p).suffix.lower() in IMAGE_SUFFIXES and Path(p).is_file()
    )


def parse_source(source: object) -> SourceSpec:
    """Decide what `source` is without opening it; raise SourceError for what cannot be one."""
    if isinstance(source, bool):
        raise SourceError(f"{source!r} is not a source; pass a path, camera index, URL or frames.")
    if isinstance(source, int):
        return _camera(source)
    if isinstance(source, np.ndarray):
        return SourceSpec("arrays", [source], "1 frame")
    if isinstance(source, (str, os.PathLike)):
        return _parse_text(os.fspath(source))
    if isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray, dict)):
        return SourceSpec("arrays", source, "frames")
    raise SourceError(
        f"a {type(source).__name__} is not a source; pass a path, camera index, URL or frames."
    )


def _parse_text(text: str) -> SourceSpec:
    stripped = text.strip()
    if stripped.isdigit():
        return _camera(int(stripped))
    if "://" in stripped:
        scheme = stripped.split("://", 1)[0].lower()
        try:  # OpenCV and the probe split it again; a malformed one is named here, once
            urllib.parse.urlsplit(stripped).port  # noqa: B018 (the check is the access)
        except ValueError as err:
            raise SourceError(
                f"{redact_url_text(stripped)} is not a valid URL ({err}); check the address, "
                "e.g. rtsp://[::1]:8554/live for an IPv6 host."
            ) from None
        if scheme == "file":
            return _parse_path(urllib.parse.unquote(urllib.parse.urlsplit(stripped).path))
        if scheme not in STREAM_SCHEMES:
            raise SourceError(
                f"'{scheme}://' sources are not supported; use a file path, a camera index or an "
                f"{'/'.join(STREAM_SCHEMES)} URL."
            )
        return SourceSpec("stream", stripped, redact_url(stripped))
    return _parse_path(stripped)


def _parse_path(text: str) -> SourceSpec:
    path = Path(text).expanduser()
    if path.is_dir():
        files = _image_files(path.iterdir())
        if not files:
            raise SourceError(
                f"image folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                "point at a folder of images or a video file."
            )
        return SourceSpec("images", files, str(path))
    if path.exists():
        if not path.is_file():
            raise SourceError(f"{path} is not a regular file; pass a video, an image or a folder.")
        kind: SourceKind = "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"
        return SourceSpec(kind, path, str(path))
    if any(ch in text for ch in "*?["):
        files = _image_files(glob.glob(os.path.expanduser(text), recursive=True))
        if not files:
            raise SourceError(
                f"the pattern {text} matches no images; check the path and extension."
            )
        return SourceSpec("images", files, text)
    raise SourceError(f"{path} does not exist; check the path.")


class ArraySource(FrameSource):
    """Frames from any iterable of numpy arrays (a list, a generator, another library's reader)."""

    def __init__(self, frames: Iterable[Any], shown: str = "frames", stride: int = 1) -> None:
        self.description = shown
        self._frames = frames
        self._stride = max(1, stride)
        if hasattr(frames, "__len__"):
            self.total = (len(frames) + self._stride - 1) // self._stride  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[SourceFrame]:
        for index, frame in enumerate(self._frames):
            if index % self._stride == 0:
                yield SourceFrame(index, time.time(), frame)


def read_image(path: Path) -> np.ndarray | None:
    """Decode an image file (16-bit kept, EXIF orientation applied); None when it is not one."""
    try:
        return load_image(path)
    except UnreadableImage:
        return None


def load_image(path: Path) -> np.ndarray:
    """`read_image`, raising UnreadableImage with the reason instead of returning None."""
    try:
        data = np.fromfile(path, dtype=np.uint8)  # works for non-ASCII names on every OS
    except OSError as err:
        raise UnreadableImage(f"cannot read it: {err.strerror or err}") from None
    return decode_image(data, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)


def mask_names(files: list[Path]) -> list[str]:
    """Per-image names that cannot collide once the extension becomes `.png`: the path under
    the images' common folder (`cam1/0001.jpg`), with the old extension kept as well
    (`0001.jpg.png`) only where two images would otherwise share a name (0001.jpg, 0001.png)."""
    if not files:
        return []
    parents = [str(p.parent.resolve()) for p in files]
    root = Path(os.path.commonpath(parents))
    relative = [p.parent.resolve().relative_to(root) / p.name for p in files]
    stems = [str(r.with_suffix("")) for r in relative]
    if len(set(stems)) == len(stems):
        return [str(r) for r in relative]
    pairs = zip(relative, stems, strict=True)
    return [f"{r}.png" if stems.count(stem) > 1 else str(r) for r, stem in pairs]


def image_names(files: list[Path], stride: int = 1) -> list[str]:
    """The names `ImageSource` gives the frames of `files` at `stride` (see mask_names)."""
    return mask_names(files[:: max(1, stride)])


class ImageSource(FrameSource):
    """Images in name order; unreadable files (corrupt, or declaring an absurd size) are
    skipped with a warning, counted and named in `skipped_files`."""

    def __init__(self, files: list[Path], shown: str, stride: int = 1) -> None:
        self.description = shown
        self._files = files[:: max(1, stride)]
        self._names = image_names(files, stride)
        self.skipped_files: list[str] = []
        self._stride = max(1, stride)
        self.total = len(self._files)
        first = read_image(self._files[0]) if self._files else None
        if first is not None:  # lets a video output check its encoder before the first frame
            self.frame_size = (int(first.shape[1]), int(first.shape[0]))

    def __iter__(self) -> Iterator[SourceFrame]:
        yielded = 0
        for position, path in enumerate(self._files):
            try:
                image = load_image(path)
            except UnreadableImage as why:
                self.skipped += 1
                self.skipped_files.append(str(path))
                log.warning("astseg: skipped %s: not a readable image (%s)", path, why)
                continue
            yielded += 1
            name = self._names[position]
            yield SourceFrame(position * self._stride, time.time(), image, name=name)
        if yielded == 0:
            raise SourceError(
                f"none of the {len(self._files)} files in {self.description} is a readable image."
            )


class VideoSource(FrameSource):
    """A video file, every frame in order (or every `stride`-th); nothing is dropped.

    With `capture`, a file served over http(s) that OpenCV already opened (`path` is then
    the URL as messages show it): read once to its end, like a file on disk.
    """

    def __init__(self, path: Path | str, stride: int = 1, capture: Any = None) -> None:
        self.description = str(path)
        self._stride = max(1, stride)
        if capture is None:
            if Path(path).stat().st_size == 0:
                raise SourceError(f"video file {path} is empty (0 bytes).")
            with quiet_native_stderr():
                capture = cv2.VideoCapture(str(path))
        with quiet_native_stderr():
            opened = capture.isOpened()
            ok, first = capture.read() if opened else (False, None)
        if not opened or not ok or first is None:
            capture.release()
            raise SourceError(
                f"{path} is not a video OpenCV can decode (truncated, or not a video); "
                "check the file or convert it to H.264 MP4."
            )
        self._capture: Any = capture
        self._first: np.ndarray | None = first
        self.frame_size = (int(first.shape[1]), int(first.shape[0]))
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 and np.isfinite(fps) else None
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 else None
        if self.frame_count:
            self.total = (self.frame_count + self._stride - 1) // self._stride

    def _timestamp(self, index: int) -> float:
        if self.fps:
            return index / self.fps
        return float(self._capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0

    def __iter__(self) -> Iterator[SourceFrame]:
        if self._capture is None:
            return
        if self._first is not None:
            first, self._first = self._first, None
            yield SourceFrame(0, self._timestamp(0), first)
        index, bad = 1, list[int]()
        while len(bad) < _MAX_BAD_READS:  # that many failures in a row: the file has ended
            wanted = index % self._stride == 0
            if wanted:
                ok, frame = self._capture.read()
            else:
                ok, frame = self._capture.grab(), None  # skip without converting the frame
            if not ok:
                bad.append(index)
                index += 1
                continue
            if bad:  # a later frame decoded, so the failures were corrupt frames, not the end
                self.skipped += len(bad)
                log.warning(
                    "astseg: %s: %d frame(s) from frame %d could not be decoded; skipped",
                    self.description,
                    len(bad),
                    bad[0],
                )
                bad = []
            if wanted:
                yield SourceFrame(index, self._timestamp(index), frame)
            index += 1
        self._note_end(index - len(bad))

    def _note_end(self, end: int) -> None:
        """Say so when the file ends well before the frame count its header declares (a
        copy cut short): the run still ends normally, but not in silence."""
        declared = self.frame_count
        if declared and declared - end > max(1, declared // 100):  # counts may be estimates
            self.ended_early = (
                f"ended after {end} of the {declared} frames its header declares (cut short?)"
            )
            log.warning("astseg: %s %s", self.description, self.ended_early)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def open_source(
    source: object,
    *,
    stride: int = 1,
    live: bool | None = None,
    timeout_s: float = SOURCE_TIMEOUT_S,
    reconnect: Reconnect | None = None,
) -> FrameSource:
    """Open a source (see the module docstring); `live=True` treats a file like a camera."""
    if isinstance(source, FrameSource):
        return source
    if stride < 1:
        raise ValueError(f"stride is {stride}; it must be 1 or more.")
    spec = parse_source(source)
    if spec.kind == "arrays":
        return ArraySource(spec.value, spec.shown, stride)
    if spec.kind in ("images", "image"):
        files = spec.value if spec.kind == "images" else [spec.value]
        return ImageSource(files, spec.shown, stride)
    if spec.kind == "video" and not live:
        return VideoSource(spec.value, stride)
    if spec.kind == "stream" and live is None and spec.value.lower().startswith("http"):
        return _open_http(spec, stride, timeout_s, reconnect)
    return _open_live(spec, stride, timeout_s, reconnect)


def _stream_params(timeout_s: float) -> list[int]:
    timeout_ms = int(timeout_s * 1000)
    return [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]


def _open_http(
    spec: SourceSpec, stride: int, timeout_s: float, reconnect: Reconnect | None
) -> FrameSource:
    """An http(s) URL is a file when it declares a number of frames (an MP4 on a web
    server): read once to its end. Otherwise (an MJPEG camera, a live feed) it is live,
    reopened when lost, as before; replaying a file forever never ends a run."""
    with quiet_native_stderr():
        capture = cv2.VideoCapture(str(spec.value), cv2.CAP_FFMPEG, _stream_params(timeout_s))
    if not capture.isOpened():
        capture.release()
        raise SourceError(stream_failure(str(spec.value), spec.shown, timeout_s))
    if capture.get(cv2.CAP_PROP_FRAME_COUNT) > 0:
        return VideoSource(spec.shown, stride, capture=capture)
    capture.release()
    return _open_live(spec, stride, timeout_s, reconnect)


def _open_live(
    spec: SourceSpec, stride: int, timeout_s: float, reconnect: Reconnect | None
) -> LiveSource:
    if spec.kind == "camera":
        index = int(spec.value)

        def open_camera() -> Any:
            capture = cv2.VideoCapture(index)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep the driver from queueing stale frames
            return capture

        failure = (
            f"camera {index} did not open; check the index (cameras are numbered from 0), "
            "the cable, and that no other program is using it."
        )
        return LiveSource(open_camera, spec.shown, failure, reconnect, stride)
    target = str(spec.value)
    params = _stream_params(timeout_s)

    def open_stream() -> Any:
        return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)

    return LiveSource(
        open_stream,
        spec.shown,
        lambda: stream_failure(target, spec.shown, timeout_s),
        reconnect,
        stride,
    )
