"""Is every node of a graph something TensorRT's ONNX parser builds? Checked on the CPU.

Source of the table: onnx/onnx-tensorrt `docs/operators.md`, the edition headed
"TensorRT 10.15 supports operators in the inclusive range of opset 9 to opset 24"
(operators marked Y, and the restrictions column for the ops checked below).
TensorRT 11 = that list plus what the 11.x release notes add to the parser:
Swish (11.0) and DFT (11.2); 11.2 also lifts GridSample's 4-D-only restriction,
and 11.5 adds Squeeze without an axes input. Neither version lists AffineGrid.

DESIGN §4 adds one fact the table does not show: from opset 20 GridSample's mode
names changed and TensorRT's parser reads them as nearest-neighbour, silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import onnx
from onnx import helper

from export.errors import ExportError

TABLE_SOURCE = "onnx/onnx-tensorrt docs/operators.md (TensorRT 10.15 edition) + TensorRT 11.x notes"

# Operators marked Y in the table, in its order.
_TRT10_TABLE = """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool
    BatchNormalization BlackmanWindow Cast CastLike Ceil Celu Clip Concat Constant
    ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DeformConv DepthToSpace
    DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor
    Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool
    Greater GreaterOrEqual GridSample GroupNormalization GRU HammingWindow HannWindow
    HardSigmoid HardSwish Hardmax Identity If ImageScaler InstanceNormalization IsInf IsNaN
    LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LRN LSTM
    LpNormalization LpPool MatMul Max MaxPool Mean MeanVarianceNormalization Min Mish Mod
    Mul Neg NonMaxSuppression NonZero Not OneHot Or Pad ParametricSoftplus Pow PRelu
    QuantizeLinear RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range
    Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin
    ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RMSNormalization
    RNN RoiAlign RotaryEmbedding Round STFT ScaledTanh Scan Scatter ScatterElements ScatterND
    Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign SpaceToDepth
    Split Sqrt Squeeze Sub Sum Tan Tanh TensorScatter ThresholdedRelu Tile TopK Transpose
    Trilu Unsqueeze Upsample Where Xor
