"""Contract values <-> plain JSON-ready data (for `xray tail`, logs and tooling; not the hot path).

Dataclasses become objects keyed by field name, tuples become arrays, and bytes become standard
base64 (padded) strings. `from_plain(Type, data)` rebuilds the value from the type hints.
"""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, Union

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A JSON-ready copy of a contract value (bytes as base64 text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def from_plain(tp: Any, data: Any) -> Any:
    """Rebuild a value of type `tp` (a contract dataclass or a field type) from `to_plain` output."""
    if tp is Any:
        return data
    if _is_union(tp):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if data is None:
            return None
        classes = [a for a in options if dataclasses.is_dataclass(a)]
        if classes and isinstance(data, Mapping):
            for cls in classes:  # the dataclass whose field names are exactly the keys
                if {f.name for f in dataclasses.fields(cls)} == set(data):
                    return from_plain(cls, data)
            raise ValueError(f"no member of {tp} has fields {sorted(data)}")
        return from_plain(options[0], data)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        return tp(
            **{f.name: from_plain(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.init}
        )
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item, *_) = typing.get_args(tp)
        return tuple(from_plain(item, v) for v in data)
    if origin in (dict, Mapping, typing.get_origin(Mapping[str, Any])):
        value_type = typing.get_args(tp)[1]
        return {k: from_plain(value_type, v) for k, v in data.items()}
    if tp is bytes:
        return base64.b64decode(data)
    if tp is float and type(data) is int:
        return float(data)
    return data
