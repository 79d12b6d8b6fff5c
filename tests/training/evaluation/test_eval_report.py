"""`astseg eval --report DIR`: the grid, the metrics and the objects per image in one page."""

from __future__ import annotations

import json
import re

import numpy as np
from typer.testing import CliRunner

from training.data import SceneConfig, SyntheticVideo
from training.data.folder import write_folder
from training.data.sample import Sample
from training.evaluation.report import write_eval_report
from training.evaluation.scoring import evaluate
from training.evaluation.types import Prediction


class Oracle:
    """Answers each image with its true mask (looked up by the image bytes)."""

    def __init__(self, dataset, size):
        self.image_size = size
        self.table = {dataset[i].image.tobytes(): dataset[i].mask for i in range(len(dataset))}

    def predict(self, images):
        seg = np.stack([self.table[image.tobytes()] for image in images])
        return Prediction(segmentation=seg, reconstruction=images.astype(np.float32) / 255.0)


def test_cli_eval_report_on_images(tmp_path, monkeypatch):
    import cli
    import training.evaluation.command

    images, masks = np.zeros((5, 32, 32, 3), np.uint8), np.zeros((5, 32, 32), np.int32)
    for i in range(5):  # image i holds i squares: 0, 1, 2, 3, 4 objects
        for k in range(i):
            masks[i, 2 + 7 * k : 7 + 7 * k, 4:12] = k + 1
        images[i][masks[i] > 0] = 255
    write_folder(tmp_path / "set", [Sample(images[i], masks[i], name=str(i)) for i in range(5)])
    from training.data.spec import open_dataset

    data = open_dataset(f"folder:{tmp_path / 'set'}")
    monkeypatch.setattr(
        training.evaluation.command,
        "load_predictor",
        lambda *_, **__: Oracle(data, (32, 32)),
    )
    folder = tmp_path / "rep"
    result = CliRunner().invoke(
        cli.app,
        [
            "eval",
            "--model",
            "m.pt",
            "--data",
            f"folder:{tmp_path / 'set'}",
            "--report",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {folder / 'index.html'}" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["grid.png", "index.html", "metrics.json"]
    assert json.loads((folder / "metrics.json").read_text())["ari_fg"] == 1.0
    page = (folder / "index.html").read_text()
    assert re.findall(r'src="([^"]+)"', page) == ["grid.png"]
    assert "<video" not in page
    rows = dict(re.findall(r'<tr><td>([^<]+)</td><td class="v">([^<]+)</td></tr>', page))
    assert rows["images"] == "5" and rows["ari_fg"] == "1.0000"
    assert "Objects per image" in page and "2.00 objects per image on average (at most 4)" in page
    assert page.count("<svg") == 1  # image sets have no ID lifetimes


def test_video_data_report_has_lifetimes_with_the_grid_linked_elsewhere(tmp_path):
    video = SyntheticVideo(SceneConfig(height=32, width=32, max_objects=3, seed=1), 30)
    report = evaluate(Oracle(video, (32, 32)), video, progress=False)
    assert report.sequences and report.timeline.frames == 30
    grid = tmp_path / "pictures" / "grid.png"
    grid.parent.mkdir()
    report.write_grid(grid)
    page = write_eval_report(report, tmp_path / "rep", grid).read_text()
    assert re.findall(r'src="([^"]+)"', page) == ["../pictures/grid.png"]
    assert page.count("<svg") == 2 and "ID lifetimes" in page
    truth_ids = {int(v) for i in range(30) for v in np.unique(video[i].mask) if v > 0}
    assert set(report.timeline.lifetimes) == truth_ids
