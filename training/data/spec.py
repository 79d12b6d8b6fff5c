"""Data spec strings: one text that names a dataset everywhere (`--data`, configs, JSON).

    KIND[:ARGUMENT][?key=value&key=value...]

    synthetic:size=64,objects=4,background=fixed,count=5000,seed=0
    synthetic_video:size=64x96,objects=3,frames=300
    synthetic_video:size=240x320,seed=7,frames=30000,lighting=mixed,shake=3
    folder:PATH            video:PATH.mp4?stride=2&limit=500&size=64x64
    cdnet:PATH?scored=1    clevrtex:PATH?variant=camo&split=test
    clevr:PATH?split=test  objects_room:PATH    shapestacks:PATH?split=test

Synthetic kinds take their options after the colon, comma-separated (or after `?`).
Every kind accepts `limit=N` (first N samples of the split) and `size=H[xW]` (resize;
for synthetic kinds, the size they are drawn at), and `resize=H[xW]` (resize after that).
Kinds without published splits accept `split=train|val|all` with `holdout=0.1`: val is
the last 10 % (see `holdout_split`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from training.data.camera_effects import CameraEffects
from training.data.cdnet import open_cdnet
from training.data.clevrtex import ClevrTexDataset
from training.data.errors import DataError
from training.data.folder import FolderDataset
from training.data.multi_object import CLEVR, OBJECTS_ROOM, SPLIT_OFFSETS, MultiObjectDataset
from training.data.sample import Resized, SampleDataset, Subset, holdout_split
from training.data.shapestacks import ShapeStacksDataset
from training.data.synthetic import SceneConfig, SyntheticScenes
from training.data.synthetic_video import SyntheticVideo
from training.data.video import VideoDataset

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class DataSpec:
    """A parsed spec: `kind`, the `argument` after the colon (a path for most kinds) and the
    options as text."""

    text: str
    kind: str
    argument: str
    options: dict[str, str] = field(default_factory=dict)


def _pairs(text: str, separator: str, spec: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(separator))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise DataError(f"data spec {spec!r}: option {item!r} must look like key=value")
        options[key.strip()] = value.strip()
    return options


def parse_data_spec(text: str) -> DataSpec:
    """Splits a spec into kind, argument and options; raises DataError on a bad shape."""
    text = text.strip()
    head, _, query = text.partition("?")
    kind, _, argument = head.partition(":")
    kind = kind.strip().lower().replace("-", "_")
    if kind not in _OPENERS:
        raise DataError(
            f"data spec {text!r}: unknown kind {kind!r}; use one of {', '.join(sorted(_OPENERS))}"
        )
    options = _pairs(query, "&", text)
    if kind.startswith("synthetic"):
        options = {**_pairs(argument, ",", text), **options}
        argument = ""
    elif not argument:
        raise DataError(f"data spec {text!r}: {kind} needs a path, as in {kind}:PATH")
    return DataSpec(text, kind, argument, options)


class _Options:
    """Typed access to spec options; remembers which were used to reject unknown ones."""

    def __init__(self, spec: DataSpec) -> None:
        self.spec = spec
        self.values = dict(spec.options)
        self.used: set[str] = set()

    def _raw(self, key: str) -> str | None:
        self.used.add(key)
        return self.values.get(key)

    def _fail(self, key: str, value: str, expected: str) -> DataError:
        return DataError(f"data spec {self.spec.text!r}: {key}={value!r} must be {expected}")

    def text(self, key: str, default: str) -> str:
        value = self._raw(key)
        return default if value is None else value

    def maybe_text(self, key: str) -> str | None:
        return self._raw(key)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.maybe_integer(key, minimum)
        return default if value is None else value

    def maybe_integer(self, key: str, minimum: int = 0) -> int | None:
        value = self._raw(key)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise self._fail(key, value, "an integer") from None
        if number < minimum:
            raise self._fail(key, value, f"at least {minimum}")
        return number

    def number(self, key: str, default: float) -> float:
        value = self._raw(key)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise self._fail(key, value, "a number") from None

    def flag(self, key: str, default: bool) -> bool:
        value = self._raw(key)
        if value is None:
            return default
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise self._fail(key, value, "1/0 or true/false")

    def size(self, key: str = "size") -> tuple[int, int] | None:
        value = self._raw(key)
        if value is None:
            return None
        try:
            parsed = parse_size(value)
        except ValueError:
            raise self._fail(key, value, "H or HxW in pixels, e.g. 64 or 48x64") from None
        return parsed

    def check_all_used(self) -> None:
        unknown = sorted(set(self.values) - self.used)
        if unknown:
            raise DataError(
                f"data spec {self.spec.text!r}: unknown option {unknown[0]!r} for "
                f"{self.spec.kind}; known: {', '.join(sorted(self.used))}"
            )


def parse_size(text: str) -> tuple[int, int]:
    """'64' -> (64, 64); '48x64' -> (48, 64) as (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) not in (1, 2):
        raise ValueError(text)
    height, width = int(parts[0]), int(parts[-1])
    if height < 1 or width < 1:
        raise ValueError(text)
    return height, width


def _scene_config(opts: _Options) -> SceneConfig:
    size = opts.size() or (64, 64)
    shapes = opts.text("shapes", "")
    base = SceneConfig()
    max_objects = opts.integer("objects", base.max_objects)
    config = SceneConfig(
        height=size[0],
        width=size[1],
        max_objects=max_objects,
        min_objects=opts.integer("min_objects", min(base.min_objects, max_objects)),
        shapes=tuple(shapes.split("+")) if shapes else base.shapes,
        background=opts.text("background", base.background),
        textured=opts.number("textured", base.textured),
        noise=opts.number("noise", base.noise),
        seed=opts.integer("seed", 0),
    )
    return config.validate()


