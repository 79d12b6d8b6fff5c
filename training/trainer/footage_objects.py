"""K and the slot input size from the footage itself (issue 22, `model.slots_from_data`).

A road shows six cars at once, a concourse forty people: one preset K fits neither. Before
the model is built, frames spread over the footage are compared with their median (a fixed
camera's empty scene, as for the background prior), each after the runtime's own shift and
light matching; what differs by more than the pixel's typical difference, in object-sized
blobs, counts as an object. Where the 95th percentile of the per-frame count (a busy
frame, not the busiest) exceeds the preset's K, K is a quarter above it (touching objects
make one blob); otherwise the preset's K stays (a spare slot splits objects). A small slot
input (the `cpu` preset's 64) grows until the typical object spans MIN_OBJECT_SIDE pixels,
to at most MAX_GROWN_SIDE. Footage with too few frames of one size, or whose frames do not
share one scene (a folder of unrelated images), keeps the preset's values, and the run
says so. Thresholds: docs/cpu-recipe.md §9.1 (measured on our clips and the real ones).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from sdk.fixed_camera.camera_shift import moved_onto
from sdk.fixed_camera.illumination import match_illumination
from training.config import Config
from training.data.sample import SampleDataset
from training.input_sizes import SLOT_SIDE_MULTIPLE, auto_background_size, slot_size_like
from training.trainer.background_statistics import footage_median

SAMPLE_FRAMES = 60
WORKING_SIDE = 320  # frames are measured at most this long on their long side
MIN_LEVEL = 20.0  # 0-255, mean over channels: below this a difference is never an object
NOISE_FACTOR = 3.0  # ... nor below 3x the pixel's typical difference to the median
MIN_AREA_SHARE = 1e-3  # blobs smaller than this share of the frame are not objects
MAX_CHANGED_SHARE = 0.2  # a median frame that explains less than 80 % is no fixed scene
TOUCHING_MARGIN = 1.25  # slots per counted blob: touching objects make one blob
MAX_SLOTS = 48
MIN_OBJECT_SIDE = 8  # pixels the typical object should span at the slot model's input
MAX_SIDE_FACTOR = 2  # the slot input grows at most to twice the preset's long side ...
MAX_GROWN_SIDE = 128  # ... and never past this by growing: the CPU preset's 64 grows, not 224
MIN_FRAMES = 10  # fewer frames of one size cannot show a fixed scene


@dataclass(frozen=True)
class FootageObjects:
    """What the footage shows: objects per frame (95th percentile), the typical object's
    long side as a share of the frame's long side, and the changed share of a frame."""

    frames: int
    objects_p95: float
    object_side_share: float
    changed_share: float

    @property
    def fixed_scene(self) -> bool:
        return self.frames >= MIN_FRAMES and self.changed_share <= MAX_CHANGED_SHARE


def measure_footage_objects(frames: np.ndarray, max_shift: float = 0.0) -> FootageObjects:
    """frames: [N, H, W, 3] uint8 from one camera; `max_shift` as the rule's `shake`."""
    planes = np.ascontiguousarray(frames.transpose(0, 3, 1, 2))
    scene = torch.from_numpy(planes).float().div_(255.0)
    median = footage_median(scene, max_shift).numpy() * np.float32(255.0)
    differences = np.stack([_difference(f, median, max_shift) for f in planes])
    typical = np.median(differences, axis=0)
    threshold = np.maximum(MIN_LEVEL, NOISE_FACTOR * typical)
    height, width = frames.shape[1:3]
    min_area = max(4, round(MIN_AREA_SHARE * height * width))
    kernel = np.ones((3, 3), np.uint8)
    counts, sides, changed = [], [], []
    for difference in differences:
        # the scene test is absolute: unrelated images differ everywhere, noise or not
        changed.append(float((difference > MIN_LEVEL).mean()))
        mask = (difference > threshold).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        labels, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = stats[1:labels]
        blobs = blobs[blobs[:, cv2.CC_STAT_AREA] >= min_area]
        counts.append(len(blobs))
        sides.extend(np.maximum(blobs[:, cv2.CC_STAT_WIDTH], blobs[:, cv2.CC_STAT_HEIGHT]))
    long_side = max(height, width)
    return FootageObjects(
        frames=len(frames),
        objects_p95=float(np.percentile(counts, 95, method="lower")) if counts else 0.0,
        object_side_share=float(np.median(sides)) / long_side if sides else 0.0,
        changed_share=float(np.median(changed)) if changed else 1.0,
    )


