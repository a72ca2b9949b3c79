"""Public entry points: compose() (cut only, seed parity), compose_with_history() and
compose_engine_input() (the orchestrator path: history + context -> features, evidence, snapshot)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from regime_engine.contracts.evidence import EvidenceSnapshot as EngineEvidenceSnapshot
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from xray_contracts.raw_market_event import RawMarketEvent

from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.context import EMPTY_CONTEXT, MarketContext
from composer.contracts.evidence import EvidenceSnapshot
from composer.contracts.feature_snapshot import FeatureSnapshot
from composer.evidence import compute_evidence_snapshot
from composer.features import compute_feature_snapshot, compute_history_feature_snapshot, structure_levels
from composer.history import SymbolHistory
from composer.legacy_snapshot import build_engine_snapshot
from composer.observers_v2 import compute_v2_evidence_snapshot


def compose(
    raw_events: Iterable[RawMarketEvent],
    *,
    symbol: str,
    engine_timestamp_ms: int,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> tuple[FeatureSnapshot, EvidenceSnapshot]:
    """Features and composer-local evidence from one cut alone (no history, no context)."""
    events = tuple(raw_events)
    features = compute_feature_snapshot(
        events, symbol=symbol, engine_timestamp_ms=engine_timestamp_ms, config=config
    )
    return features, compute_evidence_snapshot(features, config)


def compose_with_history(
    history: SymbolHistory,
    *,
    engine_timestamp_ms: int,
    context: MarketContext = EMPTY_CONTEXT,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> tuple[FeatureSnapshot, EvidenceSnapshot]:
    """Features and composer-local evidence from a history already updated to engine_timestamp_ms."""
    features = compute_history_feature_snapshot(history, engine_timestamp_ms, context=context, config=config)
    return features, compute_evidence_snapshot(features, config)


@dataclass(frozen=True, slots=True)
class ComposedInput:
    """Everything one orchestrator run needs: features, engine evidence and the engine snapshot."""

    features: FeatureSnapshot
    evidence: EngineEvidenceSnapshot
    snapshot: RegimeInputSnapshot


def compose_engine_input(
    history: SymbolHistory,
    *,
    engine_timestamp_ms: int,
    context: MarketContext = EMPTY_CONTEXT,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> ComposedInput:
    """One symbol-run: history features, v2 engine evidence, RegimeInputSnapshot with evidence embedded.

    `history` must already be updated to this run (history.update(cut, engine_timestamp_ms)); a
    SnapshotInputs event of that cut for this timestamp (kept by the history) is passed through.
    """
    features = compute_history_feature_snapshot(history, engine_timestamp_ms, context=context, config=config)
    evidence = compute_v2_evidence_snapshot(features, config)
    levels: Mapping[str, Any] = structure_levels(history, engine_timestamp_ms, config)
    inputs = history.snapshot_inputs if history.engine_timestamp_ms == engine_timestamp_ms else None
    snapshot = build_engine_snapshot(
        symbol=history.symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        feature_snapshot=features,
        evidence_snapshot=evidence,
        snapshot_inputs=inputs,
        structure_levels=levels,
        btc_regime=context.btc_regime,
        eth_regime=context.eth_regime,
    )
    return ComposedInput(features, evidence, snapshot)
