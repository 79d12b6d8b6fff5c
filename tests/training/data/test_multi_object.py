"""TFRecords without TensorFlow: framing (plain and GZIP), a hand-built tf.train.Example
encoder mirroring DeepMind's multi-object-datasets layout, and the CLEVR / ObjectsRoom
readers with GENESIS-V2's preprocessing."""

import gzip
import struct

import numpy as np
import pytest

from training.data import open_dataset
from training.data.errors import DataError
from training.data.tf_example import parse_example
from training.data.tfrecord import crc32c, iter_records, masked_crc32c

# ------------------------------------------------------------------ a tiny protobuf encoder


def varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, wire: int, payload: bytes) -> bytes:
    key = varint(number << 3 | wire)
    return key + (varint(len(payload)) + payload if wire == 2 else payload)


def one_byte_entries(data: np.ndarray) -> bytes:
    """A BytesList holding one single-byte string per value, as the datasets store tensors."""
    flat = data.astype(np.uint8).ravel()
    out = np.empty((flat.size, 3), np.uint8)
    out[:, 0], out[:, 1], out[:, 2] = 0x0A, 0x01, flat
    return out.tobytes()


def bytes_feature(list_message: bytes) -> bytes:
    return field(1, 2, list_message)


def float_feature(values, packed: bool = True) -> bytes:
    raw = np.asarray(values, "<f4")
    if packed:
        return field(2, 2, field(1, 2, raw.tobytes()))
    return field(2, 2, b"".join(field(1, 5, v.tobytes()) for v in raw))


def int64_feature(values, packed: bool = True) -> bytes:
    if packed:
        return field(3, 2, field(1, 2, b"".join(varint(v) for v in values)))
    return field(3, 2, b"".join(field(1, 0, varint(v)) for v in values))


def example(features: dict[str, bytes]) -> bytes:
    entries = b"".join(
        field(1, 2, field(1, 2, key.encode()) + field(2, 2, value))
        for key, value in features.items()
    )
    return field(1, 2, entries)


def tfrecord(records: list[bytes]) -> bytes:
    out = b""
    for data in records:
        length = struct.pack("<Q", len(data))
        out += length + struct.pack("<I", masked_crc32c(length)) + data
        out += struct.pack("<I", masked_crc32c(data))
    return out


# ------------------------------------------------------------------ framing and protobuf


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_records_plain_and_gzip(tmp_path):
    records = [b"first", b"", b"x" * 1000]
    (tmp_path / "plain.tfrecords").write_bytes(tfrecord(records))
    (tmp_path / "zipped.tfrecords").write_bytes(gzip.compress(tfrecord(records)))
    assert list(iter_records(tmp_path / "plain.tfrecords", verify_data=True)) == records
    assert list(iter_records(tmp_path / "zipped.tfrecords")) == records


def test_broken_files_name_the_file(tmp_path):
    good = tfrecord([b"a" * 50, b"b" * 50])
    (tmp_path / "cut.tfrecords").write_bytes(good[:-30])
    with pytest.raises(DataError, match="cut.tfrecords is truncated inside record 1"):
        list(iter_records(tmp_path / "cut.tfrecords"))
    (tmp_path / "junk.tfrecords").write_bytes(b"\x00" * 40)
    with pytest.raises(DataError, match="junk.tfrecords is not a TFRecord file"):
        list(iter_records(tmp_path / "junk.tfrecords"))
    (tmp_path / "badzip.tfrecords").write_bytes(gzip.compress(good)[:-12])
    with pytest.raises(DataError, match="badzip.tfrecords"):
        list(iter_records(tmp_path / "badzip.tfrecords"))
    corrupt = bytearray(good)
    corrupt[20] ^= 0xFF
    (tmp_path / "flip.tfrecords").write_bytes(bytes(corrupt))
    with pytest.raises(DataError, match="record 0 is corrupt"):
        list(iter_records(tmp_path / "flip.tfrecords", verify_data=True))


def test_example_decoder_all_list_kinds():
    record = example(
        {
            "image": bytes_feature(one_byte_entries(np.array([1, 2, 255]))),
            "names": bytes_feature(field(1, 2, b"cube") + field(1, 2, b"") + field(1, 2, b"xy")),
            "x": float_feature([0.5, -2.0]),
            "y": float_feature([1.25, 3.0], packed=False),
            "n": int64_feature([3, -1, 2**40]),
            "m": int64_feature([7, -7], packed=False),
        }
    )
    features = parse_example(record)
    assert features["image"].joined_bytes() == bytes([1, 2, 255])
    assert features["names"].bytes_values() == [b"cube", b"", b"xy"]
    assert features["names"].joined_bytes() == b"cubexy"
    np.testing.assert_array_equal(features["x"].floats(), [0.5, -2.0])
    np.testing.assert_array_equal(features["y"].floats(), [1.25, 3.0])
    np.testing.assert_array_equal(features["n"].ints(), [3, -1, 2**40])
    np.testing.assert_array_equal(features["m"].ints(), [7, -7])


