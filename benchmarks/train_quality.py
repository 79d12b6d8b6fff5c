"""Training quality: the `cpu` preset trained from scratch on the built-in synthetic scenes
for a wall-time budget, then scored on held-out scenes it never trained on.

    python benchmarks/train_quality.py                # 60 min; results/train_quality.{json,png}
    python benchmarks/train_quality.py --minutes 0.5 --json /tmp/q.json --png /tmp/q.png \
        --curve-png /tmp/q-curve.png

The sample sheet (--png) shows four test scenes: input | background | reconstruction |
segmentation | each slot's layer. The curve (--curve-png, docs/bench-train-quality.png)
plots validation ARI-FG and mIoU-FG against steps and minutes, with the target lines.

Scenes come from one seeded generator: the first `--train-scenes` train (their last
`train.validation_images` form the trainer's validation split, which picks best.pt), the
next `--eval-scenes` are the test set, never seen in training or model selection. The
time budget covers training only (`train(..., time_limit_s=...)`); evaluation comes after.
Targets (issue 22): the exported bundle's default output (fused with the background model)
ARI-FG >= 0.90 and foreground mIoU >= 0.70 on the test scenes; the slots alone (argmax of the
layer weights, the paper's output) ARI-FG >= 0.80 and mIoU-FG >= 0.60. Crowded scenes:
`--objects 8 --set model.num_slots=10 --json benchmarks/results/train_quality_crowded.json
--merge-into benchmarks/results/train_quality.json` adds `crowded_*` keys to the main report
(its sample sheet and curve go beside its JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from common import git_revision, machine, pyplot, save_figure, shown_path  # noqa: E402

from sdk.outputs.atomic import write_bytes_atomic  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TARGET = {"ari_fg": 0.90, "miou_fg": 0.70}  # the default output (issue 22)
SLOTS_TARGET = {"ari_fg": 0.80, "miou_fg": 0.60}  # the slots alone
LOSS_BIN = 100  # steps per point of the loss curve


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="training wall-time budget")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--config", help="YAML overrides over the preset")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--objects", type=int, help="most objects per scene (default: K)")
    parser.add_argument("--background", default="fixed", help="fixed | texture | gradient")
    parser.add_argument("--train-scenes", type=int, default=100_000)
    parser.add_argument("--eval-scenes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0, help="scene generator seed")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--run", type=Path, help="run folder to keep (default: a temp folder)")
    parser.add_argument("--json", type=Path, default=RESULTS / "train_quality.json")
    parser.add_argument("--png", type=Path, help="sample sheet (default: beside --json)")
    parser.add_argument(
        "--curve-png",
        type=Path,
        help="validation curve (default: docs/bench-train-quality.png for the main report, "
        "beside --json otherwise)",
    )
    parser.add_argument(
        "--merge-into",
        type=Path,
        help="also add this run's summary, keys prefixed by --prefix, to that report's summary",
    )
    parser.add_argument("--prefix", default="crowded", help="key prefix for --merge-into")
    args = parser.parse_args()
    main_report = args.json.resolve() == (RESULTS / "train_quality.json").resolve()
    if args.png is None:
        args.png = args.json.with_suffix(".png")
    if args.curve_png is None:
        beside = args.json.with_name(args.json.stem + "-curve.png")
        args.curve_png = ROOT / "docs" / "bench-train-quality.png" if main_report else beside
    if args.merge_into is not None:
        _check_merge_target(parser, args.merge_into)
    return args


def _check_merge_target(parser: argparse.ArgumentParser, path: Path) -> None:
    """--merge-into must name a report with a summary now, not after an hour of training."""
    try:
        summary = json.loads(path.read_text()).get("summary")
    except (OSError, ValueError, AttributeError) as err:
        parser.error(f"--merge-into {path}: not a readable JSON report ({err})")
    if not isinstance(summary, dict):
        parser.error(f"--merge-into {path}: the report has no summary to add keys to")


class Curves:
    """Loss terms averaged over bins of LOSS_BIN steps, and the wall time of every step."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.wall: dict[int, float] = {}
        self.losses: list[dict[str, Any]] = []
        self._bin: list[Any] = []

    def __call__(self, record: Any) -> None:
        self.wall[record.step + 1] = time.perf_counter() - self.start
        self._bin.append(record)
        if len(self._bin) == LOSS_BIN:
            self.flush()

    def flush(self) -> None:
        if not self._bin:
            return
        names = self._bin[-1].losses.keys()
        point = {"step": self._bin[-1].step + 1, "phase": self._bin[-1].phase}
        for name in names:
            values = [r.losses[name] for r in self._bin if name in r.losses]
            point[name] = statistics.fmean(values)
        point["wall_s"] = self.wall[point["step"]]
        self.losses.append(point)
        self._bin = []


