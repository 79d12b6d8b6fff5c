"""GPU check: one bf16 training step, eager inference, export, ONNX Runtime and TensorRT.

Run it on a GPU machine through `benchmarks/gpu_check.sh`; it finishes in under four
minutes (stages past `--budget-s` are recorded as skipped) and writes
`benchmarks/results/gpu_check.json`, plus `$OUT/gpu_check.json` when OUT is set. The
JSON is rewritten after every stage, so a run cut short still leaves what it measured.
`--cpu-smoke` runs the same code on the CPU with the smallest model and few
iterations, so the script is exercised by the test suite and does not rot.

Models: the `cpu` preset (64×64, tiny Segformer, 2-layer transformer) and a 128×128
random-init Segformer of the default `SegformerConfig` size (b0-like) with the paper's
transformer (6 layers, width 256). Without `transformers` the second is the paper's
U-Net (Table 8) instead, and the JSON says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sdk.outputs.atomic import write_bytes_atomic  # noqa: E402
from training.config import Config  # noqa: E402
from training.presets import preset_config  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "gpu_check.json"
SMOKE_OUT = ROOT / "benchmarks" / "results" / "gpu_check_cpu_smoke.json"
SMOKE_SEGFORMER = {
    "hidden_sizes": [8, 16, 24, 32],
    "depths": [1, 1, 1, 1],
    "num_attention_heads": [1, 1, 1, 1],
    "decoder_hidden_size": 32,
}


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return f"{rev}{'-dirty' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions() -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__}
    out["cuda"] = torch.version.cuda
    out["cudnn"] = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    for name in ("numpy", "onnx", "onnxruntime", "transformers", "tensorrt", "cv2"):
        if _has(name):
            module = __import__(name)
            out[name] = getattr(module, "__version__", "unknown")
    if _has("onnxruntime"):
        import onnxruntime

        out["onnxruntime_providers"] = onnxruntime.get_available_providers()
    return out


def timed(fn: Callable[[], Any], runs: int, warmup: int, cuda: bool) -> dict[str, Any]:
    """min and median wall time of `fn` in milliseconds, GPU work included."""
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "min_ms": round(min(samples), 3),
        "median_ms": round(statistics.median(samples), 3),
        "runs": runs,
    }


def model_configs(smoke: bool) -> list[tuple[str, Config, int]]:
    """(name, config, training batch) per model to check."""
    cpu = preset_config("cpu")
    if smoke:  # the same code path at a size two shared CPU cores run in seconds
        tiny = cpu.with_overrides(
            {
                "model.segformer_overrides": SMOKE_SEGFORMER,
                "model.transformer_dim": 32,
                "model.transformer_ff_dim": 64,
                "model.glimpse_size": 16,
            }
        )
        return [("cpu-preset-64-shrunk", tiny, 2)]
    models = [("cpu-preset-64", cpu, 32)]
    big = preset_config("clevr").with_overrides(
        {"model.backbone": None, "model.segformer_overrides": {}, "model.transformer_dropout": 0.0}
    )
    if not _has("transformers"):
        big = big.with_overrides({"model.feature_generator": "unet"})
        models.append(("unet-128-paper-transformer (transformers missing)", big, 8))
    else:
        models.append(("segformer-b0-128-paper-transformer", big, 16))
    return models


class Report:
    def __init__(self, paths: list[Path], header: dict[str, Any], budget_s: float) -> None:
        self.paths, self.data, self.budget_s = paths, header, budget_s
        self.data["models"] = {}
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def stage(self, model: str, name: str, fn: Callable[[], Any]) -> Any:
        """Runs one stage unless the budget is spent; records its result or its error."""
        entry = self.data["models"].setdefault(model, {})
        if self.elapsed() > self.budget_s:
            entry[name] = {"skipped": f"time budget of {self.budget_s:.0f} s spent"}
            self.save()
            return None
        print(f"[{self.elapsed():6.1f} s] {model}: {name}", flush=True)
        try:
            result = fn()
        except Exception as err:  # a benchmark records what failed and goes on
            entry[name] = {"error": f"{type(err).__name__}: {str(err)[:400]}"}
            result = None
        else:
            entry[name] = result
        self.save()
        return result

    def save(self) -> None:
        self.data["wall_s"] = round(self.elapsed(), 1)
        text = json.dumps(self.data, indent=2, default=str) + "\n"
        for path in self.paths:
            write_bytes_atomic(path, text.encode())


def train_step(model: Any, config: Config, batch: int, device: torch.device, runs: int) -> dict:
    from training.objective import foreground_step_loss

    cfg = config.model
    model.train()
    images = torch.rand(batch, 3, cfg.image_height, cfg.image_width, device=device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)

    cuda = device.type == "cuda"

    def step() -> None:
        optimiser.zero_grad(set_to_none=True)
        # bf16 autocast is the CUDA recipe; on a CPU it is emulated and only slows the smoke run.
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=cuda):
            terms, _ = foreground_step_loss(model, images, 0, config.train)
        terms.total.backward()
        optimiser.step()

    result = timed(step, runs, warmup=1 if cuda else 0, cuda=cuda)
    return {"batch": batch, "autocast": "bf16" if cuda else "off (cpu)", **result}


def eager_inference(model: Any, config: Config, device: torch.device, runs: int) -> dict:
    cfg = config.model
    model.eval()
    out = {}
    for batch in (1, 8):
        images = torch.rand(batch, 3, cfg.image_height, cfg.image_width, device=device)

        def forward(images: torch.Tensor = images) -> None:
            with torch.no_grad():
                model.renderer(model.encoder(images)).segmentation()

        out[f"batch_{batch}"] = timed(forward, runs, warmup=2, cuda=device.type == "cuda")
    return out


def export_model(model: Any, config: Config, work: Path) -> dict:
    from export.bundle import ExportOptions, export_bundle
    from training.checkpoint import save_checkpoint

    checkpoint = work / "model.pt"
    save_checkpoint(checkpoint, {"config": config.to_dict(), "model": model.cpu().state_dict()})
    start = time.perf_counter()
    result = export_bundle(
        checkpoint, work / "bundle", ExportOptions(max_batch=8, fused=True), log=lambda _: None
    )
    parity = result.manifest["parity"]
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "bundle": str(result.bundle),
        "files": result.file_sizes,
        "parity": {k: v for k, v in parity.items() if k != "graphs"},
    }


def onnxruntime_timings(bundle: Path, config: Config, runs: int) -> dict:
    import onnxruntime as ort

    from export.sample_images import sample_images

    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    providers = (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]
    )
    sessions = {
        g: ort.InferenceSession(str(bundle / f"{g}.onnx"), providers=providers)
        for g in ("encoder", "renderer", "segmenter")
    }
    out: dict[str, Any] = {"provider": providers[0]}
    for batch in (1, 8):
        images = sample_images(batch, config.model.image_height, config.model.image_width)

        def fused(images: np.ndarray = images) -> None:
            sessions["segmenter"].run(None, {"image": images})

        def chain(images: np.ndarray = images) -> None:
            latents = sessions["encoder"].run(None, {"image": images})
            names = [i.name for i in sessions["renderer"].get_inputs()]
            sessions["renderer"].run(None, dict(zip(names, latents, strict=True)))

        out[f"segmenter_batch_{batch}"] = timed(fused, runs, warmup=2, cuda=False)
        out[f"encoder_renderer_batch_{batch}"] = timed(chain, runs, warmup=2, cuda=False)
    return out


def tensorrt_timings(bundle: Path, config: Config, work: Path, runs: int, deadline: float) -> dict:
    from export.engine_parity import measure_engine_parity
    from export.sample_images import sample_images
    from export.spec import BatchPlan, graph_specs
    from export.tensorrt_build import EngineBuilder, TrtOptions
    from export.tensorrt_run import EngineRunner

    spec = graph_specs(config.model, fused=True)[2]
    plan = BatchPlan.dynamic_up_to(8)
    h, w = config.model.image_height, config.model.image_width
    out: dict[str, Any] = {}
    for fp16 in (False, True):
        if time.perf_counter() > deadline:
            out["fp16" if fp16 else "fp32"] = {"skipped": "time budget spent"}
            continue
        builder = EngineBuilder(TrtOptions(fp16=fp16, timing_cache=work / "timing.cache"))
        target = work / ("fp16" if fp16 else "fp32")
        target.mkdir(exist_ok=True)
        (target / "encoder.onnx").write_bytes((bundle / "encoder.onnx").read_bytes())
        (target / "segmenter.onnx").write_bytes((bundle / "segmenter.onnx").read_bytes())
        built = builder.build(target / "segmenter.onnx", spec, plan, target)
        builder.save_timing_cache()
        runner = EngineRunner(target / built.plan)
        entry: dict[str, Any] = {
            "tensorrt": builder.version,
            "build_s": round(built.seconds, 1),
            "parity_vs_onnxruntime": measure_engine_parity(target, [built], plan, h, w)[spec.name],
        }
        for batch in (1, 8):
            feeds = {"image": torch.from_numpy(sample_images(batch, h, w)).cuda()}
            entry[f"segmenter_batch_{batch}"] = timed(partial(runner, feeds), runs, 3, True)
        out["fp16" if fp16 else "fp32"] = entry
    return out


def check_model(
    report: Report,
    name: str,
    config: Config,
    train_batch: int,
    device: torch.device,
    tmp: Path,
    runs: int,
    smoke: bool,
) -> None:
    """Every stage for one model; each is recorded (or skipped) on its own."""
    from training.model import ASTSeg

    model = ASTSeg(config.model).to(device)
    work = tmp / name.split(" ")[0]
    work.mkdir()
    report.stage(name, "train_step", partial(train_step, model, config, train_batch, device, runs))
    report.stage(
        name, "eager_inference_fp32", partial(eager_inference, model, config, device, runs)
    )
    exported = report.stage(name, "export", partial(export_model, model, config, work))
    if exported is None:
        return
    bundle = Path(exported["bundle"])
    report.stage(name, "onnxruntime", partial(onnxruntime_timings, bundle, config, runs))
    if smoke or not _has("tensorrt"):
        reason = "--cpu-smoke" if smoke else "tensorrt is not installed"
        report.data["models"][name]["tensorrt"] = {"skipped": reason}
        report.save()
        return
    deadline = report.started + report.budget_s
    report.stage(name, "tensorrt", partial(tensorrt_timings, bundle, config, work, runs, deadline))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="CPU, smallest model, few runs")
    parser.add_argument("--out", type=Path, help="JSON to write (default benchmarks/results/)")
    parser.add_argument("--budget-s", type=float, default=200.0, help="start no stage after this")
    args = parser.parse_args(argv)
    smoke = args.cpu_smoke
    if not smoke and not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible to torch; use --cpu-smoke on a CPU", file=sys.stderr)
        return 2
    device = torch.device("cpu" if smoke else "cuda")
    paths = [args.out or (SMOKE_OUT if smoke else DEFAULT_OUT)]
    if os.environ.get("OUT"):
        paths.append(Path(os.environ["OUT"]) / paths[0].name)
    argv_text = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    header = {
        "command": f"benchmarks/gpu_check.sh {argv_text}".strip(),
        "git_revision": git_revision(),
        "mode": "cpu-smoke" if smoke else "gpu",
        "device": torch.cuda.get_device_name(0)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "compute_capability": ".".join(map(str, torch.cuda.get_device_capability(0)))
        if device.type == "cuda"
        else None,
        "versions": versions(),
    }
    report = Report(paths, header, args.budget_s)
    runs = 1 if smoke else 10
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="astseg-gpu-check-") as tmp:
        for name, config, train_batch in model_configs(smoke):
            check_model(report, name, config, train_batch, device, Path(tmp), runs, smoke)
    report.save()
    print(f"gpu_check: wrote {', '.join(map(str, paths))} in {report.elapsed():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
