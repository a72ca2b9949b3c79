"""Builders for each orchestrator event type and a publisher that enforces per-symbol order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from xray_contracts import orchestrator_event as oe

from orchestrator.contracts import HysteresisState, OrchestratorEvent, OrchestratorPayload, RegimeOutput
from orchestrator.sequencing import SymbolSequencer

# error_detail is truncated: exception text can be long and must stay non-sensitive (fact sheet §12.6).
MAX_ERROR_DETAIL = 512


class EventSink(Protocol):
    """Where published events go (a Kafka transaction in the service, a list in tests)."""

    def write(self, event: OrchestratorEvent) -> None:
        """Accept one event."""


def _event(
    event_type: str,
    *,
    run_id: str,
    symbol: str,
    engine_timestamp_ms: int,
    cut_start_ingest_seq: int,
    cut_end_ingest_seq: int,
    cut_kind: str,
    engine_mode: str,
    attempt: int,
    counts_by_event_type: Mapping[str, int] | None,
    payload: OrchestratorPayload | None,
) -> OrchestratorEvent:
    return OrchestratorEvent(
        schema=oe.SCHEMA,
        schema_version=oe.SCHEMA_VERSION,
        event_type=event_type,
        run_id=run_id,
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        cut_start_ingest_seq=cut_start_ingest_seq,
        cut_end_ingest_seq=cut_end_ingest_seq,
        cut_kind=cut_kind,
        engine_mode=engine_mode,
        attempt=attempt,
        published_ts_ms=None,
        counts_by_event_type=dict(counts_by_event_type) if counts_by_event_type is not None else None,
        payload=payload,
    )


def build_engine_run_started(
    *,
    run_id: str,
    symbol: str,
    engine_timestamp_ms: int,
    cut_start_ingest_seq: int,
    cut_end_ingest_seq: int,
    cut_kind: str,
    engine_mode: str,
    attempt: int = 1,
) -> OrchestratorEvent:
    """EngineRunStarted: no payload, no counts."""
    return _event(
        oe.ENGINE_RUN_STARTED,
        run_id=run_id,
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        cut_start_ingest_seq=cut_start_ingest_seq,
        cut_end_ingest_seq=cut_end_ingest_seq,
        cut_kind=cut_kind,
        engine_mode=engine_mode,
        attempt=attempt,
        counts_by_event_type=None,
        payload=None,
    )


def build_engine_run_completed(
    *,
    run_id: str,
    symbol: str,
    engine_timestamp_ms: int,
    cut_start_ingest_seq: int,
    cut_end_ingest_seq: int,
    cut_kind: str,
    engine_mode: str,
    regime_output: RegimeOutput,
    counts_by_event_type: Mapping[str, int],
    hysteresis_state: HysteresisState | None = None,
    attempt: int = 1,
) -> OrchestratorEvent:
    """EngineRunCompleted: the regime output, plus the hysteresis state in hysteresis mode."""
    return _event(
        oe.ENGINE_RUN_COMPLETED,
        run_id=run_id,
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        cut_start_ingest_seq=cut_start_ingest_seq,
        cut_end_ingest_seq=cut_end_ingest_seq,
        cut_kind=cut_kind,
        engine_mode=engine_mode,
        attempt=attempt,
        counts_by_event_type=counts_by_event_type,
        payload=OrchestratorPayload(regime_output=regime_output, hysteresis_state=hysteresis_state),
    )


def build_hysteresis_state_published(
    *,
    run_id: str,
    symbol: str,
    engine_timestamp_ms: int,
    cut_start_ingest_seq: int,
    cut_end_ingest_seq: int,
    cut_kind: str,
    hysteresis_state: HysteresisState,
    counts_by_event_type: Mapping[str, int],
    regime_output: RegimeOutput | None = None,
    attempt: int = 1,
) -> OrchestratorEvent:
    """HysteresisStatePublished: always hysteresis mode; carries the regime output too when given."""
    return _event(
        oe.HYSTERESIS_STATE_PUBLISHED,
        run_id=run_id,
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        cut_start_ingest_seq=cut_start_ingest_seq,
        cut_end_ingest_seq=cut_end_ingest_seq,
        cut_kind=cut_kind,
        engine_mode="hysteresis",
        attempt=attempt,
        counts_by_event_type=counts_by_event_type,
        payload=OrchestratorPayload(regime_output=regime_output, hysteresis_state=hysteresis_state),
    )


def build_engine_run_failed(
    *,
    run_id: str,
    symbol: str,
    engine_timestamp_ms: int,
    cut_start_ingest_seq: int,
    cut_end_ingest_seq: int,
    cut_kind: str,
    engine_mode: str,
    error_kind: str,
    error_detail: str,
    counts_by_event_type: Mapping[str, int],
    attempt: int = 1,
) -> OrchestratorEvent:
    """EngineRunFailed: a stable error kind and a truncated detail."""
    return _event(
        oe.ENGINE_RUN_FAILED,
        run_id=run_id,
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        cut_start_ingest_seq=cut_start_ingest_seq,
        cut_end_ingest_seq=cut_end_ingest_seq,
        cut_kind=cut_kind,
        engine_mode=engine_mode,
        attempt=attempt,
        counts_by_event_type=counts_by_event_type,
        payload=OrchestratorPayload(error_kind=error_kind, error_detail=error_detail[:MAX_ERROR_DETAIL]),
    )


class OrchestratorEventPublisher:
    """Checks per-symbol engine-timestamp order, then hands the event to the sink."""

    def __init__(self, *, sink: EventSink, sequencer: SymbolSequencer) -> None:
        self._sink = sink
        self._sequencer = sequencer

    def publish(self, event: OrchestratorEvent) -> None:
        """Publish one event; an earlier engine timestamp than the symbol's last raises and writes nothing."""
        self._sequencer.check(event.symbol, event.engine_timestamp_ms)
        self._sink.write(event)
