"""An FP16 copy of a graph with the glimpse-placement block kept in FP32 (DESIGN §4).

TensorRT 11 has no FP16 builder flag: precision comes from the graph's own types
(strong typing). This converts every float tensor to FP16 except the placement
block, inserting Casts where the two regions meet; graph inputs and outputs keep
their types, so the runtime binds the same buffers as for an FP32 engine.

The placement block is everything that decides where a glimpse lands and how the
layers combine: the sampling grid (base grid × θ from position and scale), the
GridSample, and all that follows it (occlusion weights, argmax). In FP16 the grid
coordinates lose sub-pixel precision, which moves masks by whole pixels.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from export.spec import IMAGE

FLOAT, HALF = TensorProto.FLOAT, TensorProto.FLOAT16
_LEARNED = {"Conv", "ConvTranspose", "MatMul", "Gemm"}  # ops that carry weights

_HALF_STR = "tensor(float16)"


def ensure_node_names(model: onnx.ModelProto) -> None:
    """Every node gets a unique name: the block and TensorRT's layers are matched by name."""
    seen: set[str] = set()
    for i, node in enumerate(model.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{i}"
        seen.add(node.name)


def _closure(
    starts: list[str],
    step: dict[str, list[onnx.NodeProto]],
    stop: set[str],
    skip: set[str],
    backward: bool = True,
) -> set[str]:
    """Names of the nodes reached from tensors `starts` along `step` (tensor -> nodes)."""
    found: set[str] = set()
    stack = list(starts)
    while stack:
        tensor = stack.pop()
        if tensor in stop:
            continue
        for node in step.get(tensor, []):
            if node.name in found or node.name in skip:
                continue
            found.add(node.name)
            stack.extend(node.input if backward else node.output)
    return found


def placement_block(model: onnx.ModelProto) -> set[str]:
    """Names of the nodes that must stay FP32 (empty when the graph has no GridSample): the
    placement block, and a crop encoder's window sampling (its grid and GridSample)."""
    g = model.graph
    producer: dict[str, list[onnx.NodeProto]] = {o: [n] for n in g.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for n in g.node:
        for i in n.input:
            consumers[i].append(n)
    # The latents are the block's boundary: graph inputs (renderer) or outputs (segmenter).
    stop = {v.name for v in [*g.input, *g.output]} | {i.name for i in g.initializer}
    nodes = {n.name: n for n in g.node}
    crops, samplers = [], []
    for sampler in (n for n in g.node if n.op_type == "GridSample"):
        # A crop (model.glimpse_encoder: crop) samples the input image itself, with nothing
        # learned in between: only its window's grid needs FP32, not the CNN that follows.
        source = _closure([sampler.input[0]], producer, stop, set())
        from_image = any(IMAGE in nodes[n].input for n in source)
        reads_image = from_image and not any(nodes[n].op_type in _LEARNED for n in source)
        (crops if reads_image else samplers).append(sampler)
    block = {s.name for s in crops}
    block |= _closure([s.input[1] for s in crops], producer, stop, set())
    if not samplers:
        return block
    glimpses = _closure([s.input[0] for s in samplers], producer, stop, set())
    block |= {s.name for s in samplers}
    block |= _closure([s.input[1] for s in samplers], producer, stop, glimpses)
    downstream = _closure(
        [o for s in samplers for o in s.output], consumers, set(), set(), backward=False
    )
    block |= downstream
    # What feeds the compositing besides the masks (α from log_activation, the ones of M_0).
    feeding = [i for n in g.node if n.name in downstream for i in n.input]
    block |= _closure(feeding, producer, stop, glimpses | block)
    return block


def _allowed_types(node: onnx.NodeProto, opset: int) -> tuple[list[set[str]], list[set[str]]]:
    """Type strings each input and output of `node` accepts in its ONNX schema."""
    schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    constraints = {c.type_param_str: set(c.allowed_type_strs) for c in schema.type_constraints}

    def per_slot(params: list[onnx.defs.OpSchema.FormalParameter], count: int) -> list[set[str]]:
        slots = []
        for i in range(count):
            param = params[min(i, len(params) - 1)]
            slots.append(constraints.get(param.type_str, {param.type_str}))
        return slots

    return per_slot(schema.inputs, len(node.input)), per_slot(schema.outputs, len(node.output))


class _Converter:
    def __init__(self, model: onnx.ModelProto, keep_fp32: set[str]) -> None:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        g = inferred.graph
        self.types = {
            v.name: v.type.tensor_type.elem_type for v in [*g.value_info, *g.input, *g.output]
        }
        self.inits = {i.name: i for i in model.graph.initializer}
        self.types.update({name: i.data_type for name, i in self.inits.items()})
        self.keep = keep_fp32
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.outputs = {o.name for o in model.graph.output}
        # Where each float tensor lives after conversion: (name, elem type).
        self.native = {v.name: (v.name, v.type.tensor_type.elem_type) for v in model.graph.input}
        self.native.update({n: (n, i.data_type) for n, i in self.inits.items()})
        self.converted: dict[tuple[str, int], str] = {}
        self.nodes: list[onnx.NodeProto] = []
        self.new_inits: list[onnx.TensorProto] = []

    def get(self, tensor: str, want: int) -> str:
        name, have = self.native[tensor]
        if have == want:
            return name
        key = (tensor, want)
        if key not in self.converted:
            new = f"{tensor}__{'fp16' if want == HALF else 'fp32'}"
            if tensor in self.inits:
                array = numpy_helper.to_array(self.inits[tensor])
                dtype = np.float16 if want == HALF else np.float32
                self.new_inits.append(numpy_helper.from_array(array.astype(dtype), new))
            else:
                self.nodes.append(
                    helper.make_node("Cast", [name], [new], name=f"{new}_cast", to=want)
                )
            self.converted[key] = new
        return self.converted[key]

    def visit(self, node: onnx.NodeProto) -> None:
        node = copy.deepcopy(node)
        ins, outs = _allowed_types(node, self.opset)
        # Ops whose schema has no float16 form (Celu) run in FP32 between two Casts.
        capable = all(
            _HALF_STR in outs[i] for i, o in enumerate(node.output) if self.types.get(o) == FLOAT
        )
        # Integer -> float Casts compute shapes and coordinates: they keep float32's exactness.
        from_int = node.op_type == "Cast" and self.types.get(node.input[0]) not in (FLOAT, HALF)
        want = HALF if capable and not from_int and node.name not in self.keep else FLOAT
        float_inputs = [t for t in node.input if t and self.types.get(t) in (FLOAT, HALF)]
        if not any(self.types.get(o) == FLOAT for o in node.output):
            # Shape, Equal, ArgMax...: read inputs where they already live when they agree.
            native = {self.native[t][1] for t in float_inputs}
            want = native.pop() if len(native) == 1 and node.name not in self.keep else want
        for i, tensor in enumerate(node.input):
            if tensor in float_inputs:
                node.input[i] = self.get(tensor, want if _HALF_STR in ins[i] else FLOAT)
        if want == HALF:
            _retype_attributes(node)
        back_casts = []
        for i, out in enumerate(node.output):
            if self.types.get(out) != FLOAT:
                continue
            if want == HALF and out in self.outputs:  # graph outputs stay float32
                node.output[i] = f"{out}__fp16"
                back_casts.append(
                    helper.make_node(
                        "Cast", [node.output[i]], [out], name=f"{out}_to_fp32", to=FLOAT
                    )
                )
                self.converted[(out, FLOAT)] = out
            self.native[out] = (node.output[i], want)
        self.nodes.append(node)
        self.nodes.extend(back_casts)


def _retype_attributes(node: onnx.NodeProto) -> None:
    """Attributes that make float32 tensors make float16 ones in the FP16 region."""
    if node.op_type == "Cast":
        for a in node.attribute:
            if a.name == "to" and a.i == FLOAT:
                a.i = HALF
    if node.op_type in ("Constant", "ConstantOfShape"):
        found = False
        for a in node.attribute:
            if a.name == "value" and a.t.data_type == FLOAT:
                array = numpy_helper.to_array(a.t).astype(np.float16)
                a.t.CopyFrom(numpy_helper.from_array(array, a.t.name))
            found |= a.name == "value"
        if node.op_type == "ConstantOfShape" and not found:  # default is a float32 zero
            node.attribute.append(
                helper.make_attribute("value", numpy_helper.from_array(np.zeros(1, np.float16)))
            )


def convert_fp16_keep_placement(model: onnx.ModelProto) -> onnx.ModelProto:
    """The FP16 graph; raises onnx errors if the result does not check (it always should)."""
    model = copy.deepcopy(model)
    ensure_node_names(model)
    converter = _Converter(model, placement_block(model))
    for node in model.graph.node:
        converter.visit(node)
    used = {i for n in converter.nodes for i in n.input}
    kept = [i for i in model.graph.initializer if i.name in used]
    del model.graph.node[:]
    model.graph.node.extend(converter.nodes)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept + converter.new_inits)
    del model.graph.value_info[:]
    onnx.checker.check_model(model, full_check=True)
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)
