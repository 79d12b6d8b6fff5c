"""What every benchmark shares: the machine a result came from, timing, JSON files, plots.

Each benchmark writes one JSON file a reader can diff: `benchmark`, `command` (how to run
it again), `git_revision`, `date_utc`, `machine` (CPU model, usable cores, GPU if any,
library versions), `quick`, its measurements with min / median over repeats, and a
top-level `summary` holding the headline figures under stable names. NaN and infinity
become `null`, as JSON has no spelling for them.

On a shared CPU, absolute times drift from one run to the next; a speed claim is a ratio
of figures measured in one run, and the timing helpers interleave the things compared so
that drift hits them alike.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"
QUICK_RESULTS = RESULTS / "quick"
DOCS = ROOT / "docs"
DRIFT_NOTE = (
    "Absolute times on a shared CPU drift from run to run; speed claims are ratios of "
    "figures measured in one run, with the compared engines interleaved."
)
QUICK_NOTE = "quick mode: tiny models and few repeats, to check the benchmark runs; not a result"
# Distribution names whose versions a result records (the import name may differ).
LIBRARIES = (
    "numpy",
    "opencv-python-headless",
    "opencv-python",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnx",
    "torch",
    "transformers",
    "tensorrt",
    "matplotlib",
    "scipy",
)


# ------------------------------------------------------------------ where a result came from
def git_revision() -> str:
    """HEAD's hash, with `-dirty` when the working tree has changes."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return proc.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def usable_cores() -> int:
    """Cores this process may run on (honours taskset and cgroup affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity call outside Linux
        return max(1, os.cpu_count() or 1)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    """The first GPU's name: from torch when a benchmark already imported it, else nvidia-smi."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return str(torch.cuda.get_device_name(0))
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.splitlines()[0] if out else None
    return None


def library_versions() -> dict[str, str]:
    """Installed versions, read from package metadata (nothing is imported)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def machine(device: str = "cpu") -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "os": platform.platform(),
        "device": device,
        "gpu": gpu_name(),
        "libraries": library_versions(),
    }
    return info


def command_line(argv: Sequence[str] | None = None) -> str:
    """How to run this script again, relative to the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = str(script.relative_to(ROOT))
    except ValueError:
        shown = str(script)
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["python", shown, *args])


def header(benchmark: str, quick: bool, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The fields every result file starts with."""
    return {
        "benchmark": benchmark,
        "command": command_line(argv),
        "git_revision": git_revision(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "quick": quick,
        "note": QUICK_NOTE if quick else DRIFT_NOTE,
    }


# ------------------------------------------------------------------ arguments and paths
def path_arg(text: str) -> Path:
    """A path option, made absolute against the caller's folder (child processes of the
    benchmarks run from the repository root)."""
    return Path(text).expanduser().resolve()


def base_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the options every benchmark takes: --quick, --json, --png."""
    text = doc or ""
    parser = argparse.ArgumentParser(
        description=text.splitlines()[0] if text else None,
        epilog="\n".join(text.splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny models and few repeats (seconds): a check"
    )
    parser.add_argument("--json", type=path_arg, help="result file (default benchmarks/results/)")
    parser.add_argument("--png", type=path_arg, help="plot (default docs/bench-NAME.png)")
    return parser


def output_paths(
    args: argparse.Namespace, name: str, plot_name: str | None = None
) -> tuple[Path, Path]:
    """(json, png): results/NAME.json and docs/bench-NAME.png; quick runs default to
    results/quick/ so they never replace real results."""
    plot_name = plot_name or name
    if args.quick:
        default_json = QUICK_RESULTS / f"{name}.json"
        default_png = QUICK_RESULTS / f"{plot_name}.png"
    else:
        default_json, default_png = RESULTS / f"{name}.json", DOCS / f"bench-{plot_name}.png"
    return args.json or default_json, args.png or default_png


def work_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"astseg-bench-{prefix}-")


# ------------------------------------------------------------------ timing
def stats_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """min / median / max of durations given in seconds, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "min_ms": round(min(ms), 4),
        "median_ms": round(statistics.median(ms), 4),
        "max_ms": round(max(ms), 4),
        "repeats": len(ms),
    }


def stats(values: Sequence[float], digits: int = 4) -> dict[str, Any]:
    """min / median / max of any figure."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "repeats": len(values),
    }


