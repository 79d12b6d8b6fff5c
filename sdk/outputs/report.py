"""One self-contained `index.html` that shows a run: video, pictures, metrics and two plots.

Everything is in the one file or linked by a relative path (the video and the images sit
beside it), nothing is fetched from the network, and the plots are inline SVG drawn from
the numbers here, so the report needs no plotting library and opens from a folder, a zip
or a file share in any browser.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

from sdk.draw import id_colour
from sdk.outputs.output_paths import ensure_parent, write_output_file
from sdk.outputs.timeline import ClipTimeline

REPORT_NAME = "index.html"
PLOT_W, PLOT_H = 760, 220
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 48, 12, 12, 34
MAX_POINTS = 800  # objects-per-frame bins; each shows the bin's maximum, so peaks survive
MAX_LIFETIMES = 60  # ID rows drawn; the longest-lived ones


@dataclass
class Report:
    """What a report shows; every path is turned into a link relative to the report."""

    title: str
    video: Path | None = None
    images: list[tuple[str, Path]] = field(default_factory=list)  # (caption, file)
    metrics: list[tuple[str, str]] = field(default_factory=list)  # (name, shown value)
    timeline: ClipTimeline | None = None
    fps: float | None = None  # frames per second of the clip, for a time axis
    notes: list[str] = field(default_factory=list)
    item: str = "frame"  # what the timeline steps over: "frame", or "image" for image sets
    lifetimes: bool = True  # ID lifetimes mean something only where IDs follow objects


def _link(target: Path, folder: Path) -> str:
    relative = os.path.relpath(target.resolve(), folder.resolve())
    return quote(Path(relative).as_posix())


def _axis_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [float(v) for v in np.arange(0, top + step * 0.999, step)]


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.3g}"


def _frame_axis(fps: float | None, item: str) -> tuple[float, str]:
    """(units per frame, label) of the x axis: seconds when the clip's FPS is known."""
    if fps and fps > 0:
        return 1.0 / fps, "seconds"
    return 1.0, item


def _svg_frame(inner: list[str], x_ticks: list[tuple[float, str]], x_label: str) -> str:
    plot_w = PLOT_W - MARGIN_L - MARGIN_R
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PLOT_W} {PLOT_H}" '
        f'width="{PLOT_W}" height="{PLOT_H}" role="img">',
        f'<rect x="{MARGIN_L}" y="{MARGIN_T}" width="{plot_w}" '
        f'height="{PLOT_H - MARGIN_T - MARGIN_B}" fill="#fafafa" stroke="#ccc"/>',
        *inner,
    ]
    base = PLOT_H - MARGIN_B
    for x, text in x_ticks:
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="#555"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle" font-size="11">{text}</text>'
        )
    parts.append(
        f'<text x="{MARGIN_L + plot_w / 2:.1f}" y="{PLOT_H - 3}" text-anchor="middle" '
        f'font-size="11" fill="#444">{html.escape(x_label)}</text></svg>'
    )
    return "\n".join(parts)


def _x_ticks(
    frames: int, fps: float | None, item: str = "frame"
) -> tuple[list[tuple[float, str]], str]:
    unit, label = _frame_axis(fps, item)
    span = max(frames - 1, 1)
    plot_w = PLOT_W - MARGIN_L - MARGIN_R
    ticks = [t for t in _axis_ticks(span * unit) if t <= span * unit + 1e-9]
    return [(MARGIN_L + t / (span * unit) * plot_w, _fmt(t)) for t in ticks], label


