"""The CPU-side TensorRT operator check: real graphs pass, unsupported ops are named."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.errors import ExportError
from export.tensorrt_ops import SUPPORTED_OPS, check_tensorrt_support, unsupported_nodes
from tests.export.conftest import Exported


def _model(nodes, inputs, outputs, opset=17, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model)


def _float(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def test_every_exported_graph_is_buildable_by_tensorrt_10_and_11(exported: Exported) -> None:
    for name in ("encoder", "renderer", "segmenter"):
        path = exported.bundle / f"{name}.onnx"
        if not path.exists():
            continue
        model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
        for version in (10, 11):
            assert unsupported_nodes(model, version) == [], (name, version)
        ops = {n.op_type for n in model.graph.node}
        assert "AffineGrid" not in ops  # DESIGN §4: the grid is a MatMul
        if name != "encoder":
            sampler = next(n for n in model.graph.node if n.op_type == "GridSample")
            mode = next(a for a in sampler.attribute if a.name == "mode")
            assert helper.get_attribute_value(mode) == b"bilinear"


def test_an_unsupported_op_is_named_with_its_node() -> None:
    model = _model(
        [helper.make_node("Unique", ["x"], ["y"], name="dedupe")],
        [_float("x", [4])],
        [_float("y", None)],
    )
    with pytest.raises(ExportError) as err:
        check_tensorrt_support(model, "renderer.onnx")
    text = str(err.value)
    assert "renderer.onnx uses operators TensorRT cannot build" in text
    assert "TensorRT 10: Unique (node 'dedupe'): not a supported operator" in text
    assert "TensorRT 11: Unique (node 'dedupe')" in text


def test_affine_grid_at_opset_20_is_refused_twice_over() -> None:
    theta = _float("theta", [1, 2, 3])
    size = numpy_helper.from_array(np.array([1, 1, 8, 8], dtype=np.int64), "size")
    model = _model(
        [
            helper.make_node("AffineGrid", ["theta", "size"], ["grid"], name="grid"),
            helper.make_node("GridSample", ["x", "grid"], ["y"], name="sample", mode="linear"),
        ],
        [theta, _float("x", [1, 1, 8, 8])],
        [_float("y", None)],
        opset=20,
        initializers=[size],
    )
    problems = [f.describe() for f in unsupported_nodes(model, 10)]
    assert "AffineGrid (node 'grid'): not a supported operator" in problems
    assert any("GridSample (node 'sample'): at opset >= 20" in p for p in problems)


def test_restrictions_of_the_table_are_checked() -> None:
    x = _float("x", [1, 3, 8, 8])
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    cubic = _model(
        [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up", mode="cubic")],
        [x],
        [_float("y", None)],
        initializers=[scales],
    )
    assert [f.describe() for f in unsupported_nodes(cubic, 10)] == [
        "Resize (node 'up'): mode 'cubic' is unsupported (only nearest, linear)"
    ]
    volume = _model(
        [helper.make_node("GridSample", ["v", "g"], ["y"], name="s3d")],
        [_float("v", [1, 1, 4, 4, 4]), _float("g", [1, 4, 4, 4, 3])],
        [_float("y", None)],
        opset=17,
    )
    assert "needs 4-D" in unsupported_nodes(volume, 10)[0].problem
    assert unsupported_nodes(volume, 11) == []  # 11.2 added 5-D GridSample
    stats = _model(
        [
            helper.make_node(
                "LayerNormalization", ["x", "s", "b"], ["y", "mean"], name="ln", axis=-1
            )
        ],
        [x, _float("s", [8]), _float("b", [8])],
        [_float("y", None), _float("mean", None)],
    )
    assert unsupported_nodes(stats, 10)[0].problem == "only the first output Y is supported"


def test_custom_domains_and_uint8_inside_the_graph_are_refused() -> None:
    custom = helper.make_graph(
        [helper.make_node("FancyOp", ["x"], ["y"], name="fancy", domain="com.example")],
        "g",
        [_float("x", [2])],
        [_float("y", [2])],
    )
    model = helper.make_model(
        custom,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
    )
    assert unsupported_nodes(model, 10)[0].describe() == (
        "FancyOp (node 'fancy'): custom domain 'com.example'"
    )
    cast = _model(
        [
            helper.make_node("Cast", ["x"], ["u"], name="to_u8", to=TensorProto.UINT8),
            helper.make_node("Cast", ["u"], ["y"], name="back", to=TensorProto.FLOAT),
        ],
        [_float("x", [2])],
        [_float("y", [2])],
    )
    assert [f.describe() for f in unsupported_nodes(cast, 10)] == [
        "Cast (node 'to_u8'): produces a UINT8 tensor inside"
    ]


def test_the_tables_differ_only_where_tensorrt_11_added_operators() -> None:
    assert SUPPORTED_OPS[11] - SUPPORTED_OPS[10] == {"Swish", "DFT"}
    assert {"GridSample", "Einsum", "LayerNormalization", "ArgMax", "Celu"} <= SUPPORTED_OPS[10]
    assert "AffineGrid" not in SUPPORTED_OPS[11]
