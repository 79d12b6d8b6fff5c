"""The slot model's word on what is an object (sdk.fixed_camera.slot_evidence): a blob no
slot claims, on a frame with a slot to spare, in a stream whose slots explain most of the
foreground, is not reported unless slots claimed its track in min_hits frames or it is
moving steadily."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_maps import H, W, claimed_frame, disc, observe

from sdk.fixed_camera.fused import FusedLabels, FusedObject, measure_labels
from sdk.fixed_camera.object_tracks import ObjectTracks
from sdk.fixed_camera.slot_evidence import REACH, SHARE_FRAMES, WARM_UP_FRAMES, SlotEvidence
from sdk.tracker import Observation, Tracker, TrackerConfig


def _object(label: int, slot: int, area: int) -> FusedObject:
    return FusedObject(label, slot, area, (0, 0, 1, 1), (0.0, 0.0))


def _warm(evidence: SlotEvidence, share: float = 0.9) -> None:
    """WARM_UP_FRAMES frames of one claimed car and one unclaimed speck (IDs 100, 101)."""
    for _ in range(WARM_UP_FRAMES):
        car, speck = _object(1, 0, round(1000 * share)), _object(2, -1, round(1000 * (1 - share)))
        evidence.declined([car, speck], [100, 101], num_slots=9, min_share=0.0)


def _declined(evidence: SlotEvidence, objects: list[FusedObject], ids: list[int], **kw: object):
    return evidence.declined(objects, ids, **{"num_slots": 2, "min_share": 0.6, **kw})  # type: ignore[arg-type]


def test_an_unclaimed_blob_is_declined_only_when_the_model_had_a_slot_to_spare() -> None:
    car, speck = _object(1, 0, 900), _object(2, -1, 100)  # slots claim 90 % of the pixels
    evidence = SlotEvidence()
    _warm(evidence)
    assert evidence.share == pytest.approx(0.9)
    assert _declined(evidence, [car, speck], [7, 8]) == [False, True]
    assert _declined(evidence, [car, speck], [7, 8], num_slots=1) == [False, False]  # all busy
    assert _declined(evidence, [car, speck], [7, 8], num_slots=0) == [False, False]  # no model
    assert _declined(evidence, [car, speck], [7, 8], min_share=0.0) == [False, False]  # off


def test_the_rule_waits_for_its_warm_up_frames() -> None:
    car, speck = _object(1, 0, 900), _object(2, -1, 100)
    evidence = SlotEvidence()
    got = [_declined(evidence, [car, speck], [7, 8])[1] for _ in range(WARM_UP_FRAMES + 1)]
    assert got == [False] * (WARM_UP_FRAMES - 1) + [True, True]


def test_a_claim_vouches_for_a_track_for_life_a_steady_path_only_while_it_lasts() -> None:
    evidence = SlotEvidence()
    _warm(evidence)
    _declined(evidence, [_object(1, 0, 900), _object(2, 1, 100)], [7, 8], num_slots=3)
    objects = [_object(1, 0, 900), _object(2, -1, 50), _object(3, -1, 50)]
    # slot 1 lets go of track 8: still not declined; track 9 is exempt while steady only
    assert _declined(evidence, objects, [7, 8, 9], num_slots=3, steady={9}) == [False] * 3
    assert _declined(evidence, objects, [7, 8, 9], num_slots=3) == [False, False, True]
    # a track that died is forgotten: its ID vouches for nothing any more
    _declined(evidence, [_object(1, 0, 900)], [7], alive={7})
    assert _declined(evidence, objects, [7, 8, 9], num_slots=3) == [False, True, True]


def test_slots_vouch_for_a_track_once_they_claimed_it_in_enough_frames() -> None:
    evidence = SlotEvidence()
    _warm(evidence)
    car, held, let_go = _object(1, 0, 900), _object(2, 1, 100), _object(2, -1, 100)
    for _ in range(2):  # claimed twice: not yet the model's object
        assert _declined(evidence, [car, held], [7, 8], num_slots=3, claims=3) == [False] * 2
    assert _declined(evidence, [car, let_go], [7, 8], num_slots=3, claims=3) == [False, True]
    _declined(evidence, [car, held], [7, 8], num_slots=3, claims=3)  # the third claim
    assert _declined(evidence, [car, let_go], [7, 8], num_slots=3, claims=3) == [False] * 2


def test_a_vouch_holds_only_near_where_slots_last_claimed_the_track() -> None:
    """A track slots claimed in a shake that then hops along the rail, unclaimed, is not
    the model's object there: the vouch reaches REACH times the claimed blob's larger box
    side from its centroid."""
    evidence = SlotEvidence()
    _warm(evidence)
    car = _object(1, 0, 900)

    def at(x: float, slot: int) -> FusedObject:  # a 10 px blob centred at (x, 50)
        return FusedObject(2, slot, 100, (round(x) - 5, 45, round(x) + 5, 55), (x, 50.0))

    for _ in range(3):
        _declined(evidence, [car, at(100, 1)], [7, 8], num_slots=3, claims=3)
    assert REACH == 2.0
    for x, declined in ((100, False), (119, False), (121, True), (80, False), (60, True)):
        got = _declined(evidence, [car, at(x, -1)], [7, 8], num_slots=3, claims=3)
        assert got == [False, declined], x


def test_a_piece_cut_from_a_claimed_blob_does_not_vouch_for_its_track() -> None:
    evidence = SlotEvidence()
    _warm(evidence)
    piece = _object(5, 0, 100)  # the slot of the blob it was cut from
    assert _declined(evidence, [_object(1, 0, 900), piece], [7, 8], pieces={5}) == [False, False]
    assert _declined(evidence, [_object(1, 0, 900), _object(2, -1, 100)], [7, 8]) == [
        False,
        True,
    ]


def test_a_model_that_does_not_know_the_scene_declines_nothing() -> None:
    """The shipped model on the real crowd claims about a third of the foreground: below
    the share, the motion rules decide alone, whatever the slots do."""
    evidence = SlotEvidence()
    for _ in range(3 * WARM_UP_FRAMES):
        got = _declined(evidence, [_object(1, 0, 300), _object(2, -1, 700)], [1, 2], num_slots=4)
        assert got == [False, False]
    assert evidence.share == pytest.approx(0.3)


def test_the_share_is_a_running_mean_that_forgets_and_resets() -> None:
    evidence = SlotEvidence()
    for _ in range(SHARE_FRAMES):  # a scene the slots explained, for a while
        _declined(evidence, [_object(1, 0, 100)], [1])
    assert evidence.share == pytest.approx(1.0)
    for _ in range(3 * SHARE_FRAMES):  # then one they do not: the mean follows it
        _declined(evidence, [_object(1, -1, 100)], [2])
    expected = (1 - 1 / SHARE_FRAMES) ** (3 * SHARE_FRAMES)
    assert evidence.share == pytest.approx(expected, rel=1e-9)
    _declined(evidence, [], [])  # a frame without foreground changes nothing
    assert evidence.share == pytest.approx(expected, rel=1e-9)
    evidence.reset()
    assert evidence.share == 0.0
    _warm(evidence)
    # track 1, claimed before the reset only, is declined like any unclaimed newcomer
    assert _declined(evidence, [_object(1, 0, 9), _object(2, -1, 1)], [5, 1]) == [False, True]


def test_the_share_weighs_each_frame_by_its_foreground_pixels() -> None:
    """Frames of a few unclaimed specks before the first car barely move the share: a
    car the slots claim outweighs them from its first frame (a mean of per-frame shares
    would need 17 car frames to forget ten speck-only frames)."""
    evidence = SlotEvidence()
    for _ in range(WARM_UP_FRAMES):  # specks only: 50 pixels, none claimed
        assert _declined(evidence, [_object(2, -1, 50)], [8]) == [False]
    assert evidence.share == 0.0
    car, speck = _object(1, 0, 900), _object(2, -1, 50)
    assert _declined(evidence, [car, speck], [7, 8]) == [False, True]
    assert evidence.share == pytest.approx(900 / (10 * 50 + 950))


def test_a_slot_vouches_only_for_the_largest_blob_it_claims() -> None:
    """A slot spread over a car and two specks (a shaking rail) holds the car; its claims
    of the specks do not make them the model's objects."""
    evidence = SlotEvidence()
    _warm(evidence)
    car, near, far = _object(1, 0, 900), _object(2, 0, 60), _object(3, 0, 40)
    for _ in range(5):
        assert _declined(evidence, [car, near, far], [7, 8, 9], num_slots=3) == [False] * 3
    let_go = [car, _object(2, -1, 60), _object(3, -1, 40)]
    assert _declined(evidence, let_go, [7, 8, 9], num_slots=3) == [False, True, True]
    # the largest blob of a slot whose other blob is a piece cut from a blob: neither counts
    evidence.reset()
    _warm(evidence)
    for _ in range(5):
        _declined(evidence, [_object(1, 1, 500), _object(2, 1, 80)], [7, 8], pieces={1})
    assert _declined(evidence, [_object(1, -1, 500), _object(2, -1, 80)], [7, 8]) == [True] * 2


