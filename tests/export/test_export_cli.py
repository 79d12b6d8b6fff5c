"""`astseg export` from the command line: what it prints, and one-line errors."""

from __future__ import annotations

import importlib.util
import re

import pytest
from typer.testing import CliRunner

from cli import app
from sdk.bundle.bundle import load_bundle
from tests.export.conftest import tiny_model, write_checkpoint

runner = CliRunner()


def test_export_prints_files_sizes_and_parity(tmp_path) -> None:
    write_checkpoint(
        tmp_path / "run" / "checkpoints" / "latest.pt",
        tiny_model(feature_generator="unet", image_height=32, image_width=32),
    )
    out = tmp_path / "bundle"
    result = runner.invoke(
        app, ["export", str(tmp_path / "run"), "--out", str(out), "--dynamic", "--max-batch", "2"]
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"wrote bundle {out} (dynamic batch 1-2, opset 17)" in text
    for name in ("astseg.json", "encoder.onnx", "renderer.onnx"):
        assert re.search(rf"^  {re.escape(name)}\s+\d+(\.\d)? (B|KB|MB)$", text, re.M), name
    assert "at batch 1, 2: max abs difference / its float32 limit" in text
    row = re.search(r"^  pipeline\s+-\s+-\s+-\s+-\s+(\S+)/(\S+)\s+(\S+)%$", text, re.M)
    assert row is not None, text
    assert float(row.group(1)) <= float(row.group(2)) < 1e-2 and float(row.group(3)) >= 99
    assert load_bundle(out).manifest.batch.max == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fp16"], "--fp16, --workspace and --timing-cache shape TensorRT engines; add --trt"),
        (["--batch", "2", "--max-batch", "4"], "--batch fixes the batch size"),
        (["--opset", "21"], "--opset 21 is not supported"),
    ],
)
def test_option_errors_are_one_line_and_exit_2(tmp_path, args, message) -> None:
    checkpoint = write_checkpoint(tmp_path / "c.pt", tiny_model(image_height=32, image_width=32))
    result = runner.invoke(app, ["export", str(checkpoint), "--out", str(tmp_path / "b"), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("astseg: error: ") and message in lines[0]
    assert not (tmp_path / "b").exists()


def test_missing_and_corrupt_checkpoints_are_named(tmp_path) -> None:
    result = runner.invoke(app, ["export", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "nope.pt' does not exist" in result.output
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"PK\x03\x04 not really a checkpoint")
    result = runner.invoke(app, ["export", str(broken), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "broken.pt' is corrupt or truncated" in result.output


@pytest.mark.skipif(
    importlib.util.find_spec("tensorrt") is not None, reason="tensorrt is installed here"
)
def test_trt_without_tensorrt_fails_before_any_work(tmp_path) -> None:
    checkpoint = write_checkpoint(tmp_path / "c.pt", tiny_model(image_height=32, image_width=32))
    result = runner.invoke(app, ["export", str(checkpoint), "--out", str(tmp_path / "b"), "--trt"])
    assert result.exit_code == 2
    assert "--trt needs the TensorRT Python package" in result.output
    assert "exporting" not in result.output
    assert not (tmp_path / "b").exists()
