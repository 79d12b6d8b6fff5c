"""Every hyperparameter of AST-Seg in one typed object (paper Table 6 defaults).

A checkpoint stores `Config.to_dict()`, so a checkpoint alone rebuilds its model.
YAML files and `--set key=value` overrides go through `Config.from_dict`, which
names the offending key for unknown keys, wrong types and out-of-range values.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sdk.bundle.manifest import ForegroundRule

Scaling = Literal["isotropic", "anisotropic"]
Generator = Literal["segformer", "unet"]
Scenario = Literal["curriculum", "baseline", "frozen_background"]

MIN_IMAGE_SIDE = 32
MIN_BACKGROUND_SIDE = 8  # the autoencoder collapses any side >= 1; below 8 it sees nothing
# The foreground rule a bundle carries (the runtime's defaults, chosen on our own synthetic
# camera; the paper's constants gave F 0.23 on a noisy one): training starts from them.
FOREGROUND_RULE: dict[str, float | int] = dataclasses.asdict(ForegroundRule())
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ConfigError(ValueError):
    """A configuration value is wrong; `field` names it (dotted path)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"config field '{field_name}': {message}")
        self.field = field_name


@dataclass
class ModelConfig:
    image_height: int = 128
    image_width: int = 128
    num_slots: int = 10  # K: maximum number of objects in a scene
    feature_generator: Generator = "segformer"
    # Segformer backbone for `from_pretrained` (hub name or local directory).
    # None builds a randomly initialised backbone from `segformer_overrides`.
    backbone: str | None = "nvidia/mit-b3"
    # SegformerConfig fields for a random-init backbone (e.g. a tiny CPU size).
    segformer_overrides: dict[str, Any] = field(default_factory=dict)
    # Table 8 U-Net channels: first conv, then one entry per down-sampling block.
    unet_channels: list[int] = field(default_factory=lambda: [80, 128, 192, 256, 256, 256])
    z_what_dim: int = 32
    scaling: Scaling = "anisotropic"
    s_min: float = 1.3
    s_max: float = 24.0
    use_transformer: bool = True
    transformer_dim: int = 256
    transformer_heads: int = 8
    transformer_ff_dim: int = 512
    transformer_layers: int = 6
    transformer_dropout: float = 0.1  # PyTorch's default, used by the paper's code
    log_background_activation: float = 11.0  # log α_0 at initialisation
    # Bias added to each slot's activation logit at initialisation (0 = paper).
    slot_activation_init: float = 0.0
    # Glimpse side in pixels; None picks it from the image size (Table 7).
    glimpse_size: int | None = None
    # Where z_what comes from (issue 22; "pooled" = the paper): "crop" adds a code computed
    # from the input under the slot's own glimpse window (training.model.glimpse_encoder),
    # so the glimpse generator is trained as an autoencoder of the object it sits on.
    glimpse_encoder: Literal["pooled", "crop"] = "pooled"
    # At inference, two slots whose presences overlap by more than this share become one
    # (training.model.duplicate_slots); 0 = never (the paper).
    duplicate_slot_overlap: float = 0.0
    # Slots compete for pixels before each picks its own (issue 22): every attention logit
    # gets the log of its share across the K maps at that pixel, so a pixel one slot
    # attends to strongly is worth little to the others (in the spirit of Slot
    # Attention's softmax over slots, in one pass). False = the paper's independent
    # spatial softmax per slot.
    slot_competition: bool = False
    # Each glimpse's mask times exp(-(r / glimpse_window)^4), r the distance from the
    # glimpse's centre in half-sides (training.model.glimpse_generator.centred_window), so a
    # slot draws only what lies near its own position (issue 22: trained slots drew objects
    # 20 px off their position with windows half the image wide, so any slot whose window
    # held an object could draw it). 0 = off (the paper).
    glimpse_window: float = 0.0
    background_latent_dim: int = 16
    # The background autoencoder's own input size (fixed-camera mode, DESIGN §3). 0 = auto:
    # a new run takes the data's frame size, scaled down (aspect kept) so the long side is at
    # most `background_max_side`. A config that still says 0 when a model is built (an old
    # checkpoint, a model built without data) builds it at the slot model's image size.
    background_height: int = 0
    background_width: int = 0
    background_max_side: int = 320
    # Fixed-camera additions to the background model (training.model.background), off in the
    # paper presets: a learnt full-size image prior started from the footage's median frame,
    # and a noise output measured as a per-pixel residual statistic instead of the head.
    background_prior: bool = False
    background_noise: Literal["head", "measured"] = "head"
    # Fixed-camera foreground rule the bundle carries for the runtime (manifest `background`
    # section): the background paper's code rule, 3*max(0, l1 - alpha2*noise) >
    # alpha1*mean(B) on the 0-255 scale, then a close x close closing and open x open opening.
    foreground_rule: dict[str, Any] = field(default_factory=lambda: dict(FOREGROUND_RULE))
    # Presets for a user's footage: a new run keeps the long side of image_height/width and
    # takes the footage's aspect ratio (training.input_sizes); the saved config says False.
    slot_size_from_data: bool = False
    # Presets for a user's footage: a new run picks K (and grows the slot input for small
    # objects) from the objects its footage shows (training.trainer.footage_objects).
    slots_from_data: bool = False
    # Presets for a user's footage: after phase 1 the run turns the rule's light matching
    # on or off from the footage's own residuals (training.trainer.light_check); the saved
    # config says False and carries the choice in foreground_rule.relight.
    light_from_data: bool = False
    input_mean: tuple[float, float, float] = IMAGENET_MEAN
    input_std: tuple[float, float, float] = IMAGENET_STD

    @property
    def scale_dim(self) -> int:
        return 1 if self.scaling == "isotropic" else 2

    @property
    def background_size(self) -> tuple[int, int]:
        """(H, W) the background model is built at; the image size while still automatic."""
        if self.background_height and self.background_width:
            return self.background_height, self.background_width
        return self.image_height, self.image_width

    @property
    def background_size_is_auto(self) -> bool:
        return not (self.background_height and self.background_width)

    @property
    def slot_feature_dim(self) -> int:
        """d_Φ: per-slot features = inverse scale(s) + activation logit + z_what."""
        return self.scale_dim + 1 + self.z_what_dim

    def validate(self, prefix: str = "model") -> None:
        if self.num_slots < 1:
            raise ConfigError(f"{prefix}.num_slots", f"must be at least 1, got {self.num_slots}")
        for name in ("image_height", "image_width"):
            side = getattr(self, name)
            if side < MIN_IMAGE_SIDE:
                raise ConfigError(
                    f"{prefix}.{name}", f"must be at least {MIN_IMAGE_SIDE} pixels, got {side}"
                )
        pair = (self.background_height, self.background_width)
        if (pair[0] == 0) != (pair[1] == 0):
            raise ConfigError(
                f"{prefix}.background_height",
                f"background_height and background_width are both 0 (automatic) or both set, "
                f"got {pair[0]} and {pair[1]}",
            )
        for name, side in zip(("background_height", "background_width"), pair, strict=True):
            if side != 0 and side < MIN_BACKGROUND_SIDE:
                raise ConfigError(
                    f"{prefix}.{name}",
                    f"must be 0 (automatic) or at least {MIN_BACKGROUND_SIDE} pixels, got {side}",
                )
        if self.background_max_side < MIN_BACKGROUND_SIDE:
            raise ConfigError(
                f"{prefix}.background_max_side",
                f"must be at least {MIN_BACKGROUND_SIDE} pixels, got {self.background_max_side}",
            )
        for key, value in self.foreground_rule.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(
                    f"{prefix}.foreground_rule.{key}", f"must be a number, got {value!r}"
                )
        if not 0 < self.s_min < self.s_max:
            raise ConfigError(
                f"{prefix}.s_min",
                f"must be positive and below s_max ({self.s_max}), got {self.s_min}",
            )
        if not (math.isfinite(self.glimpse_window) and self.glimpse_window >= 0):
            raise ConfigError(
                f"{prefix}.glimpse_window",
                f"must be 0 (off) or a positive radius in glimpse half-sides, got "
                f"{self.glimpse_window}",
            )
        if not 0 <= self.duplicate_slot_overlap < 1:
            raise ConfigError(
                f"{prefix}.duplicate_slot_overlap",
                f"must be in [0, 1) (0 = off), got {self.duplicate_slot_overlap}",
            )
        if self.z_what_dim < 1:
            raise ConfigError(f"{prefix}.z_what_dim", f"must be at least 1, got {self.z_what_dim}")
        if self.transformer_dim % self.transformer_heads != 0:
            raise ConfigError(
                f"{prefix}.transformer_heads",
                f"must divide transformer_dim ({self.transformer_dim}), got "
                f"{self.transformer_heads}",
            )
        if not 0 <= self.transformer_dropout < 1:
            raise ConfigError(
                f"{prefix}.transformer_dropout",
                f"must be in [0, 1), got {self.transformer_dropout}",
            )
        if self.glimpse_size is not None and (
            self.glimpse_size < 8 or self.glimpse_size & (self.glimpse_size - 1)
        ):
            raise ConfigError(
                f"{prefix}.glimpse_size", f"must be a power of two >= 8, got {self.glimpse_size}"
            )
        if self.feature_generator == "unet" and len(self.unet_channels) < 2:
            raise ConfigError(f"{prefix}.unet_channels", "needs at least two entries")
        if self.feature_generator == "segformer" and self.backbone == "":
            raise ConfigError(f"{prefix}.backbone", "is empty; give a hub name, a path or null")


