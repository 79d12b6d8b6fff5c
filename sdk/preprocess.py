"""Turn any frame a user has into what the graphs take: RGB uint8, NCHW, the model's size.

Accepted: 2-D gray, H×W×1 gray, H×W×3 colour, H×W×4 colour with alpha (alpha is
ignored); uint8, uint16 (scaled by 255/65535) and float (taken as 0–1, clipped;
NaN becomes 0). Colour frames are BGR unless the caller says "rgb" (OpenCV reads
BGR; PIL, imageio and most ML code give RGB).

Resize policy: the whole frame is resized to the model's H×W (aspect ratio not
kept, nothing cropped or padded), with area averaging when shrinking and bilinear
interpolation when enlarging. A fixed camera's model is trained on its frames
resized the same way, and every output pixel maps back to exactly one source
pixel region, so masks return to the original resolution without offsets.
The frame is resized before its type and colour order are converted, because
the model input is far smaller than the frame and converting it is then cheap.

OpenCV averages whole blocks quickly when both size ratios are integers and takes
a several times slower general path otherwise. Camera widths are usually a
multiple of the model's (1280 = 20·64, 1920 = 30·64) and heights are not (720 =
11.25·64), so such a frame is averaged along its whole-block axis first, on the
full frame in float32, and along the other axis on that narrow result: the one pass
over the frame is the fast one, and the input equals the one-pass average but for a
rare value rounded the other way at an exact half (one level).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Channels = Literal["bgr", "rgb"]
_FLOATS = (np.float16, np.float32, np.float64)


def check_frame(frame: object) -> np.ndarray:
    """Return the frame as an ndarray, or raise ValueError naming what is wrong with it."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"a frame must be a numpy array, not {type(frame).__name__}.")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ValueError(
            f"a frame of shape {frame.shape} is not H×W (gray), H×W×3 (colour) "
            "or H×W×4 (with alpha)."
        )
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"a frame of shape {frame.shape} is empty.")
    if frame.dtype not in (np.uint8, np.uint16) and frame.dtype.type not in _FLOATS:
        raise ValueError(
            f"frames of dtype {frame.dtype} are not supported; use uint8, uint16 or float."
        )
    return frame


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    scaled = np.nan_to_num(image.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _resizable(frame: np.ndarray) -> np.ndarray:
    """cv2.resize takes uint8, uint16, float32 and float64, not float16 or non-contiguous views."""
    if frame.dtype == np.float16:
        frame = frame.astype(np.float32)
    return np.ascontiguousarray(frame)


def _shrink(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area average down to height×width (see the module docstring for the two passes)."""
    h, w = frame.shape[:2]
    if (w % width == 0) == (h % height == 0):  # one pass is already fast, or nothing is
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    # float32 between the passes, so that only the final value is rounded
    narrow = (width, h) if w % width == 0 else (w, height)
    first = cv2.resize(frame.astype(np.float32), narrow, interpolation=cv2.INTER_AREA)
    out = cv2.resize(first, (width, height), interpolation=cv2.INTER_AREA)
    if frame.dtype.kind == "u":  # round half to even, as OpenCV's saturating cast does
        return np.rint(out).astype(frame.dtype)
    return out


def _to_rgb(image: np.ndarray, channels: Channels) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    colour = image[:, :, :3]
    return colour if channels == "rgb" else colour[:, :, ::-1]


def to_model_input(
    frame: np.ndarray, height: int, width: int, channels: Channels = "bgr"
) -> np.ndarray:
    """One frame -> uint8 RGB array of shape [3, height, width] (see the module's resize policy)."""
    frame = check_frame(frame)
    h, w = frame.shape[:2]
    if (h, w) != (height, width):
        if h >= height and w >= width:
            frame = _shrink(_resizable(frame), height, width)
        else:
            frame = cv2.resize(_resizable(frame), (width, height), interpolation=cv2.INTER_LINEAR)
    rgb = _to_rgb(_to_uint8(frame), channels)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def to_display_bgr(frame: np.ndarray, channels: Channels = "bgr") -> np.ndarray:
    """The frame as a BGR uint8 image at its own size, for drawing and video files."""
    frame = check_frame(frame)
    image = _to_uint8(frame)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[0], image.shape[1]), cv2.COLOR_GRAY2BGR)
    colour = image[:, :, :3]
    if channels == "rgb":
        colour = colour[:, :, ::-1]
    return np.ascontiguousarray(colour)
