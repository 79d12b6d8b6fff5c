"""The FP16 graph for TensorRT 11 keeps the glimpse-placement block in FP32."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from export.fp16 import convert_fp16_keep_placement, placement_block
from export.sample_images import sample_images
from tests.export.conftest import Exported

FLOATS = (TensorProto.FLOAT, TensorProto.FLOAT16)


def _load(exported: Exported, graph: str) -> onnx.ModelProto:
    return onnx.load(str(exported.bundle / f"{graph}.onnx"))


def _types(model: onnx.ModelProto) -> dict[str, int]:
    g = onnx.shape_inference.infer_shapes(model).graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*g.value_info, *g.input, *g.output]}
    types.update({i.name: i.data_type for i in g.initializer})
    return types


def _io(model: onnx.ModelProto) -> list[tuple[str, int]]:
    return [
        (v.name, v.type.tensor_type.elem_type) for v in [*model.graph.input, *model.graph.output]
    ]


def test_the_block_is_grid_sampling_and_compositing_only(segformer_dynamic: Exported) -> None:
    ops = {}
    for graph in ("renderer", "segmenter"):
        model = _load(segformer_dynamic, graph)
        block = placement_block(model)
        ops[graph] = Counter(n.op_type for n in model.graph.node if n.name in block)
        assert {"GridSample", "MatMul", "Exp", "ReduceSum", "Div", "ArgMax"} <= set(ops[graph])
        assert not {"ConvTranspose", "InstanceNormalization", "Celu", "Conv"} & set(ops[graph])
    # Bounded by the latents: the fused graph's block is the renderer's, not the encoder too.
    assert ops["segmenter"] == ops["renderer"]
    assert placement_block(_load(segformer_dynamic, "encoder")) == set()


@pytest.mark.parametrize("graph", ["renderer", "segmenter"])
def test_fp16_graph_types_and_results(segformer_dynamic: Exported, graph: str) -> None:
    original = _load(segformer_dynamic, graph)
    converted = convert_fp16_keep_placement(original)  # runs checker + strict inference
    block = placement_block(original)
    types = _types(converted)
    nodes = {n.name: n for n in converted.graph.node}
    for name in block:
        for tensor in [*nodes[name].input, *nodes[name].output]:
            if tensor and types.get(tensor) in FLOATS:
                assert types[tensor] == TensorProto.FLOAT, (name, tensor)
    heavy = [n for n in converted.graph.node if n.op_type in ("ConvTranspose", "Conv")]
    assert heavy and all(types[n.output[0]] == TensorProto.FLOAT16 for n in heavy)
    # The runtime binds the same buffers: inputs and outputs keep their types.
    assert _io(converted) == _io(original)
    # And it still computes the same segmentation (ONNX Runtime runs FP16 on the CPU too).
    images = sample_images(2, 48, 80, seed=5)
    if graph == "renderer":
        encoder = ort.InferenceSession(str(segformer_dynamic.bundle / "encoder.onnx"))
        names = [o.name for o in encoder.get_outputs()]
        feeds = dict(zip(names, encoder.run(None, {"image": images}), strict=True))
    else:
        feeds = {"image": images}
    ref = ort.InferenceSession(original.SerializeToString()).run(None, feeds)
    half = ort.InferenceSession(converted.SerializeToString()).run(None, feeds)
    weights_ref, weights_half = ref[-2], half[-2]
    assert weights_half.dtype == np.float32
    if graph == "renderer":
        # Only the glimpse generator runs in FP16 here; placement and compositing are FP32.
        assert np.abs(weights_half - weights_ref).max() < 1e-3
        # Random weights leave near-ties between overlapping slots; argmax may flip there.
        assert (half[-1] == ref[-1]).mean() > 0.95
    else:
        assert np.abs(half[0] - ref[0]).max() < 1e-2  # positions from the FP16 encoder
        assert np.abs(weights_half - weights_ref).mean() < 2e-3


def test_a_crop_encoder_keeps_only_its_window_sampling_in_fp32(crop_encoder: Exported) -> None:
    """The crop's GridSample reads the image: its grid stays FP32, the CNN after it does not."""
    encoder = _load(crop_encoder, "encoder")
    block = placement_block(encoder)
    ops = Counter(n.op_type for n in encoder.graph.node if n.name in block)
    assert ops["GridSample"] == 1 and ops["MatMul"] >= 1  # the sampler and its grid
    assert not {"Conv", "ConvTranspose", "Gemm", "Celu", "InstanceNormalization"} & set(ops)
    converted = convert_fp16_keep_placement(encoder)
    types = _types(converted)
    nodes = {n.name: n for n in converted.graph.node}
    sampler = next(n for n in nodes.values() if n.op_type == "GridSample")
    assert types[sampler.input[1]] == TensorProto.FLOAT  # the window's coordinates
    convs = [n for n in nodes.values() if n.op_type == "Conv"]
    assert convs and all(types[c.output[0]] == TensorProto.FLOAT16 for c in convs)
    # the renderer's placement block is the paper model's
    renderer = _load(crop_encoder, "renderer")
    kept = Counter(n.op_type for n in renderer.graph.node if n.name in placement_block(renderer))
    assert kept["GridSample"] == 1 and "ConvTranspose" not in kept
