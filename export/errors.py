"""The one error type of `astseg export`: a sentence naming the file or value at fault."""

from __future__ import annotations

from sdk.errors import AstsegError


class ExportError(AstsegError):
    """The export cannot go on (bad graph, failed parity, unsupported op, missing TensorRT)."""
