"""`FrameResult`: everything the runtime knows about one frame, in one object; and what
the stages before it hand on (`PreparedFrames`, `InferredFrames`).

Like an Ultralytics `Results`, it carries the objects, can draw itself
(`plot()`), and serialises to plain JSON with COCO RLE masks (`to_dict()`,
`to_json()`) or converts to `supervision.Detections` (`to_supervision()`).
Masks, boxes and centroids are at the original frame's resolution.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from sdk.backends.base import BackgroundOutput, ModelOutput
from sdk.draw import draw_objects
from sdk.errors import AstsegError
from sdk.outputs import rle
from sdk.preprocess import Channels, to_display_bgr


@dataclass(frozen=True)
class _Drawn:
    """What sdk.draw needs of an object whose pixels are `slot + 1` in the map it is given."""

    id: int
    slot: int
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent on this frame per stage (inference is shared evenly in a batch)."""

    pre_ms: float = 0.0
    infer_ms: float = 0.0
    post_ms: float = 0.0
    track_ms: float = 0.0
    background_ms: float = 0.0  # the background graph (fixed-camera modes), apart from infer

    @property
    def total_ms(self) -> float:
        return self.pre_ms + self.infer_ms + self.background_ms + self.post_ms + self.track_ms

    def to_dict(self) -> dict[str, float]:
        out = {
            "pre": round(self.pre_ms, 3),
            "infer": round(self.infer_ms, 3),
            "post": round(self.post_ms, 3),
            "track": round(self.track_ms, 3),
        }
        if self.background_ms:
            out["background"] = round(self.background_ms, 3)
        return out


@dataclass(eq=False)
class DetectedObject:
    """One object in one frame."""

    id: int  # stable track ID across frames (slot + 1 when tracking is off)
    slot: int  # the model's slot index (0-based); changes freely between frames
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels; covers x0 <= x < x1
    centroid: tuple[float, float]  # x, y of the mask's centre of mass (pixel centres at integers)
    scale: tuple[float, float]  # width, height of the slot's glimpse in pixels (frame side / s)
    score: float  # activation score α/(α+α0) in (0, 1): how strongly the slot beats the background
    area: int  # mask pixels
    z_what: np.ndarray = field(repr=False)  # the slot's appearance vector
    slot_labels: np.ndarray = field(repr=False)  # the frame's uint8 labels: `label` marks ours
    unclaimed: bool = False  # fused/background mode: foreground no slot claims (slot is -1)
    label: int = 0  # this object's value in slot_labels; 0 means slot + 1 (slot mode)

    def __post_init__(self) -> None:
        if self.label == 0:
            self.label = self.slot + 1

    @cached_property
    def mask(self) -> np.ndarray:
        """bool [H, W] at the frame's resolution, made on first access (drawing needs none)."""
        return self.slot_labels == self.label

    def to_dict(self, masks: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "slot": self.slot,
            "bbox": list(self.bbox),
            "centroid": [round(self.centroid[0], 2), round(self.centroid[1], 2)],
            "scale": [round(self.scale[0], 2), round(self.scale[1], 2)],
            "score": round(self.score, 5),
            "area": self.area,
            "unclaimed": self.unclaimed,
        }
        if masks:  # from the box alone: the mask is False outside it
            x0, y0, x1, y1 = self.bbox
            box = self.slot_labels[y0:y1, x0:x1] == self.slot + 1
            out["mask"] = rle.encode_box(box, x0, y0, *self.slot_labels.shape)
        return out


