"""`astseg eval --report DIR`: the evaluation as one HTML page (sdk/report.py) in DIR.

DIR gets the input | reconstruction | segmentation | truth grid as grid.png (unless --grid
puts it elsewhere, which the page then links to), the metrics as metrics.json, and
index.html with the metrics table, the grid and the objects found in each image; on video
data, where IDs follow objects, also each ID's lifetime.
"""

from __future__ import annotations

from pathlib import Path

from sdk.outputs.report import Report, write_report
from training.evaluation.types import EvalReport

GRID_NAME = "grid.png"  # the report's grid when no --grid is given
METRICS_NAME = "metrics.json"


def table_rows(report: EvalReport) -> list[tuple[str, str]]:
    """The rows `astseg eval` prints, as (name, shown value)."""
    pairs = []
    for line in report.table().splitlines():
        name, _, value = line.partition("  ")
        pairs.append((name.strip(), value.strip()))
    return pairs


def write_eval_report(report: EvalReport, folder: Path, grid_path: Path | None = None) -> Path:
    """Write grid.png (when no grid path was given), metrics.json and index.html."""
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    if report.grid is not None:
        grid = grid_path if grid_path is not None else folder / GRID_NAME
        if grid_path is None:
            report.write_grid(grid)
        images.append(("input | reconstruction | segmentation | ground truth", grid))
    report.write_json(folder / METRICS_NAME)
    model, data = report.metrics.get("model", "?"), report.metrics.get("data", "?")
    page = Report(
        title=f"astseg eval: {model} on {data}",
        images=images,
        metrics=table_rows(report),
        timeline=report.timeline,
        item="frame" if report.sequences else "image",
        lifetimes=report.sequences,
        notes=["all metrics: metrics.json"],
    )
    return write_report(page, folder)
