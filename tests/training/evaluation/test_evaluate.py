"""The evaluator against an oracle (scores 1) and deliberately wrong predictors (known
lower scores), on images, CDnet-style video and synthetic video; its JSON, grid and CLI."""

import json
import math

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from sdk.errors import AstsegError
from training.data import (
    Sample,
    SceneConfig,
    SyntheticScenes,
    SyntheticVideo,
    open_dataset,
    write_folder,
)
from training.data.errors import DataError
from training.evaluation.command import run_eval
from training.evaluation.predictors import load_predictor
from training.evaluation.scoring import evaluate
from training.evaluation.types import Prediction


class LookupPredictor:
    """Answers from a table keyed by the image bytes: an oracle, or a transformed one."""

    def __init__(self, dataset, size, answer, reconstruct=True, num_slots=None):
        self.image_size = size
        self.table = {dataset[i].image.tobytes(): dataset[i] for i in range(len(dataset))}
        self.answer = answer
        self.reconstruct = reconstruct
        if num_slots is not None:
            self.num_slots = num_slots

    def predict(self, images):
        samples = [self.table[image.tobytes()] for image in images]
        seg = np.stack([self.answer(s) for s in samples])
        recon = images.astype(np.float32) / 255.0 if self.reconstruct else None
        return Prediction(segmentation=seg, reconstruction=recon)


@pytest.fixture(scope="module")
def scenes():
    return SyntheticScenes(SceneConfig(height=32, width=40, min_objects=1, max_objects=4), 12)


def test_oracle_scores_one(scenes):
    oracle = LookupPredictor(scenes, (32, 40), lambda s: s.mask, num_slots=6)
    report = evaluate(oracle, scenes, batch_size=5, progress=False)
    m = report.metrics
    assert m["images"] == 12 and m["images_with_objects"] == 12
    assert m["ari_fg"] == 1.0 and m["miou_fg"] == 1.0 and m["miou"] == 1.0
    assert m["msc_fg"] == 1.0 and m["mse"] == pytest.approx(0.0, abs=1e-9)


def test_merged_objects_and_black_reconstruction_score_as_computed(scenes):
    wrong = LookupPredictor(scenes, (32, 40), lambda s: (s.mask > 0).astype(int), reconstruct=False)
    wrong.predict = _with_black_reconstruction(wrong.predict)
    report = evaluate(wrong, scenes, limit=10, progress=False)
    ari, miou_fg, msc, err = [], [], [], []
    for i in range(10):
        mask, image = scenes[i].mask, scenes[i].image
        areas = np.bincount(mask.ravel())[1:]
        areas = areas[areas > 0]
        union = areas.sum()
        ari.append(1.0 if len(areas) == 1 else 0.0)  # one predicted label over >= 2 objects
        miou_fg.append(areas.max() / union / len(areas))  # best object pairs with the union
        msc.append(np.mean(areas / union))
        err.append(((image / 255.0) ** 2).sum())
    m = report.metrics
    assert m["images"] == 10
    assert m["ari_fg"] == pytest.approx(np.mean(ari))
    assert m["miou_fg"] == pytest.approx(np.mean(miou_fg))
    assert m["msc_fg"] == pytest.approx(np.mean(msc))
    assert m["mse"] == pytest.approx(np.mean(err))
    assert m["ari_fg"] < 1 and m["miou_fg"] < 0.8


def _with_black_reconstruction(predict):
    def wrapped(images):
        out = predict(images)
        return Prediction(out.segmentation, np.zeros(images.shape, np.float32))

    return wrapped


def test_images_are_resized_to_the_predictor(scenes):
    seen = []

    class Background:
        image_size = (16, 20)

        def predict(self, images):
            seen.append(images.shape)
            return Prediction(np.zeros(images.shape[:3], np.int64), None)

    report = evaluate(Background(), scenes, limit=3, progress=False)
    assert seen == [(3, 16, 20, 3)]
    assert report.metrics["mse"] is None and report.metrics["miou_fg"] == 0.0