@dataclass(eq=False)
class FrameResult:
    """The objects in one frame, with the maps and timings behind them."""

    index: int  # frame number in the source (with a stride, numbers skip)
    timestamp: float  # seconds: media time for files, wall-clock UNIX time for live sources
    frame_shape: tuple[int, int]  # (height, width) of the original frame
    objects: list[DetectedObject]
    timings: Timings
    # uint8 [H, W], 0 = background; slot mode: k = slot k-1; fused and background modes:
    # k = the object whose `label` is k (a partition: each foreground pixel has one object)
    slot_labels: np.ndarray = field(repr=False)
    image: np.ndarray | None = field(default=None, repr=False)  # the frame as given
    channels: Channels = "bgr"
    source: str | None = None
    masks_from: str = "slots"  # "slots", "fused" or "background" (see Segmenter)

    def __len__(self) -> int:
        return len(self.objects)

    @property
    def label_map(self) -> np.ndarray:
        """int32 [H, W]: 0 for background, else the ID of the reported object owning the pixel."""
        lut = np.zeros(256, dtype=np.int32)
        for obj in self.objects:
            lut[obj.label] = obj.id
        return lut[self.slot_labels]

    @property
    def foreground(self) -> np.ndarray | None:
        """bool [H, W]: the background model's foreground (fused and background modes; every
        pixel of it belongs to exactly one object), or None in slot mode."""
        return None if self.masks_from == "slots" else self.slot_labels != 0

    def plot(
        self,
        image: np.ndarray | None = None,
        *,
        alpha: float = 0.45,
        contours: bool = True,
        boxes: bool = False,
        labels: bool = True,
    ) -> np.ndarray:
        """The frame (or `image`, BGR, same size) annotated: tinted masks, outlines, IDs."""
        if image is None:
            if self.image is None:
                raise ValueError("this result keeps no frame; pass the image to plot() on.")
            base = to_display_bgr(self.image, self.channels)
        else:
            base = to_display_bgr(image, "bgr")
        if base.shape[:2] != self.frame_shape:
            raise ValueError(f"plot() needs an image of {self.frame_shape}, not {base.shape[:2]}.")
        drawn: Sequence[Any] = self.objects
        if self.masks_from != "slots":  # draw_objects finds an object's pixels by slot + 1
            drawn = [_Drawn(o.id, o.label - 1, o.bbox) for o in self.objects]
        return draw_objects(
            base,
            drawn,
            self.slot_labels,
            alpha=alpha,
            contours=contours,
            boxes=boxes,
            labels=labels,
        )

    def to_dict(self, masks: bool = True) -> dict[str, Any]:
        """Plain-JSON dict; masks as COCO RLE with compressed counts (pycocotools-compatible)."""
        return {
            "frame": self.index,
            "timestamp": round(self.timestamp, 6),
            "height": self.frame_shape[0],
            "width": self.frame_shape[1],
            "source": self.source,
            "masks_from": self.masks_from,
            "objects": [obj.to_dict(masks) for obj in self.objects],
            "timings_ms": self.timings.to_dict(),
        }

    def to_json(self, masks: bool = True) -> str:
        return json.dumps(self.to_dict(masks), separators=(",", ":"))

    def to_supervision(self) -> Any:
        """`supervision.Detections` with boxes, masks, scores and track IDs (class 0 = object)."""
        try:
            import supervision as sv
        except ImportError as err:
            raise AstsegError(
                "to_supervision() needs the supervision package (pip install supervision)."
            ) from err
        n = len(self.objects)
        height, width = self.frame_shape
        return sv.Detections(
            xyxy=np.array([o.bbox for o in self.objects], dtype=np.float32).reshape(n, 4),
            mask=np.array([o.mask for o in self.objects], dtype=bool).reshape(n, height, width),
            confidence=np.array([o.score for o in self.objects], dtype=np.float32),
            class_id=np.zeros(n, dtype=int),
            tracker_id=np.array([o.id for o in self.objects], dtype=int),
        )


@dataclass
class PreparedFrames:
    """Frames checked and resized into one model input batch (see Segmenter.prepare)."""

    frames: list[np.ndarray]
    inputs: np.ndarray
    channels: Channels
    pre_ms: float
    background_inputs: np.ndarray | None = None  # at the background graph's size (fixed camera)


@dataclass
class InferredFrames:
    """A prepared batch and the model's outputs for it (see Segmenter.infer)."""

    prepared: PreparedFrames
    output: ModelOutput | None  # None in masks_from="background" (the slot model is not run)
    infer_ms: float
    background: BackgroundOutput | None = None
    background_ms: float = 0.0
