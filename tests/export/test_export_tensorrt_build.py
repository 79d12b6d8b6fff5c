"""The TensorRT parts that run without TensorRT: options, profiles, sidecars, clear refusals."""

from __future__ import annotations

import importlib.util
import json
import platform
import re
import sys
from pathlib import Path

import onnx
import pytest
import torch
from onnx import TensorProto

from export.errors import ExportError
from export.gpu_device import GpuInfo, current_gpu
from export.spec import BatchPlan, graph_specs
from export.tensorrt_build import (
    EngineBuilder,
    TrtOptions,
    build_sidecar,
    precision_mode,
    profile_shapes,
    tensorrt_major,
)
from export.tensorrt_progress import progress_monitor
from sdk.backends.engine_check import RuntimeInfo, check_engine_compatible, host_cpu_arch
from sdk.errors import BundleError
from tests.export.conftest import Exported, tiny_model

SPECS = {s.name: s for s in graph_specs(tiny_model(), fused=True)}
HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None


def test_precision_comes_from_the_flag_on_10_and_the_graph_on_11() -> None:
    assert precision_mode(10, fp16=True) == "fp16-builder-flag"
    assert precision_mode(11, fp16=True) == "fp16-strongly-typed-graph"
    assert precision_mode(10, fp16=False) == precision_mode(11, fp16=False) == "fp32"
    assert tensorrt_major("10.13.3.9") == 10
    assert tensorrt_major("11.5.0") == 11
    for other in ("8.6.1", "12.0.0", "banana"):
        with pytest.raises(ExportError, match="is not supported by this exporter"):
            tensorrt_major(other)


def test_profiles_cover_the_batch_range_of_every_input() -> None:
    dynamic = profile_shapes(SPECS["renderer"], BatchPlan.dynamic_up_to(8))
    assert list(dynamic) == ["position", "scale", "log_activation", "z_what"]
    assert dynamic["scale"] == {"min": [1, 3, 2], "opt": [1, 3, 2], "max": [8, 3, 2]}
    fixed = profile_shapes(SPECS["encoder"], BatchPlan.fixed(4))
    assert fixed == {"image": {"min": [4, 3, 48, 80], "opt": [4, 3, 48, 80], "max": [4, 3, 48, 80]}}


def test_the_sidecar_says_where_the_plan_runs_and_the_runtime_agrees(
    segformer_dynamic: Exported,
) -> None:
    gpu = GpuInfo("NVIDIA H100 80GB HBM3", "9.0")
    onnx_path = segformer_dynamic.bundle / "encoder.onnx"
    sidecar = build_sidecar(
        tensorrt_version="10.13.3.9",
        gpu=gpu,
        fp16=True,
        spec=SPECS["encoder"],
        batch=BatchPlan.dynamic_up_to(4),
        onnx_path=onnx_path,
        workspace_bytes=4 << 30,
        fp32_layers=31,
    )
    assert sidecar["tensorrt_version"] == "10.13.3.9"
    assert (sidecar["gpu_name"], sidecar["compute_capability"]) == (gpu.name, "9.0")
    assert sidecar["os"] == platform.system() and sidecar["cpu_arch"] == host_cpu_arch()
    assert sidecar["cpu_arch"] in ("x86_64", "aarch64", platform.machine().lower())
    assert (sidecar["precision"], sidecar["precision_mode"]) == ("fp16", "fp16-builder-flag")
    assert sidecar["placement_block"] == "fp32" and sidecar["fp32_pinned_layers"] == 31
    assert sidecar["profiles"] == [
        {"image": {"min": [1, 3, 48, 80], "opt": [1, 3, 48, 80], "max": [4, 3, 48, 80]}}
    ]
    assert sidecar["inputs"] == {"image": "uint8"}
    assert sidecar["outputs"]["z_what"] == "float32"
    assert sidecar["graph"] == "encoder.onnx"
    assert (
        sidecar["graph_sha256"]
        == segformer_dynamic.result.manifest["files"]["encoder.onnx"]["sha256"]
    )
    # The runtime's own check reads it: same machine passes, another GPU is refused.
    check_engine_compatible(sidecar, "encoder.engine", RuntimeInfo("10.13.3.9", gpu.name, "9.0"))
    with pytest.raises(BundleError, match="encoder.engine was built for TensorRT 10.13.3.9"):
        check_engine_compatible(
            sidecar, "encoder.engine", RuntimeInfo("10.13.3.9", "NVIDIA L4", "8.9")
        )
    other_arch = "x86_64" if sidecar["cpu_arch"] != "x86_64" else "aarch64"
    with pytest.raises(BundleError, match=rf"\(compute 9.0\), \w+ {sidecar['cpu_arch']}, but"):
        check_engine_compatible(
            sidecar,
            "encoder.engine",
            RuntimeInfo("10.13.3.9", gpu.name, "9.0", cpu_arch=other_arch),
        )


