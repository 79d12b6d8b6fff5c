"""Camera effects of the synthetic fixed camera: drifting and switched light, camera shake,
other traffic with `motion_seed`, and their data spec keys."""

import numpy as np
import pytest

from training.data import CameraEffects, SceneConfig, SyntheticVideo, open_dataset
from training.data.camera_effects import (
    DRIFT_DEPTH,
    DRIFT_SIDE,
    DRIFT_TINT,
    SWITCH_LEVEL,
    SWITCH_SIDE,
    CameraPlan,
)
from training.data.errors import DataError

CAMERA = SceneConfig(height=60, width=80, max_objects=3, seed=3)
FRAMES = 40


def still() -> SyntheticVideo:
    return SyntheticVideo(CAMERA, FRAMES)


def light_ratio(lit: SyntheticVideo, t: int) -> np.ndarray:
    """Per-pixel, per-channel ratio of the lit background to the still one at frame t."""
    ref = still().render(t)[2].astype(np.float64)
    return lit.render(t)[2].astype(np.float64) / np.maximum(ref, 1.0)


def test_no_effects_is_the_plain_video():
    plain, none = still(), SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects())
    for t in (0, 17, FRAMES - 1):
        for a, b in zip(plain.render(t), none.render(t), strict=True):
            assert np.array_equal(a, b)
    spec = open_dataset("synthetic_video:size=60x80,objects=3,seed=3,frames=40,lighting=none")
    assert np.array_equal(spec[5].image, plain[5].image)


def test_drift_dims_and_returns_over_one_period():
    video = SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects("drift"))
    plan = video.camera
    lows = []
    for t in range(FRAMES):
        gain, tint = plan.light(t)
        lows.append(float(gain.max() * tint[0]))
    # Full light at frame 0, darkest half a period later, back along the same curve.
    assert lows[0] == pytest.approx(1.0, abs=1e-6)
    assert int(np.argmin(lows)) == FRAMES // 2
    assert min(lows) == pytest.approx(1 - DRIFT_DEPTH, abs=1e-5)
    assert all(a > b for a, b in zip(lows[: FRAMES // 2], lows[1 : FRAMES // 2 + 1], strict=True))
    assert lows[5] == pytest.approx(lows[FRAMES - 5], abs=1e-5)
    # At the bottom: each channel's gain spans level * tint from the near to the far side.
    ratio = light_ratio(video, FRAMES // 2)
    level = 1 - DRIFT_DEPTH
    for c in range(3):
        top = level * (1 - DRIFT_TINT[c])
        bottom = top * (1 - DRIFT_SIDE)
        # uint8 rounding of backgrounds >= 40 moves a ratio by at most 0.5 / 40 + 0.5 / 40
        assert ratio[..., c].max() == pytest.approx(top, abs=0.026)
        assert ratio[..., c].min() == pytest.approx(bottom, abs=0.026)
    assert ratio[..., 2].mean() < ratio[..., 0].mean()  # warmer: blue falls most


def test_switch_toggles_at_once_every_half_period():
    period = 20
    video = SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects("switch", light_period=period))
    plain = still()
    for t in (0, 9, 20, 29):  # lamp on: the frame is exactly the still camera's
        assert np.array_equal(video.render(t)[0], plain.render(t)[0])
    for t in (10, 19, 30, 39):  # lamp off
        ratio = light_ratio(video, t)
        assert ratio.max() == pytest.approx(SWITCH_LEVEL, abs=0.026)
        assert ratio.min() == pytest.approx(SWITCH_LEVEL * (1 - SWITCH_SIDE), abs=0.026)
    # Sudden: the whole change happens between two frames, none within a half period.
    backgrounds = [video.render(t)[2].astype(float) for t in range(8, 13)]
    steps = [np.abs(b - a).mean() for a, b in zip(backgrounds, backgrounds[1:], strict=False)]
    assert steps[1] > 40 and steps[0] == steps[2] == steps[3] == 0


def test_light_leaves_the_ids_and_lights_the_objects_too():
    video = SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects("mixed"))
    plain = still()
    t = 3 * FRAMES // 4  # drifting and switched off
    (image, ids, _), (ref_image, ref_ids, _) = video.render(t), plain.render(t)
    assert np.array_equal(ids, ref_ids) and (ids > 0).any()
    gain, tint = video.camera.light(t)
    expected = np.clip(np.rint(ref_image * gain[..., None] * tint), 0, 255)
    # the still frame was rounded once already: at most one step apart after relighting
    assert np.abs(image.astype(float) - expected).max() <= 1.0
    objects = ids > 0
    assert image[objects].mean() < 0.7 * ref_image[objects].mean()


def test_shake_moves_background_and_objects_alike():
    shake = 3.0
    video = SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects(shake=shake))
    plain = still()
    offsets = np.array([video.camera.offset(t) for t in range(FRAMES)])
    assert np.abs(offsets).max() <= shake
    assert np.abs(offsets).max() > 0.5 * shake and np.ptp(offsets, axis=0).min() > 1.0
    for t in (4, 21, 33):
        dx, dy = offsets[t]
        image, ids, background = video.render(t)
        ref_image, ref_ids, ref_background = plain.render(t)
        # the background moved by (dx, dy): each interior pixel is the still background
        # read (dx, dy) back, by bilinear interpolation (two uint8 roundings: 1 step apart)
        ys, xs = np.mgrid[6:54, 6:74].astype(np.float64)
        sx, sy = xs - dx, ys - dy
        x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
        fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
        ref = ref_background.astype(np.float64)
        expected = (
            ref[y0, x0] * (1 - fx) * (1 - fy) + ref[y0, x0 + 1] * fx * (1 - fy)
            + ref[y0 + 1, x0] * (1 - fx) * fy + ref[y0 + 1, x0 + 1] * fx * fy
        )  # fmt: skip
        assert np.abs(background[6:54, 6:74] - expected).max() <= 1.0 + 1e-9
        # every object fully inside moved with it (its centroid, to the pixel grid's accuracy)
        for obj in np.unique(ref_ids)[1:]:
            where, ref_where = np.argwhere(ids == obj), np.argwhere(ref_ids == obj)
            if len(ref_where) < 30 or ref_where.min() < 4 or (ref_where.max(0) > [55, 75]).any():
                continue
            moved = where.mean(0) - ref_where.mean(0)
            assert moved == pytest.approx((dy, dx), abs=0.35)


def test_effects_keep_random_access_equal_to_streaming():
    video = SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects("mixed", 16, shake=2))
    streamed = list(video.iter_frames())
    for t in (0, 13, 39):
        assert np.array_equal(video[t].image, streamed[t][0])
        assert np.array_equal(video[t].mask, streamed[t][1])