def time_call(fn: Callable[[], object], repeats: int, warmup: int) -> list[float]:
    """Seconds per call of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def interleaved(
    calls: dict[str, Callable[[], object]], rounds: int, warmup: int
) -> dict[str, list[float]]:
    """Seconds per call of each named call, one call each per round.

    Every call is warmed up first (`warmup` untimed calls each); the order rotates from
    round to round, so a slow spell of a shared machine hits every call alike and the
    ratios of their medians stay meaningful.
    """
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def fmt(value: float | None) -> str:
    """A figure with about three significant digits, no exponent: 1234, 56.7, 8.91, 0.123."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator / denominator, 4)


# ------------------------------------------------------------------ memory and child processes
def self_peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class ChildRun:
    """A finished child process: exit code, wall time, its own peak RSS, its output."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str

    def check(self, what: str) -> ChildRun:
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-8:])
            raise RuntimeError(f"{what} failed with exit code {self.returncode}:\n{tail}")
        return self

    def last_json(self) -> Any:
        """The last line of stdout that parses as JSON (workers print their result last)."""
        for line in reversed(self.stdout.strip().splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"no JSON result in the output:\n{self.stdout[-2000:]}")


def run_child(
    command: Sequence[str], env: dict[str, str] | None = None, timeout_s: float = 3600
) -> ChildRun:
    """Runs `command` from the repository root and measures that process alone.

    The peak RSS comes from wait4's rusage of the child (its largest resident set), so
    one measurement is not mixed with others made by this process.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(command), cwd=ROOT, stdout=out, stderr=err, env=env)
        deadline = start + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


# ------------------------------------------------------------------ JSON
def plain(value: Any) -> Any:
    """JSON-ready copy: NaN / inf -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Writes the result atomically (a temp file renamed into place)."""
    from sdk.outputs.atomic import write_bytes_atomic

    text = json.dumps(plain(data), indent=2, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode())
    return path


def finish(report: dict[str, Any], json_path: Path, png_path: Path | None, started: float) -> None:
    """Stamps the wall time and the plot's path, writes the JSON, prints the summary."""
    report["wall_s"] = round(time.perf_counter() - started, 1)
    if png_path is not None:
        report["plot"] = shown_path(png_path)
    write_json(json_path, report)
    print(json.dumps(plain(report.get("summary", {})), indent=2))
    print(f"wrote {shown_path(json_path)}" + (f" and {shown_path(png_path)}" if png_path else ""))


def shown_path(path: Path) -> str:
    """Repo-relative where possible, so a committed result names files a reader has."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ plots
ENGINE_COLOURS = {
    "torch_eager": "#9a9a9a",
    "ort_separate": "#7fb3d5",
    "ort_fused": "#1f77b4",
    "astseg": "#1f77b4",
    "astseg_slots": "#9ecae1",
    "mog2": "#e07b39",
    "knn": "#8c6bb1",
}


def pyplot() -> Any:
    """matplotlib's pyplot with the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "font.size": 9,
        }
    )
    return plt


def save_figure(fig: Any, path: Path, footer: str | None = None) -> Path:
    """Saves a PNG atomically; `footer` is a small grey line under the plot (machine, mode)."""
    if footer:
        fig.text(0.01, 0.005, footer, fontsize=7, color="#777777", ha="left", va="bottom")
    from sdk.outputs.atomic import atomic_file

    with atomic_file(path) as handle:
        fig.savefig(handle, format="png", bbox_inches="tight")
    pyplot().close(fig)
    return path


def plot_footer(report: dict[str, Any]) -> str:
    m = report["machine"]
    mode = "QUICK MODE (not a result)" if report["quick"] else "absolute figures drift; compare"
    return (
        f"{m['cpu']}, {m['cores']} core{'s' if m['cores'] > 1 else ''}, "
        f"{report['git_revision'][:12]}, "
        f"{report['date_utc']} - {mode}{' ratios' if not report['quick'] else ''}"
    )


# The threads of `astseg run` (sdk.run.pipeline) and the stages each one runs.
PIPELINE_THREADS = {
    "decode": ("decode", "pre"),
    "inference": ("infer",),
    "output": ("post", "track", "draw", "encode"),
}
