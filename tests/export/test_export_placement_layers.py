"""Finding the glimpse-placement block in TensorRT layers, and FP16 in a built engine's JSON."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.placement_layers import Block, LayerView, block_layers, fp16_layers_in_block

FP32, FP16 = "Row major linear FP32", "Channel major FP16 format where channel % 2 == 0"


def _model() -> onnx.ModelProto:
    """x -> Relu -> glimpse; position * base grid -> grid; GridSample -> weights -> ArgMax."""
    grid = numpy_helper.from_array(np.ones((1, 4, 4, 2), np.float32), "grid_value")
    nodes = [
        helper.make_node("Relu", ["x"], ["glimpse"], name="Relu"),
        helper.make_node("Constant", [], ["base"], name="BaseGrid", value=grid),
        helper.make_node("Mul", ["position", "base"], ["grid"], name="Mul"),
        helper.make_node("GridSample", ["glimpse", "grid"], ["weights"], name="GridSample"),
        helper.make_node("ArgMax", ["weights"], ["segmentation"], name="ArgMax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4]),
            helper.make_tensor_value_info("position", TensorProto.FLOAT, [1, 1, 1, 2]),
        ],
        [
            helper.make_tensor_value_info("weights", TensorProto.FLOAT, [1, 1, 4, 4]),
            helper.make_tensor_value_info("segmentation", TensorProto.INT64, [1, 4, 4]),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


BLOCK = Block.of(_model())
CONST = "(Unnamed Layer* 1) [Constant]"


def _port(name: str, fmt: str = FP32) -> dict:
    return {"Name": name, "Location": "Device", "Dimensions": [1], "Format/Datatype": fmt}


def _engine(**formats: str) -> str:
    """An engine's JSON as TensorRT 10 writes it at DETAILED verbosity; formats override FP32."""

    def f(key: str) -> str:
        return formats.get(key, FP32)

    layers = [
        {"Name": "Relu", "Metadata": "[ONNX Layer: Relu]", "Inputs": [_port("x", FP16)],
         "Outputs": [_port("glimpse", FP16)]},
        {"Name": "Reformatting CopyNode for Input Tensor 0 to GridSample", "Metadata": "",
         "Inputs": [_port("glimpse", FP16)], "Outputs": [_port("Reformatted glimpse")]},
        {"Name": CONST, "Metadata": "", "Inputs": [],
         "Outputs": [_port(f"{CONST}_output", f("const"))]},
        {"Name": "Mul", "Metadata": "[ONNX Layer: Mul]",
         "Inputs": [_port("position", f("position")), _port(f"{CONST}_output", f("const"))],
         "Outputs": [_port("grid", f("grid"))]},
        {"Name": "GridSample", "Metadata": "[ONNX Layer: GridSample]",
         "Inputs": [_port("Reformatted glimpse"), _port("grid", f("grid"))],
         "Outputs": [_port("weights", f("weights"))]},
        {"Name": "ArgMax", "Metadata": "[ONNX Layer: ArgMax]",
         "Inputs": [_port("weights", f("weights"))],
         "Outputs": [_port("segmentation", "Row major linear Int64")]},
    ]  # fmt: skip
    return json.dumps({"Layers": layers, "Bindings": ["x", "position", "weights", "segmentation"]})


def test_the_block_is_read_from_the_onnx_graph() -> None:
    assert BLOCK.nodes == {"BaseGrid", "Mul", "GridSample", "ArgMax"}
    assert BLOCK.produced == {"base", "grid", "weights", "segmentation"}
    assert {"glimpse", "x", "position"} <= BLOCK.outside


def test_an_engine_whose_block_is_fp32_passes() -> None:
    assert fp16_layers_in_block(_engine(), BLOCK) == []  # the FP16 Relu and its reformat are fine


@pytest.mark.parametrize(
    ("formats", "flagged"),
    [
        ({"const": FP16}, [f"{CONST} ({CONST}_output)", f"Mul ({CONST}_output)"]),
        ({"position": FP16}, ["Mul (position)"]),  # a block layer reading an FP16 latent
        ({"weights": FP16}, ["GridSample (weights)", "ArgMax (weights)"]),
        ({"grid": FP16}, ["Mul (grid)", "GridSample (grid)"]),
    ],
)
def test_fp16_anywhere_in_the_block_is_named(formats: dict, flagged: list[str]) -> None:
    assert fp16_layers_in_block(_engine(**formats), BLOCK) == flagged


