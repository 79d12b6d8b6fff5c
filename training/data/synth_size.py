"""Whether a synthetic scene of the asked size can be made here, decided before allocating.

Rendering one scene holds a few float32 H x W x 3 arrays at once (image, background, object
layers, masks): about 63 bytes a pixel measured for images and 78 for a textured video, so
96 leaves headroom. Beyond what the machine has, numpy would fail with a MemoryError deep in
the renderer; beyond 2^30 pixels OpenCV refuses to read the image back
(OPENCV_IO_MAX_IMAGE_PIXELS), so such data could not be trained on anyway.
"""

from __future__ import annotations

import os

from training.data.errors import DataError

BYTES_PER_PIXEL = 96
MAX_PIXELS = 1 << 30


def available_memory() -> int | None:
    """Bytes the kernel says a new allocation can get (MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_scene_size(height: int, width: int, available: int | None = None) -> None:
    """Raises one sentence, with the size, when an HxW scene cannot be made or read back."""
    pixels = height * width
    if pixels > MAX_PIXELS:
        raise DataError(
            f"--size {height}x{width} is {pixels / 1e9:.1f} gigapixels a scene, more than the "
            f"{MAX_PIXELS / 1e9:.2f} gigapixels OpenCV reads back; give a smaller --size, "
            "e.g. 256x256"
        )
    available = available_memory() if available is None else available
    needed = pixels * BYTES_PER_PIXEL
    if available is not None and needed > available:
        raise DataError(
            f"--size {height}x{width} needs about {_gb(needed)} of memory to render one scene, "
            f"and {_gb(available)} is available; give a smaller --size, e.g. 256x256"
        )


def _gb(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"
