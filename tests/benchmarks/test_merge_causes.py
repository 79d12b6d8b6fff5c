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
