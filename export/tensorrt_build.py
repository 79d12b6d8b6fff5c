"""One TensorRT plan per graph, built with the TensorRT Python API (TensorRT 10 and 11).

FP16 differs by major version (DESIGN §4):
- TensorRT 10: `BuilderFlag.FP16` with `OBEY_PRECISION_CONSTRAINTS`, and every layer of
  the glimpse-placement block pinned to FP32.
- TensorRT 11 removed the precision flags; networks are always strongly typed, so the
  plan is built from an FP16 copy of the graph whose placement block stays FP32
  (`export.fp16`).
Plans are plain `build_serialized_network` output that `trtexec` and Triton load.
One timing cache serves every build of a run and, with `--timing-cache`, later runs.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import onnx

from export.errors import ExportError
from export.fp16 import convert_fp16_keep_placement, ensure_node_names
from export.gpu_device import GpuInfo, current_gpu
from export.manifest import sha256_file, write_json
from export.placement_layers import Block, block_layers, fp16_layers_in_block, network_layers
from export.spec import BatchPlan, GraphSpec
from export.tensorrt_progress import progress_monitor
from sdk.backends.engine_check import host_cpu_arch, host_os
from sdk.outputs.atomic import write_bytes_atomic

DEFAULT_WORKSPACE_GIB = 4.0
SUPPORTED_MAJORS = (10, 11)


@dataclass(frozen=True)
class TrtOptions:
    fp16: bool = False
    workspace_gib: float = DEFAULT_WORKSPACE_GIB
    timing_cache: Path | None = None

    def validate(self) -> None:
        if not self.workspace_gib > 0:
            raise ExportError(
                f"--workspace must be a positive number of GiB, got {self.workspace_gib}"
            )
        if self.timing_cache is not None and not self.timing_cache.parent.is_dir():
            raise ExportError(
                f"--timing-cache {self.timing_cache}: its folder does not exist; create it first"
            )


@dataclass(frozen=True)
class BuiltEngine:
    graph: str
    plan: str
    sidecar: str
    seconds: float


def import_tensorrt() -> ModuleType:
    """The tensorrt module, or an ExportError saying how to get it."""
    try:
        import tensorrt
    except ImportError as err:
        raise ExportError(
            f"--trt needs the TensorRT Python package, which is not installed here ({err}); "
            "install it on the GPU machine (pip install 'astseg[gpu]'), or export without --trt"
        ) from None
    return tensorrt


def tensorrt_major(version: str) -> int:
    match = re.match(r"(\d+)", version)
    if not match or int(match.group(1)) not in SUPPORTED_MAJORS:
        raise ExportError(
            f"TensorRT {version} is not supported by this exporter (it builds with TensorRT "
            f"{' or '.join(map(str, SUPPORTED_MAJORS))}); install one of those"
        )
    return int(match.group(1))


def precision_mode(major: int, fp16: bool) -> str:
    """How the plan gets its precision: the sidecar records it."""
    if not fp16:
        return "fp32"
    return "fp16-builder-flag" if major == 10 else "fp16-strongly-typed-graph"


def profile_shapes(spec: GraphSpec, batch: BatchPlan) -> dict[str, dict[str, list[int]]]:
    """The optimisation profile: every input's shape at the batch's min, opt and max."""
    return {
        t.name: {
            "min": [batch.min, *t.shape],
            "opt": [batch.opt, *t.shape],
            "max": [batch.max, *t.shape],
        }
        for t in spec.inputs
    }


def build_sidecar(
    *,
    tensorrt_version: str,
    gpu: GpuInfo,
    fp16: bool,
    spec: GraphSpec,
    batch: BatchPlan,
    onnx_path: Path,
    workspace_bytes: int,
    fp32_layers: int | None,
) -> dict[str, Any]:
    """`<graph>.engine.json`: where the plan may run and what it was built from."""
    major = tensorrt_major(tensorrt_version)
    return {
        "tensorrt_version": tensorrt_version,
        "gpu_name": gpu.name,
        "compute_capability": gpu.compute_capability,
        "os": host_os(),  # plans are not portable across platforms either
        "cpu_arch": host_cpu_arch(),
        "precision": "fp16" if fp16 else "fp32",
        "precision_mode": precision_mode(major, fp16),
        "placement_block": "fp32",
        "fp32_pinned_layers": fp32_layers,
        "profiles": [profile_shapes(spec, batch)],
        "inputs": {t.name: t.dtype for t in spec.inputs},
        "outputs": {t.name: t.dtype for t in spec.outputs},
        "graph": onnx_path.name,
        "graph_sha256": sha256_file(onnx_path),
        "workspace_bytes": workspace_bytes,
    }


def _pin_placement_fp32(trt: ModuleType, network: Any, block: Block) -> int:
    """TensorRT 10 FP16: placement layers run and output in FP32. Returns how many.

    Found by the tensors they read and write as well as by ONNX node names, so the
    layers the parser adds without a name (constants, broadcasts, casts) are pinned too.
    """
    pinned = 0
    for i in sorted(block_layers(network_layers(network, block), block)):
        layer = network.get_layer(i)
        outputs = [layer.get_output(j) for j in range(layer.num_outputs)]
        floats = [j for j, o in enumerate(outputs) if o.dtype in (trt.float32, trt.float16)]
        if not floats:  # shape and index layers run in INT32/INT64 whatever is asked
            continue
        layer.precision = trt.float32
        for j in floats:
            layer.set_output_type(j, trt.float32)
        pinned += 1
    if block.nodes and pinned == 0:
        raise ExportError(
            "could not find the glimpse-placement layers in the TensorRT network to keep them "
            "in FP32; build without --fp16"
        )
    return pinned


class EngineBuilder:
    """Builds plans on this machine's GPU 0; fails at construction if it cannot."""

    def __init__(self, options: TrtOptions, log: Callable[[str], None] = print) -> None:
        options.validate()
        self.trt = import_tensorrt()
        self.version = self.trt.__version__
        self.major = tensorrt_major(self.version)
        self.gpu = current_gpu()
        self.options = options
        self.log = log
        self.logger = self.trt.Logger(self.trt.Logger.WARNING)
        self.builder = self.trt.Builder(self.logger)
        self.cache = self._load_timing_cache()

    def _load_timing_cache(self) -> Any:
        path = self.options.timing_cache
        data = path.read_bytes() if path is not None and path.is_file() else b""
        config = self.builder.create_builder_config()
        cache = config.create_timing_cache(data)
        if cache is None:
            raise ExportError(
                f"--timing-cache {path} is not a timing cache of TensorRT {self.version}; "
                "delete it and build again"
            )
        if data and not config.set_timing_cache(cache, False):
            # TensorRT refuses a cache whose device properties differ from this GPU's; its
            # timings do not apply here, so start an empty one (saved over the stale file).
            self.log(f"timing cache {path} was made on another GPU; rebuilt for {self.gpu.name}")
            cache = config.create_timing_cache(b"")
        return cache

    def save_timing_cache(self) -> None:
        path = self.options.timing_cache
        if path is None:
            return
        write_bytes_atomic(path, bytes(memoryview(self.cache.serialize())), suffix=".tmp")

    def placement_fp16_layers(self, plan: bytes, block: Block) -> list[str] | None:
        """Block layers the built plan runs in FP16, read with TensorRT's engine inspector."""
        runtime = self.trt.Runtime(self.logger)
        engine = runtime.deserialize_cuda_engine(plan)
        if engine is None:
            raise ExportError(
                f"TensorRT {self.version} cannot load the plan it just built on {self.gpu.name}; "
                "build without --fp16"
            )
        inspector = engine.create_engine_inspector()
        info = inspector.get_engine_information(self.trt.LayerInformationFormat.JSON)
        return fp16_layers_in_block(str(info), block)

    def _parse(self, onnx_path: Path) -> tuple[Any, Any]:
        network = self.builder.create_network(0)  # explicit batch is the only mode in 10 and 11
        parser = self.trt.OnnxParser(network, self.logger)
        if not parser.parse_from_file(str(onnx_path)):
            errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
            raise ExportError(
                f"TensorRT {self.version} cannot parse {onnx_path.name}: "
                + ("; ".join(errors[:3]) or "no reason given")
            )
        return network, parser

    def build(
        self, onnx_path: Path, spec: GraphSpec, batch: BatchPlan, out_dir: Path
    ) -> BuiltEngine:
        trt, opts = self.trt, self.options
        started = time.perf_counter()
        model = onnx.load(str(onnx_path))
        ensure_node_names(model)
        with tempfile.TemporaryDirectory(prefix="astseg-trt-") as tmp:
            source = Path(tmp) / onnx_path.name
            if opts.fp16 and self.major >= 11:
                converted = convert_fp16_keep_placement(model)
                onnx.save(converted, str(source))
                block = Block.of(model, parsed=converted)
            else:
                onnx.save(model, str(source))
                block = Block.of(model)
            network, _parser = self._parse(source)  # the parser owns weights the build reads
            config = self.builder.create_builder_config()
            workspace = int(opts.workspace_gib * (1 << 30))
            config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
            profile = self.builder.create_optimization_profile()
            for name, shapes in profile_shapes(spec, batch).items():
                profile.set_shape(name, shapes["min"], shapes["opt"], shapes["max"])
            config.add_optimization_profile(profile)
            if not config.set_timing_cache(self.cache, False):
                raise ExportError(
                    f"TensorRT {self.version} refused the timing cache made on this GPU; "
                    "build without --timing-cache"
                )
            pinned = None
            if opts.fp16:
                # Per-layer tensor formats in the plan, for the placement check below.
                config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
            if opts.fp16 and self.major == 10:
                config.set_flag(trt.BuilderFlag.FP16)
                config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
                pinned = _pin_placement_fp32(trt, network, block)
            monitor = progress_monitor(trt, f"{spec.name}.engine")
            config.progress_monitor = monitor
            try:
                plan = self.builder.build_serialized_network(network, config)
            finally:
                monitor.close()
        if plan is None:
            raise ExportError(
                f"TensorRT {self.version} could not build {spec.name}.engine on {self.gpu.name} "
                "(see its log above); try a larger --workspace or build without --fp16"
            )
        plan_name = f"{spec.name}.engine"
        fp16_in_block = (
            self.placement_fp16_layers(bytes(memoryview(plan)), block) if opts.fp16 else []
        )
        if fp16_in_block:
            raise ExportError(
                f"TensorRT {self.version} runs {len(fp16_in_block)} layer(s) of the "
                f"glimpse-placement block of {plan_name} in FP16 ({'; '.join(fp16_in_block[:3])}), "
                "which moves masks by whole pixels; the plan was not written; build without --fp16"
            )
        (out_dir / plan_name).write_bytes(bytes(memoryview(plan)))
        sidecar = build_sidecar(
            tensorrt_version=self.version,
            gpu=self.gpu,
            fp16=opts.fp16,
            spec=spec,
            batch=batch,
            onnx_path=onnx_path,
            workspace_bytes=workspace,
            fp32_layers=pinned,
        )
        # []: no block layer runs in FP16 (an FP16 plan was inspected; an FP32 plan has no
        # FP16 layers); None: the FP16 plan's inspector gave no per-layer formats.
        sidecar["placement_block_fp16_layers"] = fp16_in_block
        write_json(out_dir / f"{plan_name}.json", sidecar)
        seconds = time.perf_counter() - started
        self.log(f"built {plan_name} ({sidecar['precision_mode']}) in {seconds:.0f} s")
        return BuiltEngine(spec.name, plan_name, f"{plan_name}.json", seconds)
