"""Binance field primitives: every problem is a `schema_mismatch` naming the dotted key."""

from __future__ import annotations

import math
from typing import Any, Final

from market_data.values import INT64_MAX, INT64_MIN, FieldError

KIND: Final = "schema_mismatch"
_isfinite = math.isfinite


def missing(key: str) -> FieldError:
    """The error for an absent or wrongly-shaped field."""
    return FieldError(KIND, f"missing {key}")


def invalid(key: str) -> FieldError:
    """The error for a present but unparseable field."""
    return FieldError(KIND, f"invalid {key}")


def req_float(value: Any, key: str) -> float:
    """A finite float from a number or numeric string."""
    t = type(value)
    if t is str:
        try:
            f = float(value)
        except ValueError:
            raise invalid(key) from None
    elif t is float or t is int:
        f = float(value)
    elif t is bool:
        raise invalid(key)
    else:
        raise missing(key)
    if not _isfinite(f):
        raise invalid(key)
    return f


def req_int(value: Any, key: str) -> int:
    """A signed 64-bit int from an int, integral float or integer string."""
    t = type(value)
    if t is int:
        n: int = value
    elif t is str:
        try:
            n = int(value)
        except ValueError:
            raise invalid(key) from None
    elif t is float:
        if not _isfinite(value) or not value.is_integer():
            raise missing(key)
        n = int(value)
    elif t is bool:
        raise invalid(key)
    else:
        raise missing(key)
    if not INT64_MIN <= n <= INT64_MAX:
        raise invalid(key)
    return n


def opt_int(value: Any, key: str) -> int | None:
    """As req_int, but absent/null gives None."""
    if value is None:
        return None
    return req_int(value, key)


def opt_bool(value: Any, key: str) -> bool | None:
    """A bool from a JSON bool or true/false text; absent/null gives None."""
    if value is None:
        return None
    if value is True or value is False:
        return bool(value)
    if type(value) is str:
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    raise invalid(key)


def id_string(value: Any) -> str | None:
    """A source id as text: strings as they are, ints in decimal; anything else None (never an error)."""
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is int:
        return str(value)
    if t is float and _isfinite(value):
        return repr(value)
    return None


def maker_side(value: Any) -> str | None:
    """Aggressor side from Binance's buyer-is-maker flag: maker buyer means the seller aggressed."""
    if value is True:
        return "sell"
    if value is False:
        return "buy"
    if type(value) is str:
        low = value.lower()
        if low == "true":
            return "sell"
        if low == "false":
            return "buy"
    return None


def order_side(value: Any) -> str | None:
    """Side from an order's `S` field; unknown values give None."""
    if type(value) is str:
        low = value.lower()
        if low in ("buy", "sell"):
            return low
    return None


def levels(value: Any, key: str) -> list[list[float]]:
    """Price levels `[[price, qty, ...], ...]` as `[[float, float], ...]`; extra elements ignored."""
    if type(value) is not list:
        raise invalid(key)
    out: list[list[float]] = []
    append = out.append
    for entry in value:
        if type(entry) is not list or len(entry) < 2:
            raise invalid(key)
        p = entry[0]
        q = entry[1]
        if type(p) is str and type(q) is str:
            try:
                fp = float(p)
                fq = float(q)
            except ValueError:
                raise invalid(key) from None
            if not _isfinite(fp + fq) and not (_isfinite(fp) and _isfinite(fq)):
                raise invalid(key)
        else:
            fp = req_float(p, key)
            fq = req_float(q, key)
        append([fp, fq])
    return out
