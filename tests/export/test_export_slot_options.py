"""Each opt-in slot-model part of issue 22 exports on its own (the shared crop-encoder
fixture turns them all on at once): parity is enforced inside export_bundle."""

from __future__ import annotations

from typing import Any

import onnx
import pytest

from export.bundle import ExportOptions, export_bundle
from export.tensorrt_ops import TARGET_VERSIONS, unsupported_nodes
from tests.export.conftest import tiny_model, write_checkpoint


@pytest.mark.parametrize(
    "option",
    [
        {"glimpse_encoder": "crop"},
        {"slot_competition": True},
        {"glimpse_window": 0.8},
        {"duplicate_slot_overlap": 0.3},
    ],
    ids=lambda o: next(iter(o)),
)
def test_one_option_alone_exports_faithfully(tmp_path, option: dict[str, Any]) -> None:
    checkpoint = write_checkpoint(tmp_path / "model.pt", tiny_model(**option), seed=4)
    options = ExportOptions(dynamic=True, max_batch=4)  # parity at batch sizes 1 and 3
    result = export_bundle(checkpoint, tmp_path / "bundle", options, log=lambda _: None)
    for graph in ("encoder.onnx", "renderer.onnx"):
        model = onnx.load(str(result.bundle / graph))
        for version in TARGET_VERSIONS:
            assert unsupported_nodes(model, version) == [], (graph, version)
