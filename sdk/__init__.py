"""astseg runtime: per-object masks and stable IDs from video, without torch."""

from sdk.errors import AstsegError, BundleError, SourceError

__version__ = "0.1.0"
__all__ = ["AstsegError", "BundleError", "SourceError", "__version__"]
