"""Matrix rows: no input a user can give ends in a traceback (issue 23, class 2).

A damaged or Deflate64 `.zip` bundle, a zip holding `a` and `a/b`, a manifest of 50 000
nested brackets, a name too long for the file system, a file where a folder must be, a graph
that takes another input type, and an error nobody foresaw are each one `astseg: error:`
line with a non-zero exit; `--debug` or ASTSEG_DEBUG=1 adds the traceback. A PNG declaring
40 000 x 40 000 pixels in an image folder is skipped, counted and named in the summary.
"""

from __future__ import annotations

import errno
import json
import struct
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from reliability_cli import assert_success, assert_user_error, astseg, tree
from reliability_media import disc_image_folder
from toy_bundle import write_manifest, zip_bundle

import cli_errors
from sdk.sources.image_decode import UnreadableImage, decode_image


def _deflate64(archive: Path) -> None:
    """Mark every entry as Deflate64 (method 9), which Python's zipfile cannot read."""
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.find(signature)
        while start != -1:
            data[start + offset : start + offset + 2] = struct.pack("<H", 9)
            start = data.find(signature, start + 4)
    archive.write_bytes(bytes(data))


def _damage_stream(archive: Path) -> None:
    """Flip bytes inside the largest entry's compressed data: zlib or the CRC check fails."""
    with zipfile.ZipFile(archive) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    data = bytearray(archive.read_bytes())
    header = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = header + info.compress_size // 2
    for i in range(middle, middle + 64):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))


def _file_and_folder(archive: Path, toy_bundle: Path) -> None:
    """The bundle's files plus entries `a` and `a/b`: one name is both a file and a folder."""
    zip_bundle(toy_bundle, archive)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("a", b"file")
        zf.writestr("a/b", b"under a file")


