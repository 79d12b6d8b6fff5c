"""The bundle manifest (`astseg.json`, format version 1): its one typed shape.

The manifest is the contract between `astseg export` and this runtime
(docs/bundle-format.md), defined here once, as transformers defines a model's
configuration: `astseg export` builds a `Manifest` and writes `to_dict()`, the runtime
reads it back with `read_manifest`. Everything the runtime relies on is checked on the
way in, once, so the backends can trust the values: a wrong type or value becomes one
`BundleError` sentence naming the field, never a KeyError deep in inference.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sdk.bundle.safe_json import JsonFormatError, read_json_object
from sdk.errors import BundleError

MANIFEST_NAME = "astseg.json"
BUNDLE_FORMAT = "astseg-bundle"
FORMAT_VERSION = 1  # what `astseg export` writes
SUPPORTED_FORMAT_VERSIONS = (FORMAT_VERSION,)
GRAPH_NAMES = ("encoder", "renderer", "segmenter", "background")
# What the graphs take: the runtime only resizes, the graphs normalise (model.normalisation).
MODEL_INPUT: dict[str, Any] = {"dtype": "uint8", "layout": "NCHW", "channels": "RGB"}
MODEL_INPUT_RANGE = (0, 255)
REEXPORT = "re-export it with `astseg export RUN --out BUNDLE`"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelSpec:
    """What the graphs compute: input size, slot count and latent sizes."""

    image_height: int
    image_width: int
    num_slots: int
    z_what_dim: int
    scaling: str  # "isotropic" (1 scale value) or "anisotropic" (2)
    s_min: float
    s_max: float
    log_background_activation: float
    # Carried for reproducibility, never read by the runtime: how the graphs normalise
    # their input, and the training run's whole model config.
    normalisation: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def scale_dim(self) -> int:
        return 1 if self.scaling == "isotropic" else 2

    def to_dict(self) -> dict[str, Any]:
        data = {
            name: getattr(self, name)
            for name in (
                "image_height",
                "image_width",
                "num_slots",
                "z_what_dim",
                "scaling",
                "s_min",
                "s_max",
                "log_background_activation",
            )
        }
        data["input"] = {**MODEL_INPUT, "range": list(MODEL_INPUT_RANGE)}
        if self.normalisation:
            data["normalisation"] = self.normalisation
        if self.config:
            data["config"] = self.config
        return data


@dataclass(frozen=True)
class BatchSpec:
    """Batch sizes the graphs accept (a dynamic batch up to `max`, or exactly `max`)."""

    dynamic: bool
    min: int
    opt: int
    max: int

    def to_dict(self) -> dict[str, Any]:
        return {"dynamic": self.dynamic, "min": self.min, "opt": self.opt, "max": self.max}


@dataclass(frozen=True)
class EngineSpec:
    """A TensorRT plan and its sidecar describing where it may run."""

    plan: str
    sidecar: str


@dataclass(frozen=True)
class FileSpec:
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ForegroundRule:
    """The foreground rule's parameters (`background.foreground_rule`; sdk.fixed_camera.foreground
    applies them). The defaults were picked once, on our own synthetic cameras
    (docs/runtime.md, "Fixed-camera mode"); training copies them (training.config)."""

    alpha1: float = 0.3  # threshold, relative to the background's brightness (paper: 96/255)
    alpha2: float = 0.5  # how many predicted-noise units the difference must exceed (paper: 7)
    noise_scale: float = 255.0  # the noise output times this is on the l1 (0–255) scale
    close: int = 3  # closing kernel side in background-resolution pixels, 0 or 1: none (paper 5)
    open: int = 3  # opening kernel side, 0 or 1: none (paper: 7)
    relight: int = 1  # 1: match the background's light to the frame first (illumination.py)
    # Real cameras (issue 20); bundles written before these keys get these values.
    hysteresis: float = 2.0  # a region needs a pixel this many thresholds above; 0 or 1: off
    shake: float = 20.0  # largest camera shift compensated, background pixels; 0: off
    adapt: int = 1  # 1: the runtime keeps the noise map current (a stream's detector)

    def __post_init__(self) -> None:
        for name in ("alpha1", "alpha2", "noise_scale", "hysteresis", "shake"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"foreground rule {name} is {value}; it must be 0 or more.")
        for name in ("close", "open", "relight", "adapt"):
            if getattr(self, name) < 0:
                raise ValueError(f"foreground rule {name} is {getattr(self, name)}; use 0 or more.")


@dataclass(frozen=True)
class BackgroundSpec:
    """The fixed-camera background graph: its own input size and the foreground rule."""

    graph: str
    image_height: int
    image_width: int
    rule: ForegroundRule

    def to_dict(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "image_height": self.image_height,
            "image_width": self.image_width,
            "foreground_rule": asdict(self.rule),
        }


@dataclass(frozen=True)
class Manifest:
    """A validated `astseg.json`."""

    format_version: int
    model: ModelSpec
    batch: BatchSpec
    graphs: dict[str, str]
    engines: dict[str, EngineSpec]
    files: dict[str, FileSpec]
    opset: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    exporter: dict[str, Any] = field(default_factory=dict)
    background: BackgroundSpec | None = None  # None: no background model, slot mode only
    parity: dict[str, Any] = field(default_factory=dict)  # what export measured; not read here

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of docs/bundle-format.md, in its documented key order."""
        data: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "format_version": self.format_version,
            "model": self.model.to_dict(),
            "batch": self.batch.to_dict(),
            "graphs": dict(self.graphs),
        }
        if self.engines:
            data["engines"] = {name: asdict(engine) for name, engine in self.engines.items()}
        if self.background is not None:
            data["background"] = self.background.to_dict()
        data["files"] = {name: asdict(spec) for name, spec in self.files.items()}
        if self.opset is not None:
            data["opset"] = self.opset
        data.update(
            exporter=self.exporter, parity=self.parity, metrics=self.metrics, training=self.training
        )
        return data


