"""A hand-written decoder for `tf.train.Example` protocol buffers (no TensorFlow/protobuf).

Example   { Features features = 1; }
Features  { map<string, Feature> feature = 1; }   // entries: key = 1, value = 2
Feature   { oneof { BytesList bytes_list = 1; FloatList float_list = 2;
                    Int64List int64_list = 3; } }
BytesList { repeated bytes value = 1; }
FloatList { repeated float value = 1 [packed]; }   // packed or not, both accepted
Int64List { repeated int64 value = 1 [packed]; }
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_KINDS: dict[int, Literal["bytes", "float", "int64"]] = {1: "bytes", 2: "float", 3: "int64"}


class ProtobufError(ValueError):
    """The bytes are not a well-formed tf.train.Example."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint longer than 10 bytes")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) for every field of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | memoryview
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _LEN:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ProtobufError("length-delimited field runs past the end")
            value, pos = buf[pos : pos + size], pos + size
        elif wire in (_FIXED32, _FIXED64):
            width = 4 if wire == _FIXED32 else 8
            if pos + width > len(buf):
                raise ProtobufError("fixed-width field runs past the end")
            value, pos = buf[pos : pos + width], pos + width
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


def _view(value: int | memoryview) -> memoryview:
    if isinstance(value, int):
        raise ProtobufError("expected a length-delimited field, found a number")
    return value


def _list_items(payload: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(wire type, value) of every `value = 1` entry of a Bytes/Float/Int64List."""
    for number, wire, value in _fields(payload):
        if number == 1:
            yield wire, value


@dataclass(frozen=True)
class Feature:
    """One feature's list message, decoded on demand."""

    kind: Literal["bytes", "float", "int64"]
    payload: memoryview

    def _expect(self, kind: str) -> None:
        if self.kind != kind:
            raise ProtobufError(f"feature holds {self.kind} values, not {kind}")

    def bytes_values(self) -> list[bytes]:
        self._expect("bytes")
        return [bytes(_view(v)) for _, v in _list_items(self.payload)]

    def joined_bytes(self) -> bytes:
        """All byte strings concatenated (how image tensors stored one byte per entry read)."""
        self._expect("bytes")
        raw = np.frombuffer(self.payload, np.uint8)
        # Fast path: entries of exactly one byte are laid out as 0x0A 0x01 <byte>.
        uniform = len(raw) and len(raw) % 3 == 0
        if uniform and (raw[0::3] == 0x0A).all() and (raw[1::3] == 0x01).all():
            return raw[2::3].tobytes()
        return b"".join(self.bytes_values())

    def floats(self) -> np.ndarray:
        self._expect("float")
        parts = [np.frombuffer(_view(v), "<f4") for _, v in _list_items(self.payload)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    def ints(self) -> np.ndarray:
        self._expect("int64")
        values: list[int] = []
        for wire, value in _list_items(self.payload):
            if wire == _VARINT:
                values.append(int(value))
                continue
            packed, pos = _view(value), 0
            while pos < len(packed):
                item, pos = _varint(packed, pos)
                values.append(item)
        return np.array(values, np.uint64).astype(np.int64)


def parse_example(record: bytes) -> dict[str, Feature]:
    """Feature name -> `Feature` of one serialized tf.train.Example."""
    features: dict[str, Feature] = {}
    for number, wire, message in _fields(memoryview(record)):
        if number != 1 or wire != _LEN:
            continue
        for entry_number, entry_wire, entry in _fields(_view(message)):
            if entry_number != 1 or entry_wire != _LEN:
                continue
            key: str | None = None
            value: memoryview | None = None
            for n, w, v in _fields(_view(entry)):
                if n == 1 and w == _LEN:
                    key = bytes(_view(v)).decode("utf-8")
                elif n == 2 and w == _LEN:
                    value = _view(v)
            if key is None or value is None:
                raise ProtobufError("feature map entry without key or value")
            feature = None
            for n, w, v in _fields(value):
                if n in _KINDS and w == _LEN:
                    feature = Feature(_KINDS[n], _view(v))
            if feature is not None:  # an empty Feature (no list set) carries nothing
                features[key] = feature
    return features
