"""Annotated video that a browser plays, written under a partial name and renamed when done.

Browsers play H.264 in MP4, not the MPEG-4 Part 2 ('mp4v') that every OpenCV can
write. So, in order: H.264 through an ffmpeg program — one on PATH, else the one the
`imageio-ffmpeg` wheel (a runtime dependency) ships — with libx264 (preset ultrafast, so
encoding keeps up with the pipeline) or libopenh264, as yuv420p with the index (moov) before the
data (faststart), so a browser starts playing before the whole file has arrived; else H.264
through OpenCV ('avc1', when its FFmpeg has an encoder); else 'mp4v' with a warning. ffmpeg is
called with an argument list, never a shell string, and in its own session so Ctrl-C reaches
only astseg, which then finishes the file. `codec` says which was used. Frames whose size
changes mid-stream (a camera that reconnected at another resolution) are resized to the first
frame's size. OpenCV's writer
reports no write errors, so a file it wrote is read back before it gets its final name; ffmpeg
reports them by its exit code. Either way a file cut short by a full disk is removed and the
run fails with a sentence saying so.
The partial name is unique (two runs writing one output never share it); a device or pipe as
the output (/dev/null, a FIFO) gets the finished file's bytes copied in, never a rename. A
frame size no encoder accepts (1x1, 12000x9000 in MP4) is named as the cause, and `open()`
lets the run check it before the first frame.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from sdk.errors import OutputError
from sdk.outputs.output_paths import Target, ensure_parent, output_target, publish
from sdk.sources.quiet import quiet_native_stderr

try:
    import fcntl
except ImportError:  # Windows has no pipe sizes to set
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("astseg")

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi")
H264_ENCODERS = ("libx264", "libopenh264")
DEFAULT_PIPE_BYTES = 1 << 16  # Linux


def bundled_ffmpeg() -> str | None:
    """The ffmpeg program inside the imageio-ffmpeg wheel, or None where that wheel has none."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (RuntimeError, OSError):  # a platform the wheel ships no binary for
        return None


def find_h264_ffmpeg() -> tuple[str, str] | None:
    """(ffmpeg program, H.264 encoder): the one on PATH first, then the bundled one."""
    for ffmpeg in (shutil.which("ffmpeg"), bundled_ffmpeg()):
        encoder = ffmpeg_h264_encoder(ffmpeg) if ffmpeg else None
        if ffmpeg and encoder:
            return ffmpeg, encoder
    return None