def test_bad_engine_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="--workspace must be a positive number"):
        TrtOptions(workspace_gib=0).validate()
    with pytest.raises(ExportError, match="--timing-cache .* its folder does not exist"):
        TrtOptions(timing_cache=tmp_path / "nowhere" / "cache.bin").validate()
    TrtOptions(timing_cache=tmp_path / "cache.bin").validate()


@pytest.mark.skipif(HAS_TENSORRT, reason="tensorrt is installed here; this checks its absence")
def test_asking_for_engines_without_tensorrt_is_one_clear_error() -> None:
    with pytest.raises(ExportError, match="--trt needs the TensorRT Python package"):
        EngineBuilder(TrtOptions())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present here")
def test_without_a_gpu_engines_are_refused_with_the_reason() -> None:
    with pytest.raises(ExportError, match="--trt needs a CUDA GPU, and none is visible"):
        current_gpu()


def test_the_progress_monitor_follows_nested_phases(capsys) -> None:
    """The monitor's bookkeeping, driven the way TensorRT drives it, without TensorRT."""

    class FakeTensorRT:
        class IProgressMonitor:
            def __init__(self) -> None:
                pass

    monitor = progress_monitor(FakeTensorRT, "encoder.engine")
    monitor.phase_start("Building", None, 3)
    monitor.phase_start("Tactics", "Building", 2)
    assert monitor.step_complete("Tactics", 0) and monitor.step_complete("Tactics", 1)
    monitor.phase_finish("Tactics")
    assert monitor.step_complete("Building", 2)
    assert monitor._bars["Building"].n == 3
    monitor.phase_finish("Building")
    assert monitor._bars == {} and monitor._depth == {}
    assert "encoder.engine: Building" in capsys.readouterr().err


