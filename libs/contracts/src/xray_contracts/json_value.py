"""JSON values <-> the recursive Avro record `JsonValue {v: null|boolean|long|double|string|array|map}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NotJsonError(ValueError):
    """A value that is not JSON-like (or an int beyond 64 bits, a non-string key)."""


def json_to_avro(value: Any) -> dict[str, Any]:
    """Wrap a JSON-like value (None, bool, int, float, str, list/tuple, str-keyed mapping) for Avro."""
    t = type(value)
    if value is None or t is bool or t is float or t is str or t is int:
        return {"v": value}
    if t is list or t is tuple:
        return {"v": [json_to_avro(x) for x in value]}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, x in value.items():
            if type(k) is not str:
                raise NotJsonError(f"JSON object keys must be strings, got {type(k).__name__}")
            out[k] = json_to_avro(x)
        return {"v": out}
    raise NotJsonError(f"not a JSON value: {t.__name__}")


def json_from_avro(wrapped: Mapping[str, Any]) -> Any:
    """Unwrap a decoded `JsonValue` (arrays come back as lists, objects as dicts)."""
    value = wrapped["v"]
    t = type(value)
    if t is list:
        return [json_from_avro(x) for x in value]
    if t is dict:
        return {k: json_from_avro(x) for k, x in value.items()}
    return value
