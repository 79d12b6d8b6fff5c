"""Broken ONNX files and graphs that break the contract give one clear error each."""

from __future__ import annotations

import shutil

import onnx
import pytest

from export.errors import ExportError
from export.onnx_checks import check_graph, load_onnx
from export.spec import BatchPlan, graph_specs
from tests.export.conftest import Exported, tiny_model

SPECS = {s.name: s for s in graph_specs(tiny_model(), fused=True)}
DYNAMIC = BatchPlan.dynamic_up_to(4)


def _copy(exported: Exported, tmp_path, graph: str = "encoder"):
    target = tmp_path / f"{graph}.onnx"
    shutil.copyfile(exported.bundle / f"{graph}.onnx", target)
    return target


def test_the_exported_graphs_pass_every_check(segformer_dynamic: Exported) -> None:
    for name, spec in SPECS.items():
        inferred = check_graph(segformer_dynamic.bundle / spec.file_name, spec, DYNAMIC)
        assert len(inferred.graph.value_info) > 0, name  # shapes were inferred


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_a_truncated_file_is_named_as_truncated_or_corrupt(
    segformer_dynamic: Exported, tmp_path, keep: float
) -> None:
    path = _copy(segformer_dynamic, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(
        ExportError,
        match=r"encoder\.onnx' (is truncated or corrupt|holds no graph"
        r"|fails the ONNX checker|fails shape inference)",
    ):
        check_graph(path, SPECS["encoder"], DYNAMIC)


def test_garbage_and_empty_files_are_refused(tmp_path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07this is not a protobuf at all \xff\xfe" * 50)
    with pytest.raises(ExportError, match="garbage.onnx' (is truncated or corrupt|holds no graph)"):
        load_onnx(garbage)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ExportError, match="empty.onnx' is empty"):
        load_onnx(empty)
    with pytest.raises(ExportError, match="does not exist"):
        load_onnx(tmp_path / "missing.onnx")


def test_a_node_reading_a_missing_tensor_fails_the_checker(segformer_dynamic: Exported, tmp_path):
    """Damage the protobuf parser cannot see is caught by the ONNX checker."""
    path = _copy(segformer_dynamic, tmp_path, "renderer")
    model = onnx.load(str(path))
    model.graph.node[3].input.append("no_such_tensor")
    onnx.save(model, str(path))
    with pytest.raises(ExportError, match="renderer.onnx' fails the ONNX checker"):
        check_graph(path, SPECS["renderer"], DYNAMIC)


def test_a_graph_off_the_contract_is_refused_with_the_difference(
    segformer_dynamic: Exported, tmp_path
) -> None:
    path = _copy(segformer_dynamic, tmp_path)
    with pytest.raises(ExportError, match="has batch axis 'batch', expected 2"):
        check_graph(path, SPECS["encoder"], BatchPlan.fixed(2))
    model = onnx.load(str(path))
    model.graph.output[0].name = "positions"
    for node in model.graph.node:
        node.output[:] = ["positions" if o == "position" else o for o in node.output]
    onnx.save(model, str(path))
    with pytest.raises(ExportError, match="output 0 is named 'positions', expected 'position'"):
        check_graph(path, SPECS["encoder"], DYNAMIC)
    wrong_k = graph_specs(tiny_model(num_slots=5), fused=False)[0]
    with pytest.raises(ExportError, match="shape \\[3, 2\\] after the batch, expected \\[5, 2\\]"):
        check_graph(_copy(segformer_dynamic, tmp_path), wrong_k, DYNAMIC)
