"""FeatureSnapshot builders: from one cut (original semantics) and from a SymbolHistory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xray_contracts.raw_market_event import RawMarketEvent

from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.context import EMPTY_CONTEXT, MarketContext
from composer.contracts.feature_snapshot import FeatureSnapshot, make_feature_snapshot
from composer.cut_features import canonical_cut_features
from composer.history import SymbolHistory
from composer.history_features import history_features


def compute_feature_snapshot(
    raw_events: Iterable[RawMarketEvent],
    *,
    symbol: str,
    engine_timestamp_ms: int,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> FeatureSnapshot:
    """Cut-only features: the 7 canonical keys exactly as the original; extended keys from a
    history built from this cut alone (so history-hungry keys are None)."""
    events = tuple(raw_events)
    history = SymbolHistory.empty(symbol, config).update(events, engine_timestamp_ms)
    values = history_features(history, engine_timestamp_ms, config, EMPTY_CONTEXT)
    values.update(canonical_cut_features(events, symbol, engine_timestamp_ms, config))
    return make_feature_snapshot(symbol, engine_timestamp_ms, values)


def compute_history_feature_snapshot(
    history: SymbolHistory,
    engine_timestamp_ms: int,
    *,
    context: MarketContext = EMPTY_CONTEXT,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> FeatureSnapshot:
    """Every feature key from the bar history (half-open windows ending at engine_timestamp_ms)."""
    values = history_features(history, engine_timestamp_ms, config, context)
    return make_feature_snapshot(history.symbol, engine_timestamp_ms, values)


def structure_levels(
    history: SymbolHistory, engine_timestamp_ms: int, config: ComposerConfig
) -> dict[str, Any]:
    """Reference levels for the snapshot's structure_levels bag (keys only when computable)."""
    w = history.window_ms
    complete = [b for b in history.bars if b.trade_count and b.start_ms + w <= engine_timestamp_ms]
    ref = complete[-(config.sweep_reference_bars + 1) : -1]
    out: dict[str, Any] = {}
    if len(ref) == config.sweep_reference_bars:
        out["range_high_30m"] = max(b.high for b in ref)
        out["range_low_30m"] = min(b.low for b in ref)
    recent = complete[-config.structure_bars :]
    volume = sum(b.volume for b in recent)
    if recent and volume > 0.0:
        out["vwap_15m"] = sum(b.notional for b in recent) / volume
    return out
