"""The Triton model repository, parsed with Triton's own model-config schema.

The schema is `model_config_pb2` from the `tritonclient` package (dev extra). It is
loaded from its file so the test does not need grpc, which `tritonclient.grpc` imports.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import onnx
import pytest
from google.protobuf import text_format

from tests.export.conftest import Exported

ONNX_TO_TRITON = {
    onnx.TensorProto.UINT8: "TYPE_UINT8",
    onnx.TensorProto.FLOAT: "TYPE_FP32",
    onnx.TensorProto.INT64: "TYPE_INT64",
}


@pytest.fixture(scope="module")
def schema() -> ModuleType:
    spec = importlib.util.find_spec("tritonclient")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("tritonclient is not installed (pip install tritonclient; in the dev extra)")
    path = Path(next(iter(spec.submodule_search_locations))) / "grpc" / "model_config_pb2.py"
    module_spec = importlib.util.spec_from_file_location("triton_model_config_pb2", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _parse(schema: ModuleType, folder: Path):
    return text_format.Parse((folder / "config.pbtxt").read_text(), schema.ModelConfig())


def _onnx_io(path: Path) -> dict[str, dict[str, tuple[str, list[int | str]]]]:
    model = onnx.load(str(path))
    out: dict[str, dict[str, tuple[str, list[int | str]]]] = {}
    for kind, values in (("input", model.graph.input), ("output", model.graph.output)):
        out[kind] = {
            v.name: (
                ONNX_TO_TRITON[v.type.tensor_type.elem_type],
                [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
            )
            for v in values
        }
    return out


def _config_io(schema: ModuleType, config) -> dict[str, dict[str, tuple[str, list[int]]]]:
    name = schema.DataType.Name
    return {
        "input": {t.name: (name(t.data_type), list(t.dims)) for t in config.input},
        "output": {t.name: (name(t.data_type), list(t.dims)) for t in config.output},
    }


def test_onnx_models_match_their_graphs(schema: ModuleType, exported: Exported) -> None:
    dynamic = exported.result.manifest["batch"]["dynamic"]
    graphs = exported.result.manifest["graphs"]
    for graph, file_name in graphs.items():
        folder = exported.triton / f"astseg_{graph}"
        config = _parse(schema, folder)
        assert config.name == f"astseg_{graph}"
        assert config.backend == "onnxruntime"
        assert (folder / "1" / "model.onnx").read_bytes() == (
            exported.bundle / file_name
        ).read_bytes()
        onnx_io = _onnx_io(exported.bundle / file_name)
        if dynamic:
            # Batch axis left to Triton: dims are the graph's shape after the batch.
            assert config.max_batch_size == 4
            assert config.HasField("dynamic_batching")
            expected = {
                kind: {n: (t, dims[1:]) for n, (t, dims) in tensors.items()}
                for kind, tensors in onnx_io.items()
            }
        else:
            assert config.max_batch_size == 0
            assert not config.HasField("dynamic_batching")
            expected = onnx_io
        assert _config_io(schema, config) == expected


def test_the_ensemble_joins_encoder_and_renderer(schema: ModuleType, exported: Exported) -> None:
    config = _parse(schema, exported.triton / "astseg")
    assert config.platform == "ensemble"
    assert (exported.triton / "astseg" / "1").is_dir()
    steps = config.ensemble_scheduling.step
    assert [s.model_name for s in steps] == ["astseg_encoder", "astseg_renderer"]
    available = {t.name for t in config.input}
    for step in steps:
        member = _parse(schema, exported.triton / step.model_name)
        assert set(step.input_map) == {t.name for t in member.input}
        assert set(step.input_map.values()) <= available  # fed by the ensemble or a step before
        assert set(step.output_map) == {t.name for t in member.output}
        available |= set(step.output_map.values())
    outputs = [t.name for t in config.output]
    assert outputs == ["position", "scale", "log_activation", "z_what", "weights", "segmentation"]
    assert set(outputs) <= available
    encoder = _parse(schema, exported.triton / "astseg_encoder")
    assert [(t.name, list(t.dims)) for t in config.input] == [
        (t.name, list(t.dims)) for t in encoder.input
    ]
    assert config.max_batch_size == encoder.max_batch_size
