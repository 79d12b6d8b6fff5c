"""Segmenter and FrameResult: batches, thresholds, IDs across calls, JSON, plot, supervision."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from sdk_media import moving_discs, scene

from sdk import AstsegError, FrameResult, Segmenter
from sdk.options import SegmenterOptions
from sdk.outputs import rle

RED = (0, 0, 255)
GREEN = (0, 255, 0)


@pytest.fixture(scope="module")
def seg(toy_bundle_dir: Path) -> Segmenter:
    return Segmenter(toy_bundle_dir)


def test_two_objects_and_their_measures(seg: Segmenter) -> None:
    frame = scene(120, 160, [(40, 40, 15, RED), (120, 80, 10, GREEN)])
    result = seg(frame, persist=False)
    assert isinstance(result, FrameResult) and len(result) == 2
    by_x = sorted(result.objects, key=lambda o: o.centroid[0])
    assert by_x[0].area == pytest.approx(np.pi * 15**2, rel=0.1)
    assert by_x[1].area == pytest.approx(np.pi * 10**2, rel=0.15)
    assert by_x[0].score == pytest.approx(2 / 3, abs=1e-4)  # toy activation: e^(11 + ln 2) vs e^11
    assert {o.id for o in result.objects} == {1, 2}
    t = result.timings
    assert min(t.pre_ms, t.infer_ms, t.post_ms, t.track_ms) >= 0 and t.total_ms > 0
    assert result.index == 0


def test_fused_and_split_graphs_agree(toy_bundle_dir: Path, tmp_path: Path) -> None:
    from toy_bundle import build_toy_bundle

    fused = Segmenter(build_toy_bundle(tmp_path / "fused", fused=True), track=False)
    split = Segmenter(toy_bundle_dir, track=False)
    assert "fused segmenter.onnx" in fused.backend_description
    assert "encoder.onnx -> renderer.onnx" in split.backend_description
    frame = scene(100, 140, [(30, 30, 12, RED), (100, 70, 14, GREEN)])
    a, b = fused(frame), split(frame)
    assert np.array_equal(a.slot_labels, b.slot_labels)
    assert [o.bbox for o in a.objects] == [o.bbox for o in b.objects]


def test_batch_equals_single_calls(toy_bundle_dir: Path) -> None:
    frames = moving_discs(5)
    singles = Segmenter(toy_bundle_dir)
    batched = Segmenter(toy_bundle_dir)
    one_by_one = [singles(f) for f in frames]
    together = batched.batch(frames)
    assert [r.index for r in together] == [0, 1, 2, 3, 4]
    for a, b in zip(one_by_one, together, strict=True):
        assert np.array_equal(a.label_map, b.label_map)


def test_thresholds_drop_small_and_weak_slots(toy_bundle_dir: Path) -> None:
    frame = scene(120, 160, [(40, 40, 20, RED), (120, 80, 5, GREEN)])
    assert len(Segmenter(toy_bundle_dir)(frame)) == 2
    big_only = Segmenter(toy_bundle_dir, min_area=200)(frame)
    assert [round(o.centroid[0]) for o in big_only.objects] == [40]
    assert (big_only.slot_labels != 0).sum() > big_only.objects[0].area  # the small slot owns some
    assert (big_only.label_map > 0).sum() == big_only.objects[0].area
    assert len(Segmenter(toy_bundle_dir, min_score=0.9)(frame)) == 0
    with pytest.raises(ValueError, match=r"min_score is 2"):
        Segmenter(toy_bundle_dir, min_score=2)


def test_the_options_object_and_the_keywords_build_the_same_segmenter(
    toy_bundle_dir: Path,
) -> None:
    frame = scene(120, 160, [(40, 40, 20, RED), (120, 80, 5, GREEN)])
    options = SegmenterOptions(min_area=200, track=False)
    seg = Segmenter.from_options(toy_bundle_dir, options)
    assert seg.options == Segmenter(toy_bundle_dir, min_area=200, track=False).options == options
    assert (seg.min_area, seg.track) == (200, False) and len(seg(frame)) == 1
    assert Segmenter(toy_bundle_dir).options == SegmenterOptions()  # one set of defaults
    with pytest.raises(ValueError, match=r"min_area is 0"):
        SegmenterOptions(min_area=0)


def test_empty_frame_and_changing_sizes(seg: Segmenter) -> None:
    empty = seg(np.full((50, 70, 3), 30, np.uint8), persist=False)
    assert len(empty) == 0 and not empty.slot_labels.any() and empty.label_map.shape == (50, 70)
    assert empty.plot().shape == (50, 70, 3)
    for h, w in ((120, 160), (480, 640), (61, 33)):
        result = seg(scene(h, w, [(w / 2, h / 2, min(h, w) / 6, RED)]))
        assert result.frame_shape == (h, w) and len(result) == 1
        assert result.objects[0].mask.shape == (h, w)


def test_ids_continue_across_calls_until_reset(toy_bundle_dir: Path) -> None:
    seg = Segmenter(toy_bundle_dir)
    frames = moving_discs(6)
    ids = [sorted(o.id for o in seg(f).objects) for f in frames[:3]]
    assert ids == [[1, 2]] * 3
    assert sorted(o.id for o in seg(frames[3], persist=False).objects) == [1, 2]
    seg(frames[4])
    seg.reset()
    result = seg(frames[5])
    assert result.index == 0 and sorted(o.id for o in result.objects) == [1, 2]
    untracked = Segmenter(toy_bundle_dir, track=False)(frames[0])
    assert sorted(o.id for o in untracked.objects) == sorted(o.slot + 1 for o in untracked.objects)


def test_json_round_trips_masks(seg: Segmenter) -> None:
    result = seg(scene(90, 130, [(30, 50, 14, RED), (95, 40, 9, GREEN)]), timestamp=12.5)
    data = json.loads(result.to_json())
    assert data["height"] == 90 and data["width"] == 130 and data["timestamp"] == 12.5
    assert set(data["timings_ms"]) == {"pre", "infer", "post", "track"}
    for obj, item in zip(result.objects, data["objects"], strict=True):
        assert item["id"] == obj.id and item["bbox"] == list(obj.bbox) and item["area"] == obj.area
        assert np.array_equal(rle.decode(item["mask"]), obj.mask)
        assert rle.area(item["mask"]) == obj.area
    assert "mask" not in result.to_dict(masks=False)["objects"][0]


def test_plot_tints_masks_with_id_colours(seg: Segmenter) -> None:
    frame = scene(120, 160, [(50, 60, 20, (255, 255, 255))])
    result = seg(frame, persist=False)
    drawn = result.plot(contours=False, labels=False)
    mask = result.objects[0].mask
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8
    assert np.array_equal(drawn[~mask], frame[~mask])  # nothing outside the object changes
    assert (drawn[mask] != frame[mask]).any(axis=1).mean() > 0.95
    labelled = result.plot(boxes=True)
    assert (labelled != drawn).any()
    assert np.array_equal(result.plot(image=frame, contours=False, labels=False), drawn)
    with pytest.raises(ValueError, match=r"needs an image of"):
        result.plot(image=frame[:10])


def test_to_supervision(seg: Segmenter, monkeypatch: pytest.MonkeyPatch) -> None:
    captured: dict = {}

    def detections(**kwargs: object) -> dict:
        captured.update(kwargs)
        return kwargs

    fake = types.ModuleType("supervision")
    fake.Detections = detections  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "supervision", fake)
    result = seg(scene(80, 100, [(30, 30, 10, RED), (70, 50, 8, GREEN)]))
    result.to_supervision()
    assert captured["xyxy"].shape == (2, 4) and captured["mask"].shape == (2, 80, 100)
    assert captured["tracker_id"].tolist() == [o.id for o in result.objects]
    assert captured["confidence"].dtype == np.float32
    monkeypatch.setitem(sys.modules, "supervision", None)
    with pytest.raises(AstsegError, match=r"pip install supervision"):
        result.to_supervision()


def test_stream_of_arrays_resets_ids(toy_bundle_dir: Path) -> None:
    seg = Segmenter(toy_bundle_dir)
    seg(scene(60, 60, [(30, 30, 10, RED)]))
    seg(scene(60, 60, [(10, 10, 5, GREEN), (40, 40, 8, RED)]))
    results = list(seg.stream(moving_discs(4), stride=2))
    assert [r.index for r in results] == [0, 2]
    assert sorted(o.id for o in results[0].objects) == [1, 2]