@pytest.mark.parametrize("damage", ["deflate64", "damaged-stream", "file-and-folder"])
def test_a_zip_bundle_python_cannot_unpack_is_one_sentence_naming_it(
    damage: str, toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "bundle.zip"
    if damage == "file-and-folder":
        _file_and_folder(archive, toy_bundle)
    elif damage == "deflate64":
        _deflate64(zip_bundle(toy_bundle, archive))
    else:
        _damage_stream(zip_bundle(toy_bundle, archive))
    out = tmp_path / "out"
    outcome = astseg("run", "--video", clip, "--model", archive, "--json", out / "r.jsonl")
    line = assert_user_error(outcome, str(archive))
    assert "Traceback" not in line
    assert tree(out) == set()


def test_a_manifest_of_50000_nested_brackets_is_one_sentence(
    bundle_copy: Path, clip: Path, tmp_path: Path
) -> None:
    (bundle_copy / "astseg.json").write_text('{"format": ' + "[" * 50_000 + "]" * 50_000 + "}")
    outcome = astseg("run", "--video", clip, "--model", bundle_copy, "--json", tmp_path / "r.j")
    assert_user_error(outcome, "astseg.json", "nested too deeply")


def test_a_name_too_long_and_a_file_where_a_folder_must_be_are_one_sentence(
    toy_bundle: Path, clip: Path, tmp_path: Path
) -> None:
    long_name = tmp_path / ("v" * 300 + ".mp4")
    outcome = astseg("run", "--video", long_name, "--model", toy_bundle)
    assert_user_error(outcome, "v" * 40)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    for flag, value in (("--masks", blocker / "masks"), ("--report", blocker / "report")):
        outcome = astseg("run", "--video", clip, "--model", toy_bundle, flag, value)
        assert_user_error(outcome, str(blocker))
    assert sorted(tree(tmp_path)) == ["blocker"]


def test_a_graph_that_takes_another_input_type_is_one_sentence_naming_it(
    bundle_copy: Path, clip: Path
) -> None:
    graph = onnx.load(str(bundle_copy / "encoder.onnx"))
    graph.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    onnx.save(graph, str(bundle_copy / "encoder.onnx"))
    manifest = json.loads((bundle_copy / "astseg.json").read_text())
    write_manifest(bundle_copy, manifest)  # the hashes match: only the input type is wrong
    outcome = astseg("run", "--video", clip, "--model", bundle_copy)
    assert_user_error(outcome, "encoder.onnx", "uint8")


def _huge_png(path: Path, width: int = 40_000, height: int = 40_000) -> None:
    """A valid PNG header declaring width x height pixels, with a little pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (1 << 20), 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_an_image_declaring_40000_by_40000_pixels_is_skipped_counted_and_named(
    toy_bundle: Path, tmp_path: Path
) -> None:
    folder = disc_image_folder(tmp_path / "images")
    _huge_png(folder / "f1b.png")
    masks = tmp_path / "masks"
    outcome = astseg("run", "--images", folder, "--model", toy_bundle, "--masks", masks)
    assert_success(outcome)
    assert "processed 3 frames" in outcome.stdout
    assert f"skipped 1 unreadable frames ({folder / 'f1b.png'})" in outcome.stdout
    assert "40000x40000 pixels" in outcome.stderr
    assert sorted(tree(masks)) == ["f0.png", "f1.png", "f2.png"]


def test_opencv_refusing_an_image_is_a_reason_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.png"
    _huge_png(path, 50_000, 30_000)
    with pytest.raises(UnreadableImage, match="50000x30000 pixels"):
        decode_image(path.read_bytes(), cv2.IMREAD_UNCHANGED)

    def asserting(*_: object) -> np.ndarray:
        raise cv2.error("OpenCV(4.x) imgcodecs: (-215:Assertion failed) pixels <= limit")

    monkeypatch.setattr(cv2, "imdecode", asserting)
    ok, png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(UnreadableImage, match="OpenCV: .*Assertion failed"):
        decode_image(png.tobytes(), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize(
    ("err", "words"),
    [
        (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300), "too long"),
        (OSError(errno.ENOTDIR, "Not a directory", "blocker/masks"), "is a file, not a folder"),
        (OSError(errno.ENOSPC, "No space left on device", "/cache/b"), "disk is full"),
        (OverflowError("Python int too large to convert to C int"), "number is too large"),
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (zlib.error("Error -3 while decompressing data: invalid distance"), "zip archive"),
        (NotImplementedError("That compression method is not supported"), "zip archive"),
        (cv2.error("OpenCV(4.x): (-215:Assertion failed)"), "OpenCV could not handle"),
    ],
)
def test_every_kind_of_failure_is_one_sentence_with_what_to_do(
    err: BaseException, words: str
) -> None:
    text, code = cli_errors.sentence(err)
    assert code == cli_errors.USER_ERROR_EXIT
    assert words in text
    assert "\n" not in text and text.endswith(".")


def test_an_unforeseen_error_is_one_line_and_debug_shows_the_traceback(
    toy_bundle: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: object) -> None:
        raise TypeError("an astseg bug")

    monkeypatch.setattr("sdk.run.run_command.run_command", broken)
    outcome = astseg("run", "--video", clip, "--model", toy_bundle)
    assert outcome.crash is None and outcome.code == cli_errors.BUG_EXIT, str(outcome)
    assert "Traceback" not in outcome.stderr
    assert outcome.error_lines == [
        "astseg: error: unexpected TypeError: an astseg bug; this is a bug in astseg. Run again "
        "with ASTSEG_DEBUG=1 for the traceback and report it."
    ]
    debug = astseg("--debug", "run", "--video", clip, "--model", toy_bundle)
    assert "Traceback" in debug.stderr and "an astseg bug" in debug.stderr
    assert len(debug.error_lines) == 1 and debug.code == cli_errors.BUG_EXIT
    monkeypatch.setenv("ASTSEG_DEBUG", "1")
    assert "Traceback" in astseg("run", "--video", clip, "--model", toy_bundle).stderr
    monkeypatch.delenv("ASTSEG_DEBUG")
    assert "Traceback" not in astseg("run", "--video", clip, "--model", toy_bundle).stderr
