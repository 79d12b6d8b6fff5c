import json
import shutil
from pathlib import Path

import cv2
import pytest
import torch

from tests.conftest import tiny_model_config
from training.checkpoint import save_checkpoint
from training.config import Config
from training.demo import SHEET_FRAMES, SHEET_TILE, run_demo
from training.model import ASTSeg


@pytest.fixture(scope="module")
def camera_bundle(tmp_path_factory):
    """A tiny exported model whose manifest names a 96x128 synthetic camera."""
    from export.bundle import export_bundle

    root = tmp_path_factory.mktemp("demo")
    cfg = Config(model=tiny_model_config(image_height=48, image_width=64))
    torch.manual_seed(0)
    save_checkpoint(
        root / "ckpt.pt",
        {
            "config": cfg.to_dict(),
            "model": ASTSeg(cfg.model).state_dict(),
            "data": "synthetic:size=96x128,objects=2,background=fixed,seed=3?resize=48x64",
        },
    )
    export_bundle(root / "ckpt.pt", root / "bundle", log=lambda _line: None)
    return root / "bundle"


def test_demo_writes_video_sheet_and_scores_for_the_trained_camera(camera_bundle, tmp_path):
    report = run_demo(tmp_path / "out", model=str(camera_bundle), frames=12)
    assert report.frames == 12
    video = cv2.VideoCapture(report.outputs["video"])
    count = 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        assert frame.shape == (96, 128, 3)  # the camera named by the manifest's data spec
        count += 1
    assert count == 12
    sheet = cv2.imread(report.outputs["contact_sheet"])
    assert sheet.shape == (SHEET_TILE[1] * SHEET_FRAMES, SHEET_TILE[0] * 3, 3)
    saved = json.loads((tmp_path / "out" / "demo.json").read_text())
    assert saved["frames"] == 12 and saved["fps"] > 0
    assert 0.0 <= saved["ari_fg"] <= 1.0 or saved["ari_fg"] != saved["ari_fg"]
    assert "infer" in saved["stages_ms"]
    assert report.line().startswith("ARI-FG ")


def test_demo_without_a_default_model_says_so(tmp_path, monkeypatch):
    from sdk import BundleError

    with pytest.raises(BundleError):
        run_demo(tmp_path / "out", model=str(tmp_path / "no-such-bundle"), frames=10)


def test_demo_command_writes_h264_and_a_report_with_no_ffmpeg_on_path(tmp_path):
    """What `./scripts/demo.sh` does on a machine without ffmpeg: H.264 by its codec tag."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from tests.mp4_boxes import top_level_boxes, video_codec_tags

    root = Path(__file__).resolve().parents[1]
    folders = os.environ["PATH"].split(os.pathsep)
    path = os.pathsep.join(f for f in folders if f and not (Path(f) / "ffmpeg").exists())
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(root)}
    out = tmp_path / "astseg-demo"
    done = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--out", str(out), "--frames", "12"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mp4v" not in done.stderr  # no fallback warning
    assert video_codec_tags(out / "annotated.mp4") == ["avc1"]
    boxes = top_level_boxes(out / "annotated.mp4")
    assert boxes.index("moov") < boxes.index("mdat")
    page = (out / "index.html").read_text()
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(set(links)) == ["annotated.mp4", "contact_sheet.png"]
    assert all((out / link).is_file() for link in links)
    assert "<svg" in page and page.count("<svg") == 2  # objects per frame, ID lifetimes


def test_demo_goes_through_the_segmenter_mode(camera_bundle, tmp_path):
    from sdk import BundleError

    report = run_demo(tmp_path / "out", model=str(camera_bundle), frames=10, masks_from="slots")
    assert report.masks_from == "slots" and report.frames == 10
    assert json.loads((tmp_path / "out" / "demo.json").read_text())["masks_from"] == "slots"
    # The bundle carries a background model (export writes one): fused is the default.
    assert run_demo(tmp_path / "out1", model=str(camera_bundle), frames=10).masks_from == "fused"
    slot_only = Path(shutil.copytree(camera_bundle, tmp_path / "slot_only"))
    manifest = json.loads((slot_only / "astseg.json").read_text())
    for section in (manifest, manifest["graphs"], manifest["files"]):
        section.pop("background", None)
    manifest["files"].pop("background.onnx")
    (slot_only / "background.onnx").unlink()
    (slot_only / "astseg.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="has no background model"):
        run_demo(tmp_path / "out2", model=str(slot_only), frames=10, masks_from="fused")
