"""Every benchmark runs in quick mode and writes a complete, self-consistent result."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from common import PIPELINE_THREADS  # benchmarks/ is on sys.path (conftest.py)

STAGES = ("decode", "pre", "infer", "post", "track", "draw", "encode")


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def check_header(result: dict, name: str) -> None:
    assert result["benchmark"] == name
    assert result["quick"] is True
    assert result["command"].startswith("python benchmarks/")
    assert "--quick" in result["command"]
    assert len(result["git_revision"].split("-")[0]) == 40
    machine = result["machine"]
    assert machine["cores"] >= 1 and machine["cpu"]
    assert "onnxruntime" in machine["libraries"] and "numpy" in machine["libraries"]
    assert result["wall_s"] > 0


def finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def test_inference_compares_engines_on_the_same_weights(quick_run):
    r = quick_run("inference")
    check_header(r, "inference")
    s = r["summary"]
    for key in ("ort_vs_torch_speedup_b1", "b3_ort_vs_torch_speedup_b1", "ort_vs_torch_speedup_b8"):
        assert finite(s[key]) and s[key] > 0, key
    default = r["subjects"]["default"]
    # the headline is PyTorch's median over the fused graph's median at batch 1
    b1 = default["batch_1"]
    assert s["ort_vs_torch_speedup_b1"] == pytest.approx(
        b1["torch_eager"]["median_ms"] / b1["ort_fused"]["median_ms"], rel=1e-3
    )
    for batch in ("batch_1", "batch_8"):
        for engine in ("torch_eager", "ort_separate", "ort_fused"):
            t = default[batch][engine]
            assert 0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"]
        # same weights and inputs: ONNX Runtime reproduces PyTorch
        for engine in ("ort_separate", "ort_fused"):
            parity = default["parity"][batch][engine]
            assert parity["max_abs_weights"] < 1e-4
            assert parity["segmentation_agreement"] >= 0.999
    assert default["batch_8"]["ort_fused"]["images_per_s"] == pytest.approx(
        8000 / default["batch_8"]["ort_fused"]["median_ms"], rel=1e-3
    )
    assert r["rounds"]["batch_1"] == 2 and default["batch_1"]["torch_eager"]["repeats"] == 2
    assert r["targets"]["ort_vs_torch_speedup_b1"]["met"] == (s["ort_vs_torch_speedup_b1"] >= 1.5)
    assert is_png(quick_run.png_path("inference"))


def test_pipeline_reports_fps_ratio_and_stages(quick_run):
    r = quick_run("pipeline")
    check_header(r, "pipeline")
    s = r["summary"]
    assert s["end_to_end_fps"] > 0 and s["inference_only_fps"] > 0
    run = r["runs"][0]
    assert run["frames"] == 12
    assert run["ratio"] == pytest.approx(
        run["end_to_end_fps"] / run["inference_only_fps"], rel=1e-2
    )
    assert s["pipeline_vs_inference_ratio"] == run["ratio"]
    assert set(STAGES) <= set(r["stages_ms_median"])
    threads = r["thread_ms_median"]
    for thread, stages in PIPELINE_THREADS.items():
        assert threads[thread] == pytest.approx(
            sum(r["stages_ms_median"][k] for k in stages), abs=1e-2
        )
    assert r["clip"]["size"] == "640x480"
    assert any("annotated" in out and "H.264" in out for out in run["outputs"])
    # both encoders in one run: each H.264 run paired with an mp4v one
    assert r["encoder"] == "both"
    assert run["h264_vs_mp4v"] == pytest.approx(
        run["end_to_end_fps"] / run["mp4v_end_to_end_fps"], rel=1e-2
    )
    assert s["h264_vs_mp4v"] == run["h264_vs_mp4v"] and "h264_vs_mp4v" in r["targets"]
    assert is_png(quick_run.png_path("pipeline"))


def test_classical_scores_astseg_mog2_and_knn(quick_run):
    r = quick_run("classical")
    check_header(r, "classical")
    s = r["summary"]
    for method in ("astseg", "mog2", "knn"):
        for metric in ("f_measure", "ari_fg", "miou_fg"):
            assert 0.0 <= s[f"{method}_{metric}"] <= 1.0, (method, metric)
        assert s[f"{method}_fps"] > 0
    assert set(r["synthetic_clips"]) == {"fixed", "noisy", "light_change"}
    fixed = r["clips"]["fixed"]
    assert fixed["info"]["frames"] == 24 and fixed["info"]["scored_from_frame"] == 4
    assert fixed["mog2"]["frames_with_objects_scored"] <= 20
    # F-measure is 2TP / (2TP + FP + FN) = 2PR / (P + R)
    p, rec = fixed["knn"]["precision"], fixed["knn"]["recall"]
    if p and rec:
        assert fixed["knn"]["f_measure"] == pytest.approx(2 * p * rec / (p + rec), abs=2e-4)
    # the CDnet sequence is scored on its temporal ROI, foreground only
    cdnet = r["clips"]["cdnet/square"]
    assert cdnet["info"]["temporal_roi"] == [5, 24]
    assert cdnet["mog2"]["ari_fg"] is None
    assert "cdnet_mog2_f_measure" in s
    assert r["findings"] and all(line.startswith("astseg ") for line in r["findings"])
    assert is_png(quick_run.png_path("classical"))


def test_training_reports_steps_images_and_memory(quick_run):
    r = quick_run("training")
    check_header(r, "train_speed")
    s = r["summary"]
    joint = r["settings"]["cpu_preset_64"]["joint"]
    assert s["train_steps_per_s"] == joint["steps_per_s_median"] > 0
    assert s["train_images_per_s"] == pytest.approx(joint["batch"] * s["train_steps_per_s"])
    assert joint["batch"] == 4
    assert s["train_peak_rss_mb"] > 50
    assert is_png(quick_run.png_path("training"))


def test_footprint_measures_size_startup_and_memory(quick_run):
    r = quick_run("footprint")
    check_header(r, "footprint")
    s = r["summary"]
    bundle = Path(quick_run.subject["bundle"])
    on_disk = sum(p.stat().st_size for p in bundle.iterdir() if p.is_file())
    assert s["bundle_mb"] == pytest.approx(on_disk / 1e6, abs=1e-3)
    assert s["sdk_imports_torch"] is False
    first = r["default"]["first_result"]
    assert s["import_sdk_s"] > 0
    assert 0 < first["import_s"]["median"] < first["process_wall_s"]["median"]
    assert s["first_result_s"] == pytest.approx(
        first["import_s"]["median"] + first["load_s"]["median"] + first["first_frame_s"]["median"],
        rel=0.05,
    )
    assert 30 < s["run_peak_rss_mb"] < 4000
    assert s["b3_run_peak_rss_mb"] > 30
    assert r["targets"]["bundle_mb"]["met"] == (s["bundle_mb"] <= 10.0)
    assert "processed 4 frames" in r["default"]["astseg_run"]["closing_line"]
    assert is_png(quick_run.png_path("footprint"))


def test_scaling_grows_size_and_slots(quick_run):
    r = quick_run("scaling")
    check_header(r, "scaling")
    points = r["points"]
    assert [points[n]["side"] for n in r["sweep"]["size"]] == [32, 64]
    assert [points[n]["k"] for n in r["sweep"]["k"]] == [2, 3]
    for p in points.values():
        assert 0 < p["infer_ms_min"] <= p["infer_ms"] and p["peak_rss_mb"] > 30
    # a 64x64 model holds more pixels than a 32x32 one: its bundle is no smaller
    sizes = [points[n] for n in r["sweep"]["size"]]
    assert sizes[1]["bundle_mb"] >= sizes[0]["bundle_mb"]
    s = r["summary"]
    assert finite(s["latency_vs_pixels_exponent"]) and finite(s["latency_per_slot_ms"])
    assert "pixels^" in s["reading_size"] and "slot" in s["reading_k"]
    assert is_png(quick_run.png_path("scaling"))


def test_performance_report_renders_every_result(quick_run, tmp_path):
    from performance_report import main

    for name in ("inference", "pipeline", "classical", "training", "footprint", "scaling"):
        quick_run(name)
    out = tmp_path / "performance.md"
    assert main(["--results", str(quick_run.folder), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("## Performance")
    assert "Not measured yet" not in text
    assert text.count("Quick mode") == 6
    speedup = quick_run("inference")["summary"]["ort_vs_torch_speedup_b1"]
    assert f"{speedup:.2f}x (quick)" in text
    # every plot is linked, relative to the report's folder
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(links) == 6
    assert all(is_png(out.parent / link) for link in links)
    assert "benchmarks/run_all.sh --checkpoint" in text


def test_performance_report_names_what_is_missing(tmp_path):
    from performance_report import main

    out = tmp_path / "p.md"
    assert main(["--results", str(tmp_path), "--out", str(out)]) == 0
    assert out.read_text().count("Not measured yet") == 6
