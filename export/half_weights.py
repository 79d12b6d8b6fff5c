"""Store the background graph's weights as float16, compute in float32.

At 240×320 the background autoencoder has about 1.75 M parameters: 7 MB of float32, more
than the slot model's graphs together, which would put the default bundle over its 10 MB
budget. Halving the storage costs nothing measurable in a fixed-camera foreground rule
whose thresholds sit tens of grey levels apart (float16 keeps 11 significant bits, a
relative rounding of at most 2^-11 per weight).

The rounding is done once, in PyTorch, before the graph is traced: the model that is
exported, checked for parity and measured is the rounded one. The ONNX file then stores
each large float32 initializer as float16 plus a Cast back to float32. Every rounded value
is exactly representable in float16, so the Cast restores it bit for bit: the graph
computes exactly what the traced float32 graph computed, ONNX Runtime folds the Casts
when it loads the session, and TensorRT supports Cast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

# Initializers smaller than this stay float32: the saving is nil and small tensors are
# often shapes or scalars that other nodes read as they are.
MIN_ELEMENTS = 64


def round_to_float16_(module: torch.nn.Module) -> None:
    """Round every floating-point parameter and buffer of `module` to float16 values, in place
    (the dtype stays what it was)."""
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().to(tensor.dtype))


def store_weights_as_float16(path: Path) -> int:
    """Rewrite the graph at `path` so that float32 initializers of at least MIN_ELEMENTS
    values are stored as float16 and cast back; returns how many were converted.

    Refuses (ValueError) an initializer whose values are not already float16-exact: that
    would change the graph's results, and means `round_to_float16_` was not applied.
    """
    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    kept = []
    for init in graph.initializer:
        values = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or values.size < MIN_ELEMENTS:
            kept.append(init)
            continue
        half = values.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), values):
            raise ValueError(f"initializer {init.name} is not float16-exact")
        stored = numpy_helper.from_array(half, f"{init.name}__float16")
        kept.append(stored)
        casts.append(
            helper.make_node(
                "Cast", [stored.name], [init.name], to=TensorProto.FLOAT, name=f"{init.name}__cast"
            )
        )
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend([*casts, *nodes])  # topological order: the Casts feed everything else
    onnx.save(model, str(path))
    return len(casts)
