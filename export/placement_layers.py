"""Which TensorRT layers belong to the glimpse-placement block: in a network, or a built engine.

The block is defined on the ONNX graph (`export.fp16.placement_block`). The ONNX
parser does not map it one node to one layer: it adds layers of its own that carry
no node name (the constant layer a Constant node or an initializer becomes when an
op first reads it, the Shuffle that broadcasts it, Casts), and a built engine adds
reformats and fuses layers. So a layer belongs to the block when
- it names a block node (its own name, `+`-joined names of fused layers, or the
  `[ONNX Layer: …]` entries of its metadata), or produces a tensor a block node
  produces; or
- it names no ONNX node at all and either feeds a block layer or reads one's output,
  unless it produces a tensor that a node outside the block produces (then it is
  that node's).
The second rule is applied until nothing changes, so chains such as
constant → shuffle → MatMul are found whole.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import onnx

from export.fp16 import placement_block

_METADATA = re.compile(r"\[ONNX Layer: ([^\]\x1e]+)\]")
_FP16 = re.compile(r"\b(fp16|half)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """The block's node names and the tensors on either side of it, from the ONNX graph."""

    nodes: frozenset[str]
    all_nodes: frozenset[str]
    produced: frozenset[str]  # outputs of block nodes
    outside: frozenset[str]  # outputs of other nodes, and graph inputs

    @classmethod
    def of(cls, model: onnx.ModelProto, parsed: onnx.ModelProto | None = None) -> Block:
        """The block of `model` (unique node names: `export.fp16.ensure_node_names`).

        `parsed` is the graph TensorRT actually read when it differs (the FP16 copy for
        TensorRT 11): its extra nodes, the Casts at the block's border, are nodes outside
        the block, so a layer fusing such a Cast with a block op is judged as a border layer.
        """
        nodes = placement_block(model)
        graphs = [model.graph] if parsed is None else [model.graph, parsed.graph]
        all_nodes = {n.name for g in graphs for n in g.node}
        produced = {o for n in model.graph.node if n.name in nodes for o in n.output if o}
        outside = {o for g in graphs for n in g.node if n.name not in nodes for o in n.output if o}
        outside |= {i.name for g in graphs for i in g.input}
        return cls(frozenset(nodes), frozenset(all_nodes), frozenset(produced), frozenset(outside))


@dataclass(frozen=True)
class LayerView:
    """What the block search needs from one layer."""

    name: str
    onnx_nodes: frozenset[str]  # the ONNX nodes this layer says it comes from
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def onnx_nodes_of(name: str, metadata: str, known: frozenset[str]) -> frozenset[str]:
    """ONNX node names a layer carries in its name or its metadata, among `known`."""
    found = set(_METADATA.findall(metadata or ""))
    found |= {part.strip() for part in (name or "").split(" + ")}
    return frozenset(found & known)


def block_layers(layers: list[LayerView], block: Block) -> set[int]:
    """Indices of the layers that belong to the block (see the module docstring)."""
    consumers: dict[str, list[int]] = defaultdict(list)
    producer: dict[str, int] = {}
    for i, layer in enumerate(layers):
        for tensor in layer.inputs:
            consumers[tensor].append(i)
        for tensor in layer.outputs:
            producer[tensor] = i
    inside = {
        i
        for i, layer in enumerate(layers)
        if layer.onnx_nodes & block.nodes or set(layer.outputs) & block.produced
    }
    helpers = [
        i
        for i, layer in enumerate(layers)
        if not layer.onnx_nodes and not set(layer.outputs) & block.outside
    ]
    changed = True
    while changed:
        changed = False
        for i in helpers:
            if i in inside:
                continue
            layer = layers[i]
            feeds = any(c in inside for t in layer.outputs for c in consumers.get(t, []))
            reads = any(producer.get(t) in inside for t in layer.inputs)
            if feeds or reads:
                inside.add(i)
                changed = True
    return inside


def network_layers(network: Any, block: Block) -> list[LayerView]:
    """The layers of a TensorRT `INetworkDefinition` (TensorRT 10 and 11 Python API)."""
    views = []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        inputs = [layer.get_input(j) for j in range(layer.num_inputs)]
        outputs = [layer.get_output(j) for j in range(layer.num_outputs)]
        views.append(
            LayerView(
                layer.name,
                onnx_nodes_of(layer.name, getattr(layer, "metadata", "") or "", block.all_nodes),
                tuple(t.name for t in inputs if t is not None),  # optional inputs are None
                tuple(t.name for t in outputs if t is not None),
            )
        )
    return views


def fp16_layers_in_block(engine_information: str, block: Block) -> list[str] | None:
    """Layers of the block that a built engine runs in FP16, from the engine inspector's JSON.

    `engine_information` is `IEngineInspector.get_engine_information(JSON)` of a plan
    built with `ProfilingVerbosity.DETAILED`; None when it has no per-layer tensor
    formats (another verbosity), so nothing can be said. A layer that names only block
    nodes must have no FP16 input or output; a fused layer that also holds nodes outside
    the block must not write a block tensor in FP16; a helper, reformat or unnamed fusion
    must not write FP16 except tensors that nodes outside the block produce. Inputs of
    border layers may come from the FP16 region: converting them is their job.
    """
    data = json.loads(engine_information)
    layers = data.get("Layers") if isinstance(data, dict) else None
    if not isinstance(layers, list) or not layers:
        return None
    if not all(isinstance(layer, dict) and "Outputs" in layer for layer in layers):
        return None  # ProfilingVerbosity.LAYER_NAMES_ONLY: a list of names
    views, ports = [], []
    for layer in layers:
        name = str(layer.get("Name", ""))
        ins = [p for p in layer.get("Inputs", []) if isinstance(p, dict)]
        outs = [p for p in layer.get("Outputs", []) if isinstance(p, dict)]
        views.append(
            LayerView(
                name,
                onnx_nodes_of(name, str(layer.get("Metadata", "")), block.all_nodes),
                tuple(str(p.get("Name", "")) for p in ins),
                tuple(str(p.get("Name", "")) for p in outs),
            )
        )
        ports.append((ins, outs))
    found = []
    for i in sorted(block_layers(views, block)):
        view, (ins, outs) = views[i], ports[i]
        if view.onnx_nodes and view.onnx_nodes <= block.nodes:
            checked = [*ins, *outs]
        elif view.onnx_nodes:  # fused across the border: only what the block produces
            checked = [p for p in outs if str(p.get("Name", "")) in block.produced]
        else:  # a helper, reformat or unnamed fusion: not what nodes outside produce
            checked = [p for p in outs if str(p.get("Name", "")) not in block.outside]
        half = [
            str(p.get("Name", "?"))
            for p in checked
            if _FP16.search(str(p.get("Format/Datatype", "")))
        ]
        if half:
            found.append(f"{view.name} ({', '.join(half)})")
    return found
