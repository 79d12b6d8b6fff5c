"""ShapeStacks in its released layout, preprocessed as GENESIS-V2 does:

    ROOT/recordings/SCENARIO/rgb-w=*-f=*-l=*-c=*-cam_N-mono-0.png   224x224 renders
    ROOT/iseg/SCENARIO/iseg-w=0-f=0-l=0-c=original-cam_N-mono-0.map  instance maps (PNG)
    ROOT/splits/SPLIT_NAME/{train,eval,test}.txt                     scenario lists

Images: centre crop 196x196, then Pillow BILINEAR resize to 64x64 (torchvision `Resize`).
Masks: id = red channel // 32 (8 label bins), same crop, nearest resize by the torch rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from training.data.errors import DataError
from training.data.imageio import read_image
from training.data.resize import resize_labels_floor, resize_pil_bilinear
from training.data.sample import Sample, SampleDataset, check_sample

CROP = 196
LABEL_BIN = 256 // 8
SPLITS = {"all": None, "train": "train", "val": "eval", "eval": "eval", "test": "test"}
_CAMERA = re.compile(r"-cam_(\d+)-")


def _scenarios(root: Path, split: str, split_name: str) -> list[str]:
    if split not in SPLITS:
        raise DataError(f"ShapeStacks split {split!r} unknown; choose from {', '.join(SPLITS)}")
    listing = SPLITS[split]
    if listing is None:
        return sorted(p.name for p in (root / "recordings").iterdir() if p.is_dir())
    path = root / "splits" / split_name / f"{listing}.txt"
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        raise DataError(f"{path} is missing; it lists the scenarios of the {split} split") from None


class ShapeStacksDataset(SampleDataset):
    """ShapeStacks renders (one per camera) of the chosen split, at 64x64 by default."""

    def __init__(
        self,
        root: str | Path,
        split: str = "all",
        split_name: str = "default",
        size: tuple[int, int] = (64, 64),
    ) -> None:
        self.root = Path(root)
        if not (self.root / "recordings").is_dir():
            raise DataError(f"{self.root} is not a ShapeStacks folder (no recordings/ inside)")
        self.files: list[Path] = []
        for scenario in _scenarios(self.root, split, split_name):
            folder = self.root / "recordings" / scenario
            if not folder.is_dir():
                raise DataError(f"{folder} is listed in the {split} split but does not exist")
            self.files += sorted(
                p
                for p in folder.iterdir()
                if p.name.startswith("rgb-") and p.name.endswith("-mono-0.png")
            )
        if not self.files:
            raise DataError(f"{self.root} has no rgb-*-mono-0.png renders for split {split!r}")
        self.has_masks = (self.root / "iseg").is_dir()
        self.size = size
        self.description = f"ShapeStacks ({split})"

    def __len__(self) -> int:
        return len(self.files)

    def mask_file(self, image: Path) -> Path:
        match = _CAMERA.search(image.name)
        if match is None:
            raise DataError(f"{image} has no -cam_N- part in its name")
        name = f"iseg-w=0-f=0-l=0-c=original-cam_{match.group(1)}-mono-0.map"
        return self.root / "iseg" / image.parent.name / name

    def _labels(self, image_path: Path) -> np.ndarray:
        path = self.mask_file(image_path)
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DataError(f"{path} is missing or unreadable (instance map of {image_path.name})")
        return (bgr[:, :, 2] // LABEL_BIN).astype(np.int32)

    def __getitem__(self, index: int) -> Sample:
        path = self.files[self._check_index(index)]
        image = read_image(path)
        mask = self._labels(path) if self.has_masks else None
        check_sample(Sample(image=image, mask=mask), str(path))
        # torchvision's CenterCrop rounds its offset; the mask crop (numpy) floors it.
        top, left = round((image.shape[0] - CROP) / 2), round((image.shape[1] - CROP) / 2)
        image = resize_pil_bilinear(image[top : top + CROP, left : left + CROP], self.size)
        if mask is not None:
            top, left = (mask.shape[0] - CROP) // 2, (mask.shape[1] - CROP) // 2
            mask = resize_labels_floor(mask[top : top + CROP, left : left + CROP], self.size)
        return Sample(image=image, mask=mask, name=f"{path.parent.name}/{path.stem}")
