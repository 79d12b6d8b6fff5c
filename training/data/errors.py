"""The one error type every dataset reader, writer and spec parser raises."""

from __future__ import annotations

from sdk.errors import AstsegError


class DataError(AstsegError, ValueError):
    """A data spec, file or folder is wrong; the message names it and says what to do.

    It is also a `ValueError`, so code that validates input generically still catches it.
    """