class _FakeTensorRT:
    """Records what EngineBuilder asks of TensorRT; builds nothing.

    It executes the builder's real code paths on the CPU (flags per major version,
    profile, workspace, timing cache, which layers get pinned to FP32, what graph is
    parsed); the GPU test builds real plans where TensorRT and a GPU exist.
    """

    float32, float16, int64 = "float32", "float16", "int64"

    class BuilderFlag:
        FP16, OBEY_PRECISION_CONSTRAINTS = "FP16", "OBEY_PRECISION_CONSTRAINTS"

    class MemoryPoolType:
        WORKSPACE = "WORKSPACE"

    class ProfilingVerbosity:
        LAYER_NAMES_ONLY, DETAILED = "LAYER_NAMES_ONLY", "DETAILED"

    class LayerInformationFormat:
        JSON = "JSON"

    class IProgressMonitor:
        def __init__(self) -> None:
            pass

    class Logger:
        WARNING = 2

        def __init__(self, level: int) -> None:
            self.level = level

    def __init__(self, version: str, gpu: str = "NVIDIA L4") -> None:
        self.__version__ = version
        self.gpu = gpu
        self.parsed: list = []
        self.configs: list = []
        self.networks: list = []
        self.plans: dict = {}
        fake = self

        class Tensor:
            def __init__(self, name, dtype):
                self.name, self.dtype = name, dtype

        class Layer:
            """A network layer: ONNX-node layers carry the node's name and metadata."""

            def __init__(self, name, inputs, outputs, metadata=""):
                self.name, self.metadata = name, metadata
                self.precision, self.output_types = None, {}
                self.inputs, self.outputs = inputs, outputs
                self.num_inputs, self.num_outputs = len(inputs), len(outputs)

            def get_input(self, j):
                return self.inputs[j]

            def get_output(self, j):
                return self.outputs[j]

            def set_output_type(self, j, dtype):
                self.output_types[j] = dtype

        class Network:
            def __init__(self):
                self.layers = []
                fake.networks.append(self)

            @property
            def num_layers(self):
                return len(self.layers)

            def get_layer(self, i):
                return self.layers[i]

        class OnnxParser:
            """Imports nodes the way onnx-tensorrt does, including the layers it adds itself.

            Constant nodes and initializers become weights, not layers; the first op that
            reads them as a tensor gets an unnamed constant layer ("(Unnamed Layer* N)
            [Constant]"), and elementwise ops get an unnamed Shuffle that broadcasts it.
            Neither carries an ONNX node name or metadata.
            """

            num_errors = 0
            BROADCASTING = {"Add", "Sub", "Mul", "Div", "Pow", "Where", "Equal", "Expand", "MatMul"}

            def __init__(self, network, logger):
                self.network = network

            def parse_from_file(self, path):
                model = onnx.shape_inference.infer_shapes(onnx.load(path))
                fake.parsed.append(model)
                names = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16"}
                g = model.graph
                types = {
                    v.name: names.get(v.type.tensor_type.elem_type, "int64")
                    for v in [*g.value_info, *g.output, *g.input]
                }
                weights = {i.name: names.get(i.data_type, "int64") for i in g.initializer}
                tensors = {v.name: Tensor(v.name, types[v.name]) for v in g.input}
                layers = self.network.layers

                def unnamed(kind, inputs, dtype):
                    name = f"(Unnamed Layer* {len(layers)}) [{kind}]"
                    out = Tensor(f"{name}_output", dtype)
                    layers.append(Layer(name, inputs, [out]))
                    return out

                for node in g.node:
                    if node.op_type == "Constant":
                        value = next(a.t for a in node.attribute if a.name == "value")
                        weights[node.output[0]] = names.get(value.data_type, "int64")
                        continue
                    inputs = []
                    for name in node.input:
                        if not name:
                            inputs.append(None)
                        elif name in tensors:
                            inputs.append(tensors[name])
                        else:  # weights read as a tensor: a constant layer of its own
                            tensor = unnamed("Constant", [], weights[name])
                            if node.op_type in self.BROADCASTING:
                                tensor = unnamed("Shuffle", [tensor], tensor.dtype)
                            inputs.append(tensor)
                    outputs = [Tensor(o, types.get(o, "int64")) for o in node.output]
                    tensors.update({t.name: t for t in outputs})
                    if node.op_type == "ArgMax":  # a TopK: float values, then the indices
                        outputs = [Tensor(f"{node.name}_values", types[node.input[0]]), *outputs]
                    layers.append(Layer(node.name, inputs, outputs, f"[ONNX Layer: {node.name}]"))
                return True

        class EngineInspector:
            """IEngineInspector.get_engine_information(JSON) with per-layer formats.

            Layers keep their network names. A float output is FP16 where the FP16 flag
            let TensorRT choose and the layer was not pinned, else its declared type; an
            input has its producer's format, except that a pinned layer's float inputs are
            reformatted to FP32, as TensorRT does.
            """

            def __init__(self, network, config):
                self.network, self.config = network, config

            def get_engine_information(self, fmt):
                assert fmt == "JSON"
                if self.config.profiling_verbosity != "DETAILED":
                    return json.dumps({"Layers": [layer.name for layer in self.network.layers]})
                fp16 = "FP16" in self.config.flags
                formats = {}  # tensor name -> what its producer writes

                def port(tensor, text):
                    return {"Name": tensor.name, "Format/Datatype": f"Row major linear {text}"}

                def written(tensor, pinned):
                    if tensor.dtype not in ("float32", "float16"):
                        return "Int64"
                    if tensor.dtype == "float16":
                        return "FP16"
                    return "FP32" if pinned or not fp16 else "FP16"

                layers = []
                for layer in self.network.layers:
                    pinned = layer.precision == "float32"
                    ins = []
                    for t in layer.inputs:
                        if t is None:
                            continue
                        text = formats.get(t.name, written(t, False))
                        ins.append(port(t, "FP32" if pinned and text == "FP16" else text))
                    outs = []
                    for t in layer.outputs:
                        formats[t.name] = written(t, pinned)
                        outs.append(port(t, formats[t.name]))
                    layers.append(
                        {
                            "Name": layer.name,
                            "Metadata": layer.metadata,
                            "Inputs": ins,
                            "Outputs": outs,
                        }
                    )
                return json.dumps({"Layers": layers, "Bindings": []})

        class Runtime:
            def __init__(self, logger):
                pass

            def deserialize_cuda_engine(self, plan):
                network, config = fake.plans[bytes(plan)]
                engine = type("Engine", (), {})()
                engine.create_engine_inspector = lambda: EngineInspector(network, config)
                return engine

        class Cache:
            """Serialised as b"cache|<GPU it was timed on>|<entries>"."""

            def __init__(self, gpu, entries):
                self.gpu, self.entries = gpu, entries

            def serialize(self):
                return f"cache|{self.gpu or fake.gpu}|{','.join(self.entries)}".encode()

        class Config:
            def __init__(self):
                self.flags, self.pools, self.profiles = set(), {}, []
                self.cache = None
                self.profiling_verbosity = "LAYER_NAMES_ONLY"
                fake.configs.append(self)

            def set_memory_pool_limit(self, pool, size):
                self.pools[pool] = size

            def add_optimization_profile(self, profile):
                self.profiles.append(profile)

            def create_timing_cache(self, data):
                if not data:
                    return Cache(None, [])
                parts = bytes(data).decode(errors="replace").split("|")
                if len(parts) != 3 or parts[0] != "cache":
                    return None  # what TensorRT returns for bytes that are not a cache
                return Cache(parts[1], [e for e in parts[2].split(",") if e])

            def set_timing_cache(self, cache, ignore_mismatch):
                # The real call returns False, and sets nothing, when the cache's device
                # properties differ from this GPU's (unless told to ignore the mismatch).
                if cache.gpu not in (None, fake.gpu) and not ignore_mismatch:
                    return False
                self.cache = cache
                return True

            def set_flag(self, flag):
                self.flags.add(flag)

        class Profile(dict):
            def set_shape(self, name, lo, opt, hi):
                self[name] = (list(lo), list(opt), list(hi))

        class Builder:
            def __init__(self, logger):
                pass

            def create_builder_config(self):
                return Config()

            def create_network(self, flags):
                assert flags == 0
                return Network()

            def create_optimization_profile(self):
                return Profile()

            def build_serialized_network(self, network, config):
                if config.cache is not None:  # the build's tactic timings land in the cache
                    config.cache.gpu = fake.gpu
                    config.cache.entries.append(f"timed{len(network.layers)}")
                monitor = config.progress_monitor
                monitor.phase_start("Building", None, 1)
                monitor.step_complete("Building", 0)
                monitor.phase_finish("Building")
                plan = b"PLAN:%d:%d" % (len(fake.plans), len(network.layers))
                fake.plans[plan] = (network, config)
                return plan

        self.Builder, self.OnnxParser, self.Runtime = Builder, OnnxParser, Runtime


