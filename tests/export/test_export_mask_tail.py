"""Trained slots outweigh the background by e^9 and more, so masks of 1e-8 at a glimpse's
border still carry weight: the exported graph must keep the sigmoid's tail accurate
relatively, not only absolutely (ONNX Runtime's own Sigmoid is 0 below -18)."""

from __future__ import annotations

import io

import numpy as np
import onnxruntime as ort
import torch

from export.bundle import ExportOptions, export_bundle
from tests.export.conftest import tiny_model, write_checkpoint
from training.checkpoint import load_model, save_checkpoint
from training.model.glimpse_generator import TailExactSigmoid

UNIT_ROUNDOFF = float(np.finfo(np.float32).eps) / 2


def _exported_values(module: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    buffer = io.BytesIO()
    torch.onnx.export(module, (x,), buffer, input_names=["x"], output_names=["y"], dynamo=False)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.numpy()})[0]


def test_the_exported_sigmoid_is_relatively_accurate_down_to_its_far_tail() -> None:
    x = torch.cat([torch.linspace(-40.0, 12.0, 1041), torch.tensor([0.0, -1e30, 1e30])])
    ours = _exported_values(TailExactSigmoid().eval(), x).astype(np.float64)
    with np.errstate(over="ignore"):  # e^(1e30) is inf in float64 too, and 1/(1+inf) = 0
        exact = 1.0 / (1.0 + np.exp(-x.numpy().astype(np.float64)))
    assert np.array_equal(ours[-3:], [0.5, 0.0, 1.0])
    ours, exact = ours[:-2], exact[:-2]  # relative error is meaningless at an exact 0
    # Two exps, an add and a divide: a few roundings each, 32 u covers them twice over.
    assert np.max(np.abs(ours - exact) / exact) <= 32 * UNIT_ROUNDOFF
    # PyTorch's training path is the same function.
    torch_values = TailExactSigmoid()(x).numpy().astype(np.float64)[:-2]
    assert np.max(np.abs(torch_values - exact) / exact) <= 32 * UNIT_ROUNDOFF


def test_slots_that_dwarf_the_background_still_export_faithfully(tmp_path) -> None:
    """log α_k - log α_0 = 14 and mask logits near -16: what an hour of training gives.
    The parity check inside export_bundle refuses an unfaithful graph."""
    config = tiny_model(log_background_activation=-4.0, slot_activation_init=10.0)
    checkpoint = write_checkpoint(tmp_path / "raw.pt", config, seed=3)
    model, full_config, data = load_model(checkpoint)
    last = [m for m in model.renderer.glimpses.net if isinstance(m, torch.nn.ConvTranspose2d)][-1]
    with torch.no_grad():
        last.bias[3] = -16.0  # every mask pixel deep in the sigmoid's tail
    data["model"] = model.state_dict()
    save_checkpoint(tmp_path / "tail.pt", data)
    result = export_bundle(
        tmp_path / "tail.pt", tmp_path / "bundle", ExportOptions(), log=lambda _: None
    )
    assert result.bundle.is_dir()
