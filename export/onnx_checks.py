"""Proof that an ONNX file is whole, valid and exactly the interface the bundle promises.

Every graph passes the ONNX checker with its full check, strict shape inference,
and a comparison of its inputs and outputs (names, order, dtypes, shapes, batch
axis) with `export.spec`, so the runtime can rely on the contract blindly.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from export.errors import ExportError
from export.spec import BatchPlan, GraphSpec, TensorSpec

_ELEM_TYPES = {
    "uint8": onnx.TensorProto.UINT8,
    "float32": onnx.TensorProto.FLOAT,
    "int64": onnx.TensorProto.INT64,
}


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def load_onnx(path: Path) -> onnx.ModelProto:
    """Reads an ONNX file; a missing, empty, truncated or corrupt file is one clear error."""
    if not path.is_file():
        raise ExportError(f"ONNX file '{path}' does not exist")
    if path.stat().st_size == 0:
        raise ExportError(f"ONNX file '{path}' is empty; export it again")
    try:
        model = onnx.load(str(path))
    except (DecodeError, ValueError, OSError, RuntimeError) as err:
        raise ExportError(
            f"ONNX file '{path}' is truncated or corrupt ({_first_line(err)}); export it again"
        ) from None
    if not model.graph.node or not model.opset_import:
        raise ExportError(
            f"ONNX file '{path}' holds no graph (truncated or not an ONNX model); export it again"
        )
    return model


def check_model(path: Path) -> onnx.ModelProto:
    """Checker (full) + strict shape inference; returns the model with inferred shapes."""
    model = load_onnx(path)
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ExportError(
            f"ONNX file '{path}' fails the ONNX checker ({_first_line(err)}); export it again"
        ) from None
    try:
        return onnx.shape_inference.infer_shapes(
            model, check_type=True, strict_mode=True, data_prop=True
        )
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as err:
        raise ExportError(
            f"ONNX file '{path}' fails shape inference ({_first_line(err)}); export it again"
        ) from None


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    shape = value.type.tensor_type.shape
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in shape.dim]


def _check_tensor(
    where: str, value: onnx.ValueInfoProto, spec: TensorSpec, batch: BatchPlan
) -> list[str]:
    problems = []
    if value.name != spec.name:
        return [f"{where} is named '{value.name}', expected '{spec.name}'"]
    elem = value.type.tensor_type.elem_type
    if elem != _ELEM_TYPES[spec.dtype]:
        problems.append(
            f"'{spec.name}' has type {onnx.TensorProto.DataType.Name(elem)}, expected {spec.dtype}"
        )
    dims = _dims(value)
    if len(dims) != 1 + len(spec.shape):
        return [*problems, f"'{spec.name}' has rank {len(dims)}, expected {1 + len(spec.shape)}"]
    lead = dims[0]
    if batch.dynamic and not isinstance(lead, str):
        problems.append(f"'{spec.name}' has a fixed batch axis {lead}; the export is dynamic")
    if not batch.dynamic and lead != batch.max:
        problems.append(f"'{spec.name}' has batch axis {lead!r}, expected {batch.max}")
    if list(dims[1:]) != list(spec.shape):
        problems.append(
            f"'{spec.name}' has shape {dims[1:]} after the batch, expected {list(spec.shape)}"
        )
    return problems


def check_interface(model: onnx.ModelProto, spec: GraphSpec, batch: BatchPlan, path: Path) -> None:
    """Inputs and outputs match the contract in order, names, dtypes and shapes."""
    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [v for v in graph.input if v.name not in initializers]
    problems: list[str] = []
    for kind, actual, wanted in (
        ("input", inputs, spec.inputs),
        ("output", graph.output, spec.outputs),
    ):
        if len(actual) != len(wanted):
            names = [v.name for v in actual]
            problems.append(f"{kind}s are {names}, expected {[t.name for t in wanted]}")
            continue
        for i, (value, tensor) in enumerate(zip(actual, wanted, strict=True)):
            problems += _check_tensor(f"{kind} {i}", value, tensor, batch)
    if problems:
        raise ExportError(
            f"ONNX file '{path}' does not match the bundle contract for the {spec.name} graph: "
            + "; ".join(problems)
        )


def check_graph(path: Path, spec: GraphSpec, batch: BatchPlan) -> onnx.ModelProto:
    """All CPU-side proof for one graph file; returns the shape-inferred model.

    The interface is checked as the file declares it (what a runtime reads), after
    strict shape inference has confirmed the declarations hold.
    """
    inferred = check_model(path)
    check_interface(load_onnx(path), spec, batch, path)
    return inferred