def _difference(frame: np.ndarray, median: np.ndarray, max_shift: float) -> np.ndarray:
    """[H, W] mean over channels of |frame - median|, the median moved onto the [3, H, W]
    frame as the runtime moves its background, and relit to it: one median frame has one
    light, where the trained background model follows each frame's (whatever the rule's
    `relight`)."""
    background = moved_onto(frame, median, max_shift) if max_shift > 0 else median
    background = match_illumination(frame, background)
    return np.abs(frame.astype(np.float32) - background).mean(axis=0)


def sample_frames(data: SampleDataset, count: int = SAMPLE_FRAMES) -> np.ndarray:
    """[n, h, w, 3] uint8: frames spread over `data`, at most WORKING_SIDE long."""
    picks = np.unique(np.linspace(0, len(data) - 1, min(count, len(data))).round().astype(int))
    first = data[int(picks[0])].image
    height, width = auto_background_size(first.shape[:2], WORKING_SIDE)
    frames = []
    for index in picks:
        image = data[int(index)].image[..., :3]
        if image.shape[:2] != first.shape[:2]:
            continue  # mixed sizes are not one camera; the rest decide
        frames.append(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))
    return np.stack(frames)


def slots_from_footage(config: Config, found: FootageObjects) -> tuple[Config, str]:
    """`config` with K (and, when the slot size follows the data, its long side) chosen
    from `found`, and the line that says what was chosen."""
    model = config.model
    if found.frames < MIN_FRAMES:
        return _settled(config), (
            f"slots: only {found.frames} frames of one size, too few to count objects, so K "
            f"stays the preset's {model.num_slots}"
        )
    if not found.fixed_scene:
        return _settled(config), (
            f"slots: the frames do not share one fixed scene (a median "
            f"{100 * found.changed_share:.0f} % of each differs from their median), so K stays "
            f"the preset's {model.num_slots}"
        )
    # No spare slots where the preset's K already suffices (a spare slot splits objects,
    # docs/cpu-recipe.md §4.1); above it, a quarter more for touching objects.
    crowded = found.objects_p95 > model.num_slots
    wanted = math.ceil(TOUCHING_MARGIN * found.objects_p95) if crowded else model.num_slots
    slots = min(MAX_SLOTS, wanted)
    changes: dict[str, object] = {"num_slots": slots, "slots_from_data": False}
    outcome = f"K = {slots}" if slots > model.num_slots else f"K stays the preset's {slots}"
    line = (
        f"slots: {found.objects_p95:.1f} objects at once in {found.frames} frames (95th "
        f"percentile) -> {outcome}"
    )
    preset_side = max(model.image_height, model.image_width)
    if model.slot_size_from_data and found.object_side_share > 0:
        wanted = MIN_OBJECT_SIDE / found.object_side_share
        cap = max(preset_side, min(MAX_SIDE_FACTOR * preset_side, MAX_GROWN_SIDE))
        grown = min(cap, max(preset_side, wanted))
        side = SLOT_SIDE_MULTIPLE * math.ceil(grown / SLOT_SIDE_MULTIPLE)
        if side != preset_side:
            height, width = slot_size_like((model.image_height, model.image_width), side)
            changes.update(image_height=height, image_width=width)
            line += f"; objects span about {100 * found.object_side_share:.0f} % of the frame"
            line += f" -> slot input {side} px on its long side"
    resolved = dataclasses.replace(model, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(config, model=resolved).validate(), line


def _settled(config: Config) -> Config:
    resolved = dataclasses.replace(config.model, slots_from_data=False)
    return dataclasses.replace(config, model=resolved).validate()