def _speck_at(t: int) -> np.ndarray:
    """A speck that flickers on a branch: it jumps 3 px right, then back, and so on (its
    first jump is enough for `moved`, a coherent path it never has)."""
    return disc(150 + 3 * (t % 2), 20, 6)


@pytest.mark.parametrize("share", [0.6, 0.0])
def test_a_speck_the_slots_decline_is_not_reported_where_the_rule_is_on(share: float) -> None:
    tracks = ObjectTracks(Tracker(TrackerConfig(min_travel=0.02, slot_evidence_share=share)))
    speck_reported = False
    for t in range(40):  # the car alone until the rule has warmed up, then the speck too
        car, speck = disc(30 + 3 * t, 80, 15), _speck_at(t)
        blobs = [speck] if t >= WARM_UP_FRAMES else []
        fused, ids = tracks.update(claimed_frame(car, *blobs), observe, num_slots=2)
        speck_reported |= bool(fused.labels[speck].any())
        assert fused.labels[car].all() == (t >= 2)  # the car: confirmed on its third frame
    speck_track = max(tracks.tracker.tracks, key=lambda track: track.id)
    assert speck_track.moved and speck_track.confirmed  # the motion rules alone let it out
    assert speck_reported == (share == 0.0)


def test_an_unclaimed_object_that_moves_steadily_is_reported_after_its_steady_frames() -> None:
    steady, enters = 5, WARM_UP_FRAMES
    config = TrackerConfig(min_travel=0.02, unclaimed_steady_frames=steady)
    tracks = ObjectTracks(Tracker(config))
    first = None
    for t in range(enters + 20):
        car, walker = disc(30 + 3 * t, 80, 15), disc(185 - 4 * (t - enters), 25, 8)
        blobs = [walker] if t >= enters else []
        fused, ids = tracks.update(claimed_frame(car, *blobs), observe, num_slots=2)
        if first is None and fused.labels[walker].any():
            first = t - enters
        if first is not None:  # vouched for by its steady path: reported from then on
            assert fused.labels[walker].all()
    walker_track = max(tracks.tracker.tracks, key=lambda track: track.id)
    # 4 px a frame = 0.04 model units: moved-worthy from its second sight (frame 1 after
    # it entered), so its steady run reaches `steady` at frame `steady`, long after it was
    # confirmed (frame 2)
    assert walker_track.steady == 19 and first == steady


