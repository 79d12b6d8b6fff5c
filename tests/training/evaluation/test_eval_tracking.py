"""`astseg eval` on labelled video: HOTA, IDF1, MOTA, ID switches and objects per frame, by
the classical benchmark's scoring (training.evaluation.tracking_metrics), on hand-built
clips whose answers are worked by hand, and once through the shipped bundle."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import training.evaluation.scoring
from training.data.sample import Sample, SampleDataset
from training.evaluation.scoring import evaluate
from training.evaluation.tracking_metrics import INSTALL_HINT
from training.evaluation.types import Prediction

# TrackEval is in the `bench` extra; the test of its absence runs either way
needs_trackeval = pytest.mark.skipif(
    importlib.util.find_spec("trackeval") is None, reason="TrackEval is not installed"
)

ROOT = Path(__file__).resolve().parents[3]


class HandClip(SampleDataset):
    """Videos of 4 frames, 20x40: object 1 moves right along the top, object 2 left along
    the bottom; each frame's pixel value is its index, so a predictor can look it up."""

    def __init__(self, videos: int = 1, frames: int = 4) -> None:
        self.frames = frames
        self.videos = videos
        self.description = "hand-built clip"

    def __len__(self) -> int:
        return self.videos * self.frames

    def __getitem__(self, index: int) -> Sample:
        video, t = divmod(self._check_index(index), self.frames)
        mask = np.zeros((20, 40), np.int32)
        mask[2:6, 3 * t : 3 * t + 4] = 1
        mask[12:16, 30 - 3 * t : 34 - 3 * t] = 2
        image = np.full((20, 40, 3), index, np.uint8)
        return Sample(image, mask, name=f"{index}", sequence=f"clip{video}", frame=t)


class Tracker:
    """Answers frame t of a clip with `answer(true mask, t)` as its track IDs."""

    def __init__(self, clip: HandClip, answer) -> None:
        self.image_size = (20, 40)
        self.clip = clip
        self.answer = answer
        self.resets = 0
        self.batches: list[list[str | None]] = []

    def reset(self) -> None:
        self.resets += 1

    def predict(self, images: np.ndarray) -> Prediction:
        samples = [self.clip[int(image[0, 0, 0])] for image in images]
        self.batches.append([s.sequence for s in samples])
        tracks = np.stack([self.answer(s.mask, s.frame) for s in samples])
        return Prediction(segmentation=tracks, reconstruction=None, tracks=tracks)


@needs_trackeval
def test_perfect_tracking_scores_one():
    clip = HandClip()
    report = evaluate(Tracker(clip, lambda m, t: m * 7), clip, progress=False)
    tracking = report.metrics["tracking"]
    assert tracking["ids_from"] == "tracks"
    mean = tracking["mean"]
    assert mean["hota"] == mean["idf1"] == mean["mota"] == 1.0
    assert mean["id_switches_per_100"] == 0.0
    assert mean["objects_per_frame"] == mean["true_objects_per_frame"] == 2.0
    table = report.table()
    assert "tracking.hota" in table and "tracking.idf1" in table


@needs_trackeval
def test_swapped_identities_score_the_worked_values():
    """The two tracks swap objects after frame 2 (masks perfect). CLEAR: 8 matches, 2 ID
    switches: MOTA = (8 - 2) / 8. Identity: the best pairing keeps each object's track for
    2 of its 4 frames, IDTP = IDFN = IDFP = 4, IDF1 = 8 / (8 + 4 + 4). HOTA: every match's
    association is 2 / (2 + 2 + 2), detection 1, so HOTA = sqrt(1/3) at every threshold."""
    clip = HandClip()
    swapped = evaluate(
        Tracker(clip, lambda m, t: m if t < 2 else np.choose(m, [0, 2, 1])), clip, progress=False
    )
    mean = swapped.metrics["tracking"]["mean"]
    assert mean["idf1"] == pytest.approx(0.5)
    assert mean["mota"] == pytest.approx(0.75)
    assert mean["hota"] == pytest.approx(np.sqrt(1 / 3), abs=1e-4)
    assert mean["id_switches"] == 2 and mean["id_switches_per_100"] == 50.0


@needs_trackeval
def test_each_video_is_its_own_stream_and_scored_alone():
    clip = HandClip(videos=2)
    tracker = Tracker(clip, lambda m, t: m)
    report = evaluate(tracker, clip, batch_size=3, progress=False)
    # batches never span two videos, and the tracker is reset as each one begins
    assert tracker.batches == [["clip0"] * 3, ["clip0"], ["clip1"] * 3, ["clip1"]]
    assert tracker.resets == 2
    sequences = report.metrics["tracking"]["sequences"]
    assert sorted(sequences) == ["clip0", "clip1"]
    assert all(s["frames"] == 4 and s["idf1"] == 1.0 for s in sequences.values())


def test_without_trackeval_eval_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(training.evaluation.scoring, "trackeval_missing", lambda: INSTALL_HINT)
    clip = HandClip()
    report = evaluate(Tracker(clip, lambda m, t: m), clip, progress=False)
    assert report.metrics["tracking"] == {"skipped": INSTALL_HINT}
    assert 'pip install "astseg[bench]"' in report.table()
    assert report.metrics["identity"]["mean"]["id_switches"] == 0  # the rest is still scored
    report.write_json(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["tracking"]["skipped"] == INSTALL_HINT


def test_images_get_no_tracking_section():
    class Images(HandClip):
        def __getitem__(self, index: int) -> Sample:
            sample = super().__getitem__(index)
            return Sample(sample.image, sample.mask, name=sample.name)

    clip = Images()
    tracker = Tracker(clip, lambda m, t: m)
    report = evaluate(tracker, clip, progress=False)
    assert "tracking" not in report.metrics and tracker.resets == 0


@needs_trackeval
def test_cli_eval_scores_tracking_of_the_shipped_bundle_on_synthetic_video(tmp_path):
    pytest.importorskip("onnxruntime")
    import cli

    out = tmp_path / "scores.json"
    data = "synthetic_video:size=240x320,objects=3,background=fixed,seed=3,frames=12"
    bundle = str(ROOT / "sdk" / "models" / "default")
    args = ["eval", "--model", bundle, "--data", data, "--json", str(out)]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    for row in ("tracking.hota", "tracking.idf1", "tracking.mota", "tracking.objects_per_frame"):
        assert row in result.output
    tracking = json.loads(out.read_text())["tracking"]
    assert tracking["ids_from"] == "tracks"
    (clip,) = tracking["sequences"].values()
    assert clip["frames"] == 12 and 0.0 <= clip["idf1"] <= 1.0 and 0.0 <= clip["hota"] <= 1.0
    from training.data.spec import open_dataset

    video = open_dataset(data)
    truth = np.mean([len(np.unique(video[t].mask)) - 1 for t in range(12)])
    assert clip["true_objects_per_frame"] == pytest.approx(truth, abs=1e-3)
