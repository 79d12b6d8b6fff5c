"""`astseg eval`: scores any `Predictor` (a checkpoint now, a deployed bundle through the
sdk runtime later) on any dataset a data spec names, with the same numpy metrics.

Every metric is aggregated into one report that can be written as JSON, printed as a table,
shown as a PNG grid of input | reconstruction | predicted segmentation | ground truth, and
written as an HTML page.
"""

from __future__ import annotations

from pathlib import Path

from training.data.errors import DataError
from training.evaluation.predictors import load_predictor
from training.evaluation.report import GRID_NAME, METRICS_NAME, write_eval_report
from training.evaluation.scoring import evaluate
from training.evaluation.types import EvalReport


def _prepare_output(path: Path) -> None:
    """Create an output's folder before the evaluation, not find it missing after."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot write {path}: its folder cannot be created ({err.strerror or err}); "
            "choose another path"
        ) from None


def _check_outputs_spare_inputs(
    model: str | Path, json_path: str | Path | None, grid_path: str | Path | None
) -> None:
    """`--json` or `--grid` onto the model, a folder, or one file for both: refused first."""
    from sdk.errors import OutputError
    from sdk.outputs.output_paths import check_outputs, output_target

    try:
        targets = {
            flag: output_target(path, flag)
            for flag, path in (("--json", json_path), ("--grid", grid_path))
            if path is not None
        }
        source = Path(model).expanduser()
        inputs = [p for p in source.rglob("*") if p.is_file()] if source.is_dir() else [source]
        check_outputs(targets, {}, inputs)
    except OutputError as err:
        raise DataError(str(err).rstrip(".")) from None


def _check_claims(
    json_path: str | Path | None, grid_path: str | Path | None, report_dir: str | Path | None
) -> None:
    """`--report rep --grid rep/index.html` and the like: refused before the evaluation."""
    from sdk.errors import OutputError
    from sdk.outputs.claims import folder_claim, output_claims, refuse_overlaps
    from sdk.outputs.report import REPORT_NAME

    try:
        claims = output_claims("--json", json_path) + output_claims("--grid", grid_path)
        if report_dir is not None:
            names = [REPORT_NAME, METRICS_NAME] + ([GRID_NAME] if grid_path is None else [])
            claims.append(folder_claim("--report", Path(report_dir), names))
        refuse_overlaps(claims)
    except OutputError as err:
        raise DataError(str(err).rstrip(".")) from None


def run_eval(
    model: str | Path,
    data: str,
    limit: int | None = None,
    json_path: str | Path | None = None,
    grid_path: str | Path | None = None,
    batch_size: int = 16,
    report_dir: str | Path | None = None,
    masks_from: str | None = None,
) -> EvalReport:
    """What `astseg eval` does: load, score, write the JSON, PNG and HTML that were asked for."""
    from training.data.spec import open_dataset

    if limit is not None and limit < 1:
        raise DataError(f"--limit must be at least 1, got {limit}")
    _check_claims(json_path, grid_path, report_dir)
    report_page = Path(report_dir) / "index.html" if report_dir is not None else None
    for target in (json_path, grid_path, report_page):
        if target is not None:
            _prepare_output(Path(target))
    _check_outputs_spare_inputs(model, json_path, grid_path)
    dataset = open_dataset(data)
    # frames of videos are scored as a stream (tracks carried from frame to frame)
    video = len(dataset) > 0 and dataset[0].sequence is not None
    predictor = load_predictor(model, masks_from, video=video)
    report = evaluate(predictor, dataset, limit=limit, batch_size=batch_size)
    mode = getattr(getattr(predictor, "segmenter", None), "masks_from", None)
    report.metrics = {"model": str(model), "data": data, **report.metrics}
    if mode is not None:
        report.metrics["masks_from"] = mode
    if json_path is not None:
        report.write_json(json_path)
    if grid_path is not None:
        report.write_grid(grid_path)
    if report_dir is not None:
        write_eval_report(report, Path(report_dir), Path(grid_path) if grid_path else None)
    return report