def _score(checkpoint: Path, test: Any) -> dict[str, Any]:
    from training.evaluation.checkpoint_predictor import CheckpointPredictor
    from training.evaluation.scoring import evaluate

    report = evaluate(CheckpointPredictor(checkpoint), test, batch_size=50, progress=False)
    return report.metrics


def _score_deployed(checkpoint: Path, test: Any, folder: Path) -> dict[str, dict[str, Any]]:
    """The checkpoint exported as `astseg export` does, scored through the runtime: its
    default output (fused with the background model where the bundle has one) and the
    slots alone (argmax of the layer weights, the paper's output)."""
    from export.bundle import ExportOptions, export_bundle
    from export.errors import ExportError
    from training.evaluation.predictors import SegmenterPredictor
    from training.evaluation.scoring import evaluate

    try:
        bundle = export_bundle(checkpoint, folder, ExportOptions(), log=lambda _: None).bundle
    except ExportError as err:  # the report still gets the checkpoint's own scores
        return {"error": {"export": str(err)}}
    scores: dict[str, dict[str, Any]] = {}
    for mode, masks_from in (("default", None), ("slots", "slots")):
        predictor = SegmenterPredictor(bundle, masks_from)
        report = evaluate(predictor, test, batch_size=50, progress=False)
        scores[mode] = {**report.metrics, "masks_from": predictor.segmenter.masks_from}
    return scores


def _merge_summary(path: Path, prefix: str, summary: dict[str, Any]) -> None:
    """Adds `summary` as `<prefix>_<key>` keys to the summary of the report at `path`."""
    report = json.loads(path.read_text())
    report["summary"].update({f"{prefix}_{k}": v for k, v in summary.items()})
    write_bytes_atomic(path, (json.dumps(report, indent=2, allow_nan=False) + "\n").encode())


def _step_of(checkpoint: Path) -> int:
    from training.checkpoint import load_checkpoint

    return int(load_checkpoint(checkpoint)["step"])


