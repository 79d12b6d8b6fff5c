"""The documented folder format, any user can produce it:

    DIR/images/NAME.png|jpg        RGB (or grey) images
    DIR/masks/NAME.png             optional: instance ids, 8- or 16-bit, 0 = background
    DIR/backgrounds/NAME.png|jpg   optional: the scene without its objects

A folder that holds images directly (no `images/`) is read as images without masks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from sdk.outputs.atomic import staged_directory
from training.data.errors import DataError
from training.data.imageio import read_image, read_labels, write_image, write_labels
from training.data.sample import Sample, SampleDataset, check_sample

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


@contextlib.contextmanager
def new_folder(out: str | Path) -> Iterator[Path]:
    """A staging folder that becomes `out` only if the block succeeds (sdk.outputs.atomic).

    `out` must not exist or be empty, so a finished dataset is never mixed with old files.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"output folder {out} already exists and is not empty; choose another")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"cannot create {out.parent}: {err.strerror or err}") from None
    with staged_directory(out) as stage:
        yield stage


def _images_in(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
            if path.stem in found:
                raise DataError(f"{folder} holds both {found[path.stem].name} and {path.name}")
            found[path.stem] = path
    return found


class FolderDataset(SampleDataset):
    """Reads the folder format; masks and backgrounds are matched to images by name."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"data folder {self.root} does not exist")
        image_dir = self.root / "images"
        if not image_dir.is_dir():
            image_dir = self.root
        self.images = _images_in(image_dir)
        if not self.images:
            raise DataError(f"{self.root} has no images (expected images/NAME.png or .jpg)")
        self.names = list(self.images)
        masks = self.root / "masks"
        backgrounds = self.root / "backgrounds"
        self.masks = _images_in(masks) if masks.is_dir() else {}
        self.backgrounds = _images_in(backgrounds) if backgrounds.is_dir() else {}
        stray = sorted(set(self.masks) - set(self.images))
        if stray:
            raise DataError(f"{masks / (stray[0] + '.png')} has no image of the same name")
        self.description = f"folder {self.root}"

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> Sample:
        name = self.names[self._check_index(index)]
        image_path = self.images[name]
        mask_path = self.masks.get(name)
        background_path = self.backgrounds.get(name)
        sample = Sample(
            image=read_image(image_path),
            mask=None if mask_path is None else read_labels(mask_path),
            background=None if background_path is None else read_image(background_path),
            name=name,
        )
        culprit = mask_path if mask_path is not None else background_path
        return check_sample(sample, str(culprit or image_path))


def write_sample(root: str | Path, sample: Sample, name: str, image_format: str = "png") -> None:
    """Writes one sample into the folder format (each file atomically)."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    write_image(root / "images" / f"{name}.{image_format}", sample.image)
    if sample.mask is not None:
        (root / "masks").mkdir(exist_ok=True)
        write_labels(root / "masks" / f"{name}.png", sample.mask)
    if sample.background is not None:
        (root / "backgrounds").mkdir(exist_ok=True)
        write_image(root / "backgrounds" / f"{name}.png", sample.background)


def write_folder(out: str | Path, samples: Iterable[Sample], image_format: str = "png") -> int:
    """Writes samples (named by `sample.name`, else their position) into a new folder.

    The folder appears only once every file is written. Returns the number written.
    """
    if image_format not in ("png", "jpg"):
        raise DataError(f"image format must be png or jpg, got {image_format!r}")
    count = 0
    with new_folder(out) as stage:
        for i, sample in enumerate(samples):
            name = sample.name or f"{i:06d}"
            check_sample(sample, f"sample {name}")
            write_sample(stage, sample, name, image_format)
            count += 1
    return count
