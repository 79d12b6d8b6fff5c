"""The bundle `astseg export` writes: contract, parity, dynamic batch, atomic replacement."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from export import parity as parity_module
from export.bundle import ExportOptions, export_bundle
from export.errors import ExportError
from export.sample_images import sample_images
from sdk.bundle.bundle import load_bundle
from tests.export.conftest import Exported, tiny_model, write_checkpoint
from training.checkpoint import load_model

LATENTS = ["position", "scale", "log_activation", "z_what"]


def _manifest(exported: Exported) -> dict:
    return json.loads((exported.bundle / "astseg.json").read_text())


def _session(exported: Exported, graph: str) -> ort.InferenceSession:
    return ort.InferenceSession(str(exported.bundle / f"{graph}.onnx"))


def test_the_runtime_accepts_the_bundle_and_its_zip(segformer_dynamic: Exported) -> None:
    bundle = load_bundle(segformer_dynamic.bundle)
    assert bundle.manifest.graphs == {
        "encoder": "encoder.onnx",
        "renderer": "renderer.onnx",
        "segmenter": "segmenter.onnx",
        # A checkpoint that says nothing about its run is taken as having a trained
        # background model: fixed-camera mode, at the image size of its old config.
        "background": "background.onnx",
    }
    assert bundle.manifest.batch.dynamic and bundle.manifest.batch.max == 4
    zipped = load_bundle(segformer_dynamic.result.zip_path)
    assert zipped.manifest.files == bundle.manifest.files


def test_manifest_fields_follow_the_contract(segformer_dynamic: Exported) -> None:
    m = _manifest(segformer_dynamic)
    assert (m["format"], m["format_version"], m["opset"]) == ("astseg-bundle", 1, 17)
    model = m["model"]
    assert (model["image_height"], model["image_width"], model["num_slots"]) == (48, 80, 3)
    assert (model["z_what_dim"], model["scaling"]) == (8, "anisotropic")
    assert (model["s_min"], model["s_max"]) == (1.3, 4.0)
    assert model["log_background_activation"] == pytest.approx(-4.0)
    assert model["input"] == {
        "dtype": "uint8",
        "layout": "NCHW",
        "channels": "RGB",
        "range": [0, 255],
    }
    assert model["normalisation"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert model["config"]["feature_generator"] == "segformer"
    assert m["batch"] == {"dynamic": True, "min": 1, "opt": 1, "max": 4}
    for key in ("astseg", "torch", "onnx", "onnxruntime", "exporter"):
        assert key in m["exporter"]
    # Every file is listed with the hash and size it really has.
    listed = set(m["files"])
    assert listed == {"encoder.onnx", "renderer.onnx", "segmenter.onnx", "background.onnx"}
    for name, entry in m["files"].items():
        data = (segformer_dynamic.bundle / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    # Metrics and training info come from the checkpoint; NaN is left out.
    assert m["metrics"] == {"ari_fg": 0.75, "miou_fg": 0.5}
    assert m["training"] == {
        "step": 1234,
        "command": "astseg train --preset cpu",
        "checkpoint": "latest.pt",
    }


def test_parity_figures_are_within_bounds_and_stored(exported: Exported) -> None:
    manifest = _manifest(exported)
    parity = manifest["parity"]
    assert parity["batch_sizes"] == ([1, 3] if manifest["batch"]["dynamic"] else [2])
    graphs = parity["graphs"]
    assert {"encoder", "renderer", "pipeline"} <= set(graphs)
    # Each figure within its own float32 limit: 16x PyTorch's float32 error (vs float64).
    factor = parity["tolerances"]["factor"]
    for figures in graphs.values():
        for name in ("position", "scale", "log_activation", "z_what", "weights"):
            if f"max_abs_{name}" in figures:
                limit = figures[f"limit_{name}"]
                assert 0 <= figures[f"max_abs_{name}"] <= limit
                assert factor * figures[f"float32_error_{name}"] <= limit < 1e-2
    assert parity["segmentation_agreement"] >= 0.99
    # The summary is the worst graph's figure.
    assert parity["max_abs_weights"] == max(g.get("max_abs_weights", 0) for g in graphs.values())
    assert parity["max_abs_position"] == graphs["encoder"]["max_abs_position"] or (
        parity["max_abs_position"] == graphs["segmenter"]["max_abs_position"]
    )


def test_onnx_reproduces_pytorch_on_scenes_where_objects_own_pixels(
    segformer_dynamic: Exported,
) -> None:
    """An independent check of the parity claim, with a non-trivial segmentation."""
    model, _, _ = load_model(segformer_dynamic.checkpoint)
    images = sample_images(3, 48, 80, seed=7)
    with torch.no_grad():
        latents = model.encoder(torch.from_numpy(images).float() / 255)
        rendering = model.renderer(latents)
    outputs = _session(segformer_dynamic, "segmenter").run(None, {"image": images})
    got = dict(zip([*LATENTS, "weights", "segmentation"], outputs, strict=True))
    limits = _manifest(segformer_dynamic)["parity"]["graphs"]["segmenter"]
    assert np.abs(got["position"] - latents.position.numpy()).max() <= limits["limit_position"]
    weights = rendering.weights.numpy()
    assert np.abs(got["weights"] - weights).max() <= limits["limit_weights"]
    reference = rendering.segmentation().numpy()
    assert got["segmentation"].dtype == np.int64
    # A pixel may change label only where the reference's two weights are a near-tie.
    differs = got["segmentation"] != reference
    take = np.take_along_axis
    gap = take(weights, reference[:, None], 1) - take(weights, got["segmentation"][:, None], 1)
    assert gap[:, 0][differs].max(initial=0.0) <= 2 * limits["limit_weights"]
    assert differs.mean() <= 0.01
    # Objects own a good share of the pixels, so agreement is not "all background".
    assert (reference > 0).mean() > 0.1
    assert len(np.unique(reference)) == 4


def test_graph_interfaces_have_contract_names_types_and_shapes(exported: Exported) -> None:
    batch = _manifest(exported)["batch"]
    h, w = (48, 80) if exported.result.manifest["model"]["image_width"] == 80 else (32, 48)
    s = 2 if exported.result.manifest["model"]["scaling"] == "anisotropic" else 1
    n = "batch" if batch["dynamic"] else 2
    encoder = _session(exported, "encoder")
    renderer = _session(exported, "renderer")
    assert [(i.name, i.type, i.shape) for i in encoder.get_inputs()] == [
        ("image", "tensor(uint8)", [n, 3, h, w])
    ]
    assert [(o.name, o.type, o.shape) for o in encoder.get_outputs()] == [
        ("position", "tensor(float)", [n, 3, 2]),
        ("scale", "tensor(float)", [n, 3, s]),
        ("log_activation", "tensor(float)", [n, 3]),
        ("z_what", "tensor(float)", [n, 3, 8]),
    ]
    assert [i.name for i in renderer.get_inputs()] == LATENTS
    assert [(o.name, o.type, o.shape) for o in renderer.get_outputs()] == [
        ("weights", "tensor(float)", [n, 4, h, w]),
        ("segmentation", "tensor(int64)", [n, h, w]),
    ]


def test_dynamic_graphs_give_each_image_the_same_result_at_any_batch(
    segformer_dynamic: Exported,
) -> None:
    images = sample_images(4, 48, 80, seed=3)
    encoder = _session(segformer_dynamic, "encoder")
    renderer = _session(segformer_dynamic, "renderer")
    # Another batch may take other kernels: within the export's float32 limits, not bitwise.
    limits = _manifest(segformer_dynamic)["parity"]["graphs"]
    together = encoder.run(None, {"image": images})
    for i in range(4):
        alone = encoder.run(None, {"image": images[i : i + 1]})
        for name, a, b in zip(LATENTS, alone, together, strict=True):
            assert np.abs(a[0] - b[i]).max() <= limits["encoder"][f"limit_{name}"]
    weights_together, _ = renderer.run(None, dict(zip(LATENTS, together, strict=True)))
    weights_one, _ = renderer.run(None, {k: v[2:3] for k, v in zip(LATENTS, together, strict=True)})
    assert np.abs(weights_one[0] - weights_together[2]).max() <= limits["renderer"]["limit_weights"]
    assert np.allclose(weights_together.sum(axis=1), 1.0, atol=1e-5)


def test_fixed_batch_graphs_refuse_other_batch_sizes(unet_fixed: Exported) -> None:
    encoder = _session(unet_fixed, "encoder")
    encoder.run(None, {"image": sample_images(2, 32, 48)})
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        encoder.run(None, {"image": sample_images(3, 32, 48)})


def test_failed_reexport_leaves_the_previous_bundle_whole(tmp_path, monkeypatch) -> None:
    checkpoint = write_checkpoint(
        tmp_path / "small.pt",
        tiny_model(
            feature_generator="unet", image_height=32, image_width=32, use_transformer=False
        ),
    )
    out = tmp_path / "bundle"
    export_bundle(checkpoint, out, ExportOptions(batch=1), log=lambda _: None)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(parity_module, "IMPLEMENTATION_FACTOR", 0.0)
    with pytest.raises(ExportError, match="do not reproduce the PyTorch model.*weights differs"):
        export_bundle(checkpoint, out, ExportOptions(batch=1), log=lambda _: None)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "small.pt"]  # no staging left
    load_bundle(out)


def test_a_folder_that_is_not_a_bundle_is_not_overwritten(tmp_path) -> None:
    checkpoint = write_checkpoint(tmp_path / "c.pt", tiny_model(image_height=32, image_width=32))
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(ExportError, match="exists and is not an astseg bundle"):
        export_bundle(checkpoint, out, log=lambda _: None)
    assert [p.name for p in out.iterdir()] == ["holiday.jpg"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ExportOptions(batch=2, dynamic=True), "--batch fixes the batch size"),
        (ExportOptions(batch=0), "--batch must be at least 1"),
        (ExportOptions(max_batch=1), "--max-batch must be at least 2"),
        (ExportOptions(opset=20), "--opset 20 is not supported"),
    ],
)
def test_bad_options_are_one_clear_error(tmp_path, options, message) -> None:
    with pytest.raises(ExportError, match=message):
        export_bundle(tmp_path / "missing.pt", tmp_path / "out", options)
    assert not (tmp_path / "out").exists()


def test_the_runtime_segments_frames_with_the_exported_graphs(exported: Exported) -> None:
    """The torch-free sdk, fed what `astseg export` wrote (fixed batch 2 gets 3 frames)."""
    from sdk import Segmenter

    model = exported.result.manifest["model"]
    h, w = model["image_height"], model["image_width"]
    frames = [np.ascontiguousarray(f.transpose(1, 2, 0)) for f in sample_images(3, h, w, seed=7)]
    with Segmenter(
        exported.bundle,
        backend="onnxruntime",
        device="cpu",
        channels="rgb",
        min_area=1,
        track=False,
    ) as segmenter:
        results = segmenter.batch(frames)
    assert len(results) == 3
    if model["config"]["feature_generator"] == "segformer":
        assert all(len(r.objects) >= 1 for r in results)  # slots own >10 % of these scenes