def _write_sheet(checkpoint: Path, test: Any, path: Path, title: str) -> None:
    import torch

    from training.checkpoint import load_model
    from training.trainer.run_folder import write_run_file
    from training.trainer.samples import sheet_png

    model, _, _ = load_model(checkpoint)
    images = torch.stack(
        [torch.from_numpy(test[i].image).permute(2, 0, 1).float() / 255.0 for i in range(4)]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_run_file(path, sheet_png(model, images, title))


def main() -> None:
    args = _args()
    import onnxruntime  # noqa: F401

    import export.bundle  # noqa: F401  scoring exports the model: fail now, not after training
    from training.data.sample import Subset
    from training.data.synthetic import SceneConfig, SyntheticScenes
    from training.trainer import resolve_config, train

    config = resolve_config(args.preset, args.config, args.sets)
    model = config.model
    scenes = SyntheticScenes(
        SceneConfig(
            height=model.image_height,
            width=model.image_width,
            max_objects=args.objects or model.num_slots,
            background=args.background,
            seed=args.seed,
        ),
        args.train_scenes + args.eval_scenes,
    )
    train_set = Subset(scenes, range(args.train_scenes))
    test_set = Subset(scenes, range(args.train_scenes, args.train_scenes + args.eval_scenes))
    run_dir = args.run or Path(tempfile.mkdtemp(prefix="train_quality-")) / "run"
    curves = Curves()
    result = train(
        config,
        train_set,
        run_dir,
        device=args.device,
        time_limit_s=args.minutes * 60,
        on_step=curves,
    )
    curves.flush()
    checkpoints = {"final": result.checkpoint}
    if (run_dir / "checkpoints" / "best.pt").is_file():
        checkpoints["best"] = run_dir / "checkpoints" / "best.pt"
    evaluation = {name: _score(path, test_set) for name, path in checkpoints.items()}
    reported = "best" if "best" in evaluation else "final"
    deployed = _score_deployed(checkpoints[reported], test_set, run_dir / "bundle")
    # without a bundle (the export failed, said in `deployed`), the checkpoint's slot argmax
    metrics = deployed.get("default", {**evaluation[reported], "masks_from": "checkpoint"})
    slots = deployed.get("slots", evaluation[reported])
    args.png.parent.mkdir(parents=True, exist_ok=True)
    _write_sheet(
        checkpoints[reported],
        test_set,
        args.png,
        f"{args.preset} preset, {reported} checkpoint (step {_step_of(checkpoints[reported])} "
        f"of {result.step}, {result.wall_s / 60:.1f} min), test scenes",
    )
    # Metric vs. step on the validation split (the test scenes are scored once, at the end).
    curve = [{**v, "wall_s": curves.wall.get(v["step"])} for v in result.validations]
    summary = {
        "ari_fg": metrics["ari_fg"],
        "miou_fg": metrics["miou_fg"],
        "masks_from": metrics["masks_from"],
        "slots_ari_fg": slots["ari_fg"],
        "slots_miou_fg": slots["miou_fg"],
        "mse": evaluation[reported]["mse"],  # the bundle renders no reconstruction
        "wall_s": result.wall_s,
        "steps": result.step,
        "miou": metrics["miou"],
        "msc_fg": metrics["msc_fg"],
        "model": reported,
        "target_met": all((metrics.get(k) or 0.0) >= v for k, v in TARGET.items())
        and all((slots.get(k) or 0.0) >= v for k, v in SLOTS_TARGET.items()),
    }
    report = {
        "benchmark": "train_quality",
        "command": shlex.join([sys.executable, *sys.argv]),
        "git_revision": git_revision(),
        "machine": machine(args.device),
        "budget_minutes": args.minutes,
        "config": config.to_dict(),
        "data": {
            "generator": scenes.description,
            "max_objects": scenes.config.max_objects,
            "seed": args.seed,
            "train_scenes": args.train_scenes,
            "validation_scenes": config.train.validation_images,
            "test_scenes": [args.train_scenes, args.train_scenes + args.eval_scenes],
        },
        "training": {
            "status": result.status,
            "steps": result.step,
            "planned_steps": result.total_steps,
            "wall_s": result.wall_s,
            "skipped_steps": result.skipped_steps,
        },
        "target": TARGET,
        "target_slots": SLOTS_TARGET,
        "evaluation": evaluation,  # the checkpoints in PyTorch (slots' argmax)
        "deployed": deployed,  # the exported bundle through the runtime
        "validation_curve": curve,
        "loss_curve": curves.losses,
        "sample_png": shown_path(args.png),
        "summary": summary,
    }
    if curve:
        _plot_curve(curve, summary, report["machine"], args.curve_png)
        report["curve_png"] = shown_path(args.curve_png)
    text = json.dumps(_finite(report), indent=2, allow_nan=False) + "\n"
    write_bytes_atomic(args.json, text.encode())
    if args.merge_into is not None:
        _merge_summary(args.merge_into, args.prefix, summary)
    if args.run is None:
        shutil.rmtree(run_dir.parent, ignore_errors=True)
    print(json.dumps(summary, indent=2))


def _plot_curve(
    curve: list[dict[str, Any]], summary: dict[str, Any], host: dict[str, Any], path: Path
) -> None:
    """Validation ARI-FG and mIoU-FG against steps (minutes on the top axis), the targets
    dashed and the final test-set scores as points at the last step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    steps = [v["step"] for v in curve]
    for key, label, colour in (("ari_fg", "ARI-FG", "#1f77b4"), ("miou_fg", "mIoU-FG", "#e6550d")):
        values = [v.get(key) for v in curve]
        ax.plot(
            steps, values, marker="o", markersize=3, color=colour, label=f"{label} (validation)"
        )
        ax.axhline(TARGET[key], color=colour, linestyle="--", linewidth=0.8)
        ax.text(steps[0], TARGET[key], f" target {label} {TARGET[key]:.2f}", color=colour,
                fontsize=7, va="bottom")  # fmt: skip
        if summary.get(key) is not None:
            test_label = f"{label} on the test scenes: {summary[key]:.3f}"
            ax.plot([summary["steps"]], [summary[key]], marker="*", markersize=11, color=colour,
                    linestyle="none", label=test_label)  # fmt: skip
    ax.set_ylim(0, 1)
    ax.set_xlabel("training step (background phase included)")
    ax.set_ylabel("score")
    minutes = [(v.get("wall_s") or 0.0) / 60 for v in curve]
    if all(m > 0 for m in minutes) and len(steps) > 1:
        top = ax.secondary_xaxis(
            "top",
            functions=(
                lambda x: np.interp(x, steps, minutes),
                lambda m: np.interp(m, minutes, steps),
            ),
        )
        top.set_xlabel("wall minutes")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("cpu preset from scratch, no labels: held-out quality while training", loc="left")
    footer = f"{host.get('cpu')}, {host.get('cores')} cores, {summary['wall_s'] / 60:.1f} min"
    save_figure(fig, path, footer)


def _finite(value: Any) -> Any:
    """JSON has no NaN: an undefined metric is null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


if __name__ == "__main__":
    main()
