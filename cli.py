"""`astseg`: the command-line entry point.

Each command parses its options and calls one function of a package. Heavy
packages (torch, transformers, onnx) are imported inside the commands, so
`astseg --help` and `astseg run` start without torch; the torch-free runtime's
option defaults (sdk.options, sdk.run.options) are read at import, so each is
written once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from cli_errors import describe, set_debug
from cli_usage import CLICK_FLOW, AstsegGroup
from sdk.errors import AstsegError
from sdk.options import DEFAULTS as SEGMENTER
from sdk.run.options import RunOptions

RUN = RunOptions()  # the defaults `astseg run` shows and uses, written once in sdk

app = typer.Typer(
    name="astseg",
    cls=AstsegGroup,
    help="Unsupervised per-object segmentation for fixed cameras (AST-Seg).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


class UserError(AstsegError):
    """A failure the user can fix: printed as one sentence, exit code 2."""


def friendly(func: F) -> F:
    """Turns every failure into one clear line and a non-zero exit (cli_errors), no traceback
    unless --debug or ASTSEG_DEBUG=1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sdk.run.stop_signals import exit_code, raising_signals, signal_name, signum_of

        try:
            with raising_signals():  # SIGTERM / SIGHUP clean up like Ctrl-C (stop_signals.py)
                return func(*args, **kwargs)
        except KeyboardInterrupt as err:
            signum = signum_of(err)
            typer.secho(
                f"astseg: interrupted by {signal_name(signum)}; unfinished output was removed.",
                err=True,
            )
            raise typer.Exit(code=exit_code(signum)) from None
        except CLICK_FLOW:
            raise
        except Exception as err:
            line, code = describe(err)
            typer.secho(f"astseg: error: {line}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=code) from None

    return wrapper  # type: ignore[return-value]


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    debug: bool = typer.Option(
        False, "--debug", help="Print the traceback of an error too (or set ASTSEG_DEBUG=1)."
    ),
) -> None:
    """Unsupervised per-object segmentation for fixed cameras (AST-Seg)."""
    set_debug(debug)
    if version:
        from sdk import __version__

        typer.echo(f"astseg {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


MASKS_FROM_HELP = "fused | slots | background: masks from the background model and slots"


# ---------------------------------------------------------------- demo (issue 6)
@app.command()
@friendly
def demo(
    out: Path = typer.Option(Path("astseg-demo"), help="Folder for the clip and the results."),
    frames: int = typer.Option(150, min=10, help="Length of the generated clip."),
    model: str | None = typer.Option(None, help="Bundle to use (default: the shipped model)."),
    backend: str = typer.Option(SEGMENTER.backend, help="auto, onnxruntime or tensorrt."),
    masks_from: str | None = typer.Option(None, "--masks-from", help=MASKS_FROM_HELP + "."),
) -> None:
    """Segment a generated fixed-camera clip with ground truth and score the result.

    Writes OUT/annotated.mp4 (masks and IDs), OUT/contact_sheet.png, OUT/demo.json and
    OUT/index.html (the report), and prints ARI-FG, foreground mIoU, end-to-end FPS and
    identity switches.
    """
    from training.demo import run_demo

    report = run_demo(out, model=model, frames=frames, backend=backend, masks_from=masks_from)
    typer.echo("")
    typer.echo(f"backend        {report.backend}")
    for name, path in report.outputs.items():
        typer.echo(f"{name:<14} {path}")
    typer.secho(report.line(), bold=True)


# ---------------------------------------------------------------- data and eval (issue 3)
data_app = typer.Typer(help="Make and inspect datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("synth")
@friendly
def data_synth(
    out: str = typer.Option(..., "--out", help="New folder to write (must not exist or be empty)."),
    count: int | None = typer.Option(None, help="Number of images (not with --video)."),
    size: str = typer.Option("64", help="Image size: H or HxW pixels."),
    objects: int = typer.Option(4, help="Most objects per image (on screen at once for video)."),
    background: str = typer.Option("fixed", help="fixed | texture | gradient."),
    video: bool = typer.Option(False, "--video", help="Write a fixed-camera video + masks."),
    frames: int = typer.Option(300, help="Video length in frames (with --video)."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same data."),
    textured: float = typer.Option(0.0, help="Probability that an object is textured."),
) -> None:
    """Write synthetic scenes with exact instance masks (folder format), or a video."""
    from training.data.synth_writer import run_synth

    typer.echo(run_synth(out, count, size, objects, background, video, frames, seed, textured))


@app.command("eval")
@friendly
def eval_command(
    model: str = typer.Option(..., help="Checkpoint (.pt or run folder) or model bundle."),
    data: str = typer.Option(..., help="Data spec, e.g. folder:PATH or clevrtex:PATH?split=test."),
    limit: int | None = typer.Option(None, help="Score only the first N images."),
    json_out: str | None = typer.Option(None, "--json", help="Write every metric to this file."),
    grid: str | None = typer.Option(None, help="Write a PNG grid input|recon|segmentation|truth."),
    batch_size: int = typer.Option(16, help="Images per forward pass."),
    report: str | None = typer.Option(
        None, "--report", help="Folder for index.html: metrics, grid, objects per image."
    ),
    masks_from: str | None = typer.Option(
        None, "--masks-from", help=MASKS_FROM_HELP + " (bundles only)."
    ),
) -> None:
    """Score a model: ARI-FG, mIoU, MSC-FG, MSE (and CDnet F, identity on video)."""
    from training.evaluation.command import run_eval

    scores = run_eval(model, data, limit, json_out, grid, batch_size, report, masks_from=masks_from)
    typer.echo(scores.table())
    if report:
        typer.echo(f"wrote {Path(report) / 'index.html'}")


# ---------------------------------------------------------------- run (issue 6)
@app.command("run")
@friendly
def run_command(
    video: str | None = typer.Option(None, "--video", help="Video file to segment."),
    camera: int | None = typer.Option(None, "--camera", help="Camera index (0 is the first)."),
    source: str | None = typer.Option(
        None, "--source", help="rtsp/rtmp/http(s) URL, or any file, folder or glob."
    ),
    images: str | None = typer.Option(None, "--images", help="Folder or glob of images."),
    model: str | None = typer.Option(
        None, "--model", help="Model bundle (folder or .zip); default: the shipped model."
    ),
    backend: str = typer.Option(SEGMENTER.backend, help="auto | onnxruntime | tensorrt."),
    device: str = typer.Option(str(SEGMENTER.device), help="auto | cpu | cuda | cuda:N."),
    out: str | None = typer.Option(None, "--out", help="Annotated video to write (.mp4)."),
    masks: str | None = typer.Option(
        None, "--masks", help="Folder for per-frame 16-bit PNGs (0 = background, else the ID)."
    ),
    json_out: str | None = typer.Option(
        None, "--json", help="JSON lines: one frame per line, masks as COCO RLE."
    ),
    show: bool = typer.Option(False, "--show", help="Show annotated frames (q or Esc stops)."),
    max_fps: float | None = typer.Option(None, "--max-fps", help="At most N frames a second."),
    stride: int = typer.Option(RUN.stride, "--stride", help="Process every N-th frame."),
    min_score: float = typer.Option(
        SEGMENTER.min_score, "--min-score", help="Report slots scoring at least this."
    ),
    min_area: int = typer.Option(
        SEGMENTER.min_area, "--min-area", help="Report objects of at least N pixels."
    ),
    contours: bool = typer.Option(True, "--contours/--no-contours", help="Outline each mask."),
    timeout: float = typer.Option(
        RUN.timeout_s, "--timeout", help="Seconds to wait for a stream to open."
    ),
    threads: int | None = typer.Option(
        None, "--threads", help="CPU inference threads (default: all usable cores)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or status lines."),
    report: str | None = typer.Option(
        None, "--report", help="Folder for index.html: video, frames, metrics, plots."
    ),
    background_every: int = typer.Option(
        SEGMENTER.background_every,
        "--background-every",
        help="Fixed camera: run the background model on every N-th frame and at once on a "
        "light switch or camera knock; 1 = every frame.",
    ),
    masks_from: str | None = typer.Option(
        None, "--masks-from", help=MASKS_FROM_HELP + " (default: fused with a background)."
    ),
) -> None:
    """Segment a video, camera, stream or images: masks with stable IDs, video, PNGs, JSON."""
    import signal
    from pathlib import Path

    from sdk.options import SegmenterOptions
    from sdk.outputs.output_paths import json_to_stdout
    from sdk.outputs.outputs import OutputOptions
    from sdk.run.run_command import configure_logging
    from sdk.run.run_command import run_command as run_segmentation
    from sdk.run.stop_signals import exit_code

    configure_logging(verbose=not quiet)
    options = RunOptions(
        segmenter=SegmenterOptions(
            backend=backend,
            device=device,
            min_score=min_score,
            min_area=min_area,
            threads=threads,
            masks_from=masks_from,
            background_every=background_every,
        ),
        outputs=OutputOptions(
            out=Path(out) if out else None,
            masks=Path(masks) if masks else None,
            json=Path(json_out) if json_out else None,
            show=show,
            contours=contours,
        ),
        max_fps=max_fps,
        stride=stride,
        progress=not quiet,
        timeout_s=timeout,
    )
    summary = run_segmentation(
        video=video,
        camera=camera,
        source=source,
        images=images,
        model=model,
        options=options,
        report=Path(report) if report else None,
    )
    # with --json on stdout, the summary goes to stderr so the JSON lines stay parseable
    typer.echo(f"astseg: {summary.line()}", err=json_to_stdout(json_out))
    if summary.interrupted:
        raise typer.Exit(code=exit_code(summary.signal or signal.SIGINT))


# ---------------------------------------------------------------- train (issue 4)
train_app = typer.Typer(
    help="Train AST-Seg on your data without labels (see docs/training.md).",
)
app.add_typer(train_app, name="train")

_TRAIN_SET_HELP = "Override one config value, e.g. --set train.lr=2e-4 (repeatable)."
_TRAIN_GPUS_HELP = "N processes via torchrun + DDP (one per GPU; CPU processes with --device cpu)."


def _train_run(command: Any, gpus: int) -> None:
    from training.trainer.command import run_train_command

    code = run_train_command(command, gpus, typer.echo)
    if code:
        raise typer.Exit(code=code)


@train_app.callback(invoke_without_command=True)
@friendly
def train_command(
    ctx: typer.Context,
    data: str | None = typer.Option(None, help="Data spec, e.g. synthetic:size=64 or folder:PATH."),
    preset: str | None = typer.Option(None, help="cpu | clevr | clevrtex | shapestacks | ..."),
    config: str | None = typer.Option(None, "--config", help="YAML file with model/train keys."),
    sets: list[str] = typer.Option([], "--set", help=_TRAIN_SET_HELP),
    out: str | None = typer.Option(None, help="Run folder (default runs/PRESET-TIME)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    device: str | None = typer.Option(None, help="cpu | cuda | cuda:N (default: cuda if any)."),
    scenario: str | None = typer.Option(
        None, help="curriculum (default) | baseline | frozen_background."
    ),
    gpus: int = typer.Option(1, "--gpus", help=_TRAIN_GPUS_HELP),
    background_from: str | None = typer.Option(
        None, help="Checkpoint whose background model to use (skips background pre-training)."
    ),
    val_data: str | None = typer.Option(None, help="Held-out data spec with masks to validate on."),
    slots: int | None = typer.Option(
        None, "--slots", help="K, the most objects the slot model names (default: the preset's)."
    ),
    size: str | None = typer.Option(
        None,
        "--size",
        help="Slot model input, H or HxW (default: the preset's; cpu/video: its long side "
        "with the footage's aspect).",
    ),
    time_limit: float | None = typer.Option(
        None,
        "--time-limit",
        help="Minutes this run may take; the lr decay comes in time (train.time_limit_minutes).",
    ),
) -> None:
    """Train AST-Seg: background pre-training, foreground, joint fine-tuning (curriculum)."""
    if ctx.invoked_subcommand is not None:
        return
    from training.trainer.command import TrainCommand

    command = TrainCommand(
        data=data,
        preset=preset,
        config_file=config,
        sets=[
            *sets,
            *([f"train.time_limit_minutes={time_limit}"] if time_limit is not None else []),
        ],
        out=out,
        resume=resume,
        device=device,
        scenario=scenario,
        background_from=background_from,
        val_data=val_data,
        slots=slots,
        size=size,
    )
    _train_run(command, gpus)


@train_app.command("background")
@friendly
def train_background_command(
    data: str | None = typer.Option(None, help="Data spec, e.g. video:PATH.mp4."),
    preset: str | None = typer.Option(None, help="cpu | video | clevr | ..."),
    config: str | None = typer.Option(None, "--config", help="YAML file with model/train keys."),
    sets: list[str] = typer.Option([], "--set", help=_TRAIN_SET_HELP),
    out: str | None = typer.Option(None, help="Run folder (default runs/background-TIME)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    device: str | None = typer.Option(None, help="cpu | cuda | cuda:N (default: cuda if any)."),
    gpus: int = typer.Option(1, "--gpus", help=_TRAIN_GPUS_HELP),
) -> None:
    """Pre-train the background model alone (phase 1); use it later with --background-from."""
    from training.trainer.command import TrainCommand

    command = TrainCommand(
        data=data,
        preset=preset,
        config_file=config,
        sets=list(sets),
        out=out,
        resume=resume,
        device=device,
        background_only=True,
    )
    _train_run(command, gpus)


# ---------------------------------------------------------------- export (issue 5)
@app.command("export")
@friendly
def export_command(
    checkpoint: str = typer.Argument(..., help="Run folder (its latest checkpoint) or a .pt file."),
    out: str = typer.Option(..., "--out", help="Bundle folder to write (new, empty or a bundle)."),
    batch: int | None = typer.Option(None, "--batch", help="Fixed batch size (default: dynamic)."),
    dynamic: bool = typer.Option(False, "--dynamic", help="Batch 1 to --max-batch (the default)."),
    max_batch: int | None = typer.Option(None, "--max-batch", help="Largest batch (default 8)."),
    opset: int = typer.Option(17, "--opset", help="ONNX opset, 16 to 19."),
    simplify: bool = typer.Option(False, "--simplify", help="Simplify graphs with onnxslim."),
    fused: bool = typer.Option(False, "--fused", help="Also write segmenter.onnx (one graph)."),
    zip_bundle: bool = typer.Option(False, "--zip", help="Also write BUNDLE_DIR.zip."),
    trt: bool = typer.Option(False, "--trt", help="Build TensorRT engines (tensorrt + a GPU)."),
    fp16: bool = typer.Option(False, "--fp16", help="FP16 engines; glimpse placement stays FP32."),
    workspace: float | None = typer.Option(None, "--workspace", help="TensorRT workspace GiB (4)."),
    timing_cache: str | None = typer.Option(
        None, "--timing-cache", help="TensorRT timing cache file, reused and updated."
    ),
    triton: str | None = typer.Option(None, "--triton", help="Write a Triton model repository."),
) -> None:
    """Export a checkpoint to a model bundle: ONNX graphs proven against PyTorch, engines."""
    from pathlib import Path

    from export.bundle import ExportOptions, export_bundle
    from export.report import format_report
    from export.tensorrt_build import DEFAULT_WORKSPACE_GIB, TrtOptions

    if not trt and (fp16 or workspace is not None or timing_cache is not None):
        raise UserError("--fp16, --workspace and --timing-cache shape TensorRT engines; add --trt")
    engines = (
        TrtOptions(
            fp16=fp16,
            workspace_gib=DEFAULT_WORKSPACE_GIB if workspace is None else workspace,
            timing_cache=Path(timing_cache).expanduser() if timing_cache else None,
        )
        if trt
        else None
    )
    options = ExportOptions(
        batch=batch,
        dynamic=dynamic,
        max_batch=max_batch,
        opset=opset,
        simplify=simplify,
        fused=fused,
        zip=zip_bundle,
        trt=engines,
        triton=Path(triton).expanduser() if triton else None,
    )
    result = export_bundle(checkpoint, out, options, log=lambda line: typer.echo(f"astseg: {line}"))
    typer.echo(format_report(result))


# ---------------------------------------------------------------- bench (issue 7)
# name -> (script in benchmarks/, the options of this command it takes)
_BENCHMARKS = {
    "inference": ("inference.py", {"--checkpoint"}),
    "pipeline": ("pipeline.py", {"--checkpoint", "--bundle"}),
    "classical": ("classical.py", {"--checkpoint", "--bundle", "--cdnet"}),
    "training": ("train_speed.py", set()),
    "footprint": ("footprint.py", {"--checkpoint", "--bundle"}),
    "scaling": ("scaling.py", {"--checkpoint"}),
}


@app.command("bench", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@friendly
def bench_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=" | ".join(_BENCHMARKS) + "."),
    quick: bool = typer.Option(False, "--quick", help="Tiny models, few repeats: a check."),
    checkpoint: str | None = typer.Option(None, help="The default bundle's checkpoint."),
    bundle: str | None = typer.Option(None, help="Bundle to measure (default: the shipped one)."),
    cdnet: list[str] = typer.Option([], help="CDnet folder to score (classical; repeatable)."),
    json_out: str | None = typer.Option(None, "--json", help="Result file to write."),
) -> None:
    """Run a benchmark: benchmarks/results/NAME.json + docs/bench-NAME.png (see benchmarks/)."""
    import subprocess
    from pathlib import Path

    if name not in _BENCHMARKS:
        raise UserError(f"unknown benchmark '{name}'; choose one of {', '.join(_BENCHMARKS)}")
    script_name, takes = _BENCHMARKS[name]
    script = Path(__file__).resolve().parent / "benchmarks" / script_name
    if not script.is_file():
        raise UserError(f"{script} is missing; astseg bench runs in a source checkout of astseg")
    given = {
        "--checkpoint": [checkpoint] if checkpoint else [],
        "--bundle": [bundle] if bundle else [],
        "--cdnet": list(cdnet),
    }
    args = ["--quick"] if quick else []
    for flag, values in given.items():
        if values and flag not in takes:
            raise UserError(f"{flag} does not apply to the {name} benchmark")
        args += [item for value in values for item in (flag, value)]
    args += ["--json", json_out] if json_out else []
    code = subprocess.run([sys.executable, str(script), *args, *ctx.args], check=False).returncode
    if code:
        raise typer.Exit(code=code)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