def objects_per_frame_svg(
    timeline: ClipTimeline, fps: float | None = None, item: str = "frame"
) -> str:
    """A step plot of how many objects each frame held (bins keep their maximum)."""
    counts = np.frombuffer(timeline.counts, dtype=np.uint16).astype(np.float64)
    frames = len(counts)
    if frames == 0:
        return ""
    edges = np.linspace(0, frames, min(frames, MAX_POINTS) + 1).astype(int)
    peaks = np.maximum.reduceat(counts, edges[:-1])
    centres = (edges[:-1] + np.maximum(edges[1:] - 1, edges[:-1])) / 2
    top = max(float(peaks.max()), 1.0)
    y_ticks = _axis_ticks(top)
    top = y_ticks[-1]
    plot_w = PLOT_W - MARGIN_L - MARGIN_R
    plot_h = PLOT_H - MARGIN_T - MARGIN_B
    span = max(frames - 1, 1)
    xs = MARGIN_L + centres / span * plot_w
    ys = MARGIN_T + plot_h * (1 - peaks / top)
    inner = []
    for value in y_ticks:
        y = MARGIN_T + plot_h * (1 - value / top)
        inner.append(
            f'<line x1="{MARGIN_L}" x2="{PLOT_W - MARGIN_R}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e4e4e4"/><text x="{MARGIN_L - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_fmt(value)}</text>'
        )
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    inner.append(f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>')
    ticks, label = _x_ticks(frames, fps, item)
    return _svg_frame(inner, ticks, label)


def lifetimes_svg(timeline: ClipTimeline, fps: float | None = None) -> str:
    """One row per ID (the longest-lived first, in order of appearance): first to last frame."""
    frames = timeline.frames
    if frames == 0 or not timeline.lifetimes:
        return ""
    longest = sorted(timeline.lifetimes.items(), key=lambda kv: -kv[1].frames)[:MAX_LIFETIMES]
    rows = sorted(longest, key=lambda kv: (kv[1].first, kv[0]))
    plot_w = PLOT_W - MARGIN_L - MARGIN_R
    plot_h = PLOT_H - MARGIN_T - MARGIN_B
    row_h = plot_h / len(rows)
    span = max(frames - 1, 1)
    inner = []
    for row, (ident, life) in enumerate(rows):
        y = MARGIN_T + row * row_h
        x0 = MARGIN_L + life.first / span * plot_w
        x1 = MARGIN_L + life.last / span * plot_w
        b, g, r = id_colour(ident)  # the colour the video draws this ID in
        colour = f"#{r:02x}{g:02x}{b:02x}"
        present = life.frames / (life.last - life.first + 1)
        inner.append(
            f'<rect x="{x0:.1f}" y="{y + row_h * 0.15:.1f}" width="{max(x1 - x0, 1.5):.1f}" '
            f'height="{max(row_h * 0.7, 0.8):.1f}" fill="{colour}" '
            f'fill-opacity="{0.35 + 0.65 * present:.2f}">'
            f"<title>ID {ident}: frames {life.first}-{life.last}, seen in {life.frames}</title>"
            "</rect>"
        )
        if row_h >= 9:
            inner.append(
                f'<text x="{MARGIN_L - 6}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" '
                f'font-size="{min(11, row_h - 1):.0f}">{ident}</text>'
            )
    ticks, label = _x_ticks(frames, fps)
    return _svg_frame(inner, ticks, label)


CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left}
td.v{font-variant-numeric:tabular-nums;text-align:right}
video{width:640px}video,img{max-width:100%;border:1px solid #ccc}figure{margin:0 0 16px 0}
figcaption,.note{color:#555;font-size:13px}
"""


def render(report: Report, folder: Path) -> str:
    """The report's HTML, with every link relative to `folder`."""
    e = html.escape
    body = [f"<h1>{e(report.title)}</h1>"]
    body += [f'<p class="note">{e(note)}</p>' for note in report.notes]
    if report.video is not None:
        src = _link(report.video, folder)
        body.append(
            "<h2>Annotated video</h2>"
            f'<video id="annotated" controls muted playsinline preload="auto" src="{src}"></video>'
            f'<p class="note"><a href="{src}">{e(report.video.name)}</a></p>'
        )
    for caption, image in report.images:
        body.append(
            f'<h2>{e(caption)}</h2><figure><img src="{_link(image, folder)}" '
            f'alt="{e(caption)}"><figcaption>{e(image.name)}</figcaption></figure>'
        )
    if report.metrics:
        rows = "".join(
            f'<tr><td>{e(name)}</td><td class="v">{e(value)}</td></tr>'
            for name, value in report.metrics
        )
        body.append(f'<h2>Metrics</h2><table id="metrics">{rows}</table>')
    if report.timeline is not None and report.timeline.frames:
        tl = report.timeline
        line = tl.line().replace("per frame", f"per {report.item}")
        body.append(f"<h2>Objects per {e(report.item)}</h2><p class='note'>{e(line)}</p>")
        body.append(objects_per_frame_svg(tl, report.fps, report.item))
        if tl.lifetimes and report.lifetimes:
            shown = min(len(tl.lifetimes), MAX_LIFETIMES)
            body.append(
                "<h2>ID lifetimes</h2><p class='note'>Each bar runs from the first to the last "
                f"frame an ID was seen; paler bars were seen in fewer of those frames. "
                f"{shown} of {len(tl.lifetimes)} IDs shown.</p>"
            )
            body.append(lifetimes_svg(tl, report.fps))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(report.title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_report(report: Report, folder: Path) -> Path:
    """Write `folder/index.html` whole (partial name, then rename); return its path."""
    path = folder / REPORT_NAME
    ensure_parent(path)
    write_output_file(path, render(report, folder).encode("utf-8"))
    return path


def metric_rows(values: Sequence[tuple[str, float | int | str | None]]) -> list[tuple[str, str]]:
    """(name, value) pairs shown with 4 decimals for floats and 'n/a' for missing ones."""
    shown = []
    for name, value in values:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            text = "n/a"
        elif isinstance(value, float):
            text = f"{value:.4f}"
        else:
            text = str(value)
        shown.append((name, text))
    return shown
