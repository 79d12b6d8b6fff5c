"""Where the runtime keeps files it derives: extracted bundles and TensorRT engine caches.

One place decides the directory so a user can move it (``ASTSEG_CACHE_DIR``) or
clear it without hunting through the code. A cache that cannot be written (a read-only
folder, ``ASTSEG_CACHE_DIR`` naming a file) must not stop a run: this process then uses a
private temporary folder, says so once, and removes it at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

from sdk.errors import OutputError

log = logging.getLogger("astseg")

_private_root: Path | None = None


def configured_root() -> Path:
    """``$ASTSEG_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/astseg``, else
    ``~/.cache/astseg``, following the XDG convention users expect on Linux."""
    override = os.environ.get("ASTSEG_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "astseg"


def cache_dir(*parts: str) -> Path:
    """Return (and create) ``<cache root>/<parts...>``, in a private temporary root when
    the configured one cannot be written."""
    root = configured_root()
    try:
        return _writable(root.joinpath(*parts))
    except OSError as err:
        try:
            return _writable(_fallback_root(root, err).joinpath(*parts))
        except OSError as second:
            raise OutputError(
                f"neither the cache folder {root} nor a temporary folder can be written "
                f"({second.strerror or second}); set ASTSEG_CACHE_DIR to a writable folder"
            ) from None


def _writable(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):  # mkdir succeeds on an existing read-only folder
        pass
    return path


def _fallback_root(root: Path, err: OSError) -> Path:
    global _private_root
    if _private_root is None:
        _private_root = Path(tempfile.mkdtemp(prefix="astseg-cache-"))
        atexit.register(shutil.rmtree, _private_root, ignore_errors=True)
        where = f"{err.filename}: " if err.filename else ""
        log.warning(
            f"astseg: the cache folder {root} cannot be used ({where}{err.strerror or err}); "
            f"using {_private_root} for this process, removed at exit; set ASTSEG_CACHE_DIR "
            "to a writable folder to keep extracted bundles between runs"
        )
    return _private_root
