"""Fixed-camera tracking runs on the foreground's map, and only its result is brought to the
frame's size (a 720p frame has 12× the map's pixels): the frame-size objects must be those
a full measurement of the resized map finds, and the tracker must see the map."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from test_sdk_fixed_camera import BLUE, GREEN, RED, scene

from sdk import Segmenter
from sdk.fixed_camera import object_tracks
from sdk.fixed_camera.fixed_camera import _colour_image
from sdk.fixed_camera.foreground import to_frame_size
from sdk.fixed_camera.fused import at_frame_size, fuse_map_labels, measure_labels


def _random_map(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fg = cv2.GaussianBlur(rng.random((120, 160)).astype(np.float32), (0, 0), 3) > 0.52
    weights = rng.random((5, 32, 32)).astype(np.float32) ** 4
    weights /= weights.sum(axis=0, keepdims=True)
    return fg.astype(np.uint8), weights, np.array([1, 1, 0, 1], bool)


@pytest.mark.parametrize("frame", [(120, 160), (61, 83), (240, 320), (720, 1280)])
def test_the_map_at_frame_size_measures_what_the_whole_resized_map_holds(
    frame: tuple[int, int],
) -> None:
    fg, weights, reported = _random_map(frame[1])
    on_map = fuse_map_labels(fg, weights, reported, *frame, 16)
    assert on_map.labels.shape == fg.shape and len(on_map.objects) > 3
    at_frame = at_frame_size(on_map, *frame)
    labels = to_frame_size(on_map.labels, *frame)
    assert np.array_equal(at_frame.labels, labels)
    # measured from scratch over the whole frame, not inside the map boxes
    slots = {o.label: o.slot for o in on_map.objects}
    assert at_frame.objects == measure_labels(labels, slots)
    if frame == fg.shape:
        assert at_frame is on_map  # nothing to resize or measure again


def test_the_tracker_sees_the_map_and_reports_at_frame_size(
    camera_bundle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the camera bundle's background map is 120×160; frames are 240×320
    shapes: list[tuple[int, ...]] = []
    update = object_tracks.ObjectTracks.update

    def recording(self, fused, observe, *rest):  # type: ignore[no-untyped-def]
        shapes.append(fused.labels.shape)
        return update(self, fused, observe, *rest)

    monkeypatch.setattr(object_tracks.ObjectTracks, "update", recording)
    seg = Segmenter(camera_bundle_dir)
    discs = [(60, 60, 26, RED), (250, 70, 22, GREEN), (160, 180, 30, BLUE)]
    seen = []
    for t in range(5):
        result = seg(scene(240, 320, [(x + 4 * t, y + 2 * t, r, c) for x, y, r, c in discs]))
        assert result.label_map.shape == (240, 320)
        for obj in result.objects:  # frame-size masks, measured at the frame's size
            assert obj.mask.shape == (240, 320) and int(obj.mask.sum()) == obj.area
            x0, y0, x1, y1 = obj.bbox
            assert int(obj.mask[y0:y1, x0:x1].sum()) == obj.area
        seen.append(sorted(o.id for o in result.objects))
    assert shapes == [(120, 160)] * 5
    assert seen[2:] == [[1, 2, 3]] * 3  # confirmed after min_hits = 3 frames, IDs kept
    kept = seg._objects._masks.values()
    assert kept and all(m.mask.shape[0] <= 120 and m.mask.shape[1] <= 160 for m in kept)


def test_colours_come_from_the_background_graphs_input() -> None:
    graph_input = np.random.default_rng(0).integers(0, 256, (3, 12, 16), dtype=np.uint8)
    image = _colour_image(np.zeros((24, 32, 3), np.uint8), graph_input)
    assert image is not None and image.shape == (12, 16, 3) and image.flags.c_contiguous
    assert np.array_equal(image, graph_input.transpose(1, 2, 0))
    # a grey-level frame has no hue to go by, whatever its graph input repeats
    assert _colour_image(np.zeros((24, 32), np.uint8), graph_input) is None
    assert _colour_image(np.zeros((24, 32, 1), np.uint8), graph_input) is None