def synthetic_scene_config(spec: str) -> SceneConfig | None:
    """The scene generator settings of a synthetic spec (None for other kinds)."""
    parsed = parse_data_spec(spec)
    if parsed.kind not in ("synthetic", "synthetic_video"):
        return None
    return _scene_config(_Options(parsed))


def _synthetic(opts: _Options) -> SampleDataset:
    config = _scene_config(opts)
    return SyntheticScenes(config, opts.integer("count", 1000, minimum=1))


def _synthetic_video(opts: _Options) -> SampleDataset:
    config = _scene_config(opts)
    frames = opts.integer("frames", 300, minimum=1)
    effects = CameraEffects(
        lighting=opts.text("lighting", "none"),
        light_period=opts.maybe_integer("light_period", minimum=2),
        shake=opts.number("shake", 0.0),
    )
    return SyntheticVideo(
        config,
        frames,
        speed=opts.number("speed", 0.7),
        effects=effects,
        motion_seed=opts.maybe_integer("motion_seed"),
    )


def _folder(opts: _Options) -> SampleDataset:
    return FolderDataset(opts.spec.argument)


def _video(opts: _Options) -> SampleDataset:
    return VideoDataset(
        opts.spec.argument,
        stride=opts.integer("stride", 1, minimum=1),
        limit=opts.maybe_integer("limit", minimum=1),
        size=opts.size(),
    )


def _cdnet(opts: _Options) -> SampleDataset:
    return open_cdnet(opts.spec.argument, scored_only=opts.flag("scored", False))


def _clevrtex(opts: _Options) -> SampleDataset:
    return ClevrTexDataset(
        opts.spec.argument,
        variant=opts.maybe_text("variant"),
        split=opts.text("split", "all"),
        size=opts.size() or (128, 128),
    )


def _multi_object(fmt_name: str) -> Callable[[_Options], SampleDataset]:
    fmt = CLEVR if fmt_name == "clevr" else OBJECTS_ROOM

    def open_(opts: _Options) -> SampleDataset:
        split = opts.text("split", "all")
        limit = opts.maybe_integer("limit", minimum=1)
        # Convert only the records the split and limit reach: the file is sequential.
        records = None if limit is None else SPLIT_OFFSETS.get(split, 0) + limit
        dataset = MultiObjectDataset(
            opts.spec.argument, fmt, split=split, limit=records, cache_root=opts.maybe_text("cache")
        )
        size = opts.size()
        return Resized(dataset, size) if size else dataset

    return open_


def _shapestacks(opts: _Options) -> SampleDataset:
    return ShapeStacksDataset(
        opts.spec.argument,
        split=opts.text("split", "all"),
        split_name=opts.text("split_name", "default"),
        size=opts.size() or (64, 64),
    )


_OPENERS: dict[str, Callable[[_Options], SampleDataset]] = {
    "synthetic": _synthetic,
    "synthetic_video": _synthetic_video,
    "folder": _folder,
    "video": _video,
    "cdnet": _cdnet,
    "clevrtex": _clevrtex,
    "clevr": _multi_object("clevr"),
    "objects_room": _multi_object("objects_room"),
    "shapestacks": _shapestacks,
}
# Kinds whose readers implement published splits themselves.
_NATIVE_SPLITS = {"clevrtex", "clevr", "objects_room", "shapestacks"}
# Kinds whose readers resize themselves (benchmark preprocessing or generation size).
_NATIVE_SIZE = _NATIVE_SPLITS | {"video", "synthetic", "synthetic_video"}


def open_dataset(spec: str | DataSpec) -> SampleDataset:
    """Opens the dataset a spec names, with its split, limit and size applied."""
    parsed = spec if isinstance(spec, DataSpec) else parse_data_spec(spec)
    if (
        parsed.kind in ("folder", "video", "cdnet", "clevrtex", "shapestacks")
        and not Path(parsed.argument).exists()
    ):
        raise DataError(f"data spec {parsed.text!r}: {parsed.argument} does not exist")
    opts = _Options(parsed)
    dataset = _OPENERS[parsed.kind](opts)
    if parsed.kind not in _NATIVE_SPLITS:
        split = opts.text("split", "all")
        fraction = opts.number("holdout", 0.1)
        if split not in ("all", "train", "val"):
            raise DataError(f"data spec {parsed.text!r}: split must be all, train or val here")
        if split != "all":
            train, val = holdout_split(dataset, fraction)
            dataset = train if split == "train" else val
    if parsed.kind not in _NATIVE_SIZE:
        size = opts.size()
        if size is not None:
            dataset = Resized(dataset, size)
    # `resize` works for every kind, after the reader's own size: e.g. synthetic scenes
    # drawn at a camera's 480x640 (`size`) and fed to a 64x64 model (`resize`).
    resize = opts.size("resize")
    if resize is not None:
        dataset = Resized(dataset, resize)
    if parsed.kind != "video":
        limit = opts.maybe_integer("limit", minimum=1)
        if limit is not None and limit < len(dataset):
            dataset = Subset(dataset, range(limit))
    opts.check_all_used()
    dataset.description = f"{dataset.description} [{parsed.text}]"
    return dataset