def test_bad_predictor_output_is_named(scenes):
    class Wrong:
        image_size = (32, 40)

        def predict(self, images):
            return Prediction(np.zeros((len(images), 8, 8), np.int64), None)

    with pytest.raises(ValueError, match=r"segmentation \(1, 8, 8\); expected \(1, 32, 40\)"):
        evaluate(Wrong(), scenes, limit=1, progress=False)


def test_video_identity_and_cdnet_scores():
    video = SyntheticVideo(SceneConfig(height=32, width=32, max_objects=3, seed=1), 60)
    oracle = LookupPredictor(video, (32, 32), lambda s: s.mask)
    identity = evaluate(oracle, video, progress=False).metrics["identity"]
    assert identity["ids_from"] == "slots"
    assert identity["mean"]["id_switches"] == 0 and identity["mean"]["single_id_share"] == 1.0
    # Slot indices that reshuffle every 20 frames: every visible object switches at each cut.
    shuffled = LookupPredictor(video, (32, 32), lambda s: s.mask * (1 + (s.frame // 20)))
    scores = evaluate(shuffled, video, progress=False).metrics["identity"]["mean"]
    assert scores["id_switches"] > 0 and scores["single_id_share"] < 1.0


def test_cdnet_oracle_and_half_detector(tmp_path):
    root = tmp_path / "seq"
    (root / "input").mkdir(parents=True)
    (root / "groundtruth").mkdir()
    (root / "temporalROI.txt").write_text("1 4")
    for n in range(1, 5):
        cv2.imwrite(str(root / "input" / f"in{n:06d}.png"), np.full((6, 8, 3), 20 * n, np.uint8))
        labels = np.zeros((6, 8), np.uint8)
        labels[:, :4] = 255
        labels[0, :] = 170
        cv2.imwrite(str(root / "groundtruth" / f"gt{n:06d}.png"), labels)
    data = open_dataset(f"cdnet:{root}")
    oracle = LookupPredictor(data, (6, 8), lambda s: (s.motion_labels == 255).astype(int))
    cdnet = evaluate(oracle, data, progress=False).metrics["cdnet"]["mean"]
    assert cdnet["f_measure"] == 1.0 and cdnet["pwc"] == 0.0
    left = LookupPredictor(data, (6, 8), lambda s: np.tile(np.arange(8) < 2, (6, 1)).astype(int))
    cdnet = evaluate(left, data, progress=False).metrics["cdnet"]["mean"]
    assert cdnet["precision"] == 1.0 and cdnet["recall"] == pytest.approx(0.5)
    assert cdnet["f_measure"] == pytest.approx(2 / 3)


def test_json_and_grid_files(tmp_path, scenes):
    oracle = LookupPredictor(scenes, (32, 40), lambda s: s.mask)
    report = evaluate(oracle, scenes, limit=4, grid_images=3, progress=False)
    report.write_json(tmp_path / "m.json")
    report.write_grid(tmp_path / "g.png")
    assert json.loads((tmp_path / "m.json").read_text())["ari_fg"] == 1.0
    grid = cv2.imread(str(tmp_path / "g.png"))
    # 32x40 tiles are scaled x4 to 128x160; header 18 px; 3 rows with 4 px gaps.
    assert grid.shape == (18 + 3 * (128 + 4), 4 * 160 + 3 * 4, 3)
    row = grid[18 : 18 + 128]
    assert (
        row[:, 2 * 164 : 2 * 164 + 160] == row[:, 3 * 164 : 3 * 164 + 160]
    ).all()  # seg == truth
    assert "ari_fg" in report.table()


def test_nan_metrics_are_null_in_json(tmp_path):
    empty = SyntheticScenes(SceneConfig(height=16, width=16, min_objects=0, max_objects=0), 2)
    report = evaluate(LookupPredictor(empty, (16, 16), lambda s: s.mask), empty, progress=False)
    data = json.loads(report.to_json())
    assert data["ari_fg"] is None and data["miou_fg"] is None and data["miou"] == 1.0
    assert not math.isnan(data["miou"])


def test_load_predictor_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_predictor(tmp_path / "none.pt")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(DataError, match="neither a checkpoint"):
        load_predictor(tmp_path / "weights.bin")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "astseg.json").write_text("{}")
    with pytest.raises(AstsegError):
        load_predictor(bundle)


def test_cli_eval_and_synth(tmp_path, monkeypatch, scenes):
    import cli
    import training.evaluation.command

    runner = CliRunner()
    out = tmp_path / "set"
    result = runner.invoke(
        cli.app, ["data", "synth", "--out", str(out), "--count", "6", "--size", "32x40"]
    )
    assert result.exit_code == 0, result.output
    assert len(list((out / "images").iterdir())) == 6
    data = open_dataset(f"folder:{out}")
    monkeypatch.setattr(
        training.evaluation.command,
        "load_predictor",
        lambda *_, **__: LookupPredictor(data, (32, 40), lambda s: s.mask),
    )
    args = ["eval", "--model", "m.pt", "--data", f"folder:{out}", "--limit", "4"]
    result = runner.invoke(
        cli.app, [*args, "--json", str(tmp_path / "e.json"), "--grid", str(tmp_path / "g.png")]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "e.json").read_text())
    assert (
        metrics["images"] == 4 and metrics["ari_fg"] == 1.0 and metrics["data"] == f"folder:{out}"
    )
    assert (tmp_path / "g.png").is_file()
    result = runner.invoke(cli.app, ["data", "synth", "--out", str(out), "--count", "2"])
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli.app, ["eval", "--model", "m.pt", "--data", "nope:x"])
    assert result.exit_code == 2 and "unknown kind 'nope'" in result.output


