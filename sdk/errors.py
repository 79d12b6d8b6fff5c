"""Errors a user can cause and fix; the CLI prints them as one sentence."""


class AstsegError(Exception):
    """Base class: the message names the culprit and what to do."""


class BundleError(AstsegError):
    """A model bundle is missing, corrupt, of an unknown version, or built for another GPU."""


class SourceError(AstsegError):
    """A video file, camera, stream or image folder cannot be opened or read."""


class DeviceError(AstsegError):
    """The requested device or backend is not available on this machine."""


class OutputError(AstsegError):
    """An output file or folder cannot be written (permissions, full disk, bad name)."""