class _Fields:
    """Typed accessors that name the dotted field in every complaint."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str) -> BundleError:
        return BundleError(f"{self.where}: field '{key}' {problem}; {REEXPORT}.")

    def obj(self, data: dict[str, Any], key: str, optional: bool = False) -> dict[str, Any]:
        value = data.get(key)
        if value is None and optional:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "is missing or not an object")
        return value

    def int_(self, data: dict[str, Any], key: str, prefix: str, minimum: int = 1) -> int:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(prefix + key, "is missing or not an integer")
        if value < minimum:
            raise self.fail(prefix + key, f"is {value}, below the minimum {minimum}")
        return value

    def float_(self, data: dict[str, Any], key: str, prefix: str) -> float:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(prefix + key, "is missing or not a number")
        return float(value)

    def str_(self, data: dict[str, Any], key: str, prefix: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(prefix + key, "is missing or not a string")
        return value

    def file_name(self, value: Any, key: str) -> str:
        """A bundle member: a plain file name, never a path that could leave the bundle."""
        if (
            not isinstance(value, str)
            or not value
            or value in (".", "..")
            or value.startswith(".")
            or "/" in value
            or "\\" in value
            or "\x00" in value
            or len(value) > 255
        ):
            raise self.fail(key, f"names {value!r}, which is not a plain file name in the bundle")
        return value


def _carried(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A section kept for the record only: an odd value is dropped, never refused."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _model(f: _Fields, data: dict[str, Any]) -> ModelSpec:
    m = f.obj(data, "model")
    spec = ModelSpec(
        image_height=f.int_(m, "image_height", "model."),
        image_width=f.int_(m, "image_width", "model."),
        num_slots=f.int_(m, "num_slots", "model."),
        z_what_dim=f.int_(m, "z_what_dim", "model.", minimum=0),
        scaling=f.str_(m, "scaling", "model."),
        s_min=f.float_(m, "s_min", "model."),
        s_max=f.float_(m, "s_max", "model."),
        log_background_activation=f.float_(m, "log_background_activation", "model."),
        normalisation=_carried(m, "normalisation"),
        config=_carried(m, "config"),
    )
    if spec.scaling not in ("isotropic", "anisotropic"):
        raise f.fail("model.scaling", f"is {spec.scaling!r}, not 'isotropic' or 'anisotropic'")
    if not 0 < spec.s_min < spec.s_max:
        raise f.fail("model.s_min", f"and s_max ({spec.s_min}, {spec.s_max}) are not 0 < min < max")
    if spec.num_slots > 254:
        raise f.fail("model.num_slots", f"is {spec.num_slots}; at most 254 slots are supported")
    given = f.obj(m, "input", optional=True)
    for key, value in MODEL_INPUT.items():
        if key in given and given[key] != value:
            raise f.fail(f"model.input.{key}", f"is {given[key]!r}; this runtime feeds {value!r}")
    return spec


def _batch(f: _Fields, data: dict[str, Any]) -> BatchSpec:
    b = f.obj(data, "batch", optional=True)
    if not b:
        return BatchSpec(dynamic=False, min=1, opt=1, max=1)
    dynamic = b.get("dynamic")
    if not isinstance(dynamic, bool):
        raise f.fail("batch.dynamic", "is missing or not true/false")
    spec = BatchSpec(
        dynamic=dynamic,
        min=f.int_(b, "min", "batch."),
        opt=f.int_(b, "opt", "batch."),
        max=f.int_(b, "max", "batch."),
    )
    if not spec.min <= spec.opt <= spec.max:
        raise f.fail("batch", f"has min {spec.min}, opt {spec.opt}, max {spec.max} out of order")
    return spec


def _files(f: _Fields, data: dict[str, Any]) -> dict[str, FileSpec]:
    out: dict[str, FileSpec] = {}
    for name, entry in f.obj(data, "files").items():
        f.file_name(name, "files")
        if not isinstance(entry, dict):
            raise f.fail(f"files.{name}", "is not an object with sha256 and bytes")
        digest = entry.get("sha256")
        if not isinstance(digest, str) or not _SHA256.match(digest.lower()):
            raise f.fail(f"files.{name}.sha256", "is missing or not 64 hexadecimal digits")
        out[name] = FileSpec(
            sha256=digest.lower(), bytes=f.int_(entry, "bytes", f"files.{name}.", 0)
        )
    return out


_RULE_FLOATS = ("alpha1", "alpha2", "noise_scale", "hysteresis", "shake")
_RULE_INTS = ("close", "open", "relight", "adapt")


def _background(f: _Fields, data: dict[str, Any], graphs: dict[str, str]) -> BackgroundSpec | None:
    section = f.obj(data, "background", optional=True)
    if not section:
        if "background" in graphs:
            raise f.fail("background", "is missing although graphs.background is listed")
        return None
    graph = f.file_name(section.get("graph"), "background.graph")
    if graphs.get("background", graph) != graph:
        raise f.fail(
            "background.graph", f"is {graph!r} but graphs.background is {graphs['background']!r}"
        )
    given = f.obj(section, "foreground_rule", optional=True)
    values: dict[str, Any] = {}
    for key in _RULE_FLOATS:  # keys left out keep the runtime's defaults; unknown keys are ignored
        if key in given:
            values[key] = f.float_(given, key, "background.foreground_rule.")
    for key in _RULE_INTS:
        if key in given:
            values[key] = f.int_(given, key, "background.foreground_rule.", minimum=0)
    try:
        rule = ForegroundRule(**values)
    except ValueError as err:
        raise f.fail("background.foreground_rule", f"is not usable ({err})") from None
    return BackgroundSpec(
        graph=graph,
        image_height=f.int_(section, "image_height", "background."),
        image_width=f.int_(section, "image_width", "background."),
        rule=rule,
    )


def parse_manifest(data: dict[str, Any], where: str) -> Manifest:
    """Validate a decoded manifest; `where` names it in messages (e.g. the bundle path)."""
    f = _Fields(where)
    if data.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"{where} is not an astseg bundle manifest (field 'format' is "
            f"{data.get('format')!r}, expected {BUNDLE_FORMAT!r}); {REEXPORT}."
        )
    version = data.get("format_version")
    if isinstance(version, bool) or version not in SUPPORTED_FORMAT_VERSIONS:
        known = ", ".join(str(v) for v in SUPPORTED_FORMAT_VERSIONS)
        raise BundleError(
            f"{where} has bundle format_version {version!r}, which this astseg runtime does not "
            f"know (it reads {known}); upgrade astseg or re-export the bundle with this version."
        )
    files = _files(f, data)
    graphs: dict[str, str] = {}
    for name, value in f.obj(data, "graphs").items():
        if name not in GRAPH_NAMES:
            raise f.fail(f"graphs.{name}", f"is not one of {', '.join(GRAPH_NAMES)}")
        graphs[name] = f.file_name(value, f"graphs.{name}")
    for required in ("encoder", "renderer"):
        if required not in graphs:
            raise f.fail(f"graphs.{required}", "is missing")
    engines: dict[str, EngineSpec] = {}
    for name, entry in f.obj(data, "engines", optional=True).items():
        if name not in GRAPH_NAMES or not isinstance(entry, dict):
            raise f.fail(f"engines.{name}", "is not a graph name with a plan and a sidecar")
        engines[name] = EngineSpec(
            plan=f.file_name(entry.get("plan"), f"engines.{name}.plan"),
            sidecar=f.file_name(entry.get("sidecar"), f"engines.{name}.sidecar"),
        )
    background = _background(f, data, graphs)
    if background is not None:
        graphs.setdefault("background", background.graph)
    named = list(graphs.values()) + [n for e in engines.values() for n in (e.plan, e.sidecar)]
    for name in named:
        if name not in files:
            raise f.fail("files", f"does not list {name} with its sha256")
    opset = data.get("opset")
    return Manifest(
        format_version=int(version),
        model=_model(f, data),
        batch=_batch(f, data),
        graphs=graphs,
        engines=engines,
        files=files,
        opset=opset if isinstance(opset, int) and not isinstance(opset, bool) else None,
        metrics=f.obj(data, "metrics", optional=True),
        training=f.obj(data, "training", optional=True),
        exporter=f.obj(data, "exporter", optional=True),
        background=background,
        parity=_carried(data, "parity"),
    )


def read_manifest(bundle_dir: Path, shown_as: str) -> Manifest:
    """Read and validate ``bundle_dir/astseg.json``."""
    path = bundle_dir / MANIFEST_NAME
    if not path.is_file():
        raise BundleError(
            f"{shown_as} has no {MANIFEST_NAME}, so it is not an astseg bundle; "
            "point --model at a directory or .zip written by `astseg export`."
        )
    try:
        data = read_json_object(path)
    except JsonFormatError as err:
        raise BundleError(
            f"{MANIFEST_NAME} in {shown_as} is not valid: {err}; {REEXPORT}."
        ) from err
    return parse_manifest(data, f"{MANIFEST_NAME} in {shown_as}")
