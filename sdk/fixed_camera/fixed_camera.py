"""Fixed-camera mode for `Segmenter`: which masks to report, and one frame's result from the
background graph (sdk.fixed_camera.foreground) and the slots (sdk.fixed_camera.fused).

    masks_from="fused"       the background model's foreground, divided among the slots;
                             foreground no slot claims is an object of its own (unclaimed)
    masks_from="slots"       the slot model's own masks (the paper's; every bundle has them)
    masks_from="background"  connected components of the foreground only (no slot model run)

The default is "fused" when the bundle carries a background model, else "slots".
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from sdk.backends.base import Backend
from sdk.bundle.bundle import Bundle
from sdk.bundle.manifest import Manifest
from sdk.errors import BundleError
from sdk.fixed_camera.foreground import ForegroundDetector, foreground_mask
from sdk.fixed_camera.fused import FusedObject, at_frame_size, fuse_map_labels
from sdk.fixed_camera.object_colour import mean_colour
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.options import SegmenterOptions
from sdk.results import DetectedObject, FrameResult, InferredFrames, Timings
from sdk.tracker import Observation

MASK_SOURCES = ("fused", "slots", "background")


def resolve_masks_from(requested: str | None, bundle: Bundle, backend: Backend) -> str:
    """The mode to run in; one sentence when the bundle or backend cannot give it."""
    if requested is not None and requested not in MASK_SOURCES:
        raise ValueError(f"masks_from is {requested!r}; use 'fused', 'slots' or 'background'.")
    has_background = bundle.manifest.background is not None
    mode = requested or ("fused" if has_background else "slots")
    if mode == "slots":
        return mode
    if not has_background:
        raise BundleError(
            f"bundle {bundle.source} has no background model, so masks_from={mode!r} cannot "
            "run; use masks_from='slots' (--masks-from slots), or export a bundle from a "
            "checkpoint trained with a background (fixed camera)."
        )
    if not backend.has_background:
        raise BundleError(
            f"the {backend.name} backend has no plan for bundle {bundle.source}'s background "
            f"graph; rebuild its engines with `astseg export RUN --out BUNDLE --trt`, use "
            "backend='onnxruntime', or masks_from='slots'."
        )
    return mode


def _observation(
    obj: FusedObject, width: int, height: int, z: np.ndarray, colour: np.ndarray | None
) -> Observation:
    """The tracker's view of a mask: centre and extent in the model's -1..1 units, its slot's
    z_what and the chromaticity under it (None: no hue to go by)."""
    x0, y0, x1, y1 = obj.bbox
    return Observation(
        position=np.array(
            [(obj.centroid[0] + 0.5) / width * 2 - 1, (obj.centroid[1] + 0.5) / height * 2 - 1]
        ),
        size=np.array([2.0 * (x1 - x0) / width, 2.0 * (y1 - y0) / height]),
        appearance=z,
        colour=colour,
    )


def _colour_image(frame: np.ndarray, graph_input: np.ndarray) -> np.ndarray | None:
    """The background graph's input ([3, Hb, Wb] uint8 RGB, the frame resized to the map)
    as an [Hb, Wb, 3] image for the objects' colours; None for a frame without colour."""
    if frame.ndim != 3 or frame.shape[2] < 3:
        return None
    return cv2.merge(list(graph_input[:3]))  # 25× faster than a contiguous transpose


