"""Which predictor scores a model: a checkpoint (`.pt` file or run folder) through PyTorch,
or a model bundle (folder or `.zip`) through the torch-free runtime, `sdk.Segmenter`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.data.errors import DataError
from training.evaluation.types import Prediction, Predictor


def is_bundle(path: Path) -> bool:
    return (path.is_dir() and (path / "astseg.json").is_file()) or path.suffix.lower() == ".zip"


def load_predictor(
    path: str | Path, masks_from: str | None = None, video: bool = False
) -> Predictor:
    """A checkpoint (`.pt` file or run folder) or a model bundle (folder or `.zip`).

    masks_from ("fused", "slots", "background") is the runtime's mode (sdk.Segmenter);
    None takes the bundle's default. video: the data are frames of videos, so a bundle
    runs as `astseg run` streams them (see SegmenterPredictor).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"model {path} does not exist")
    if is_bundle(path):
        return SegmenterPredictor(path, masks_from, video)
    if masks_from is not None:
        raise DataError(
            f"--masks-from is for model bundles and {path} is a checkpoint; export it with "
            "`astseg export` and evaluate the bundle"
        )
    if path.suffix == ".pt" or path.is_dir():
        try:  # torch only for checkpoints: a torch-free install still scores bundles
            from training.evaluation.checkpoint_predictor import CheckpointPredictor
        except ImportError as err:
            raise DataError(
                f"scoring checkpoint {path} needs the training install (torch): {err}"
            ) from None
        return CheckpointPredictor(path)
    raise DataError(
        f"{path} is neither a checkpoint (.pt file or run folder) nor a model bundle "
        "(folder or .zip with astseg.json)"
    )


class SegmenterPredictor:
    """A deployed bundle scored through the torch-free runtime (`sdk.Segmenter`): the
    segmentation is the runtime's slot map, `tracks` its track IDs (reported objects only);
    bundles render no reconstruction, so MSE is left undefined."""

    def __init__(
        self, path: str | Path, masks_from: str | None = None, video: bool = False
    ) -> None:
        from sdk import Segmenter
        from sdk.tracker import TrackerConfig

        if video:
            # frames of a video are scored as `astseg run` reports them (the runtime's own
            # defaults: confirmation, coasting, background refresh), so the tracking
            # metrics measure what a user gets; `reset()` starts each video afresh
            self.segmenter = Segmenter(path, channels="rgb", masks_from=masks_from)
        else:
            # every image gets its own background, and every object found is scored at once
            # (no confirmation over frames, no still-from-the-first-frame rule, no slot
            # model's word carried from one image to the next): an image set need not be
            # one stream
            reported_at_once = TrackerConfig(
                min_hits=1,
                still_is_scene=False,
                first_frame_still_is_scene=False,
                slot_evidence_share=0.0,
            )
            self.segmenter = Segmenter(
                path,
                channels="rgb",
                min_area=1,
                masks_from=masks_from,
                background_every=1,
                tracker=reported_at_once,
            )
        spec = self.segmenter.spec
        self.image_size = (spec.image_height, spec.image_width)
        background = self.segmenter.bundle.manifest.background
        if self.segmenter.masks_from != "slots" and background is not None:
            # the foreground is made at the background graph's size, so score there
            self.image_size = (background.image_height, background.image_width)
        self.num_slots = spec.num_slots

    def reset(self) -> None:
        """A new video begins: forget the tracks, background and noise of the last one."""
        self.segmenter.reset()

    def predict(self, images: np.ndarray) -> Prediction:
        results = self.segmenter.batch(list(images))
        return Prediction(
            segmentation=np.stack([r.slot_labels for r in results]).astype(np.int64),
            reconstruction=None,
            tracks=np.stack([r.label_map for r in results]),
        )