def test_an_unclaimed_track_is_exempt_only_while_its_path_is_steady() -> None:
    """A walker no slot claims is reported while its path is steady; when it turns back
    (its way grows, its distance from where it entered shrinks) it is held back again,
    until its path is steady again; a turn in place breaks the run at once."""
    tracks = ObjectTracks(Tracker(TrackerConfig(min_travel=0.02)))
    shown = []
    for t in range(WARM_UP_FRAMES + 18):
        k = t - WARM_UP_FRAMES
        x = 185 - 4 * k if k <= 10 else 145 + 4 * (k - 10)  # 10 frames left, 7 back
        blobs = [disc(x, 25, 8)] if t >= WARM_UP_FRAMES else []
        fused, ids = tracks.update(claimed_frame(disc(30 + 3 * t, 80, 15), *blobs), observe, 2)
        if blobs:
            shown.append(bool(fused.labels[blobs[0]].all()))
    walker_track = max(tracks.tracker.tracks, key=lambda track: track.id)
    # steady from frame 1: reported from frame 5; at the turn (frames 11, 12) its last
    # three steps went 0.04 by a way of 0.12: not moving, so the run breaks; it moves again
    # from frame 13, but its whole path is coherent no more from frame 14 (0.40 - 0.04 j <
    # (0.40 + 0.04 j) / 2 from j = 4 steps back), before a new run could reach 5
    assert shown == [False] * 5 + [True] * 6 + [False] * 7
    assert walker_track.steady == 0 and tracks.tracker.reportable(walker_track.id)


@pytest.mark.parametrize(("claimed_frames", "reported"), [(1, False), (3, True)])
def test_a_track_slots_claimed_in_min_hits_frames_is_the_models_object(
    claimed_frames: int, reported: bool
) -> None:
    """A slot that takes a flickering speck once does not make it an object; slots that
    claimed it in min_hits (3) frames do, for the rest of its life."""
    tracks = ObjectTracks(Tracker(TrackerConfig(min_travel=0.02)))
    seen = False
    for t in range(WARM_UP_FRAMES + 15):
        k, car = t - WARM_UP_FRAMES, disc(30 + 3 * t, 80, 15)
        labels = np.zeros((H, W), np.uint8)
        labels[car] = 1
        if k >= 0:
            labels[_speck_at(t)] = 2
        slots = {1: 0, 2: 1} if 0 <= k < claimed_frames else {1: 0}
        fused, ids = tracks.update(FusedLabels(labels, measure_labels(labels, slots)), observe, 3)
        if k > claimed_frames:
            seen |= bool(fused.labels[_speck_at(t)].any())
    assert seen == reported


