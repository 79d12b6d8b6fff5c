"""Safe extraction of a bundle `.zip`, which may come from a stranger.

Refused before anything is written: entries with absolute paths, drive letters
or `..` (zip-slip), symbolic links, encrypted entries, too many entries, and
archives whose declared sizes exceed a limit or an implausible compression ratio
(zip bomb). While writing, each entry is also cut off at its declared size, so a
header that lies about sizes cannot get more bytes onto the disk.
"""

from __future__ import annotations

import errno
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from sdk.errors import BundleError

MAX_MEMBERS = 256
MAX_TOTAL_BYTES = 4 << 30  # a Segformer-b3 bundle with engines stays well under this
MAX_RATIO = 200  # real ONNX weights compress a few times, a bomb a thousand times
RATIO_FLOOR_BYTES = 64 << 20  # small archives cannot be bombs worth worrying about
_CHUNK = 1 << 20


def _check_member(info: zipfile.ZipInfo, shown: str) -> None:
    name = info.filename
    unix_mode = info.external_attr >> 16
    if stat.S_ISLNK(unix_mode):
        raise BundleError(f"{shown} contains a symbolic link ({name!r}); refusing to extract it.")
    if info.flag_bits & 0x1:
        raise BundleError(
            f"{shown} contains an encrypted entry ({name!r}); bundles are not encrypted."
        )
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or "\x00" in name
    ):
        raise BundleError(
            f"{shown} contains the entry {name!r}, which points outside the bundle; "
            "refusing to extract it (the archive may be malicious)."
        )


def check_archive(
    zf: zipfile.ZipFile,
    shown: str,
    archive_bytes: int,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Refuse an archive by its directory alone, before any byte is extracted."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise BundleError(
            f"{shown} has {len(infos)} entries, more than {max_members}; not a bundle."
        )
    for info in infos:
        _check_member(info, shown)
    total = sum(info.file_size for info in infos)
    if total > max_total_bytes:
        raise BundleError(
            f"{shown} would expand to {total} bytes, more than the {max_total_bytes} allowed; "
            "refusing to extract it (possible zip bomb)."
        )
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * max(archive_bytes, 1):
        raise BundleError(
            f"{shown} would expand {total // max(archive_bytes, 1)}-fold; refusing to extract it "
            "(possible zip bomb)."
        )


def extract_archive(
    zip_path: Path,
    dest: Path,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Extract ``zip_path`` into the empty directory ``dest`` after `check_archive`."""
    shown = str(zip_path)
    entry = ""  # the entry being written, for the sentence when it fails
    try:
        with zipfile.ZipFile(zip_path) as zf:
            check_archive(zf, shown, zip_path.stat().st_size, max_total_bytes, max_members)
            root = dest.resolve()
            for info in zf.infolist():
                entry = info.filename
                target = (dest / info.filename.replace("\\", "/")).resolve()
                if root != target and root not in target.parents:
                    raise BundleError(f"{shown} entry {info.filename!r} escapes the bundle.")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_bounded(zf, info, target, shown)
    except zipfile.BadZipFile as err:
        raise BundleError(
            f"{shown} is not a readable zip archive ({err}); download it again."
        ) from err
    # zlib and zipfile raise these for a damaged stream or a method such as Deflate64
    except (zlib.error, EOFError, NotImplementedError) as err:
        raise BundleError(
            f"{shown} cannot be unpacked at entry {entry!r} ({err}); the archive is damaged or "
            "compressed with a method Python cannot read; download it again or zip it with "
            "plain Deflate."
        ) from err
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):  # entries `a` and `a/b`
            raise BundleError(
                f"{shown} holds {entry!r} under a name that is also a file of the archive; "
                "a bundle is a flat folder of files, so it is refused. Export it again."
            ) from err
        raise BundleError(
            f"cannot unpack {shown} into {dest} ({err.strerror or err}); free space there or "
            "set ASTSEG_CACHE_DIR to another folder."
        ) from err


def _copy_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, shown: str) -> None:
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > info.file_size:
                raise BundleError(f"{shown} entry {info.filename!r} is larger than it declares.")
            dst.write(chunk)


def remove_tree(path: Path) -> None:
    """Best-effort removal of a half-extracted directory."""
    shutil.rmtree(path, ignore_errors=True)
