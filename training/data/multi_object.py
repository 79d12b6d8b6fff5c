"""CLEVR-with-masks and ObjectsRoom from DeepMind's multi-object-datasets TFRecords, read
without TensorFlow, preprocessed as GENESIS-V2 does.

Records hold `image` (H*W*3 bytes) and `mask` (K*H*W*1 bytes, 255 inside entity k), stored
one byte per BytesList entry; K is read off the record, so every variant file works.
- CLEVR (240x320, K=11, entity 0 = background): centre crop 192x192 (rows 24:216,
  columns 64:256), then nearest-neighbour resize to 128x128 (torch `interpolate` rule).
- ObjectsRoom (64x64, K=7 in the train file, entities 0-3 = walls/floor/sky = background).
Entities are labelled 1.. in file order; later entities overwrite earlier ones.
Splits follow GENESIS-V2: test = first 10 000 records, val = next 10 000, train = the rest.

GZIP streams cannot be indexed, so the first use converts the file (or its first `limit`
records) into a memory-mapped cache; later uses open the cache instantly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sdk.outputs.output_paths import write_output
from training.data.errors import DataError
from training.data.folder import new_folder
from training.data.resize import centre_crop, resize_labels_floor
from training.data.sample import Sample, SampleDataset
from training.data.tf_example import ProtobufError, parse_example
from training.data.tfrecord import iter_records

SPLIT_SIZE = 10_000
SPLITS = ("all", "train", "val", "test")
SPLIT_OFFSETS = {"all": 0, "test": 0, "val": SPLIT_SIZE, "train": 2 * SPLIT_SIZE}
_CACHE_VERSION = 1


@dataclass(frozen=True)
class MultiObjectFormat:
    name: str
    default_file: str
    height: int
    width: int
    background_entities: int
    crop: int | None
    size: int


CLEVR = MultiObjectFormat("clevr", "clevr_with_masks_train.tfrecords", 240, 320, 1, 192, 128)
OBJECTS_ROOM = MultiObjectFormat(
    "objects_room", "objects_room_train.tfrecords", 64, 64, 4, None, 64
)


def default_cache_root() -> Path:
    return Path(os.environ.get("ASTSEG_CACHE", Path.home() / ".cache" / "astseg"))


def decode_record(
    record: bytes, fmt: MultiObjectFormat, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8 [H, W, 3], entity masks bool [K, H, W]) of one serialized Example."""
    try:
        features = parse_example(record)
        if "image" not in features or "mask" not in features:
            raise DataError(f"{where} has no 'image'/'mask' features; is it a {fmt.name} file?")
        image = np.frombuffer(features["image"].joined_bytes(), np.uint8)
        mask = np.frombuffer(features["mask"].joined_bytes(), np.uint8)
    except ProtobufError as err:
        raise DataError(f"{where} is not a tf.train.Example: {err}") from None
    pixels = fmt.height * fmt.width
    if image.size != pixels * 3 or mask.size % pixels or mask.size == 0:
        raise DataError(
            f"{where} holds a {image.size}-byte image and {mask.size}-byte mask, not "
            f"{fmt.height}x{fmt.width} {fmt.name} data"
        )
    masks = mask.reshape(-1, fmt.height, fmt.width) == 255
    return image.reshape(fmt.height, fmt.width, 3), masks


def preprocess(
    image: np.ndarray, masks: np.ndarray, fmt: MultiObjectFormat
) -> tuple[np.ndarray, np.ndarray]:
    """GENESIS-V2's crop and resize; returns (image, labels uint8 with 0 = background)."""
    labels = np.zeros(image.shape[:2], np.uint8)
    for k in range(fmt.background_entities, masks.shape[0]):
        labels[masks[k]] = k - fmt.background_entities + 1
    if fmt.crop is not None:
        image = centre_crop(image, fmt.crop, fmt.crop)
        labels = centre_crop(labels, fmt.crop, fmt.crop)
    size = (fmt.size, fmt.size)
    return resize_labels_floor(image, size), resize_labels_floor(labels, size)


def _resolve_file(path: Path, fmt: MultiObjectFormat) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        if (path / fmt.default_file).is_file():
            return path / fmt.default_file
        records = sorted(path.glob("*.tfrecords"))
        if len(records) == 1:
            return records[0]
        raise DataError(
            f"{path} holds {len(records)} .tfrecords files and no {fmt.default_file}; "
            "name the file itself"
        )
    raise DataError(f"{fmt.name} data {path} does not exist")


def _convert(source: Path, fmt: MultiObjectFormat, limit: int | None, cache: Path) -> None:
    count = 0
    with new_folder(cache) as stage:
        with open(stage / "images.u8", "wb") as images, open(stage / "labels.u8", "wb") as labels:
            records = iter_records(source)
            bar = tqdm(desc=f"caching {source.name} (once)", unit="rec", total=limit)
            with contextlib.closing(records), bar:
                for record in records:
                    image, masks = decode_record(record, fmt, f"{source} record {count}")
                    image, label = preprocess(image, masks, fmt)
                    images.write(np.ascontiguousarray(image).tobytes())
                    labels.write(np.ascontiguousarray(label).tobytes())
                    count += 1
                    bar.update()
                    if limit is not None and count >= limit:
                        break
        if count == 0:
            raise DataError(f"{source} holds no records")
        meta = {"count": count, "size": fmt.size, "source": str(source), "version": _CACHE_VERSION}
        write_output(stage / "meta.json", json.dumps(meta))


class MultiObjectDataset(SampleDataset):
    """A CLEVR-with-masks or ObjectsRoom TFRecord file, preprocessed, cached, indexable."""

    def __init__(
        self,
        path: str | Path,
        fmt: MultiObjectFormat,
        split: str = "all",
        limit: int | None = None,
        cache_root: str | Path | None = None,
    ) -> None:
        if split not in SPLITS:
            raise DataError(f"{fmt.name} split {split!r} unknown; choose from {', '.join(SPLITS)}")
        if limit is not None and limit < 1:
            raise DataError(f"{fmt.name} limit must be at least 1, got {limit}")
        self.source = _resolve_file(Path(path), fmt).resolve()
        stat = self.source.stat()
        key = f"{self.source}|{stat.st_size}|{stat.st_mtime_ns}|{limit}|{fmt}|{_CACHE_VERSION}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        root = Path(cache_root) if cache_root is not None else default_cache_root()
        self.cache = root / f"{fmt.name}-{self.source.stem}-{digest}"
        if not (self.cache / "meta.json").is_file():
            _convert(self.source, fmt, limit, self.cache)
        count = json.loads((self.cache / "meta.json").read_text())["count"]
        side = fmt.size
        self.images = np.memmap(
            self.cache / "images.u8", np.uint8, "r", shape=(count, side, side, 3)
        )
        self.labels = np.memmap(self.cache / "labels.u8", np.uint8, "r", shape=(count, side, side))
        bounds = {
            "all": (0, count),
            "test": (0, min(SPLIT_SIZE, count)),
            "val": (min(SPLIT_SIZE, count), min(2 * SPLIT_SIZE, count)),
            "train": (min(2 * SPLIT_SIZE, count), count),
        }
        self.start, self.stop = bounds[split]
        self.fmt = fmt
        self.description = f"{fmt.name} {self.source.name} ({split})"

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int) -> Sample:
        i = self.start + self._check_index(index)
        return Sample(
            image=np.array(self.images[i]),
            mask=self.labels[i].astype(np.int32),
            name=f"{self.source.stem}/{i:06d}",
        )
