"""`astseg run` says what it could write, sums up the objects, and writes `--report DIR`."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import pytest
from sdk_media import moving_discs, write_video
from typer.testing import CliRunner

from sdk.run.run_report import NO_OUTPUT_HINT, SHEET_FRAMES, TILE_WIDTH
from tests.mp4_boxes import video_codec_tags


def _run(*args: str) -> tuple[int, str]:
    from cli import app

    result = CliRunner().invoke(app, ["run", *args])
    return result.exit_code, result.output


def test_no_output_option_gets_a_hint_and_a_summary(
    toy_bundle_dir: Path, short_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = _run("--video", str(short_video), "--model", str(toy_bundle_dir), "--quiet")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert NO_OUTPUT_HINT in lines  # one line, even with --quiet
    for option in ("--out", "--json", "--masks", "--report", "--show"):
        assert option in NO_OUTPUT_HINT
    closing = next(line for line in lines if line.startswith("astseg: processed 30 frames"))
    found = re.search(
        r"([\d.]+) objects per frame on average \(at most (\d+)\), (\d+) distinct", closing
    )
    assert found is not None, closing
    assert 0 <= float(found.group(1)) <= int(found.group(2)) and int(found.group(3)) >= 1
    assert list(tmp_path.iterdir()) == []  # and indeed nothing was written
    code, output = _run(
        "--video", str(short_video), "--model", str(toy_bundle_dir), "--json",
        str(tmp_path / "r.jsonl"), "--quiet",
    )  # fmt: skip
    assert code == 0 and NO_OUTPUT_HINT not in output


def test_report_folder_gets_video_sheet_and_page(
    toy_bundle_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_video(tmp_path / "clip.mp4", moving_discs(40), fps=20.0)
    folder = tmp_path / "report"
    code, output = _run(
        "--video", str(clip), "--model", str(toy_bundle_dir), "--report", str(folder), "--quiet"
    )
    assert code == 0, output
    assert sorted(p.name for p in folder.iterdir()) == [
        "annotated.mp4",
        "contact_sheet.png",
        "index.html",
    ]
    assert video_codec_tags(folder / "annotated.mp4") == ["avc1"]
    sheet = cv2.imread(str(folder / "contact_sheet.png"))
    tile_h = round(120 * TILE_WIDTH / 160)
    assert sheet.shape == (SHEET_FRAMES * tile_h, 2 * TILE_WIDTH, 3)
    page = (folder / "index.html").read_text()
    assert sorted(set(re.findall(r'(?:src|href)="([^"]+)"', page))) == [
        "annotated.mp4",
        "contact_sheet.png",
    ]
    assert page.count("<svg") == 2 and '>frames</td><td class="v">40<' in page
    assert "seconds" in page  # the 20 FPS clip gives a time axis
    assert f"wrote {folder / 'annotated.mp4'}" in output and str(folder / "index.html") in output


def test_report_links_to_a_video_written_elsewhere(
    toy_bundle_dir: Path, short_video: Path, tmp_path: Path
) -> None:
    out = tmp_path / "videos" / "a.mp4"
    code, output = _run(
        "--video", str(short_video), "--model", str(toy_bundle_dir), "--out", str(out),
        "--report", str(tmp_path / "rep"), "--quiet",
    )  # fmt: skip
    assert code == 0, output
    assert 'src="../videos/a.mp4"' in (tmp_path / "rep" / "index.html").read_text()
    assert not (tmp_path / "rep" / "annotated.mp4").exists()


def test_a_report_folder_that_is_a_file_is_one_sentence_before_the_run(
    toy_bundle_dir: Path, short_video: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    code, output = _run(
        "--video", str(short_video), "--model", str(toy_bundle_dir), "--report",
        str(blocker / "rep"), "--quiet",
    )  # fmt: skip
    assert code == 2
    folder = blocker / "rep"
    assert output.strip().splitlines() == [
        f"astseg: error: cannot create the folder {folder} for index.html: Not a directory."
    ]


def test_a_rerun_on_the_reports_own_video_does_not_replace_it(
    toy_bundle_dir: Path, short_video: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "rep"
    folder.mkdir()
    video = folder / "annotated.mp4"
    video.write_bytes(short_video.read_bytes())
    before = video.read_bytes()
    for extra in (["--report", str(folder)], ["--out", str(video)]):
        code, output = _run("--video", str(video), "--model", str(toy_bundle_dir), *extra)
        assert code == 2, output
        assert f"{video} is the input" in output and "would destroy the input" in output
        assert video.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["annotated.mp4"]
