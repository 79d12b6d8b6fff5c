"""Where the runtime keeps files it derives: extracted bundles and TensorRT engine caches.

One place decides the directory so a user can move it (``ASTSEG_CACHE_DIR``) or
clear it without hunting through the code.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """Return (and create) ``<cache root>/<parts...>``.

    The root is ``$ASTSEG_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/astseg``,
    else ``~/.cache/astseg``, following the XDG convention users expect on Linux.
    """
    override = os.environ.get("ASTSEG_CACHE_DIR")
    if override:
        root = Path(override).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "astseg"
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