@pytest.mark.parametrize("version", ["10.13.3.9", "11.5.0"])
def test_engine_builder_precision_paths(
    segformer_dynamic: Exported, tmp_path: Path, monkeypatch, version: str
) -> None:
    import export.tensorrt_build as build

    fake = _FakeTensorRT(version)
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(build, "current_gpu", lambda: GpuInfo("NVIDIA L4", "8.9"))
    cache = tmp_path / "timing.cache"
    cache.write_bytes(b"cache|NVIDIA L4|old")
    builder = EngineBuilder(TrtOptions(fp16=True, workspace_gib=0.5, timing_cache=cache))
    onnx_path = tmp_path / "renderer.onnx"
    onnx_path.write_bytes((segformer_dynamic.bundle / "renderer.onnx").read_bytes())
    built = builder.build(onnx_path, SPECS["renderer"], BatchPlan.dynamic_up_to(4), tmp_path)
    builder.save_timing_cache()

    assert (tmp_path / built.plan).read_bytes().startswith(b"PLAN:")
    # Loaded, used by the build, written back with the build's timings added.
    assert cache.read_bytes().startswith(b"cache|NVIDIA L4|old,timed")
    config = fake.configs[-1]
    assert config.pools == {"WORKSPACE": 1 << 29}
    assert config.profiles[0]["z_what"] == ([1, 3, 8], [1, 3, 8], [4, 3, 8])
    assert config.cache is not None and config.cache.entries[0] == "old"
    sidecar = json.loads((tmp_path / built.sidecar).read_text())
    parsed = fake.parsed[-1]
    initializer_types = {i.data_type for i in parsed.graph.initializer}
    layers = fake.networks[-1].layers
    pinned = [layer for layer in layers if layer.precision == "float32"]
    if version.startswith("10"):
        # Weak typing: the FP16 flag, obeyed FP32 constraints on the placement layers only.
        assert config.flags == {"FP16", "OBEY_PRECISION_CONSTRAINTS"}
        assert TensorProto.FLOAT16 not in initializer_types  # the FP32 graph was parsed
        names = {layer.name for layer in pinned}
        for op in ("GridSample", "MatMul", "Exp", "Div"):  # sampling, grid, compositing
            assert any(op in n for n in names), op
        assert not any("ConvTranspose" in n or "Celu" in n for n in names)
        for layer in pinned:  # every float output is set to FP32 too
            floats = {j for j, o in enumerate(layer.outputs) if o.dtype == "float32"}
            assert set(layer.output_types) == floats
            assert set(layer.output_types.values()) <= {"float32"}
        assert sidecar["placement_block_fp16_layers"] == []  # inspected: the block is FP32
        assert sidecar["precision_mode"] == "fp16-builder-flag"
        assert sidecar["fp32_pinned_layers"] == len(pinned)
    else:
        # Strong typing: no flags; the parsed graph itself is FP16 outside the block.
        assert config.flags == set() and pinned == []
        assert TensorProto.FLOAT16 in initializer_types
        assert sidecar["precision_mode"] == "fp16-strongly-typed-graph"
        assert sidecar["placement_block_fp16_layers"] == []  # inspected: the block is FP32
    assert (sidecar["gpu_name"], sidecar["tensorrt_version"]) == ("NVIDIA L4", version)


