"""`astseg eval`: scores any `Predictor` (a checkpoint now, a deployed bundle through the
sdk runtime later) on any dataset a data spec names, with the same numpy metrics.

Images are resized to the predictor's size (masks and CDnet labels by nearest neighbour),
run in batches behind a progress bar, and every metric is aggregated into one report that
can be written as JSON, printed as a table, and shown as a PNG grid of
input | reconstruction | predicted segmentation | ground truth.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from tqdm import tqdm

from sdk.outputs.output_paths import write_output as atomic_write_bytes
from sdk.outputs.output_paths import write_output as atomic_write_text
from sdk.outputs.timeline import ClipTimeline
from training.data.errors import DataError
from training.data.imageio import encode_png
from training.data.sample import Sample, SampleDataset, resize_sample
from training.metrics import (
    ChangeCounts,
    IdentityCounter,
    ari_fg,
    change_counts,
    matched_iou,
    msc_fg,
    mse,
)

# input, reconstruction, segmentation, ground truth (ids or CDnet labels)
GridRow = tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]


class PredictionLike(Protocol):
    segmentation: np.ndarray  # int [N, H, W], 0 = background, k = slot k
    reconstruction: np.ndarray | None  # float32 [N, H, W, 3] in [0, 1]


@dataclass
class Prediction:
    """What a predictor returns; `tracks` (optional) are per-pixel track ids for identity
    metrics on video (when absent, the segmentation's slot indices are used)."""

    segmentation: np.ndarray
    reconstruction: np.ndarray | None = None
    tracks: np.ndarray | None = None


class Predictor(Protocol):
    """Anything that segments a batch of RGB uint8 images [N, H, W, 3] at `image_size`."""

    @property
    def image_size(self) -> tuple[int, int]: ...  # (height, width)

    def predict(self, images: np.ndarray) -> PredictionLike: ...


@dataclass
class _Means:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        if not math.isnan(value):
            self.values.setdefault(name, []).append(value)

    def mean(self, name: str) -> float | None:
        values = self.values.get(name)
        return float(np.mean(values)) if values else None

    def count(self, name: str) -> int:
        return len(self.values.get(name, []))


@dataclass
class EvalReport:
    """Every metric of one evaluation; `grid` is the picture (uint8 RGB) or None."""

    metrics: dict[str, Any]
    grid: np.ndarray | None = None
    # objects (IDs: tracks, else segmentation labels) in each scored image, in order
    timeline: ClipTimeline = field(default_factory=ClipTimeline)
    sequences: bool = False  # whether the images were frames of videos

    def to_json(self) -> str:
        return json.dumps(_finite(self.metrics), indent=2) + "\n"

    def write_json(self, path: str | Path) -> None:
        atomic_write_text(path, self.to_json())

    def write_grid(self, path: str | Path) -> None:
        if self.grid is None:
            raise DataError("no grid was drawn (the evaluation saw no images)")
        atomic_write_bytes(path, encode_png(self.grid))

    def table(self) -> str:
        """A plain-text table of the headline numbers, one metric per line."""
        rows = [(key, value) for key, value in self.metrics.items() if not isinstance(value, dict)]
        for section in ("cdnet", "identity"):
            for key, value in self.metrics.get(section, {}).get("mean", {}).items():
                rows.append((f"{section}.{key}", value))
        width = max(len(k) for k, _ in rows)
        lines = []
        for key, value in rows:
            text = "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else value
            lines.append(f"{key.ljust(width)}  {text}")
        return "\n".join(lines)


def _finite(value: Any) -> Any:
    """NaN is not JSON: undefined numbers become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num_layers(predictor: Predictor) -> int:
    """K + 1 when the predictor tells its slot count (pads mIoU matching like ClevrTex)."""
    slots = getattr(predictor, "num_slots", None)
    config = getattr(predictor, "config", None)
    if slots is None and config is not None:
        slots = getattr(getattr(config, "model", None), "num_slots", None)
    return int(slots) + 1 if isinstance(slots, int) else 0


def _check_prediction(prediction: PredictionLike, count: int, size: tuple[int, int]) -> None:
    seg = np.asarray(prediction.segmentation)
    if seg.shape != (count, *size):
        raise ValueError(f"predictor returned segmentation {seg.shape}; expected {(count, *size)}")
    recon = prediction.reconstruction
    if recon is not None and np.asarray(recon).shape != (count, *size, 3):
        raise ValueError(
            f"predictor returned reconstruction {np.asarray(recon).shape}; expected "
            f"{(count, *size, 3)}"
        )


class Evaluator:
    """Accumulates metrics batch by batch; `report()` gives the totals."""

    def __init__(self, num_layers: int = 0, grid_images: int = 6) -> None:
        self.num_layers = num_layers
        self.grid_images = grid_images
        self.means = _Means()
        self.images = 0
        self.images_with_masks = 0
        self.change: dict[str, ChangeCounts] = {}
        self.identity: dict[str, IdentityCounter] = {}
        self.tracks_given = False
        self.grid_rows: list[GridRow] = []
        self.timeline = ClipTimeline()
        self.sequences = False

    def add(self, samples: list[Sample], prediction: PredictionLike) -> None:
        segmentation = np.asarray(prediction.segmentation)
        recon = prediction.reconstruction
        tracks = getattr(prediction, "tracks", None)
        self.tracks_given |= tracks is not None
        for i, sample in enumerate(samples):
            self.images += 1
            seg = segmentation[i]
            shown = seg if tracks is None else np.asarray(tracks[i])
            self.timeline.add(int(v) for v in np.unique(shown) if v > 0)
            self.sequences |= sample.sequence is not None
            if recon is not None:
                self.means.add("mse", float(mse(sample.image, np.asarray(recon[i]))))
            if sample.mask is not None:
                self.images_with_masks += 1
                if (sample.mask > 0).any():
                    self.means.add("ari_fg", ari_fg(sample.mask, seg))
                miou_fg, miou = matched_iou(sample.mask, seg, self.num_layers)
                self.means.add("miou_fg", miou_fg)
                self.means.add("miou", miou)
                self.means.add("msc_fg", msc_fg(sample.mask, seg))
                if sample.sequence is not None:
                    ids = seg if tracks is None else np.asarray(tracks[i])
                    self.identity.setdefault(sample.sequence, IdentityCounter()).update(
                        sample.mask, ids
                    )
            if sample.motion_labels is not None:
                counts = change_counts(seg > 0, sample.motion_labels)
                key = sample.sequence or "images"
                self.change[key] = self.change.get(key, ChangeCounts()) + counts
            if len(self.grid_rows) < self.grid_images:
                truth = sample.mask if sample.mask is not None else sample.motion_labels
                rec = None if recon is None else np.asarray(recon[i])
                self.grid_rows.append((sample.image, rec, seg, truth))

    def report(self) -> EvalReport:
        m = self.means
        metrics: dict[str, Any] = {
            "images": self.images,
            "images_with_masks": self.images_with_masks,
            "images_with_objects": m.count("ari_fg"),
            "ari_fg": m.mean("ari_fg"),
            "miou_fg": m.mean("miou_fg"),
            "miou": m.mean("miou"),
            "msc_fg": m.mean("msc_fg"),
            "mse": m.mean("mse"),
        }
        if self.change:
            per = {name: c.scores() for name, c in self.change.items()}
            metrics["cdnet"] = {"mean": _mean_of(per), "sequences": per}
        if self.identity:
            per_id = {name: asdict(c.result()) for name, c in self.identity.items()}
            metrics["identity"] = {
                "ids_from": "tracks" if self.tracks_given else "slots",
                "mean": _mean_of(per_id),
                "sequences": per_id,
            }
        grid = draw_grid(self.grid_rows) if self.grid_rows else None
        return EvalReport(metrics, grid, self.timeline, self.sequences)


def _mean_of(per: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    keys = next(iter(per.values())).keys()
    out: dict[str, float | None] = {}
    for key in keys:
        values = [float(v[key]) for v in per.values() if v[key] is not None]
        values = [v for v in values if math.isfinite(v)]
        out[key] = float(np.mean(values)) if values else None
    return out


def evaluate(
    predictor: Predictor,
    dataset: SampleDataset,
    limit: int | None = None,
    batch_size: int = 16,
    grid_images: int = 6,
    progress: bool = True,
) -> EvalReport:
    """Runs `predictor` over the first `limit` samples of `dataset` and scores them."""
    if batch_size < 1:
        raise DataError(f"batch size must be at least 1, got {batch_size}")
    count = len(dataset) if limit is None else min(limit, len(dataset))
    if count == 0:
        raise DataError(f"{dataset.description} has no samples to evaluate")
    size = tuple(int(s) for s in predictor.image_size)
    if len(size) != 2:
        raise ValueError(f"predictor image_size must be (height, width), got {size}")
    evaluator = Evaluator(_num_layers(predictor), grid_images)
    with tqdm(total=count, desc="evaluating", unit="img", disable=not progress) as bar:
        for start in range(0, count, batch_size):
            samples = [
                resize_sample(dataset[i], (size[0], size[1]))
                for i in range(start, min(start + batch_size, count))
            ]
            images = np.stack([s.image for s in samples])
            prediction = predictor.predict(images)
            _check_prediction(prediction, len(samples), (size[0], size[1]))
            evaluator.add(samples, prediction)
            bar.update(len(samples))
    return evaluator.report()


# ------------------------------------------------------------------ the picture
_HEADERS = ("input", "reconstruction", "segmentation", "ground truth")
_BACKGROUND_COLOUR = (32, 32, 32)


def colourise(labels: np.ndarray) -> np.ndarray:
    """Label map -> RGB: 0 dark grey, each id its own hue (golden-ratio spacing)."""
    ids = np.asarray(labels, np.int64)
    hue = ((ids * 0.618033988749895) % 1.0 * 180).astype(np.uint8)
    hsv = np.stack([hue, np.full_like(hue, 200), np.full_like(hue, 235)], axis=-1)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    rgb[ids == 0] = _BACKGROUND_COLOUR
    return rgb


def _tile(content: np.ndarray | None, size: tuple[int, int]) -> np.ndarray:
    if content is None:
        tile = np.full((*size, 3), 96, np.uint8)
        cv2.putText(tile, "n/a", (4, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (200,) * 3, 1)
        return tile
    return cv2.resize(content, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


def draw_grid(rows: list[GridRow]) -> np.ndarray:
    """One row per image: input | reconstruction | predicted segmentation | ground truth."""
    height, width = rows[0][0].shape[:2]
    scale = max(1, math.ceil(128 / max(height, width)))
    size = (height * scale, width * scale)
    gap = 4
    header = np.full((18, 4 * size[1] + 3 * gap, 3), 255, np.uint8)
    for k, text in enumerate(_HEADERS):
        cv2.putText(
            header, text, (k * (size[1] + gap) + 2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1
        )
    lines = [header]
    for image, recon, seg, truth in rows:
        recon_u8 = None if recon is None else np.clip(np.rint(recon * 255), 0, 255).astype(np.uint8)
        tiles = [
            _tile(image, size),
            _tile(recon_u8, size),
            _tile(colourise(seg), size),
            _tile(None if truth is None else colourise(truth), size),
        ]
        spacer = np.full((size[0], gap, 3), 255, np.uint8)
        lines.append(
            np.concatenate([tiles[0], spacer, tiles[1], spacer, tiles[2], spacer, tiles[3]], 1)
        )
        lines.append(np.full((gap, header.shape[1], 3), 255, np.uint8))
    return np.concatenate(lines, 0)


# ------------------------------------------------------------------ which predictor
def is_bundle(path: Path) -> bool:
    return (path.is_dir() and (path / "astseg.json").is_file()) or path.suffix.lower() == ".zip"


def load_predictor(path: str | Path, masks_from: str | None = None) -> Predictor:
    """A checkpoint (`.pt` file or run folder) or a model bundle (folder or `.zip`).

    masks_from ("fused", "slots", "background") is the runtime's mode (sdk.Segmenter);
    None takes the bundle's default.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"model {path} does not exist")
    if is_bundle(path):
        return _bundle_predictor(path, masks_from)
    if masks_from is not None:
        raise DataError(
            f"--masks-from is for model bundles and {path} is a checkpoint; export it with "
            "`astseg export` and evaluate the bundle"
        )
    if path.suffix == ".pt" or path.is_dir():
        try:
            from training.predictor import CheckpointPredictor
        except ImportError as err:
            raise DataError(
                f"scoring checkpoint {path} needs the training install (torch): {err}"
            ) from None
        return CheckpointPredictor(path)
    raise DataError(
        f"{path} is neither a checkpoint (.pt file or run folder) nor a model bundle "
        "(folder or .zip with astseg.json)"
    )


class SegmenterPredictor:
    """A deployed bundle scored through the torch-free runtime (`sdk.Segmenter`): the
    segmentation is the runtime's slot map, `tracks` its track IDs (reported objects only);
    bundles render no reconstruction, so MSE is left undefined."""

    def __init__(self, path: str | Path, masks_from: str | None = None) -> None:
        from sdk import Segmenter

        # every image gets its own background: an image set need not be one stream
        self.segmenter = Segmenter(
            path, channels="rgb", min_area=1, masks_from=masks_from, background_every=1
        )
        spec = self.segmenter.spec
        self.image_size = (spec.image_height, spec.image_width)
        background = self.segmenter.bundle.manifest.background
        if self.segmenter.masks_from != "slots" and background is not None:
            # the foreground is made at the background graph's size, so score there
            self.image_size = (background.image_height, background.image_width)
        self.num_slots = spec.num_slots

    def predict(self, images: np.ndarray) -> Prediction:
        results = self.segmenter.batch(list(images))
        return Prediction(
            segmentation=np.stack([r.slot_labels for r in results]).astype(np.int64),
            reconstruction=None,
            tracks=np.stack([r.label_map for r in results]),
        )


def _bundle_predictor(path: Path, masks_from: str | None = None) -> Predictor:
    """A deployed bundle, scored through the same `sdk.Segmenter` code path `astseg run` uses."""
    return SegmenterPredictor(path, masks_from)


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
    report_page = Path(report_dir) / "index.html" if report_dir is not None else None
    for target in (json_path, grid_path, report_page):
        if target is not None:
            _prepare_output(Path(target))
    _check_outputs_spare_inputs(model, json_path, grid_path)
    dataset = open_dataset(data)
    predictor = load_predictor(model, masks_from)
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
        from training.eval_report import write_eval_report

        write_eval_report(report, Path(report_dir), Path(grid_path) if grid_path else None)
    return report
