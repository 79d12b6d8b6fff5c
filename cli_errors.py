"""Every exception a command lets out, as one `astseg: error:` sentence and an exit code.

The packages raise `AstsegError` sentences where they know the culprit; this module is the
last line for what they do not catch (a damaged zip's zlib error, an OpenCV assertion, a
name too long for the file system, input nested too deep to parse), so a user never sees a
traceback. `ASTSEG_DEBUG=1` or `astseg --debug ...` prints the traceback as well, for bug
reports.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
import zipfile
import zlib

DEBUG_ENV = "ASTSEG_DEBUG"
USER_ERROR_EXIT = 2  # the user can fix it: the value, file or key is named
BUG_EXIT = 1  # nothing the user did explains it

_debug_flag = False  # set per invocation by the root command's --debug

# What to do, by errno: the OS's own words name the problem, not the remedy.
_OS_ADVICE = {
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "it is a folder where a file is needed; give a file name",
    errno.ENAMETOOLONG: "a name in the path is too long for the file system; use a shorter one",
    errno.ENOSPC: "the disk is full; free space or choose another place",
    errno.EDQUOT: "the disk quota is used up; free space or choose another place",
    errno.EACCES: "check its permissions or choose another path",
    errno.EPERM: "check its permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another place",
    errno.EEXIST: "something of that name is already there; choose another path",
    errno.ELOOP: "it is a loop of symbolic links; fix the link",
    errno.EMFILE: "too many files are open; close other programs and run again",
}


def set_debug(on: bool) -> None:
    """`--debug` for this invocation (reset each time, so one run cannot leak into the next)."""
    global _debug_flag
    _debug_flag = on


def debug_enabled() -> bool:
    return _debug_flag or os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes")


def _first_line(err: BaseException, limit: int = 200) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:limit].rstrip(".") if text else type(err).__name__


def _os_sentence(err: OSError) -> str:
    if err.strerror is None:  # raised by our own code with a sentence of its own
        return str(err)
    where = err.filename if err.filename is not None else "a file"
    if err.filename2 is not None:
        where = f"{err.filename} -> {err.filename2}"
    advice = _OS_ADVICE.get(err.errno or 0, "check the path and run again")
    return f"cannot use {where}: {err.strerror.lower()}; {advice}."


def _is_onnxruntime(err: BaseException) -> bool:
    return type(err).__module__.startswith("onnxruntime")


def _is_cv2(err: BaseException) -> bool:
    return type(err).__module__.startswith("cv2") and type(err).__name__ == "error"


def sentence(err: BaseException) -> tuple[str, int]:
    """The one sentence and exit code for `err`; never raises."""
    from sdk.errors import AstsegError

    if isinstance(err, AstsegError):
        return str(err), getattr(err, "exit_code", USER_ERROR_EXIT)
    if isinstance(err, RecursionError):
        return (
            "an input is nested too deeply to read (a file of thousands of nested brackets?); "
            "check the files you gave.",
            USER_ERROR_EXIT,
        )
    # zipfile raises NotImplementedError for a method it lacks (Deflate64): the archive's
    # fault, not a missing feature of ours
    if isinstance(err, (zipfile.BadZipFile, zlib.error, EOFError)) or (
        isinstance(err, NotImplementedError) and "compression" in str(err)
    ):
        return (
            f"a zip archive is damaged or uses a compression Python cannot read "
            f"({_first_line(err)}); write it again with plain Deflate (zip -Z deflate).",
            USER_ERROR_EXIT,
        )
    if isinstance(err, OverflowError):
        return (
            f"a number is too large ({_first_line(err)}); check the values you gave.",
            USER_ERROR_EXIT,
        )
    if isinstance(err, MemoryError):
        return (
            "not enough memory for this input; use smaller images or a smaller --batch-size.",
            USER_ERROR_EXIT,
        )
    if isinstance(err, OSError):
        return _os_sentence(err), USER_ERROR_EXIT
    if _is_cv2(err):
        return (
            f"OpenCV could not handle an image or video ({_first_line(err)}); check the input "
            "file, or convert it to PNG or H.264 MP4.",
            USER_ERROR_EXIT,
        )
    if _is_onnxruntime(err):
        return (
            f"ONNX Runtime could not run the model ({_first_line(err)}); export the bundle "
            "again with `astseg export`.",
            USER_ERROR_EXIT,
        )
    if isinstance(err, ValueError):  # config and data validation: sentences of their own
        return str(err), USER_ERROR_EXIT
    return (
        f"unexpected {type(err).__name__}: {_first_line(err)}; this is a bug in astseg. Run "
        f"again with {DEBUG_ENV}=1 for the traceback and report it.",
        BUG_EXIT,
    )


def describe(err: BaseException) -> tuple[str, int]:
    """`sentence(err)`, with the traceback printed to stderr first in debug mode."""
    if debug_enabled():
        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    return sentence(err)
