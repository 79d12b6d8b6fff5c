"""Strict JSON reading for files that may come from strangers (manifests, sidecars).

Duplicate keys, NaN/Infinity (spelt out, or a number such as 1e999 that only fits as
infinity), nesting deeper than Python's stack and oversized files are refused, so a crafted
file cannot smuggle a second value past a check, exhaust memory or crash the parser.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MAX_JSON_BYTES = 1 << 20  # manifests and sidecars are a few kilobytes


class JsonFormatError(ValueError):
    """The text is not strict JSON; the message says where."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonFormatError(f"key '{key}' appears twice")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise JsonFormatError(f"'{name}' is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonFormatError(f"the number {text[:40]} is too large for a float")
    return value


def read_json_object(path: Path, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """Read ``path`` as one JSON object; raise JsonFormatError or OSError otherwise."""
    size = path.stat().st_size
    if size > max_bytes:
        raise JsonFormatError(f"it is {size} bytes, more than the {max_bytes} allowed")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite_float,
        )
    except UnicodeDecodeError as err:
        raise JsonFormatError("it is not UTF-8 text") from err
    except json.JSONDecodeError as err:
        raise JsonFormatError(f"line {err.lineno}: {err.msg}") from err
    except RecursionError as err:
        raise JsonFormatError("it is nested too deeply (brackets inside brackets)") from err
    except JsonFormatError:
        raise
    except ValueError as err:  # an integer of more digits than Python converts
        raise JsonFormatError(str(err).split(";")[0]) from err
    if not isinstance(value, dict):
        raise JsonFormatError("the top level is not a JSON object")
    return value
