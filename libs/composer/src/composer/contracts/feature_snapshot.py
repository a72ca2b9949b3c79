"""FeatureSnapshot v1: the dense, ordered, immutable feature mapping for one (symbol, engine ts)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

# The seven keys of the original, in declaration order.
FEATURE_KEYS_V1_CANONICAL: Final[tuple[str, ...]] = (
    "price_last",
    "vwap_3m",
    "atr_14",
    "atr_z_50",
    "cvd_3m",
    "aggressive_volume_ratio_3m",
    "open_interest_latest",
)

# Additive v1 keys (history and cross-symbol features); see Planning/composer/spec.md.
FEATURE_KEYS_V1_EXTENDED: Final[tuple[str, ...]] = (
    "acceptance_score_15m",
    "alt_breadth_1h",
    "beta_to_btc_50",
    "cvd_efficiency_3m",
    "cvd_slope_15m",
    "funding_rate_latest",
    "funding_slope_15m",
    "funding_z_lookback",
    "liquidation_imbalance_3m",
    "liquidation_intensity_3m",
    "oi_accel_15m",
    "oi_change_3m",
    "oi_slope_15m",
    "oi_slope_1h",
    "range_expansion_3m",
    "return_15m_atr",
    "return_3m_atr",
    "rs_vs_btc_1h",
    "sweep_score_3m",
)

FEATURE_KEYS_V1: Final[tuple[str, ...]] = FEATURE_KEYS_V1_CANONICAL + FEATURE_KEYS_V1_EXTENDED
_KEY_SET: Final = frozenset(FEATURE_KEYS_V1)

FEATURE_KEY_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "price": "price_last",
        "vwap": "vwap_3m",
        "atr": "atr_14",
        "atr_z": "atr_z_50",
        "cvd": "cvd_3m",
        "open_interest": "open_interest_latest",
    }
)


@dataclass(frozen=True, slots=True)
class FeatureSnapshot:
    """Features of one symbol at one engine timestamp: every key present, None when missing."""

    schema: str
    schema_version: str
    symbol: str
    engine_timestamp_ms: int
    features: Mapping[str, float | None]


def ordered_feature_items(features: Mapping[str, float | None]) -> tuple[tuple[str, float | None], ...]:
    """Feature items in lexicographic key order."""
    return tuple(sorted(features.items()))


def make_feature_snapshot(
    symbol: str, engine_timestamp_ms: int, values: Mapping[str, float | None]
) -> FeatureSnapshot:
    """Build a snapshot from a complete key -> value map (keys sorted, mapping read-only)."""
    if values.keys() != _KEY_SET:
        raise ValueError("feature key set mismatch")
    for key, value in values.items():
        if value is not None and not (type(value) is float and math.isfinite(value)):
            raise ValueError(f"feature {key} is not a finite float")
    ordered = {key: values[key] for key in sorted(values)}
    return FeatureSnapshot("feature_snapshot", "1", symbol, engine_timestamp_ms, MappingProxyType(ordered))


def feature_value(features: Mapping[str, float | None], key: str) -> float | None:
    """Alias-aware lookup: the key, else its canonical key, else any alias of it; first non-None."""
    value = features.get(key)
    if value is not None:
        return value
    canonical = FEATURE_KEY_ALIASES.get(key)
    if canonical is not None:
        value = features.get(canonical)
        if value is not None:
            return value
    for alias, target in FEATURE_KEY_ALIASES.items():
        if target == key:
            value = features.get(alias)
            if value is not None:
                return value
    return None


def feature_snapshot_to_dict(snapshot: FeatureSnapshot) -> dict[str, Any]:
    """JSON-ready form with sorted feature keys."""
    return {
        "schema": snapshot.schema,
        "schema_version": snapshot.schema_version,
        "symbol": snapshot.symbol,
        "engine_timestamp_ms": snapshot.engine_timestamp_ms,
        "features": dict(ordered_feature_items(snapshot.features)),
    }
