"""Pure value parsers shared by the decoders: numbers, ints, flags, sides, price levels."""

from __future__ import annotations

import math
from typing import Any, Final

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


class FieldError(ValueError):
    """A field is absent or cannot be parsed; `kind` and `detail` become a DecodeFailure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def to_float(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string; None when not parseable."""
    t = type(value)
    if t is float:
        return value if math.isfinite(value) else None
    if t is int:
        f = float(value)
        return f if math.isfinite(f) else None
    if t is str:
        try:
            f = float(value)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def to_int(value: Any) -> int | None:
    """A signed 64-bit int from an int, an integral float or an integer string; None otherwise."""
    t = type(value)
    if t is int:
        n: int = value
    elif t is float:
        if not math.isfinite(value) or not value.is_integer():
            return None
        n = int(value)
    elif t is str:
        try:
            n = int(value)
        except ValueError:
            return None
    else:
        return None
    return n if INT64_MIN <= n <= INT64_MAX else None


def to_bool(value: Any) -> bool | None:
    """A bool from a JSON bool or the strings true/false (any case); None otherwise."""
    if value is True or value is False:
        return bool(value)
    if type(value) is str:
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return None
