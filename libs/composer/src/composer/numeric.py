"""Small numeric helpers shared by features and observers (pure, no state)."""

from __future__ import annotations

import math


def num(value: object) -> float | None:
    """A finite float from an int or float (never a bool); anything else is absent (None)."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int:
        return float(value)
    if isinstance(value, float):  # float subclasses
        return float(value) if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


def clamp01(x: float) -> float:
    """0.0 at or below 0, 1.0 at or above 1, x otherwise."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x


def finite_or_none(x: float | None) -> float | None:
    """Guard: non-finite results become None so features stay finite."""
    if x is None or not math.isfinite(x):
        return None
    return x


def population_z(values: list[float], current: float) -> float | None:
    """(current - mean) / population std over `values`; None if the variance is not positive."""
    n = len(values)
    if n == 0:
        return None
    mean = sum(values) / n
    var = sum((v - mean) * (v - mean) for v in values) / n
    if var <= 0.0:
        return None
    return finite_or_none((current - mean) / math.sqrt(var))