def test_a_fused_layer_across_the_border_is_judged_by_its_block_outputs() -> None:
    fused = {
        "Name": "{ForeignNode[Relu...Mul]}",
        "Metadata": "[ONNX Layer: Relu]\x1e[ONNX Layer: Mul]",
        "Inputs": [_port("x", FP16), _port("position"), _port(f"{CONST}_output")],
        "Outputs": [_port("glimpse", FP16), _port("grid")],
    }
    data = json.loads(_engine())
    relu, reformat, const, _mul, sampler, argmax = data["Layers"]
    data["Layers"] = [fused, reformat, const, sampler, argmax]
    # Its FP16 input and its FP16 glimpse belong to the decoder side of the border.
    assert fp16_layers_in_block(json.dumps(data), BLOCK) == []
    fused["Outputs"][1] = _port("grid", FP16)
    assert fp16_layers_in_block(json.dumps(data), BLOCK) == ["{ForeignNode[Relu...Mul]} (grid)"]


def test_an_engine_without_layer_formats_is_not_reported_as_checked() -> None:
    names_only = json.dumps({"Layers": ["Relu", "Mul", "GridSample"], "Bindings": []})
    assert fp16_layers_in_block(names_only, BLOCK) is None
    assert fp16_layers_in_block(json.dumps({"Layers": []}), BLOCK) is None


def test_unnamed_helpers_join_the_block_through_the_tensors_they_carry() -> None:
    layers = [
        LayerView("Relu", frozenset({"Relu"}), ("x",), ("glimpse",)),
        LayerView("(Unnamed Layer* 1) [Shuffle]", frozenset(), ("glimpse",), ("g2",)),
        LayerView("(Unnamed Layer* 2) [Constant]", frozenset(), (), ("c",)),
        LayerView("(Unnamed Layer* 3) [Shuffle]", frozenset(), ("c",), ("c2",)),
        LayerView("Mul", frozenset({"Mul"}), ("position", "c2"), ("grid",)),
        LayerView("GridSample", frozenset({"GridSample"}), ("g2", "grid"), ("weights",)),
        LayerView("(Unnamed Layer* 6) [Cast]", frozenset(), ("weights",), ("w16",)),
        # A helper writing a tensor that a node outside the block produces is that node's.
        LayerView("(Unnamed Layer* 7) [Shuffle]", frozenset(), ("x",), ("glimpse",)),
    ]
    # The shuffle between Relu and GridSample only carries the glimpse across the border.
    assert block_layers(layers, BLOCK) == {1, 2, 3, 4, 5, 6}


def test_a_border_cast_fused_into_a_block_op_is_a_border_layer() -> None:
    """TensorRT 11 parses the FP16 copy, whose Casts into the block have their own names."""
    model = _model()
    parsed = onnx.ModelProto()
    parsed.CopyFrom(model)
    cast = helper.make_node("Cast", ["position"], ["position__fp32"], name="position__fp32_cast")
    parsed.graph.node.insert(0, cast)
    fused = {
        "Name": "position__fp32_cast + Mul",
        "Metadata": "[ONNX Layer: position__fp32_cast]\x1e[ONNX Layer: Mul]",
        "Inputs": [_port("position", FP16), _port(f"{CONST}_output")],
        "Outputs": [_port("grid")],
    }
    data = json.loads(_engine())
    data["Layers"][3] = fused
    # Known as a node outside the block, the Cast makes the layer a border one: its FP16
    # input is the FP16 region's, and its block output is FP32.
    assert fp16_layers_in_block(json.dumps(data), Block.of(model, parsed=parsed)) == []
    # Judged against the FP32 graph alone, the Cast is unknown and the input counts.
    assert fp16_layers_in_block(json.dumps(data), BLOCK) == ["position__fp32_cast + Mul (position)"]


def test_an_unnamed_fusion_is_judged_by_the_tensors_it_writes_for_the_block() -> None:
    """A Myelin region named only by its ends, with no metadata, spanning the border."""
    foreign = {
        "Name": "{ForeignNode[Relu...Mul]}",
        "Metadata": "",
        "Inputs": [_port("x", FP16), _port("position"), _port(f"{CONST}_output")],
        "Outputs": [_port("glimpse", FP16), _port("grid")],
    }
    data = json.loads(_engine())
    relu, reformat, const, _mul, sampler, argmax = data["Layers"]
    data["Layers"] = [foreign, reformat, const, sampler, argmax]
    assert fp16_layers_in_block(json.dumps(data), BLOCK) == []  # the glimpse is the decoder's
    foreign["Outputs"][1] = _port("grid", FP16)
    assert fp16_layers_in_block(json.dumps(data), BLOCK) == ["{ForeignNode[Relu...Mul]} (grid)"]