def test_a_speck_cut_from_a_claimed_blob_is_still_declined_after() -> None:
    """A speck that touches a claimed car for a frame is cut out of the car's blob with the
    car's slot; that inherited claim does not vouch for it once they part."""
    tracks = ObjectTracks(Tracker(TrackerConfig(min_travel=0.02)))
    car = disc(100, 60, 20)
    for t in range(WARM_UP_FRAMES + 12):
        speck = disc(150 + 3 * (t % 2), 60, 6) if t >= WARM_UP_FRAMES else _bar(0, 0, 0, 0)
        if t == WARM_UP_FRAMES + 6:  # one frame where a bridge joins them: one claimed blob
            blob = car | speck | _bar(118, 152, 57, 63)
            labels = np.zeros((H, W), np.uint8)
            labels[blob] = 1
            fused, ids = tracks.update(
                FusedLabels(labels, measure_labels(labels, {1: 0})), observe, 2
            )
            assert list(tracks._slots._claims) == [1]  # the car's track only
            continue
        fused, ids = tracks.update(claimed_frame(car, speck), observe, 2)
        assert not fused.labels[speck].any()
    speck_track = max(tracks.tracker.tracks, key=lambda track: track.id)
    assert speck_track.confirmed and speck_track.moved and speck_track.hits >= 10


def _bar(x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_steady_counts_coherent_moves_in_a_row_and_a_jitter_resets_it() -> None:
    tracker = Tracker(TrackerConfig(min_travel=0.05, min_hits=1, size_gate=0.0))
    obs = lambda x: Observation(np.array([x, 0.0]), np.array([0.1, 0.1]), np.zeros(0))  # noqa: E731
    path = [0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.02, 0.12]  # a jump back, then on again
    counts = []
    for x in path:
        tracker.update([obs(x)])
        counts.append(tracker.tracks[0].steady)
    # moved-worthy from 0.06 (travel ≥ 0.05); the jump back to 0.02 is under min_travel; at
    # 0.12 the way taken (0.28) is over twice the travel (0.12): not coherent either
    assert counts == [0, 0, 0, 1, 2, 3, 0, 0]
    assert tracker.tracks[0].moved  # the latch stays


def test_object_tracks_reset_forgets_the_slot_evidence_too() -> None:
    tracks = ObjectTracks(Tracker())
    for t in range(WARM_UP_FRAMES):
        tracks.update(claimed_frame(disc(30 + 3 * t, 80, 15)), observe, 2)
    assert tracks._slots.share == 1.0 and tracks._slots._claims
    tracks.reset()
    assert tracks._slots.share == 0.0 and not tracks._slots._claims


@pytest.mark.parametrize("history", [10, 0])
def test_an_unclaimed_object_that_turned_back_long_ago_is_steady_again_when_it_goes_on(
    history: int,
) -> None:
    """A walker no slot claims goes left for 20 frames, then right for 30: with the steady
    path judged over its last `steady_history` sightings it is reported again once it goes
    on (it passes its starting point at frame 20 after the turn, where it has travelled
    nothing); judged over its whole life (0) it is not, as its way stays more than twice
    its travel."""
    config = TrackerConfig(min_travel=0.02, steady_history=history)
    tracks = ObjectTracks(Tracker(config))
    shown = []
    for t in range(WARM_UP_FRAMES + 51):
        k = t - WARM_UP_FRAMES
        x = 150 - 4 * k if k <= 20 else 70 + 4 * (k - 20)
        blobs = [disc(x, 25, 8)] if k >= 0 else []
        fused, _ = tracks.update(claimed_frame(disc(30 + 2 * t, 80, 15), *blobs), observe, 2)
        if k > 20:
            shown.append(bool(fused.labels[blobs[0]].all()))
    if history:
        # steady again 12 frames after the turn (its last 10 sightings all going right, then
        # 5 frames of a steady run); held back while it passes its start (nothing
        # travelled), and reported again 5 frames later
        assert shown == [False] * 11 + [True] * 8 + [False] * 5 + [True] * 6
    else:
        assert not any(shown)