def _toy_module():
    """The runtime tests' learning-free toy bundle (bright blobs -> slots), loaded by path."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "sdk" / "toy_bundle.py"
    spec = importlib.util.spec_from_file_location("toy_bundle_for_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _toy_bundle_builder():
    return _toy_module().build_toy_bundle


def test_bundle_scored_through_the_sdk_runtime(tmp_path):
    pytest.importorskip("onnxruntime")
    bundle = _toy_bundle_builder()(tmp_path / "bundle", height=32, width=32, slots=3)
    # Bright, well-separated squares on black: exactly what the toy encoder finds.
    images, masks = np.zeros((4, 32, 32, 3), np.uint8), np.zeros((4, 32, 32), np.int32)
    for i in range(4):
        masks[i, 4:12, 4:12], masks[i, 18:28, 16 + i % 2 : 26 + i % 2] = 1, 2
        images[i][masks[i] > 0] = 255
    write_folder(tmp_path / "set", [Sample(images[i], masks[i], name=str(i)) for i in range(4)])
    report = run_eval(bundle, f"folder:{tmp_path / 'set'}", json_path=tmp_path / "b.json")
    m = report.metrics
    assert m["images"] == 4 and m["mse"] is None  # bundles render no reconstruction
    assert m["ari_fg"] > 0.9 and m["miou_fg"] > 0.7


def test_bundle_with_a_background_is_scored_in_fused_mode(tmp_path):
    pytest.importorskip("onnxruntime")
    toy = _toy_module()
    bundle = toy.add_background(
        toy.build_toy_bundle(tmp_path / "bundle", height=32, width=32, slots=1), 48, 48, (0, 0, 0)
    )
    # two separate squares and one slot: the slot takes one, the other is unclaimed foreground
    images, masks = np.zeros((3, 48, 48, 3), np.uint8), np.zeros((3, 48, 48), np.int32)
    for i in range(3):
        masks[i, 4:16, 4:16], masks[i, 28:44, 26 + i : 42 + i] = 1, 2
        images[i][masks[i] > 0] = 255
    write_folder(tmp_path / "set", [Sample(images[i], masks[i], name=str(i)) for i in range(3)])
    data = f"folder:{tmp_path / 'set'}"
    fused = run_eval(bundle, data).metrics
    assert fused["masks_from"] == "fused" and fused["images"] == 3
    assert fused["ari_fg"] > 0.99 and fused["miou_fg"] > 0.95  # both squares, exact outlines
    slots = run_eval(bundle, data, masks_from="slots").metrics
    assert slots["masks_from"] == "slots" and slots["miou_fg"] < 0.75  # one slot, two squares
    with pytest.raises(DataError, match="--masks-from is for model bundles"):
        load_predictor(tmp_path / "set", masks_from="fused")
