"""Trace the wrapper modules to ONNX with the settings DESIGN §4 prescribes.

Opset 17 by default with the TorchScript exporter (`dynamo=False`): opsets from 20
on name GridSample modes in a way TensorRT's parser reads as nearest-neighbour, and
16 is the first with GridSample. The transformer is traced with PyTorch's fused
MHA fast path off, so the graph holds plain MatMul/Softmax that every runtime has.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import onnx
import torch
from torch import nn

from export.errors import ExportError
from export.spec import BATCH_DIM, IMAGE, BatchPlan, GraphSpec
from export.wrappers import BackgroundGraph, EncoderGraph, RendererGraph, SegmenterGraph
from training.model import ASTSeg

DEFAULT_OPSET = 17
MIN_OPSET = 16  # GridSample
MAX_OPSET = 19  # opset 20 renames GridSample modes; TensorRT then samples nearest


def check_opset(opset: int) -> None:
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"--opset {opset} is not supported: use {MIN_OPSET} to {MAX_OPSET} "
            f"(default {DEFAULT_OPSET}); GridSample needs 16 and TensorRT misreads its modes "
            "from opset 20 on"
        )


@contextlib.contextmanager
def _mha_fast_path_off() -> Iterator[None]:
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


def wrapper_for(model: ASTSeg, graph: str) -> nn.Module:
    if graph == "encoder":
        return EncoderGraph(model.encoder).eval()
    if graph == "renderer":
        return RendererGraph(model.renderer).eval()
    if graph == "segmenter":
        return SegmenterGraph(model.encoder, model.renderer).eval()
    if graph == "background":
        return BackgroundGraph(model.background).eval()
    raise ValueError(f"unknown graph {graph!r}")


def example_inputs(
    model: ASTSeg, spec: GraphSpec, batch: int, image: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """Inputs to trace with: the image (at the graph's own size), or the encoder's latents
    of that image."""
    if spec.inputs[0].name == IMAGE:
        return (image[:batch],)
    with torch.no_grad():
        return EncoderGraph(model.encoder).eval()(image[:batch])


def export_graph(
    model: ASTSeg,
    spec: GraphSpec,
    batch: BatchPlan,
    image: torch.Tensor,
    path: Path,
    opset: int = DEFAULT_OPSET,
) -> None:
    """Writes `spec`'s graph to `path`; `image` is a uint8 batch of at least trace_size."""
    check_opset(opset)
    module = wrapper_for(model, spec.name)
    args = example_inputs(model, spec, batch.trace_size, image)
    names_in = [t.name for t in spec.inputs]
    names_out = [t.name for t in spec.outputs]
    dynamic_axes = (
        {name: {0: BATCH_DIM} for name in names_in + names_out} if batch.dynamic else None
    )
    # The TorchScript exporter prints tracer and deprecation chatter the user cannot act on.
    with (
        torch.no_grad(),
        _mha_fast_path_off(),
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=names_in,
                output_names=names_out,
                dynamic_axes=dynamic_axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
        except Exception as err:  # the exporter raises many types; all mean the same here
            first = str(err).strip().splitlines()[0][:300] if str(err).strip() else repr(err)
            raise ExportError(
                f"tracing the {spec.name} graph to ONNX failed ({type(err).__name__}: {first})"
            ) from err
    _declare_interface(path, spec, batch)


def _declare_interface(path: Path, spec: GraphSpec, batch: BatchPlan) -> None:
    """Writes the contract's shapes into the graph's inputs and outputs.

    With dynamic axes the TorchScript exporter also declares axes it could not prove
    constant as symbols (e.g. K as 'Clipposition_dim_1'); a runtime reading shapes from
    the graph must see the numbers. Shape inference then checks they hold.
    """
    model = onnx.load(str(path))
    tensors = {t.name: t for t in (*spec.inputs, *spec.outputs)}
    for value in (*model.graph.input, *model.graph.output):
        tensor = tensors.get(value.name)
        if tensor is None:
            continue
        dims = value.type.tensor_type.shape.dim
        wanted: list[int | str] = [BATCH_DIM if batch.dynamic else batch.max, *tensor.shape]
        if len(dims) != len(wanted):
            continue  # the contract check names the wrong rank
        for dim, size in zip(dims, wanted, strict=True):
            if isinstance(size, str):
                dim.dim_param = size
            else:
                dim.dim_value = size
    onnx.save(model, str(path))
