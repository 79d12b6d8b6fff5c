"""The HTML report and its timeline: numbers in the SVG, relative links, bounded memory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdk.outputs.report import (
    MARGIN_B,
    MARGIN_T,
    PLOT_H,
    Report,
    lifetimes_svg,
    metric_rows,
    objects_per_frame_svg,
    render,
    write_report,
)
from sdk.outputs.timeline import ClipTimeline, SpreadSample


def _timeline(frames: list[list[int]]) -> ClipTimeline:
    timeline = ClipTimeline()
    for ids in frames:
        timeline.add(ids)
    return timeline


def test_timeline_counts_and_lifetimes() -> None:
    tl = _timeline([[1], [1, 2], [2, 2], [], [1, 3]])
    assert list(tl.counts) == [1, 2, 1, 0, 2]  # a repeated ID counts once
    assert {i: (life.first, life.last, life.frames) for i, life in tl.lifetimes.items()} == {
        1: (0, 4, 3),
        2: (1, 2, 2),
        3: (4, 4, 1),
    }
    assert tl.line() == "1.20 objects per frame on average (at most 2), 3 distinct IDs"
    assert ClipTimeline().line() == "no frames"


@pytest.mark.parametrize("length", [1, 3, 4, 5, 17, 100, 1000, 12345])
def test_spread_sample_covers_the_stream_in_bounded_memory(length: int) -> None:
    sample: SpreadSample[int] = SpreadSample(4)
    most_held = 0
    for i in range(length):
        sample.add(i)
        most_held = max(most_held, len(sample.held))
    chosen = [index for index, _ in sample.chosen()]
    assert most_held < 8
    assert len(chosen) == min(4, length) and chosen == sorted(set(chosen))
    assert chosen[0] == 0
    if length >= 8:  # the last pick sits in the last quarter: the whole stream is covered
        assert chosen[-1] >= 0.75 * (length - 1)
        gaps = [b - a for a, b in zip(chosen, chosen[1:], strict=False)]
        assert max(gaps) <= 2 * min(gaps)  # spread, not bunched


def test_objects_plot_draws_each_count_at_its_height() -> None:
    counts = [0, 1, 2, 3, 4, 4, 2]
    svg = objects_per_frame_svg(_timeline([list(range(n)) for n in counts]))
    points = re.search(r'<polyline points="([^"]+)"', svg)
    assert points is not None
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    plot_h = PLOT_H - MARGIN_T - MARGIN_B
    top = 4.0  # the y axis' highest tick
    assert ys == pytest.approx([MARGIN_T + plot_h * (1 - c / top) for c in counts], abs=0.06)


def test_long_clips_are_binned_to_the_bin_maximum() -> None:
    frames = [[] for _ in range(5000)]
    frames[2500] = [1, 2, 3]  # one busy frame must stay visible
    svg = objects_per_frame_svg(_timeline(frames))
    points = re.search(r'<polyline points="([^"]+)"', svg)
    assert points is not None and len(points.group(1).split()) == 800
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    assert min(ys) < PLOT_H / 2  # the peak survived the binning


def test_lifetime_bars_span_first_to_last_frame() -> None:
    tl = _timeline([[7], [7, 9], [7], [9]])
    svg = lifetimes_svg(tl)
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert titles == ["ID 7: frames 0-2, seen in 3", "ID 9: frames 1-3, seen in 2"]
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', svg)]
    assert widths[1] == pytest.approx(widths[2])  # both span two frame intervals


def test_report_links_are_relative_and_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    (folder / "media").mkdir(parents=True)
    video, sheet = folder / "media" / "a b.mp4", tmp_path / "sheet.png"
    video.write_bytes(b"x")
    sheet.write_bytes(b"x")
    report = Report(
        title="<run> & co",
        video=video,
        images=[("sheet", sheet)],
        metrics=metric_rows([("ari", 0.51234), ("miou", float("nan")), ("frames", 3)]),
        timeline=_timeline([[1], [1]]),
        fps=25.0,
    )
    path = write_report(report, folder)
    page = path.read_text()
    assert path == folder / "index.html" and not list(folder.glob("*.partial*"))
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(set(links)) == ["../sheet.png", "media/a%20b.mp4"]
    assert "&lt;run&gt; &amp; co" in page and "<run>" not in page
    assert re.findall(r'<td class="v">([^<]+)</td>', page) == ["0.5123", "n/a", "3"]
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "seconds" in page  # the clip's FPS gives a time axis


def test_report_without_video_or_frames_has_no_empty_sections(tmp_path: Path) -> None:
    page = render(Report(title="images", metrics=[("ari", "0.5")]), tmp_path)
    assert "<video" not in page and "<svg" not in page and "<img" not in page
