"""What `astseg export` prints when it is done: the files it wrote and the parity figures."""

from __future__ import annotations

from export.background_parity import BackgroundParity
from export.bundle import ExportResult
from export.parity import TensorParity
from export.spec import LATENTS

_COLUMNS = (*LATENTS, "weights")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def _pair(tensor: TensorParity | None) -> str:
    return "-" if tensor is None else f"{tensor.max_abs:.1e}/{tensor.limit:.1e}"


def format_report(result: ExportResult) -> str:
    batch = result.manifest["batch"]
    kind = (
        f"dynamic batch {batch['min']}-{batch['max']}"
        if batch["dynamic"]
        else f"batch {batch['max']}"
    )
    lines = [f"wrote bundle {result.bundle} ({kind}, opset {result.manifest['opset']})"]
    sizes = result.file_sizes
    lines += _table([["file", "size"], *([n, human_size(s)] for n, s in sizes.items())])
    if result.zip_path is not None:
        lines.append(f"wrote {result.zip_path} ({human_size(result.zip_path.stat().st_size)})")
    for folder in result.triton_models:
        lines.append(f"wrote Triton model {folder}")
    sizes_text = ", ".join(str(b) for b in result.parity.batch_sizes)
    lines.append(
        f"parity, ONNX Runtime CPU vs PyTorch at batch {sizes_text}: max abs difference "
        "/ its float32 limit; segmentation: pixels that agree (the rest are near-ties)"
    )
    rows = [["graph", *_COLUMNS, "segmentation"]]
    own_limits = [c for c in result.parity.checks if isinstance(c, BackgroundParity)]
    for check in result.parity.checks:
        if isinstance(check, BackgroundParity):
            continue
        agreement = check.segmentation_agreement
        rows.append(
            [
                check.graph,
                *(_pair(check.tensors.get(c)) for c in _COLUMNS),
                "-" if agreement is None else f"{agreement:.3%}",
            ]
        )
    lines += _table(rows)
    for check in own_limits:  # outputs with limits of their own (export.background_parity)
        shown = ", ".join(
            f"{name} {value:.1e} (limit {check.limit(name):.1e})"
            for name, value in check.max_abs.items()
        )
        lines.append(f"  {check.graph}: {shown}")
    for graph, figures in result.engine_parity.items():
        shown = ", ".join(
            f"{k.removeprefix('max_abs_')} {v:.1e}" if k.startswith("max_abs_") else f"{k} {v:.3%}"
            for k, v in figures.items()
            if k != "batch_sizes"
        )
        lines.append(f"{graph}.engine vs ONNX Runtime: {shown}")
    return "\n".join(lines)
