"""astseg runtime: per-object masks and stable IDs from video, without torch.

    from sdk import Segmenter
    seg = Segmenter("bundle.zip")
    for result in seg.stream("input.mp4"):
        print(result.index, [(o.id, o.bbox, o.area) for o in result.objects])

Importing this package loads numpy and OpenCV only; onnxruntime is loaded when a
Segmenter opens a bundle, tensorrt only for the TensorRT backend.
"""

from sdk.bundle.bundle import Bundle, load_bundle
from sdk.errors import AstsegError, BundleError, DeviceError, OutputError, SourceError
from sdk.options import SegmenterOptions
from sdk.results import DetectedObject, FrameResult, Timings
from sdk.segmenter import Segmenter
from sdk.sources.live import Reconnect
from sdk.sources.sources import open_source, parse_source
from sdk.tracker import Tracker, TrackerConfig

__version__ = "0.1.0"
__all__ = [
    "AstsegError",
    "Bundle",
    "BundleError",
    "DetectedObject",
    "DeviceError",
    "FrameResult",
    "OutputError",
    "Reconnect",
    "Segmenter",
    "SegmenterOptions",
    "SourceError",
    "Timings",
    "Tracker",
    "TrackerConfig",
    "__version__",
    "load_bundle",
    "open_source",
    "parse_source",
]