@dataclass
class TrainConfig:
    scenario: Scenario = "curriculum"
    batch_size: int = 64
    lr: float = 4e-5
    adam_betas: tuple[float, float] = (0.9, 0.98)
    adam_eps: float = 1e-9
    weight_decay: float = 0.0
    steps: int = 125_000  # foreground steps (phases 2 + 3 in curriculum training)
    lr_warmup_steps: int = 5_000
    lr_decay_fraction: float = 0.9  # lr ÷ 10 from this fraction of `steps` on
    pixel_entropy_weight: float = 1e-2
    pixel_entropy_warmup_steps: int = 10_000
    # Our addition (issue 22, opt-in): from foreground step pixel_entropy_late_from on, the
    # pixel-entropy weight is pixel_entropy_late_weight (None = the paper's one weight).
    # A strong early weight makes slots own their objects; with K = 6 it kept at full lr
    # past ~8 000 steps let the slots collapse (docs/cpu-recipe.md §13.2, §14.2, §15).
    pixel_entropy_late_weight: float | None = None
    pixel_entropy_late_from: int = 0
    # Our addition, not the paper's (objective.coverage_loss): weight of a loss pulling the
    # foreground coverage 1 - w_0 towards tanh(background error / coverage_tau), annealed
    # linearly to 0 over coverage_steps foreground steps. 0 = the paper's loss exactly.
    coverage_weight: float = 0.0
    coverage_tau: float = 0.25
    coverage_steps: int = 0
    # Our addition (issue 22, training.slot_redundancy): weight of a cost on slots whose
    # removal barely changes the reconstruction (a second slot drawing an object another
    # already draws), from foreground step redundancy_start on; redundancy_tau is the error
    # removed per owned pixel (eq 19's scale) below which a slot counts as redundant: on the
    # bar's trained model duplicates remove under 0.012 and objects 0.07 or more (the
    # generator's weakest contrast, 70/255 per RGB step, gives about 0.075). 0 = off.
    redundancy_weight: float = 0.0
    redundancy_tau: float = 0.015
    redundancy_start: int = 500
    # With it on, the cost pulls a slot only on the pixels another slot would take over
    # (never on those the background layer would): a lone slot still learning its object
    # is not pushed off it (docs/cpu-recipe.md §13).
    redundancy_shared_only: bool = False
    frozen_background_steps: int = 30_000  # curriculum phase 2
    background_batch_size: int = 128
    background_lr: float = 2e-3
    background_steps: int = 2_500
    grad_clip: float | None = None
    seed: int = 0
    num_workers: int = 2
    checkpoint_every: int = 1_000
    # Also keep a model-only snapshot every this many steps (0 = only latest/best/background).
    keep_checkpoint_every: int = 25_000
    # If > background_steps: after phase 1, backgrounds that still vary (the τ₀ test of
    # DESIGN §3, e.g. light changes) extend background pre-training to this many steps.
    background_steps_if_complex: int = 0
    # Wall-clock budget of one training process in minutes (0 = none). The run stops when
    # it is spent, and the lr ÷ 10 comes at lr_decay_fraction of the budget when that is
    # earlier than lr_decay_fraction of `steps`: a run cut by its budget still ends decayed.
    time_limit_minutes: float = 0.0
    validate_every: int = 1_000
    validation_images: int = 256
    sample_every_s: float = 180.0
    max_bad_steps: int = 20  # consecutive NaN/inf steps before the run stops
    amp: bool = True  # autocast on CUDA (bf16 where supported, else fp16)
    channels_last: bool = True
    compile: bool = False

    def validate(self, prefix: str = "train") -> None:
        positive = (
            "batch_size",
            "steps",
            "background_batch_size",
            "checkpoint_every",
            "validate_every",
            "max_bad_steps",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"{prefix}.{name}", f"must be at least 1, got {getattr(self, name)}"
                )
        for name in ("lr", "background_lr", "adam_eps"):
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"{prefix}.{name}", f"must be positive, got {getattr(self, name)}"
                )
        for name in (
            "lr_warmup_steps",
            "pixel_entropy_warmup_steps",
            "background_steps",
            "keep_checkpoint_every",
            "background_steps_if_complex",
            "validation_images",
            "num_workers",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{prefix}.{name}", f"must be >= 0, got {getattr(self, name)}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ConfigError(
                f"{prefix}.grad_clip", f"must be positive or null, got {self.grad_clip}"
            )
        if not self.sample_every_s >= 0:
            raise ConfigError(
                f"{prefix}.sample_every_s", f"must be >= 0, got {self.sample_every_s}"
            )
        if not (math.isfinite(self.time_limit_minutes) and self.time_limit_minutes >= 0):
            raise ConfigError(
                f"{prefix}.time_limit_minutes",
                f"must be a number of minutes >= 0 (0 = no limit), got {self.time_limit_minutes}",
            )
        late = self.pixel_entropy_late_weight
        if late is not None and not (math.isfinite(late) and late >= 0):
            raise ConfigError(
                f"{prefix}.pixel_entropy_late_weight", f"must be >= 0 or null, got {late}"
            )
        if late is None and self.pixel_entropy_late_from != 0:
            raise ConfigError(
                f"{prefix}.pixel_entropy_late_from",
                "has no effect without pixel_entropy_late_weight; set that too",
            )
        if self.pixel_entropy_late_from < 0:
            raise ConfigError(
                f"{prefix}.pixel_entropy_late_from",
                f"must be >= 0, got {self.pixel_entropy_late_from}",
            )
        if not 0 < self.lr_decay_fraction <= 1:
            raise ConfigError(
                f"{prefix}.lr_decay_fraction", f"must be in (0, 1], got {self.lr_decay_fraction}"
            )
        # Only the curriculum has a phase 2 of its own; the other scenarios ignore it.
        if self.scenario == "curriculum" and not 0 <= self.frozen_background_steps <= self.steps:
            raise ConfigError(
                f"{prefix}.frozen_background_steps",
                f"must be between 0 and steps ({self.steps}), got {self.frozen_background_steps}",
            )
        if any(not 0 <= b < 1 for b in self.adam_betas):
            raise ConfigError(f"{prefix}.adam_betas", f"must lie in [0, 1), got {self.adam_betas}")
        if not (self.coverage_weight >= 0 and self.coverage_steps >= 0):
            raise ConfigError(
                f"{prefix}.coverage_weight",
                "coverage_weight and coverage_steps must be >= 0, got "
                f"{self.coverage_weight} and {self.coverage_steps}",
            )
        if not self.coverage_tau > 0:
            raise ConfigError(
                f"{prefix}.coverage_tau", f"must be positive, got {self.coverage_tau}"
            )
        for name in ("redundancy_weight", "redundancy_start"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{prefix}.{name}", f"must be >= 0, got {getattr(self, name)}")
        if not self.redundancy_tau > 0:
            raise ConfigError(
                f"{prefix}.redundancy_tau", f"must be positive, got {self.redundancy_tau}"
            )


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> Config:
        self.model.validate("model")
        self.train.validate("train")
        return self

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Builds and validates a config; unknown keys and wrong types name the key."""
        return typing.cast(Config, _build(cls, data, "")).validate()

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """Returns a copy with dotted-key overrides (`model.num_slots`) applied."""
        merged = self.to_dict()
        for dotted, value in overrides.items():
            parts = dotted.split(".")
            node = merged
            for i, part in enumerate(parts[:-1]):
                if not isinstance(node.get(part), dict):
                    sections = [k for k, v in node.items() if isinstance(v, dict)]
                    where = ".".join(parts[: i + 1])
                    hint = _nearest(part, sections, ".".join(parts[:i]))
                    raise ConfigError(where, f"is not a section of the config{hint}")
                node = node[part]
            if parts[-1] not in node:
                hint = _nearest(parts[-1], node, ".".join(parts[:-1]))
                raise ConfigError(dotted, f"is not a known config key{hint}")
            node[parts[-1]] = value
        return Config.from_dict(merged)


def _nearest(name: str, known: Iterable[str], section: str) -> str:
    """'; did you mean 'train.lr'?' for the known key nearest a misspelt one, else ''."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if not close:
        return ""
    nearest = f"{section}.{close[0]}" if section else close[0]
    return f"; did you mean '{nearest}'?"


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(prefix or "config", f"must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            hint = _nearest(str(key), known, prefix.rstrip("."))
            raise ConfigError(f"{prefix}{key}", f"is not a known config key{hint}")
    kwargs = {}
    for key, value in data.items():
        kwargs[key] = _coerce(hints[key], value, f"{prefix}{key}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, name: str) -> Any:
    """Checks `value` against a type hint; converts only lossless cases (int→float, list→tuple)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, f"{name}.")
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, name)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(name, f"has the wrong type ({type(value).__name__})")
    if origin is Literal:
        if value not in args:
            raise ConfigError(name, f"must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(name, f"must be a list, got {type(value).__name__}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(name, f"must have {len(args)} entries, got {len(value)}")
            return tuple(_coerce(a, v, name) for a, v in zip(args, value, strict=True))
        item = args[0] if args else Any
        items = [_coerce(item, v, name) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(name, f"must be a mapping, got {type(value).__name__}")
        return dict(value)
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f"must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(name, f"must be a string, got {value!r}")
        return value
    return value