def test_a_timing_cache_from_another_gpu_is_rebuilt_not_written_back(
    segformer_dynamic: Exported, tmp_path: Path, monkeypatch
) -> None:
    import export.tensorrt_build as build

    fake = _FakeTensorRT("10.13.3.9", gpu="NVIDIA L4")
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(build, "current_gpu", lambda: GpuInfo("NVIDIA L4", "8.9"))
    cache = tmp_path / "timing.cache"
    cache.write_bytes(b"cache|NVIDIA A100-SXM4-80GB|a100tactic")
    lines: list[str] = []
    builder = EngineBuilder(TrtOptions(timing_cache=cache), log=lines.append)
    assert lines == [f"timing cache {cache} was made on another GPU; rebuilt for NVIDIA L4"]
    onnx_path = tmp_path / "renderer.onnx"
    onnx_path.write_bytes((segformer_dynamic.bundle / "renderer.onnx").read_bytes())
    builder.build(onnx_path, SPECS["renderer"], BatchPlan.dynamic_up_to(2), tmp_path)
    builder.save_timing_cache()
    config = fake.configs[-1]
    assert config.cache is not None and config.cache.entries[:1] != ["a100tactic"]
    saved = cache.read_bytes().decode()
    assert saved.startswith("cache|NVIDIA L4|timed") and "a100tactic" not in saved

    # The same cache on its own GPU is used as it is.
    fake_a100 = _FakeTensorRT("10.13.3.9", gpu="NVIDIA A100-SXM4-80GB")
    monkeypatch.setitem(sys.modules, "tensorrt", fake_a100)
    cache.write_bytes(b"cache|NVIDIA A100-SXM4-80GB|a100tactic")
    lines.clear()
    builder = EngineBuilder(TrtOptions(timing_cache=cache), log=lines.append)
    assert lines == [] and builder.cache.entries == ["a100tactic"]

    cache.write_bytes(b"\x00not a cache")
    with pytest.raises(ExportError, match="is not a timing cache of TensorRT 10.13.3.9"):
        EngineBuilder(TrtOptions(timing_cache=cache), log=lines.append)