@functools.lru_cache(maxsize=4)
def ffmpeg_h264_encoder(ffmpeg: str) -> str | None:
    """The H.264 encoder an ffmpeg binary offers, or None."""
    try:
        listing = subprocess.run(
            [ffmpeg, "-hide_banner", "-encoders"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = {line.split()[1] for line in listing.splitlines() if len(line.split()) > 1}
    return next((enc for enc in H264_ENCODERS if enc in names), None)


# H.264's largest level (6.2) allows 139 264 macroblocks of 16x16 pixels a frame, and
# x264 takes no side over 16 384; anything bigger is refused before a frame is read.
H264_MAX_MACROBLOCKS = 139_264
H264_MAX_SIDE = 16_384


def h264_can_encode(width: int, height: int) -> bool:
    """Whether H.264 takes frames of this size (sides padded to even, as the filter does)."""
    blocks = -(-width // 16) * -(-height // 16)
    return blocks <= H264_MAX_MACROBLOCKS and max(width, height) <= H264_MAX_SIDE


def ffmpeg_command(
    ffmpeg: str, encoder: str, width: int, height: int, fps: float, target: Path
) -> list[str]:
    """The argument list that turns raw BGR frames on stdin into a browser-playable MP4."""
    return [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{width}x{height}",
        "-r",
        f"{fps:g}",
        "-i",
        "-",
        "-an",
        "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2",  # yuv420p needs even sides
        "-c:v",
        encoder,
        # libx264's fastest preset: the annotated video must not slow the pipeline down
        *(["-preset", "ultrafast"] if encoder == "libx264" else []),
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(target),
    ]


def _widen_pipe(pipe: IO[bytes] | None, size: int) -> None:
    """Let a whole frame or two wait in the pipe (Linux; capped by fs.pipe-max-size), so
    the output thread hands a frame over and goes on while ffmpeg encodes the previous one."""
    setter = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if pipe is None or setter is None or size <= DEFAULT_PIPE_BYTES:
        return
    try:
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except (OSError, ValueError):
        limit = 1 << 20
    with contextlib.suppress(OSError):  # best effort: the default 64 KiB pipe also works
        fcntl.fcntl(pipe.fileno(), setter, min(size, limit))


class VideoWriter:
    """Write BGR uint8 frames; `close()` renames the finished file, `abort()` removes it."""

    def __init__(self, path: Path | Target, fps: float | None, codec: str = "auto") -> None:
        target = path if isinstance(path, Target) else output_target(path, "--out")
        if target.stdout:
            raise OutputError(
                "--out - would send video to standard output, which astseg cannot do; "
                "give a file name such as annotated.mp4."
            )
        path = target.shown
        if not target.direct and path.suffix.lower() not in VIDEO_SUFFIXES:
            raise OutputError(
                f"{path} must end in one of {', '.join(VIDEO_SUFFIXES)} to be written as video."
            )
        if codec not in ("auto", "h264", "mp4v"):
            raise ValueError(f"codec {codec!r} is not 'auto', 'h264' or 'mp4v'.")
        self.target = target
        self.path = path
        if target.direct:  # encoded into a private file, then copied into the device or pipe
            fd, name = tempfile.mkstemp(prefix=".astseg-video.", suffix=".partial.mp4")
            os.close(fd)
            self.partial = Path(name)
        else:
            ensure_parent(target.real)
            self.partial = target.temporary()
        self.fps = fps if fps and fps > 0 else 30.0
        self.codec_choice = codec
        self.codec: str | None = None  # what was used, for messages
        self.size: tuple[int, int] | None = None  # (width, height)
        self.frames = 0
        self._cv: Any = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ffmpeg_log: IO[bytes] | None = None
        # probed here, before the first frame, so the probe is set-up time, not frame time
        self._ffmpeg = find_h264_ffmpeg() if codec in ("auto", "h264") else None

    def open(self, width: int, height: int) -> None:
        """Open the encoder for frames of this size now (before the first frame arrives)."""
        if self.size is None:
            try:
                self._open(width, height)
            except OutputError:
                self.partial.unlink(missing_ok=True)
                raise

    def _open(self, width: int, height: int) -> None:
        self.size = (width, height)
        if self.codec_choice in ("auto", "h264") and self._open_ffmpeg():
            log.info("astseg: writing %s with %s", self.path, self.codec)
        elif self.codec_choice in ("auto", "h264") and self._open_opencv("avc1"):
            self.codec = "H.264 (OpenCV avc1)"
            log.info("astseg: writing %s with %s", self.path, self.codec)
        elif self.codec_choice == "h264":
            raise OutputError(
                "H.264 was requested but neither ffmpeg (on PATH or from imageio-ffmpeg) nor this "
                "OpenCV can encode it; pip install imageio-ffmpeg, or use codec 'mp4v'."
            )
        elif self._open_opencv("mp4v"):
            self.codec = "MPEG-4 Part 2 (OpenCV mp4v)"
            log.warning(
                "astseg: writing %s as MPEG-4 Part 2 (mp4v), which browsers may not play; "
                "pip install imageio-ffmpeg (or install ffmpeg) for H.264.",
                self.path,
            )
        elif self._size_is_the_cause(width, height):
            raise OutputError(
                f"OpenCV cannot encode frames of {width}x{height} pixels as "
                f"{self.partial.suffix} video (its encoders take a 64x64 frame here, not this "
                "size); resize the frames, or leave out --out and write --masks or --json."
            )
        else:
            raise OutputError(f"OpenCV cannot write video {self.path}; try another folder or .avi.")

    def _size_is_the_cause(self, width: int, height: int) -> bool:
        """Whether a writer of a common size opens where this size did not."""
        probe = self.partial.with_name(self.partial.name + ".probe" + self.partial.suffix)
        with quiet_native_stderr():
            writer = cv2.VideoWriter(str(probe), cv2.VideoWriter.fourcc(*"mp4v"), 15, (64, 64))
        opened = bool(writer.isOpened())
        writer.release()
        probe.unlink(missing_ok=True)
        return opened and (width, height) != (64, 64)

    def _open_opencv(self, fourcc: str) -> bool:
        assert self.size is not None
        with quiet_native_stderr():
            writer = cv2.VideoWriter(
                str(self.partial), cv2.VideoWriter.fourcc(*fourcc), self.fps, self.size
            )
        if writer.isOpened():
            self._cv = writer
            return True
        writer.release()
        return False

    def _open_ffmpeg(self) -> bool:
        if self._ffmpeg is None:
            return False
        ffmpeg, encoder = self._ffmpeg
        assert self.size is not None
        if not h264_can_encode(*self.size):
            return False  # the next encoder, or the sentence that names the size
        self._ffmpeg_log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as ffmpeg)
        try:
            self._proc = subprocess.Popen(
                ffmpeg_command(ffmpeg, encoder, *self.size, self.fps, self.partial),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._ffmpeg_log,
                start_new_session=True,  # Ctrl-C stops astseg, which then closes ffmpeg cleanly
            )
        except OSError:
            return False
        _widen_pipe(self._proc.stdin, 2 * 3 * self.size[0] * self.size[1])
        self.codec = f"H.264 (ffmpeg {encoder})"
        return True

    def _ffmpeg_error(self) -> str:
        if self._ffmpeg_log is None:
            return ""
        self._ffmpeg_log.seek(0)
        lines = self._ffmpeg_log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def write(self, frame: np.ndarray) -> None:
        if self.size is None:
            self._open(frame.shape[1], frame.shape[0])
        assert self.size is not None
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        if self._proc is not None:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
            except (BrokenPipeError, OSError) as err:
                self.abort()
                raise self._not_whole(self._ffmpeg_error() or str(err)) from err
        else:
            self._cv.write(frame)
        self.frames += 1

    def close(self) -> Path | None:
        """Finish and rename the file; None (and no file) when no frame was written."""
        if self._proc is not None:
            assert self._proc.stdin is not None
            with contextlib.suppress(OSError):  # ffmpeg may have exited; wait() reports why
                self._proc.stdin.close()
            code = self._proc.wait(timeout=120)
            self._proc = None
            if code != 0:
                self.partial.unlink(missing_ok=True)
                reason = self._ffmpeg_error() or (
                    f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                )
                raise self._not_whole(reason)
        written_by_opencv = self._cv is not None  # ffmpeg reports write errors by its exit code
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        if self._ffmpeg_log is not None:
            self._ffmpeg_log.close()
            self._ffmpeg_log = None
        if self.frames == 0:
            self.partial.unlink(missing_ok=True)
            return None
        if written_by_opencv and not self._written_whole():
            self.partial.unlink(missing_ok=True)
            raise self._not_whole(None)
        if self.target.direct:
            self._copy_into_device()
        else:
            publish(self.partial, self.target)
        return self.path

    def _copy_into_device(self) -> None:
        try:
            with open(self.partial, "rb") as src, open(self.target.real, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except OSError as err:
            raise OutputError(f"cannot write {self.path}: {err.strerror}.") from err
        finally:
            self.partial.unlink(missing_ok=True)

    def _not_whole(self, ffmpeg_said: str | None) -> OutputError:
        said = f"ffmpeg: {ffmpeg_said.rstrip('.')}; " if ffmpeg_said else ""
        return OutputError(
            f"{self.path} could not be written whole ({said}the disk may be full or the file too "
            "large), so it was removed; free space or choose another folder and run again."
        )

    def _written_whole(self) -> bool:
        """OpenCV's writer reports no error, a full disk included, so read the file back: it
        must open and yield its last frame (found by seeking, else by reading every frame)."""
        with quiet_native_stderr():
            capture = cv2.VideoCapture(str(self.partial))
            try:
                if not capture.isOpened():
                    return False
                capture.set(cv2.CAP_PROP_POS_FRAMES, self.frames - 1)
                if capture.grab():
                    return True
            finally:
                capture.release()
            capture = cv2.VideoCapture(str(self.partial))  # seeking is not exact everywhere
            try:
                return sum(1 for _ in iter(capture.grab, False)) >= self.frames
            finally:
                capture.release()

    def abort(self) -> None:
        """Stop and remove the partial file."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        if self._ffmpeg_log is not None:
            self._ffmpeg_log.close()
            self._ffmpeg_log = None
        self.partial.unlink(missing_ok=True)
