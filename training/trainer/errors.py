"""Errors that end a training run; the CLI prints them as one sentence."""

from __future__ import annotations

from sdk.errors import AstsegError


class TrainingError(AstsegError):
    """A run cannot start or go on; the message says why and what to do."""
