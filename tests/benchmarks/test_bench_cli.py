"""`astseg bench NAME`: runs the benchmark script with the options it takes, refuses the rest."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_unknown_benchmark_is_one_sentence_and_exit_2():
    result = runner.invoke(app, ["bench", "speed"])
    assert result.exit_code == 2
    assert "unknown benchmark 'speed'; choose one of inference, pipeline" in result.output


def test_an_option_the_benchmark_does_not_take_is_refused():
    result = runner.invoke(app, ["bench", "training", "--bundle", "somewhere"])
    assert result.exit_code == 2
    assert "--bundle does not apply to the training benchmark" in result.output
    result = runner.invoke(app, ["bench", "pipeline", "--cdnet", "somewhere"])
    assert result.exit_code == 2


def test_bench_runs_the_script_with_its_own_options_passed_through(tiny_subject, tmp_path):
    out, png = tmp_path / "classical.json", tmp_path / "classical.png"
    args = ["bench", "classical", "--quick", "--bundle", tiny_subject["bundle"], "--json", str(out)]
    args += ["--png", str(png), "--frames", "8", "--warmup-frames", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["clips"]["fixed"]["info"]["frames"] == 8
    assert "--frames 8" in data["command"] and png.is_file()


def test_a_failing_benchmark_passes_its_exit_code_on(tmp_path):
    result = runner.invoke(app, ["bench", "pipeline", "--bundle", str(tmp_path)])
    assert result.exit_code != 0
