"""Refuse a TensorRT plan built for another TensorRT, GPU or platform before deserialising it.

A plan is only valid for the TensorRT version, GPU model and platform (OS and CPU
architecture) it was built on; deserialising a foreign one fails with an opaque
error or, worse, crashes. The sidecar `*.engine.json` written by `astseg export`
says where the plan was built, and this pure function compares it with the
running machine. Sidecars written before the platform was recorded have no `os`
or `cpu_arch`: they are accepted on the TensorRT and GPU checks alone, which is
all those bundles were ever checked on (docs/export.md).
"""

from __future__ import annotations

import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sdk.errors import BundleError

REBUILD = "astseg export RUN --out BUNDLE --trt"


_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


def host_os() -> str:
    """ "Linux", "Windows", "Darwin": what `platform.system()` says, as the sidecar stores it."""
    return platform.system() or "unknown"


def host_cpu_arch() -> str:
    """The CPU architecture with Windows' and macOS' spellings mapped to Linux's."""
    machine = platform.machine().strip().lower() or "unknown"
    return _ARCH_ALIASES.get(machine, machine)


@dataclass(frozen=True)
class RuntimeInfo:
    """The TensorRT, GPU and platform a plan was built on, or this process runs on.

    `os` and `cpu_arch` default to this machine's; None (an old sidecar) means unknown.
    """

    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "major.minor", e.g. "9.0"
    os: str | None = field(default_factory=host_os)
    cpu_arch: str | None = field(default_factory=host_cpu_arch)

    def describe(self) -> str:
        where = " ".join(p for p in (self.os, self.cpu_arch) if p)
        return (
            f"TensorRT {self.tensorrt_version} on {self.gpu_name} "
            f"(compute {self.compute_capability})" + (f", {where}" if where else "")
        )


def _version_key(version: str) -> tuple[int, ...]:
    """Major, minor and patch: plans are tied to them, not to build or post-release tags."""
    numbers = re.findall(r"\d+", version)
    return tuple(int(n) for n in numbers[:3])


def normalize_capability(value: Any) -> str:
    """Accept "8.6", 8.6, [8, 6] or (8, 6) and return "8.6"."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{int(value[0])}.{int(value[1])}"
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        text = str(value).strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return text if "." in text else f"{text}.0"
    raise ValueError(f"compute capability {value!r} is not like '8.6'")


def sidecar_runtime(sidecar: Mapping[str, Any], plan_name: str) -> RuntimeInfo:
    """The build machine a sidecar describes; a sidecar missing a field is refused."""
    fields = {}
    for key in ("tensorrt_version", "gpu_name", "compute_capability"):
        value = sidecar.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise BundleError(
                f"the sidecar of {plan_name} has no '{key}', so it cannot be checked against this "
                f"machine; rebuild the plan with `{REBUILD}`."
            )
        fields[key] = value
    try:
        capability = normalize_capability(fields["compute_capability"])
    except ValueError as err:
        raise BundleError(
            f"the sidecar of {plan_name}: {err}; rebuild it with `{REBUILD}`."
        ) from err
    platform_keys = {}
    for key in ("os", "cpu_arch"):  # absent in sidecars written before they were recorded
        value = sidecar.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise BundleError(
                f"the sidecar of {plan_name} has a '{key}' that is not a name ({value!r}); "
                f"rebuild the plan with `{REBUILD}`."
            )
        platform_keys[key] = value.strip() if isinstance(value, str) else None
    return RuntimeInfo(
        str(fields["tensorrt_version"]),
        str(fields["gpu_name"]).strip(),
        capability,
        os=platform_keys["os"],
        cpu_arch=platform_keys["cpu_arch"],
    )


def _same_platform(built: str | None, here: str | None) -> bool:
    """Unknown on either side (an old sidecar) is not a mismatch."""
    return built is None or here is None or built.casefold() == here.casefold()


def check_engine_compatible(sidecar: Mapping[str, Any], plan_name: str, here: RuntimeInfo) -> None:
    """Raise BundleError naming both machines unless the plan was built for this one."""
    built = sidecar_runtime(sidecar, plan_name)
    same = (
        _version_key(built.tensorrt_version) == _version_key(here.tensorrt_version)
        and built.gpu_name.casefold() == here.gpu_name.strip().casefold()
        and built.compute_capability == normalize_capability(here.compute_capability)
        and _same_platform(built.os, here.os)
        and _same_platform(built.cpu_arch, here.cpu_arch)
    )
    if not same:
        raise BundleError(
            f"{plan_name} was built for {built.describe()}, but this machine has "
            f"{here.describe()}; rebuild the engine here with `{REBUILD}` "
            "(or use --backend onnxruntime)."
        )