def test_motion_seed_gives_other_traffic_on_the_same_camera():
    a = SyntheticVideo(CAMERA, FRAMES, motion_seed=1)
    b = SyntheticVideo(CAMERA, FRAMES, motion_seed=1)
    default, other = still(), SyntheticVideo(CAMERA, FRAMES, motion_seed=2)
    assert [t.entry for t in a.tracks] == [t.entry for t in b.tracks]
    assert [t.entry for t in a.tracks] != [t.entry for t in default.tracks]
    assert [t.entry for t in a.tracks] != [t.entry for t in other.tracks]
    assert np.array_equal(a.render(7)[2], default.render(7)[2])  # same camera, same background


def test_spec_keys():
    video = open_dataset(
        "synthetic_video:size=60x80,objects=3,seed=3,frames=40,lighting=switch,"
        "light_period=20,shake=2.5,motion_seed=4"
    )
    assert video.effects == CameraEffects("switch", 20, 2.5) and video.motion_seed == 4
    assert "lighting switch/20, shake 2.5 px" in video.description
    reference = SyntheticVideo(CAMERA, FRAMES, effects=CameraEffects("switch", 20, 2.5),
                               motion_seed=4)  # fmt: skip
    assert np.array_equal(video[12].image, reference[12].image)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("lighting=dusk", "lighting 'dusk' not known; choose from none, drift, switch, mixed"),
        ("light_period=1", "light_period='1' must be at least 2"),
        ("shake=-1", "shake must be a number >= 0, got -1.0"),
        ("shake=wobbly", "shake='wobbly' must be a number"),
        ("motion_seed=-3", "motion_seed='-3' must be at least 0"),
    ],
)
def test_bad_spec_keys_are_refused_in_one_sentence(options, message):
    with pytest.raises(DataError, match=message):
        open_dataset(f"synthetic_video:size=32,frames=8,{options}")


def test_plan_without_effects_changes_nothing():
    plan = CameraPlan(CameraEffects(), 10, 8, 8, [0])
    image = np.full((8, 8, 3), 7.0, np.float32)
    assert plan.offset(3) == (0.0, 0.0) and plan.light(3) is None
    assert plan.shift(image, 3) is image and plan.lit([image], 3)[0] is image