def fixed_camera_result(
    inferred: InferredFrames,
    i: int,
    index: int,
    stamp: float,
    source: str | None,
    *,
    mode: str,
    manifest: Manifest,
    options: SegmenterOptions,
    tracks: ObjectTracks | None,
    detector: ForegroundDetector | None = None,
) -> FrameResult:
    """Frame `i` of a batch as a FrameResult in "fused" or "background" mode (tracks None:
    every object is reported and its ID is its label; detector None: the rule without
    memory, for frames that are not one stream)."""
    t0 = time.perf_counter()
    prepared, output, background = inferred.prepared, inferred.output, inferred.background
    spec, background_spec = manifest.model, manifest.background
    assert background is not None and prepared.background_inputs is not None
    assert background_spec is not None  # the backgrounds came from its graph
    frame = prepared.frames[i]
    height, width = frame.shape[:2]
    graph_input, graph_background = prepared.background_inputs[i], background.background[i]
    if detector is not None:
        fg = detector(graph_input, graph_background, background.noise[i])
    else:
        fg = foreground_mask(
            graph_input, graph_background, background.noise[i], background_spec.rule
        )
    scores = np.zeros(spec.num_slots)
    min_area = options.min_area
    if mode == "fused" and output is not None:
        logits = output.log_activation[i].astype(np.float64) - spec.log_background_activation
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
        reported = scores >= options.min_score
        fused = fuse_map_labels(fg, output.weights[i], reported, height, width, min_area)
    else:
        fused = fuse_map_labels(fg, None, None, height, width, min_area)
    t1 = time.perf_counter()
    z_dim = spec.z_what_dim
    slot_z: dict[int, np.ndarray] = {}  # z depends on the slot only: one copy per slot

    def z_of(obj: FusedObject) -> np.ndarray:
        slot = obj.slot if output is not None and obj.slot >= 0 else -1
        if slot not in slot_z:
            if output is not None and slot >= 0:
                slot_z[slot] = output.z_what[i, slot].astype(np.float64)
            else:
                slot_z[slot] = np.zeros(z_dim)
        return slot_z[slot]

    # split, match and filter on the foreground's map (a 720p frame has 12× its pixels):
    # positions in -1..1 and chromaticities do not depend on the grid
    id_of: dict[int, int] = {}  # label -> track ID
    if tracks is not None:
        map_height, map_width = fused.labels.shape
        colours = _colour_image(frame, graph_input)
        fused, map_ids = tracks.update(
            fused,
            lambda o, labels: _observation(
                o,
                map_width,
                map_height,
                z_of(o),
                None if colours is None else mean_colour(colours, labels, o),
            ),
            spec.num_slots if output is not None else 0,
            colours,
        )
        id_of = {o.label: track_id for o, track_id in zip(fused.objects, map_ids, strict=True)}
    t2 = time.perf_counter()
    fused = at_frame_size(fused, height, width)
    ids = [id_of[o.label] if tracks is not None else o.label for o in fused.objects]
    zs = [z_of(o) for o in fused.objects]
    t3 = time.perf_counter()
    objects = []
    for obj, track_id, z in zip(fused.objects, ids, zs, strict=True):
        if obj.slot >= 0 and output is not None:
            s = output.scale[i, obj.slot]
            scale = (width / float(s[0]), height / float(s[-1]))
            score = float(scores[obj.slot])
        else:
            scale = (float(obj.bbox[2] - obj.bbox[0]), float(obj.bbox[3] - obj.bbox[1]))
            score = 0.0  # no slot: no activation score
        objects.append(
            DetectedObject(
                id=track_id,
                slot=obj.slot,
                bbox=obj.bbox,
                centroid=obj.centroid,
                scale=scale,
                score=score,
                area=obj.area,
                z_what=z.astype(np.float32),
                slot_labels=fused.labels,
                unclaimed=obj.unclaimed,
                label=obj.label,
            )
        )
    timings = Timings(
        prepared.pre_ms,
        inferred.infer_ms,
        (t1 - t0 + t3 - t2) * 1000,  # the resize to the frame is post-processing
        (t2 - t1) * 1000,
        inferred.background_ms,
    )
    return FrameResult(
        index=index,
        timestamp=stamp,
        frame_shape=(height, width),
        objects=objects,
        timings=timings,
        slot_labels=fused.labels,
        image=frame,
        channels=prepared.channels,
        source=source,
        masks_from=mode,
    )
