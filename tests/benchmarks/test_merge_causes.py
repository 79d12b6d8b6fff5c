"""Which part of astseg merged two touching objects (benchmarks/merge_causes.py)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from merge_causes import merges_in_frame, slot_merges  # noqa: E402


def two_touching() -> np.ndarray:
    truth = np.zeros((20, 30), np.int32)
    truth[5:15, 5:15] = 1
    truth[5:15, 15:25] = 2
    return truth


def test_objects_reported_apart_are_no_merge():
    truth = two_touching()
    assert merges_in_frame(truth, truth, truth) == {}


def test_each_cause_is_told_apart():
    truth = two_touching()
    one = np.where(truth > 0, 7, 0)  # the fused output: one object over both
    # the slots told them apart: fusion joined them
    assert merges_in_frame(truth, one, truth) == {"fusion": 1}
    # one slot owns both
    assert merges_in_frame(truth, one, np.where(truth > 0, 3, 0)) == {"one_slot": 1}
    # the second object lies in the slot model's background layer
    slots = np.where(truth == 1, 4, 0)
    causes = merges_in_frame(truth, one, slots)
    assert causes == {"background": 1} and slot_merges(causes) == 1
    assert slot_merges(merges_in_frame(truth, one, truth)) == 0


def test_an_object_holding_a_sliver_of_another_is_no_merge():
    truth = two_touching()
    objects = truth.copy()
    objects[5:15, 15:18] = 1  # 30 % of object 2 goes to object 1
    assert merges_in_frame(truth, objects, truth) == {}


def test_three_objects_in_one_are_two_merges_and_slot_labels_are_resized():
    truth = np.zeros((20, 40), np.int32)
    truth[5:15, 2:12], truth[5:15, 12:22], truth[5:15, 22:32] = 1, 2, 3
    one = np.where(truth > 0, 1, 0)
    slots = truth[::2, ::2]  # at half the size, as a slot model's map can be
    assert merges_in_frame(truth, one, slots) == {"fusion": 2}


class StandIn:
    """A method of the classical benchmark that answers the same maps on every frame."""

    def __init__(self, masks_from: str, instances: np.ndarray, slot_labels: np.ndarray) -> None:
        self.masks_from = masks_from
        self.instances, self.slot_labels = instances, slot_labels

    def reset(self) -> None:
        pass

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.instances > 0, self.instances


def test_the_benchmark_takes_causes_from_the_slot_model_not_the_fused_objects():
    """The fused run's own slot_labels are its objects (one label over a merge); the causes
    come from the slot-mode run of the same frame."""
    from classical import Clip, evaluate_clip

    truth = two_touching()
    one = np.where(truth > 0, 1, 0)
    labels = np.where(truth > 0, 255, 0).astype(np.uint8)
    frames = [(np.zeros((*truth.shape, 3), np.uint8), truth, labels)] * 4
    clip = Clip("pair", "static", "two touching squares", lambda: iter(frames), 4, True)
    for slots, cause in ((truth, "fusion"), (np.where(truth > 0, 2, 0), "one_slot")):
        methods = {
            "astseg": StandIn("fused", one, one),  # slot_labels = its one object
            "astseg_slots": StandIn("slots", slots, slots),
            "knn": StandIn("knn", truth, truth),  # the tracking baseline's input
        }
        results, _ = evaluate_clip(clip, methods, {})
        fused = results["astseg"]
        assert fused["merges_per_frame"][cause] == 1.0
        assert sum(fused["merges_per_frame"].values()) == 1.0
        assert fused["slot_merges_per_frame"] == (0.0 if cause == "fusion" else 1.0)
        assert "merges_per_frame" not in results["astseg_slots"]
