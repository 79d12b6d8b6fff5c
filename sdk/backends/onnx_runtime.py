"""ONNX Runtime backend: CPU everywhere, CUDA and TensorRT execution providers when installed.

Uses the fused `segmenter.onnx` when the bundle has one (one call, no copies of
the latents) and otherwise chains `encoder.onnx` into `renderer.onnx`. The
TensorRT provider caches the engines it builds under the user cache directory,
so only the first start on a machine pays for the build.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from sdk.backends.base import (
    BACKGROUND_NAMES,
    IMAGE_INPUT,
    LATENT_NAMES,
    OUTPUT_NAMES,
    RENDER_NAMES,
    BackgroundOutput,
    ModelOutput,
    run_background_in_chunks,
    run_in_chunks,
)
from sdk.bundle.bundle import Bundle
from sdk.bundle.cache import cache_dir
from sdk.bundle.graph_shapes import check_graph_shapes
from sdk.bundle.manifest import REEXPORT
from sdk.errors import BundleError, DeviceError

log = logging.getLogger("astseg")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"

_EXPECTED_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "encoder": ((IMAGE_INPUT,), LATENT_NAMES),
    "renderer": (LATENT_NAMES, RENDER_NAMES),
    "segmenter": ((IMAGE_INPUT,), OUTPUT_NAMES),
    "background": ((IMAGE_INPUT,), BACKGROUND_NAMES),
}


def usable_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity, unlike cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def choose_providers(
    available: list[str], device_kind: str, device_index: int
) -> list[tuple[str, dict[str, Any]]]:
    """Providers in the order ONNX Runtime should try them, with their options.

    `device_kind` is "auto", "cpu" or "cuda". Fastest first: TensorRT, CUDA, CPU.
    """
    if device_kind == "cpu":
        return [(CPU, {})]
    chosen: list[tuple[str, dict[str, Any]]] = []
    if TENSORRT in available:
        trt_cache = str(cache_dir("trt"))
        chosen.append(
            (
                TENSORRT,
                {
                    "device_id": device_index,
                    "trt_engine_cache_enable": True,
                    "trt_engine_cache_path": trt_cache,
                    "trt_timing_cache_enable": True,
                    "trt_timing_cache_path": trt_cache,
                },
            )
        )
    if CUDA in available:
        chosen.append((CUDA, {"device_id": device_index}))
    if device_kind == "cuda" and not chosen:
        raise DeviceError(
            "device 'cuda' was requested but this onnxruntime has no CUDA or TensorRT provider; "
            "install the GPU runtime (pip install 'astseg[gpu]') or use device='cpu'."
        )
    chosen.append((CPU, {}))
    return chosen


def _report_fallback(requested: list[tuple[str, dict[str, Any]]], used: list[str]) -> list[str]:
    """Log, once per backend, the requested providers that ONNX Runtime could not start.

    ORT lists a provider as available when its library is present, but a session
    silently drops it when the library fails to load (a TensorRT or CUDA version this
    onnxruntime was not built for) and runs on the next one; without this line a user
    benchmarks the CUDA or CPU path believing it is TensorRT.
    """
    missing = [name for name, _ in requested if name != CPU and name not in used]
    if missing:
        log.warning(
            "astseg: onnxruntime could not start %s and fell back to %s; install a matching "
            "onnxruntime-gpu / TensorRT / CUDA pair (see docs/export.md, 'Version pairs').",
            ", ".join(missing),
            ", ".join(used) or "nothing",
        )
    return missing


class OnnxRuntimeBackend:
    """Runs a bundle's ONNX graphs with onnxruntime."""

    name = "onnxruntime"

    def __init__(
        self,
        bundle: Bundle,
        device_kind: str = "auto",
        device_index: int = 0,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self._ort = ort
        self.bundle = bundle
        self.threads = threads or usable_cores()
        self.providers = choose_providers(ort.get_available_providers(), device_kind, device_index)
        graphs = bundle.manifest.graphs
        self.fused = "segmenter" in graphs
        order = ("segmenter",) if self.fused else ("encoder", "renderer")
        self.sessions = {g: self._open(g, graphs[g]) for g in order}
        first = self.sessions[order[0]]
        self._max_batch, self._fixed = self._batch_limits(first)
        background = bundle.manifest.background
        self.has_background = background is not None
        if background is not None:  # its own session: it takes the frame at its own size
            self.sessions["background"] = self._open("background", background.graph)
            self._bg_batch = self._batch_limits(self.sessions["background"])
        used = first.get_providers()
        self.fallen_back = _report_fallback(self.providers, used)
        graphs_used = "fused segmenter.onnx" if self.fused else "encoder.onnx -> renderer.onnx"
        if background is not None:
            graphs_used += f", {background.graph}"
        self.description = (
            f"onnxruntime {ort.__version__} ({', '.join(used)}, {self.threads} threads, "
            f"{graphs_used})"
        )

    def _options(self) -> Any:
        opts = self._ort.SessionOptions()
        opts.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle inference threads must not spin: decoding and encoding share these cores.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        return opts

    def _open(self, graph: str, file_name: str) -> Any:
        path = self.bundle.path(file_name)
        try:
            session = self._ort.InferenceSession(
                str(path), sess_options=self._options(), providers=self.providers
            )
        except Exception as err:  # onnxruntime raises its own untyped errors for bad graphs
            reason = (
                str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
            )
            raise BundleError(
                f"{file_name} in bundle {self.bundle.source} cannot be loaded by onnxruntime "
                f"({reason}); {REEXPORT}."
            ) from err
        self._check_io(session, graph, file_name)
        return session

    def _check_io(self, session: Any, graph: str, file_name: str) -> None:
        inputs = {i.name: i for i in session.get_inputs()}
        outputs = {o.name for o in session.get_outputs()}
        want_in, want_out = _EXPECTED_IO[graph]
        for name in want_in:
            if name not in inputs:
                raise BundleError(
                    f"{file_name} in bundle {self.bundle.source} has no input '{name}', so it does "
                    f"not follow bundle format 1; {REEXPORT}."
                )
        for name in want_out:
            if name not in outputs:
                raise BundleError(
                    f"{file_name} in bundle {self.bundle.source} has no output '{name}', so it "
                    f"does not follow bundle format 1; {REEXPORT}."
                )
        if IMAGE_INPUT in inputs and inputs[IMAGE_INPUT].type != "tensor(uint8)":
            raise BundleError(
                f"{file_name} in bundle {self.bundle.source} takes '{IMAGE_INPUT}' as "
                f"{inputs[IMAGE_INPUT].type}, but bundle format 1 feeds it uint8 pixels; "
                f"{REEXPORT}."
            )
        if IMAGE_INPUT in inputs:
            shape = inputs[IMAGE_INPUT].shape
            model = self.bundle.manifest.model
            background = self.bundle.manifest.background
            hw = (model.image_height, model.image_width)
            where = ""
            if graph == "background" and background is not None:
                hw, where = (background.image_height, background.image_width), "background "
            if len(shape) != 4 or (isinstance(shape[2], int) and tuple(shape[2:]) != hw):
                raise BundleError(
                    f"{file_name} in bundle {self.bundle.source} takes images of shape {shape}, "
                    f"but its astseg.json says {where}{hw[0]}x{hw[1]}; {REEXPORT}."
                )
        if graph == "background":  # its own size, checked above; it has no slot outputs
            return
        declared = {t.name: t.shape for t in (*session.get_inputs(), *session.get_outputs())}
        check_graph_shapes(self.bundle.manifest.model, declared, file_name, str(self.bundle.source))

    def _batch_limits(self, session: Any) -> tuple[int, bool]:
        first_input = session.get_inputs()[0].shape
        batch_dim = first_input[0] if first_input else None
        if isinstance(batch_dim, int) and batch_dim > 0:
            return batch_dim, True
        return max(1, self.bundle.manifest.batch.max), False

    def _session_run(self, graph: str, names: list[str], feed: dict[str, Any]) -> list[Any]:
        """One graph call; ONNX Runtime's own failures become a sentence naming the graph."""
        try:
            return list(self.sessions[graph].run(names, feed))
        except Exception as err:  # onnxruntime's error types are not importable stably
            if not type(err).__module__.startswith("onnxruntime"):
                raise
            reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else "error"
            raise BundleError(
                f"onnxruntime could not run {graph}.onnx of bundle {self.bundle.source} "
                f"({reason}); {REEXPORT}."
            ) from err

    def _run_one(self, images: np.ndarray) -> dict[str, np.ndarray]:
        if self.fused:
            values = self._session_run("segmenter", list(OUTPUT_NAMES), {IMAGE_INPUT: images})
            return dict(zip(OUTPUT_NAMES, values, strict=True))
        latents = self._session_run("encoder", list(LATENT_NAMES), {IMAGE_INPUT: images})
        feed = dict(zip(LATENT_NAMES, latents, strict=True))
        rendered = self._session_run("renderer", list(RENDER_NAMES), feed)
        return {**feed, **dict(zip(RENDER_NAMES, rendered, strict=True))}

    def run(self, images: np.ndarray) -> ModelOutput:
        return run_in_chunks(self._run_one, images, self._max_batch, self._fixed)

    def run_background(self, images: np.ndarray) -> BackgroundOutput:
        """background.onnx on frames already resized to its own size (uint8 RGB NCHW)."""
        if "background" not in self.sessions:
            raise BundleError(
                f"bundle {self.bundle.source} has no background graph; run it with "
                "masks_from='slots' or export a model trained with a background."
            )

        def one(chunk: np.ndarray) -> dict[str, np.ndarray]:
            values = self._session_run("background", list(BACKGROUND_NAMES), {IMAGE_INPUT: chunk})
            return dict(zip(BACKGROUND_NAMES, values, strict=True))

        return run_background_in_chunks(one, images, *self._bg_batch)

    def close(self) -> None:
        self.sessions.clear()
