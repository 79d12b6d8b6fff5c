"""Where an output really goes, decided before the first frame is read.

A regular file (or a name that does not exist yet) is written under a unique temporary
name beside it and renamed into place (sdk.outputs.atomic), so a reader never sees half a
file and two runs writing the same output each publish a whole one (the last to finish
wins). A character device, a FIFO or a socket (`/dev/null`, `/dev/stdout` on a pipe or a
terminal, a named pipe) is written in place: a rename would replace the device with a
regular file. `-` is standard output. A symbolic link is followed: its target is written
(atomically when the target is a regular file or missing) and the link itself stays a link.

An output may not be one of the inputs, and two outputs may not be one file; both are
refused before anything is read, comparing real paths and (for files that exist) device
and inode numbers, so another spelling or a hard link is caught too.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sdk.errors import OutputError
from sdk.outputs.atomic import publish_file, unique_sibling

STDOUT = "-"


@dataclass(frozen=True)
class Target:
    """One output file: `shown` as the user named it, `real` where its bytes land."""

    shown: Path
    real: Path
    direct: bool  # a device, pipe, socket or stdout: written in place, never renamed
    stdout: bool = False

    def temporary(self) -> Path:
        """A new, unique, empty sibling of `real` to write into (the suffix kept for muxers)."""
        try:
            return unique_sibling(self.real)
        except OSError as err:
            raise OutputError(f"cannot write {self.real}: {err.strerror}.") from err


def output_target(path: Path | str, flag: str) -> Target:
    """Classify an output path; refuse a folder where a file is wanted."""
    if str(path) == STDOUT:
        return Target(Path(STDOUT), Path(STDOUT), direct=True, stdout=True)
    shown = Path(path).expanduser()
    try:
        info = os.stat(shown)  # follows links: what a write would reach
    except (FileNotFoundError, NotADirectoryError):
        # missing, or a link to a missing file: the (link's) target is created; a parent
        # that is a file is reported by the writer that tries to create the folder
        return Target(shown, Path(os.path.realpath(shown)), direct=False)
    except OSError as err:
        raise OutputError(f"cannot use {shown} as {flag}: {err.strerror}.") from err
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(
            f"{flag} {shown} is a folder; give a file name inside it, such as "
            f"{shown / ('results.jsonl' if flag == '--json' else 'annotated.mp4')}."
        )
    if stat.S_ISREG(info.st_mode):
        return Target(shown, Path(os.path.realpath(shown)), direct=False)
    return Target(shown, shown, direct=True)


def ensure_parent(path: Path) -> None:
    """Create the output's folder, or raise OutputError naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(
            f"cannot create the folder {path.parent} for {path.name}: {err.strerror}."
        ) from err
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"the folder {path.parent} is not writable; choose another output path.")


def publish(temporary: Path, target: Target) -> None:
    """Rename a finished temporary file over the target's regular file (or into its place)."""
    try:
        publish_file(temporary, target.real)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot finish {target.shown}: {err.strerror}.") from err


def write_output_bytes(target: Target, data: bytes) -> None:
    """Write a whole small output: in place for devices and stdout, else temp + rename."""
    if target.stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    if target.direct:
        try:
            with open(target.real, "wb") as fh:
                fh.write(data)
        except OSError as err:
            raise OutputError(f"cannot write {target.shown}: {err.strerror}.") from err
        return
    tmp = target.temporary()
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {target.shown}: {err.strerror}.") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    publish(tmp, target)


def write_output_file(path: Path, data: bytes) -> None:
    """A file astseg names inside an output folder (a mask, the report page), whole or not
    at all; it replaces whatever has its name, a link included."""
    write_output_bytes(Target(path, path, direct=False), data)


def write_output(path: Path | str, data: bytes | str, flag: str = "output") -> None:
    """A whole small output the user named (`flag` names it in messages); text as UTF-8."""
    write_output_bytes(output_target(path, flag), data.encode() if isinstance(data, str) else data)


def is_stdout(target: Target) -> bool:
    """True when the target is this process's standard output (`-` or /dev/stdout)."""
    if target.stdout:
        return True
    try:
        out, mine = os.fstat(sys.stdout.fileno()), os.stat(target.real)
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (mine.st_dev, mine.st_ino)


def json_to_stdout(path: str | None) -> bool:
    """Whether a --json value names this process's standard output."""
    if path is None:
        return False
    try:
        return is_stdout(output_target(path, "--json"))
    except OutputError:
        return False


def _same(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(
    files: dict[str, Target],
    folders: dict[str, Path],
    inputs: Iterable[Path],
    input_folders: Iterable[Path] = (),
) -> None:
    """Refuse an output that is an input, an output folder that holds input images or the
    model, or one file named by two outputs."""
    inputs = [p for p in inputs if p.exists()]
    input_folders = [p for p in input_folders if p.is_dir()]
    written = [(flag, t) for flag, t in files.items() if not t.direct]
    for i, (flag, target) in enumerate(written):
        for other_flag, other in written[i + 1 :]:
            if _same(target.real, other.real):
                raise OutputError(
                    f"{flag} and {other_flag} name the same file {target.shown}; "
                    "the same file cannot hold two outputs, so give each its own name."
                )
        for source in inputs:
            if target.real.exists() and _same(target.real, source):
                raise OutputError(
                    f"{flag} {target.shown} is the input {source}; writing it would destroy "
                    "the input, so nothing was read. Choose another output path."
                )
    for flag, folder in folders.items():
        for other_flag, target in written:
            if _same(folder, target.real):
                raise OutputError(
                    f"{flag} and {other_flag} name the same path {folder}; "
                    "the same path cannot hold two outputs, so give each its own name."
                )
        if not folder.exists():
            continue
        for place in input_folders:
            if _same(folder, place):
                raise OutputError(
                    f"{flag} {folder} is the input folder {place}; its files would be "
                    "overwritten or read back as input, so nothing was read. Choose another "
                    "folder."
                )
