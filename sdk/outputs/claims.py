"""What each output will write, as a set of files, so no output lands on another's file.

Comparing the paths the user typed misses what a folder output creates inside itself:
`--masks m` writes `m/000005.png`, `--report rep` writes `rep/index.html`. Each output
therefore claims the files it will write (exact names where they are known before the
first frame, a name pattern where they depend on frame numbers), and two claims that share
a file, or where one output's file is a folder another needs, are refused before anything
is read. Paths are compared as real paths, so another spelling or a link is caught too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sdk.errors import OutputError
from sdk.outputs.output_paths import output_target

FRAME_MASKS = re.compile(r"\d{6,}\.png")  # `<frame:06d>.png` of a video, camera or stream


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path.expanduser()))


@dataclass(frozen=True)
class Claim:
    """The files one output writes: `files` by name, and under `folder` any name matching
    `pattern` (relative, with `/`)."""

    flag: str
    shown: Path  # as the user named the output
    files: frozenset[Path] = frozenset()
    folder: Path | None = None
    pattern: re.Pattern[str] | None = None
    folders: frozenset[Path] = field(default=frozenset())  # the folders it creates

    def writes(self, path: Path) -> bool:
        if path in self.files:
            return True
        if self.folder is None or self.pattern is None or self.folder not in path.parents:
            return False
        return self.pattern.fullmatch(path.relative_to(self.folder).as_posix()) is not None

    def needs_folder(self, path: Path) -> bool:
        """True when `path` must be a folder for this output (it holds a file it writes)."""
        return path in self.folders or any(path in f.parents for f in self.files)


def file_claim(flag: str, path: Path | str) -> Claim:
    """An output that is one file (`--json`, `--out`, `--grid`)."""
    real = _real(Path(path))
    return Claim(flag, Path(path), files=frozenset({real}))


def output_claims(flag: str, path: Path | str | None) -> list[Claim]:
    """A user-named output file's claim; none for a device, a pipe or stdout, which are
    written in place and may be shared (`--out /dev/null --json /dev/null`)."""
    if path is None or output_target(path, flag).direct:
        return []
    return [file_claim(flag, path)]


def folder_claim(
    flag: str,
    folder: Path,
    names: Iterable[str] = (),
    pattern: re.Pattern[str] | None = None,
) -> Claim:
    """An output folder that writes `names` (relative paths) and names matching `pattern`."""
    root = _real(folder)
    files = frozenset(_real(root / name) for name in names)
    return Claim(flag, folder, files, root, pattern, frozenset({root}))


def _clash(a: Claim, b: Claim) -> Path | None:
    for path in sorted(a.files):
        if b.writes(path) or b.needs_folder(path):
            return path
    return None


def refuse_overlaps(claims: Sequence[Claim]) -> None:
    """Raise OutputError naming both outputs and the file when two claims meet."""
    for i, first in enumerate(claims):
        for second in claims[i + 1 :]:
            path = _clash(first, second) or _clash(second, first)
            if path is not None:
                raise OutputError(
                    f"{first.flag} {first.shown} and {second.flag} {second.shown} would both "
                    f"write {path}, so one would replace the other; nothing was read. Give "
                    "each output its own name or folder."
                )
