"""Built plans against the ONNX graphs they came from, on the GPU that built them.

Recorded in each sidecar (`parity_vs_onnxruntime`) and printed; not a gate, since
FP16 and TensorRT's default TF32 matmuls legitimately differ from FP32 ONNX Runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnxruntime as ort

from export.parity import GraphParity
from export.sample_images import sample_images
from export.spec import LATENTS, BatchPlan
from export.tensorrt_build import BuiltEngine
from export.tensorrt_run import EngineRunner


def measure_engine_parity(
    bundle: Path, engines: list[BuiltEngine], batch: BatchPlan, height: int, width: int
) -> dict[str, dict[str, Any]]:
    """Per engine: worst differences from ONNX Runtime CPU on the parity scenes."""
    sizes = batch.parity_sizes
    images_all = sample_images(max(sizes), height, width)
    sessions = {
        e.graph: ort.InferenceSession(
            str(bundle / f"{e.graph}.onnx"), providers=["CPUExecutionProvider"]
        )
        for e in engines
    }
    encoder = sessions.get("encoder") or ort.InferenceSession(
        str(bundle / "encoder.onnx"), providers=["CPUExecutionProvider"]
    )
    runners = {e.graph: EngineRunner(bundle / e.plan) for e in engines}
    checks = {e.graph: GraphParity(e.graph, sizes) for e in engines}
    # The background graph takes frames at its own size (its input shape says which).
    own_size = {
        graph: sample_images(max(sizes), *session.get_inputs()[0].shape[2:])
        for graph, session in sessions.items()
        if graph == "background"
    }
    for size in sizes:
        images = images_all[:size]
        latents = dict(zip(LATENTS, encoder.run(list(LATENTS), {"image": images}), strict=True))
        for graph, runner in runners.items():
            feeds = latents if graph == "renderer" else {"image": images}
            if graph in own_size:
                feeds = {"image": own_size[graph][:size]}
            expected = dict(
                zip(
                    [o.name for o in sessions[graph].get_outputs()],
                    sessions[graph].run(None, feeds),
                    strict=True,
                )
            )
            for name, value in runner.run_numpy(feeds).items():
                checks[graph].add(name, value, expected[name])
    return {graph: {"batch_sizes": list(sizes), **c.to_dict()} for graph, c in checks.items()}