"""
_TRT10_OPS = frozenset(_TRT10_TABLE.split())
SUPPORTED_OPS: dict[int, frozenset[str]] = {
    10: _TRT10_OPS,
    11: _TRT10_OPS | {"Swish", "DFT"},
}
MAX_OPSET = {10: 24, 11: 25}
TARGET_VERSIONS = (10, 11)

_RESIZE_MODES = {"nearest", "linear"}
_RESIZE_TRANSFORMS = {
    "half_pixel",
    "pytorch_half_pixel",
    "tf_half_pixel_for_nn",
    "asymmetric",
    "align_corners",
}
_RESIZE_NEAREST = {"floor", "ceil", "round_prefer_floor", "round_prefer_ceil"}
_GRID_SAMPLE_MODES = {"bilinear", "nearest", "bicubic"}  # the names of opsets 16-19
_REDUCE_OPS = {op for op in _TRT10_OPS if op.startswith("Reduce")}


@dataclass(frozen=True)
class Finding:
    node: str
    op_type: str
    problem: str

    def describe(self) -> str:
        return f"{self.op_type} (node '{self.node}'): {self.problem}"


def _attr(node: onnx.NodeProto, name: str, default: object = None) -> object:
    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


class _Graph:
    """Lookups the restriction checks need: constants and tensor ranks and types."""

    def __init__(self, model: onnx.ModelProto) -> None:
        g = model.graph
        self.constants = {i.name for i in g.initializer}
        self.constants |= {o for n in g.node if n.op_type == "Constant" for o in n.output}
        self.values = {v.name: v for v in [*g.value_info, *g.input, *g.output]}
        self.io = {v.name for v in [*g.input, *g.output]}
        self.consumed = {i for n in g.node for i in n.input}
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)

    def rank(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or not value.type.tensor_type.HasField("shape"):
            return None
        return len(value.type.tensor_type.shape.dim)

    def is_constant(self, name: str) -> bool:
        return name in self.constants


def _grid_sample(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    if g.opset >= 20:
        return ["at opset >= 20 TensorRT reads the mode as nearest-neighbour"]
    mode = _attr(node, "mode", "bilinear")
    problems = [] if mode in _GRID_SAMPLE_MODES else [f"mode '{mode}' is unknown"]
    if version < 11 and g.rank(node.input[0]) not in (4, None):
        problems.append(f"input is {g.rank(node.input[0])}-D; TensorRT 10 needs 4-D")
    return problems


def _resize(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    problems = []
    mode = _attr(node, "mode", "nearest")
    transform = _attr(node, "coordinate_transformation_mode", "half_pixel")
    if mode not in _RESIZE_MODES:
        problems.append(f"mode '{mode}' is unsupported (only nearest, linear)")
    if transform not in _RESIZE_TRANSFORMS:
        problems.append(f"coordinate_transformation_mode '{transform}' is unsupported")
    nearest = _attr(node, "nearest_mode", "round_prefer_floor")
    if mode == "nearest" and nearest not in _RESIZE_NEAREST:
        problems.append(f"nearest_mode '{nearest}' is unsupported")
    if _attr(node, "antialias", 0):
        problems.append("antialiasing is unsupported")
    if _attr(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        problems.append("only keep_aspect_ratio_policy 'stretch' is supported")
    return problems


def _layer_norm(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    extra = [o for o in node.output[1:] if o and (o in g.consumed or o in g.io)]
    return ["only the first output Y is supported"] if extra else []


def _dropout(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    flag = node.input[2] if len(node.input) > 2 else ""
    return ["'is_training' must be an initializer"] if flag and not g.is_constant(flag) else []


def _constant(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    names = {a.name for a in node.attribute}
    if names & {"sparse_value", "value_string", "value_strings"}:
        return ["sparse and string values are unsupported"]
    return []


def _axes_input(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    axes = node.input[1] if len(node.input) > 1 else ""
    if node.op_type in ("Squeeze", "Unsqueeze") and g.opset >= 13 and not axes:
        return [] if node.op_type == "Squeeze" and version >= 11 else ["the axes input is missing"]
    if axes and not g.is_constant(axes):
        return ["'axes' must be a build-time constant"]
    return []


def _top_k(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    return ["'sorted' must be 1"] if _attr(node, "sorted", 1) != 1 else []


def _scatter_nd(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    if _attr(node, "reduction", "none") != "none":
        return ["reduction other than 'none' is unsupported"]
    return []


def _pool(node: onnx.NodeProto, g: _Graph, version: int) -> list[str]:
    dilations = _attr(node, "dilations", []) or []
    return ["'dilations' must be empty or all ones"] if any(d != 1 for d in dilations) else []


_RESTRICTIONS: dict[str, Callable[[onnx.NodeProto, _Graph, int], list[str]]] = {
    "GridSample": _grid_sample,
    "Resize": _resize,
    "LayerNormalization": _layer_norm,
    "Dropout": _dropout,
    "Constant": _constant,
    "Squeeze": _axes_input,
    "Unsqueeze": _axes_input,
    **{op: _axes_input for op in _REDUCE_OPS},
    "TopK": _top_k,
    "ScatterND": _scatter_nd,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "LpPool": _pool,
}


def _uint8_inside(model: onnx.ModelProto, g: _Graph) -> list[Finding]:
    """TensorRT takes UINT8 only as a network input or output, never in between."""
    found = []
    for node in model.graph.node:
        for out in node.output:
            value = g.values.get(out)
            if (
                value is not None
                and out not in g.io
                and value.type.tensor_type.elem_type == onnx.TensorProto.UINT8
            ):
                found.append(Finding(node.name, node.op_type, "produces a UINT8 tensor inside"))
    return found


def unsupported_nodes(model: onnx.ModelProto, version: int) -> list[Finding]:
    """Every node TensorRT `version` (10 or 11) would refuse, with the reason."""
    if version not in SUPPORTED_OPS:
        raise ValueError(f"no operator table for TensorRT {version}")
    g = _Graph(model)
    findings: list[Finding] = []
    if g.opset > MAX_OPSET[version]:
        findings.append(Finding("(model)", "opset", f"{g.opset} is above {MAX_OPSET[version]}"))
    for node in _all_nodes(model.graph):
        if node.domain not in ("", "ai.onnx"):
            findings.append(Finding(node.name, node.op_type, f"custom domain '{node.domain}'"))
        elif node.op_type not in SUPPORTED_OPS[version]:
            findings.append(Finding(node.name, node.op_type, "not a supported operator"))
        else:
            check = _RESTRICTIONS.get(node.op_type)
            problems = check(node, g, version) if check else []
            findings += [Finding(node.name, node.op_type, p) for p in problems]
    return findings + _uint8_inside(model, g)


def _all_nodes(graph: onnx.GraphProto) -> Iterable[onnx.NodeProto]:
    """Nodes including those inside If/Loop/Scan bodies."""
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(a.g)
            for sub in a.graphs:
                yield from _all_nodes(sub)


def check_tensorrt_support(
    model: onnx.ModelProto, file_name: str, versions: Iterable[int] = TARGET_VERSIONS
) -> None:
    """Raises ExportError naming every op of `file_name` a targeted TensorRT cannot build."""
    problems = []
    for version in versions:
        findings = unsupported_nodes(model, version)
        if findings:
            listed = "; ".join(f.describe() for f in findings[:8])
            more = f" and {len(findings) - 8} more" if len(findings) > 8 else ""
            problems.append(f"TensorRT {version}: {listed}{more}")
    if problems:
        raise ExportError(
            f"{file_name} uses operators TensorRT cannot build ({' | '.join(problems)}); "
            "keep the model to ops on the onnx-tensorrt support list"
        )
