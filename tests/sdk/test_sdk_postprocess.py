"""The cell-based post-processing gives the labels of the implementation it replaced.

`reference_postprocess.reference_labels` is the old code (every layer resized to the whole
frame with OpenCV, then compared). The new labels must agree on at least 99.5 % of the
pixels of real model outputs at camera sizes (they agree on all but float-rounding ties),
and the regions' areas, boxes and centroids must be exactly those of the new labels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from reference_postprocess import reference_labels
from sdk_media import scene

from sdk import Segmenter
from sdk.postprocess import FrameLabels, frame_labels, slot_regions

DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "sdk" / "models" / "default"
CAMERA_SIZES = [(720, 1280), (1080, 1920), (480, 640), (270, 333)]
# float32 blends of weights in [0, 1]: a few units of eps (1.2e-7) apart counts as a tie
TIE = 1e-6


def _discs(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    discs = []
    for _ in range(4):
        r = float(rng.uniform(0.05, 0.18) * min(height, width))
        colour = tuple(int(c) for c in rng.integers(120, 256, 3))
        discs.append(
            (rng.uniform(r, width - r), rng.uniform(r, height - r), r, colour)  # type: ignore[arg-type]
        )
    return scene(height, width, discs)


def _outputs(bundle: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights, argmax) of `count` different frames through a bundle's own graphs."""
    seg = Segmenter(bundle, threads=1)
    out = []
    for seed in range(count):
        model = seg.infer(seg.prepare([_discs(720, 1280, seed)])).output
        out.append((model.weights[0], model.segmentation[0]))
    seg.close()
    return out


def _agreement(weights: np.ndarray, seg: np.ndarray, height: int, width: int) -> float:
    new = frame_labels(weights, seg, height, width).labels
    return float((new == reference_labels(weights, seg, height, width)).mean())


@pytest.mark.parametrize("which", ["toy", "fused", "default"])
def test_labels_agree_with_the_old_implementation_on_model_outputs(
    which: str, toy_bundle_dir: Path, fused_bundle_dir: Path
) -> None:
    bundle = {"toy": toy_bundle_dir, "fused": fused_bundle_dir, "default": DEFAULT_BUNDLE}[which]
    if which == "default" and not (bundle / "astseg.json").is_file():
        pytest.skip("the default bundle is not in this checkout")
    outputs = _outputs(bundle, 3)
    assert any(seg.any() for _, seg in outputs)  # the frames do hold foreground
    for weights, seg in outputs:
        for height, width in CAMERA_SIZES:
            agreement = _agreement(weights, seg, height, width)
            assert agreement >= 0.995, (which, height, width, agreement)


def _smooth_weights(layers: int, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = cv2.resize(rng.normal(0, 3, (h // 8, w // 8, layers)).astype(np.float32), (w, h))
    logits[:, :, 0] += 2.0  # mostly background, like a real scene
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    return np.ascontiguousarray((weights / weights.sum(axis=2, keepdims=True)).transpose(2, 0, 1))


@pytest.mark.parametrize("layers", [3, 5, 11])
@pytest.mark.parametrize(("height", "width"), [(720, 1280), (1080, 1920), (37, 301), (20, 50)])
def test_many_slots_and_odd_sizes_differ_only_at_ties(layers: int, height: int, width: int) -> None:
    """Smooth random weights have boundaries everywhere, with three or more layers meeting;
    any pixel whose label differs must be a float tie of the two layers' blended weights."""
    for seed in range(2):
        weights = _smooth_weights(layers, 64, 64, seed)
        seg = weights.argmax(axis=0)
        got = frame_labels(weights, seg, height, width).labels
        old = reference_labels(weights, seg, height, width)
        assert (got == old).mean() >= 0.9999
        ys, xs = np.nonzero(got != old)
        if ys.size:
            up = cv2.resize(weights.transpose(1, 2, 0), (width, height)).reshape(height, width, -1)
            gap = np.abs(up[ys, xs, got[ys, xs]] - up[ys, xs, old[ys, xs]])
            assert gap.max() <= TIE, gap.max()


def test_regions_measure_the_new_labels_exactly() -> None:
    for height, width in [(720, 1280), (37, 301), (300, 400)]:
        weights = _smooth_weights(5, 64, 64, 7)
        frame = frame_labels(weights, weights.argmax(axis=0), height, width)
        assert frame.stats is not None
        regions = {r.slot: r for r in slot_regions(frame, 4)}
        for label in range(1, 5):
            mask = frame.labels == label
            if not mask.any():
                assert label - 1 not in regions
                continue
            region = regions[label - 1]
            ys, xs = np.nonzero(mask)
            assert region.area == xs.size
            assert region.bbox == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            assert region.centroid == pytest.approx((xs.mean(), ys.mean()), rel=1e-12)
            assert np.array_equal(region.mask, mask)


def test_labels_without_stats_are_counted_from_their_pixels() -> None:
    """Labels made elsewhere (no stats) are measured by looking at the window."""
    weights = _smooth_weights(5, 64, 64, 3)
    made = frame_labels(weights, weights.argmax(axis=0), 200, 300)
    bare = FrameLabels(made.labels, made.y0, made.y1, made.x0, made.x1)
    assert [(r.slot, r.area, r.bbox) for r in slot_regions(bare, 4)] == [
        (r.slot, r.area, r.bbox) for r in slot_regions(made, 4)
    ]
    for a, b in zip(slot_regions(bare, 4), slot_regions(made, 4), strict=True):
        assert a.centroid == pytest.approx(b.centroid, rel=1e-12)


def test_window_holds_all_foreground_and_padding_never_leaks() -> None:
    """Frames smaller than the model (cells with no pixel) and one-pixel frames."""
    for height, width in [(20, 50), (1, 1), (3, 200), (64, 65)]:
        weights = _smooth_weights(4, 64, 64, 1)
        frame = frame_labels(weights, weights.argmax(axis=0), height, width)
        assert frame.labels.shape == (height, width)
        assert frame.labels.max() <= 3
        assert frame.window.astype(int).sum() == frame.labels.astype(int).sum()
        old = reference_labels(weights, weights.argmax(axis=0), height, width)
        assert (frame.labels == old).mean() >= 0.999


def test_background_only_frames_have_no_regions() -> None:
    weights = np.zeros((5, 64, 64), np.float32)
    weights[0] = 1.0
    frame = frame_labels(weights, np.zeros((64, 64), np.int64), 720, 1280)
    assert not frame.labels.any() and frame.window.size == 0
    assert slot_regions(frame, 4) == []
