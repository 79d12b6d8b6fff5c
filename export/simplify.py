"""`--simplify`: constant folding and graph clean-up with onnxslim, before every check.

The simplified graph is the one that is checked, compared with PyTorch and shipped,
so simplification can never slip an unproven graph into a bundle.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import onnx

from export.errors import ExportError


def require_onnxslim() -> None:
    try:
        import onnxslim  # noqa: F401
    except ImportError:
        raise ExportError(
            "--simplify needs the onnxslim package (pip install onnxslim); "
            "or export without --simplify"
        ) from None


def simplify_graph(path: Path) -> None:
    """Rewrites the ONNX file at `path` in place with its simplified graph."""
    import onnxslim

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # onnxslim prints a summary table
            model = onnxslim.slim(str(path))
    except Exception as err:  # onnxslim raises whatever its passes raise
        raise ExportError(
            f"onnxslim could not simplify {path.name} ({err}); export without --simplify"
        ) from None
    if model is None:
        raise ExportError(f"onnxslim returned no graph for {path.name}; export without --simplify")
    onnx.save(model, str(path))
