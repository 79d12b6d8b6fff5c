"""CLEVRTEX (and its OOD, CAMO and background variants) in the released folder layout:

    ROOT/clevrtex_full/0/CLEVRTEX_full_000000.png        opaque RGBA render (alpha dropped)
    ROOT/clevrtex_full/0/CLEVRTEX_full_000000_flat.png   palette mask, index = object id
    ROOT/clevrtex_full/0/CLEVRTEX_full_000000.json       metadata (not needed here)

Preprocessing and splits follow the benchmark's own loader: centre crop of
int(0.8 * shorter side), resize to 128x128 (Pillow BILINEAR for images, NEAREST for masks);
test = first 10 % of indices, val = next 10 %, train = the rest; OOD ("outd") has no split.
"""

from __future__ import annotations

import re
from pathlib import Path

from training.data.errors import DataError
from training.data.imageio import read_image, read_labels
from training.data.resize import resize_labels_centre, resize_pil_bilinear
from training.data.sample import Sample, SampleDataset, check_sample

VARIANTS = ("full", "pbg", "vbg", "grassbg", "camo", "outd")
VARIANT_ALIASES = {"ood": "outd"}
SPLITS = {"test": (0.0, 0.1), "val": (0.1, 0.2), "train": (0.2, 1.0), "all": (0.0, 1.0)}
CROP_FRACTION = 0.8
_NAME = re.compile(r"^CLEVRTEX_([a-z]+)_(\d{6})\.png$")


def _resolve_folder(root: Path, variant: str | None) -> tuple[Path, str]:
    if variant is not None:
        variant = VARIANT_ALIASES.get(variant, variant)
        if variant not in VARIANTS:
            raise DataError(
                f"CLEVRTEX variant {variant!r} unknown; choose from {', '.join(VARIANTS)}"
            )
        sub = root / f"clevrtex_{variant}"
        return (sub if sub.is_dir() else root), variant
    if root.name.lower().startswith("clevrtex_") and root.name[9:].lower() in VARIANTS:
        return root, root.name[9:].lower()
    subs = [
        p
        for p in sorted(root.iterdir())
        if p.is_dir() and p.name.startswith("clevrtex_") and p.name[9:] in VARIANTS
    ]
    if len(subs) == 1:
        return subs[0], subs[0].name[9:]
    if (root / "clevrtex_full").is_dir():
        return root / "clevrtex_full", "full"
    found = {m.group(1) for p in root.rglob("CLEVRTEX_*_??????.png") if (m := _NAME.match(p.name))}
    if len(found) == 1:
        return root, found.pop()
    raise DataError(
        f"cannot tell which CLEVRTEX variant {root} holds; add ?variant=full|camo|outd|..."
    )


def _index(folder: Path, variant: str) -> dict[int, Path]:
    images: dict[int, Path] = {}
    for path in folder.rglob(f"CLEVRTEX_{variant}_??????.png"):
        match = _NAME.match(path.name)
        if not match:
            continue
        number = int(match.group(2))
        if number in images:
            raise DataError(f"{path} and {images[number]} have the same index {number}")
        images[number] = path
    if not images:
        raise DataError(f"{folder} holds no CLEVRTEX_{variant}_NNNNNN.png images")
    missing = next((i for i in range(max(images)) if i not in images), None)
    if missing is not None:
        raise DataError(f"{folder} lacks image CLEVRTEX_{variant}_{missing:06d}.png (incomplete)")
    return images


class ClevrTexDataset(SampleDataset):
    """One CLEVRTEX variant and split, preprocessed as the benchmark evaluates it."""

    def __init__(
        self,
        root: str | Path,
        variant: str | None = None,
        split: str = "all",
        size: tuple[int, int] = (128, 128),
        crop: bool = True,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"CLEVRTEX folder {root} does not exist")
        if split not in SPLITS:
            raise DataError(f"CLEVRTEX split {split!r} unknown; choose from {', '.join(SPLITS)}")
        self.folder, self.variant = _resolve_folder(root, variant)
        images = _index(self.folder, self.variant)
        lo, hi = SPLITS["all" if self.variant == "outd" else split]
        n = len(images)
        self.numbers = list(range(int(lo * n), int(hi * n)))
        self.images = images
        self.size = size
        self.crop = crop
        self.description = f"CLEVRTEX {self.variant} ({split})"

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index: int) -> Sample:
        number = self.numbers[self._check_index(index)]
        image_path = self.images[number]
        mask_path = image_path.with_name(image_path.stem + "_flat.png")
        if not mask_path.is_file():
            raise DataError(f"{mask_path} is missing (every CLEVRTEX image has a _flat.png mask)")
        image, mask = read_image(image_path), read_labels(mask_path)
        check_sample(Sample(image=image, mask=mask), str(mask_path))
        if self.crop:
            side = int(CROP_FRACTION * min(image.shape[:2]))
            top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
            image = image[top : top + side, left : left + side]
            mask = mask[top : top + side, left : left + side]
        image = resize_pil_bilinear(image, self.size)
        mask = resize_labels_centre(mask, self.size)
        return Sample(image=image, mask=mask, name=image_path.stem)
