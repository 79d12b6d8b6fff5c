"""The input sizes of a new run, from its data (fixed-camera mode, DESIGN §3).

The background model's input: the data's frame size, capped on the long side, so its
foreground mask is drawn at close to frame resolution. The slot model's input, when the
preset asks for it (`model.slot_size_from_data`): the preset's long side, with the
footage's aspect ratio.
"""

from __future__ import annotations

import dataclasses

from training.config import MIN_BACKGROUND_SIDE, MIN_IMAGE_SIDE, Config

SLOT_SIDE_MULTIPLE = 4  # Segformer's maps are H/4 x W/4


def auto_background_size(frame: tuple[int, int], max_side: int) -> tuple[int, int]:
    """(H, W) of `frame` scaled down so that max(H, W) <= `max_side`, aspect kept; never up."""
    height, width = frame
    scale = min(1.0, max_side / max(height, width))
    return (
        max(MIN_BACKGROUND_SIDE, round(height * scale)),
        max(MIN_BACKGROUND_SIDE, round(width * scale)),
    )


def slot_size_like(frame: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(H, W) with the long side `long_side` and `frame`'s aspect; sides are multiples of 4
    and at least MIN_IMAGE_SIDE."""
    height, width = frame
    scale = long_side / max(height, width)

    def side(value: int) -> int:
        rounded = SLOT_SIDE_MULTIPLE * round(value * scale / SLOT_SIDE_MULTIPLE)
        return max(MIN_IMAGE_SIDE, rounded)

    return side(height), side(width)


def resolve_input_sizes(
    config: Config, frame: tuple[int, int], background: tuple[int, int] | None = None
) -> Config:
    """`config` with its automatic sizes settled by the data's `frame` size (H, W): the
    background model's (or `background`, e.g. that of a `--background-from` checkpoint),
    and the slot model's when `model.slot_size_from_data`. Stated sizes are kept."""
    model = config.model
    changes: dict[str, object] = {}
    if model.background_size_is_auto:
        height, width = background or auto_background_size(frame, model.background_max_side)
        changes.update(background_height=height, background_width=width)
    if model.slot_size_from_data:
        long_side = max(model.image_height, model.image_width)
        height, width = slot_size_like(frame, long_side)
        changes.update(image_height=height, image_width=width, slot_size_from_data=False)
    if not changes:
        return config
    resolved = dataclasses.replace(model, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(config, model=resolved).validate()
