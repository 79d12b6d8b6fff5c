"""Put finished output in place whole: a reader sees the old version or the new, never half."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def readable(path: Path, directory: bool = False) -> None:
    """Temp files and folders are private (0600/0700); output gets the usual permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def publish_dir(staging: Path, final: Path) -> None:
    """Renames `staging` to `final`, replacing an existing `final` folder."""
    readable(staging, directory=True)
    for child in staging.iterdir():
        readable(child, directory=child.is_dir())
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_zip(source: Path, archive: Path) -> None:
    """Zips the files of `source` (flat, as docs/bundle-format.md says) to `archive`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".tmp", dir=archive.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(source.iterdir()):
                zf.write(path, path.name)
        readable(Path(tmp))
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