# ------------------------------------------------------------------ CLEVR and ObjectsRoom


def clevr_record(seed: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A 240x320 CLEVR-with-masks record: 11 entity masks, entity 0 the background."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    labels = np.zeros((240, 320), np.uint8)
    for k in range(1, 4):
        y, x = rng.integers(20, 180), rng.integers(50, 220)
        labels[y : y + 40, x : x + 50] = k
    masks = np.stack([(labels == k) * 255 for k in range(11)])[..., None]
    features = {
        "image": bytes_feature(one_byte_entries(image)),
        "mask": bytes_feature(one_byte_entries(masks)),
        "x": float_feature(rng.random(11)),
        "pixel_coords": float_feature(rng.random(33)),
        "color": bytes_feature(one_byte_entries(rng.integers(0, 9, 11))),
        "visibility": float_feature((np.arange(11) < 4).astype(float)),
    }
    return example(features), image, labels


def test_clevr_preprocessing_and_splits(tmp_path):
    records, images, labels = zip(*(clevr_record(s) for s in range(3)), strict=True)
    folder = tmp_path / "clevr_with_masks"
    folder.mkdir()
    (folder / "clevr_with_masks_train.tfrecords").write_bytes(
        gzip.compress(tfrecord(list(records)), compresslevel=1)
    )
    dataset = open_dataset(f"clevr:{folder}?cache={tmp_path / 'cache'}")
    assert len(dataset) == 3
    rows = 24 + (np.arange(128) * 192) // 128  # centre crop 192, then torch-nearest to 128
    cols = 64 + (np.arange(128) * 192) // 128
    for i in range(3):
        sample = dataset[i]
        assert sample.image.shape == (128, 128, 3)
        assert (sample.image == images[i][rows[:, None], cols]).all()
        assert (sample.mask == labels[i][rows[:, None], cols]).all()
        assert set(np.unique(sample.mask)) <= {0, 1, 2, 3}
    # GENESIS-V2 splits: test = first 10 000 records, val = next 10 000.
    assert len(open_dataset(f"clevr:{folder}?split=test&cache={tmp_path / 'cache'}")) == 3
    assert len(open_dataset(f"clevr:{folder}?split=val&cache={tmp_path / 'cache'}")) == 0
    limited = open_dataset(f"clevr:{folder}?limit=2&cache={tmp_path / 'cache'}")
    assert len(limited) == 2 and (limited[1].image == dataset[1].image).all()
    assert len(list((tmp_path / "cache").iterdir())) == 2  # full file, and first 2 records


def test_objects_room_background_entities(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    entity = np.zeros((64, 64), np.uint8)
    entity[:20], entity[20:40], entity[40:] = 0, 1, 2  # wall, floor, sky (entity 3 unused)
    entity[5:15, 5:15], entity[30:50, 30:40], entity[50:60, 0:10] = 4, 5, 6
    masks = np.stack([(entity == k) * 255 for k in range(7)])[..., None]
    record = example(
        {
            "image": bytes_feature(one_byte_entries(image)),
            "mask": bytes_feature(one_byte_entries(masks)),
        }
    )
    path = tmp_path / "objects_room_train.tfrecords"
    path.write_bytes(gzip.compress(tfrecord([record])))
    sample = open_dataset(f"objects_room:{path}?cache={tmp_path}/c")[0]
    assert (sample.image == image).all()
    expected = np.where(entity >= 4, entity - 3, 0)
    assert (sample.mask == expected).all()


def test_wrong_dataset_kind_is_reported(tmp_path):
    record, _, _ = clevr_record(0)
    path = tmp_path / "clevr.tfrecords"
    path.write_bytes(tfrecord([record]))
    with pytest.raises(DataError, match="not 64x64 objects_room data"):
        open_dataset(f"objects_room:{path}?cache={tmp_path}/c")
    path.write_bytes(tfrecord([example({"other": float_feature([1.0])})]))
    with pytest.raises(DataError, match="clevr.tfrecords record 0 has no 'image'"):
        open_dataset(f"clevr:{path}?cache={tmp_path}/c")
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