def _fp16_renderer_network(segformer_dynamic: Exported, tmp_path: Path, monkeypatch) -> tuple:
    import export.tensorrt_build as build

    fake = _FakeTensorRT("10.13.3.9")
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(build, "current_gpu", lambda: GpuInfo("NVIDIA L4", "8.9"))
    onnx_path = tmp_path / "renderer.onnx"
    onnx_path.write_bytes((segformer_dynamic.bundle / "renderer.onnx").read_bytes())
    builder = EngineBuilder(TrtOptions(fp16=True), log=lambda _: None)
    return fake, builder, onnx_path


def test_fp16_pins_the_layers_the_parser_adds_without_node_names(
    segformer_dynamic: Exported, tmp_path: Path, monkeypatch
) -> None:
    """The base grid and α₀ reach the block through unnamed constant and shuffle layers."""
    fake, builder, onnx_path = _fp16_renderer_network(segformer_dynamic, tmp_path, monkeypatch)
    builder.build(onnx_path, SPECS["renderer"], BatchPlan.dynamic_up_to(2), tmp_path)
    layers = fake.networks[-1].layers
    producer = {o.name: layer for layer in layers for o in layer.outputs}
    consumers: dict[str, list] = {}
    for layer in layers:
        for t in layer.inputs:
            if t is not None:
                consumers.setdefault(t.name, []).append(layer)

    def chain_into(name_suffix: str) -> list:
        """The unnamed layers feeding the named layer's first float input."""
        layer = next(x for x in layers if x.name.endswith(name_suffix))
        tensor = next(t for t in layer.inputs if t is not None and t.dtype == "float32")
        found = []
        while tensor.name in producer and producer[tensor.name].name.startswith("(Unnamed"):
            found.append(producer[tensor.name])
            if not found[-1].inputs:
                break
            tensor = found[-1].inputs[0]
        return found

    base_grid = chain_into("/placer/MatMul")  # the base grid: Constant node -> constant, shuffle
    background = chain_into("/Expand")  # the trained log α₀: an initializer
    assert [x.name.split()[-1] for x in base_grid] == ["[Shuffle]", "[Constant]"]
    assert [x.name.split()[-1] for x in background] == ["[Shuffle]", "[Constant]"]
    for layer in base_grid + background:
        assert not layer.metadata  # no ONNX node name to match
        assert layer.precision == "float32" and layer.output_types == {0: "float32"}
    # The decoder's own unnamed weights stay free to run in FP16.
    decoder = [
        x
        for x in layers
        if x.name.startswith("(Unnamed")
        and x.outputs[0].dtype == "float32"
        and all(c.name.startswith("/glimpses/") for c in consumers[x.outputs[0].name])
    ]
    assert len(decoder) >= 4 and all(x.precision is None for x in decoder)


def test_an_fp16_engine_whose_block_runs_in_fp16_is_refused(
    segformer_dynamic: Exported, tmp_path: Path, monkeypatch
) -> None:
    """The engine inspector's per-layer formats are the check, not what we asked for."""
    import export.tensorrt_build as build

    fake, builder, onnx_path = _fp16_renderer_network(segformer_dynamic, tmp_path, monkeypatch)
    monkeypatch.setattr(build, "_pin_placement_fp32", lambda trt, network, block: 1)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError) as caught:
        builder.build(onnx_path, SPECS["renderer"], BatchPlan.dynamic_up_to(2), out)
    message = str(caught.value)
    assert re.match(
        r"TensorRT 10.13.3.9 runs \d+ layer\(s\) of the glimpse-placement block of "
        r"renderer.engine in FP16 \(/Reshape_1 \(position, .*\)\), which moves masks by "
        r"whole pixels; the plan was not written; build without --fp16$",
        message,
    ), message
    assert list(out.iterdir()) == []
    assert fake.configs[-1].profiling_verbosity == "DETAILED"  # formats are in the plan
