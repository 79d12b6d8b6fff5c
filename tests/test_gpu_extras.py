"""The GPU extras only admit TensorRT / ONNX Runtime / cuda-python combinations that work.

ONNX Runtime's TensorRT provider loads only the TensorRT major it was built against
(1.17: TensorRT 8.6; 1.18-1.26: TensorRT 10; 1.27 and later: TensorRT 11), and every
wheel of a pair must be built for the same CUDA major (onnxruntime-gpu on PyPI: 1.18 is
CUDA 11.8, 1.19-1.26 CUDA 12, 1.27 and later CUDA 13). When a pair is wrong ORT starts
without the TensorRT provider and says nothing, so the extras must not allow one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info < (3, 11):
    pytest.skip("tomllib is Python 3.11+", allow_module_level=True)
import tomllib

EXTRAS = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]


def _ort_trt_major(ort: str) -> int | None:
    minor = int(ort.split(".")[1])
    return 8 if minor == 17 else 10 if 18 <= minor <= 26 else 11 if minor >= 27 else None


def _ort_cuda_major(ort: str) -> int:
    minor = int(ort.split(".")[1])
    return 11 if minor <= 18 else 12 if minor <= 26 else 13


def _specs(extra: str) -> dict[str, Requirement]:
    reqs = [Requirement(r) for r in EXTRAS[extra]]
    return {r.name: r for r in reqs}


@pytest.mark.parametrize(
    ("extra", "trt_major", "cuda_major"), [("gpu", 10, 12), ("gpu-trt11", 11, 13)]
)
def test_every_onnxruntime_the_extra_allows_loads_its_tensorrt(
    extra: str, trt_major: int, cuda_major: int
) -> None:
    reqs = _specs(extra)
    assert set(reqs) == {"onnxruntime-gpu", f"tensorrt-cu{cuda_major}", "cuda-python"}
    ort = reqs["onnxruntime-gpu"].specifier
    allowed = [f"1.{m}.0" for m in range(15, 40) if ort.contains(f"1.{m}.0")]
    assert allowed, extra
    for version in allowed:
        assert _ort_trt_major(version) == trt_major, version
        assert _ort_cuda_major(version) == cuda_major, version
    trt = reqs[f"tensorrt-cu{cuda_major}"].specifier
    for version in ("8.6.1", "10.0.1", "10.16.1.11", "11.0.0.114", "11.4.0.106", "12.0.0"):
        assert trt.contains(version) == version.startswith(f"{trt_major}."), version
    cuda = reqs["cuda-python"].specifier
    for version in ("11.8.0", "12.0.0", "12.9.10", "13.0.0", "13.4.4", "14.0.0"):
        assert cuda.contains(version) == version.startswith(f"{cuda_major}."), version


def test_the_plain_gpu_extra_is_a_tensorrt_10_pair_on_cuda_12() -> None:
    """`pip install astseg[gpu]`: the newest releases of its ranges still pair up."""
    reqs = _specs("gpu")
    assert reqs["onnxruntime-gpu"].specifier.contains("1.26.0")
    assert not reqs["onnxruntime-gpu"].specifier.contains("1.17.1")  # TensorRT 8.6
    assert not reqs["onnxruntime-gpu"].specifier.contains("1.31.1")  # TensorRT 11, CUDA 13
