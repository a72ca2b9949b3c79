"""DashboardBuilder: upstream events in, complete immutable DVM snapshots out.

The builder is the only code that knows upstream schemas. It is pure: no I/O, and time comes in as
numbers (record times per event, `as_of_ts_ms` per build; `time_fn` only supplies a default as_of).
Fixed inputs and config give identical snapshots, whatever order events of different runs arrive in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from consumers.dashboards import contracts as c
from consumers.dashboards.observability import (
    ERROR_INGEST,
    ERROR_INVALID_EVENT_TYPE,
    ERROR_INVALID_SCHEMA,
    LOG_INGEST_FAILURE,
    LOG_SNAPSHOT_PRODUCED,
    METRIC_BUILDER_LAG,
    METRIC_FAILURES,
    METRIC_SNAPSHOT_LATENCY,
    METRIC_SNAPSHOTS,
    Observability,
)
from consumers.dashboards.symbol_state import AnalysisWindow, Stamp, SymbolState, belief_map
from consumers.dashboards.telemetry import (
    CORE_STREAMS,
    STREAM_ANALYSIS,
    STREAM_MARKET,
    STREAM_ORCHESTRATOR,
    STREAM_STATE_GATE,
    StreamState,
    stale_reasons,
    system_section,
)
from xray_contracts import analysis_engine as ae
from xray_contracts import orchestrator_event as oe
from xray_contracts import state_gate as sg
from xray_contracts.raw_market_event import RawMarketEvent

EXPECTED_SCHEMAS: Final[Mapping[str, tuple[str, str]]] = {
    STREAM_ORCHESTRATOR: (oe.SCHEMA, oe.SCHEMA_VERSION),
    STREAM_STATE_GATE: (sg.SCHEMA, sg.SCHEMA_VERSION),
    STREAM_ANALYSIS: (ae.SCHEMA, ae.SCHEMA_VERSION),
    STREAM_MARKET: ("raw_market_event", "1"),
}
# Artifacts whose payload the dashboard reads a few named values from (by published artifact schema).
SCHEMA_ASSESSMENT: Final = "xray.evaluation.assessment"
SCHEMA_CROWDING: Final = "xray.detection.crowding"
SCHEMA_CASCADE: Final = "xray.detection.liquidation_cascade"
SCHEMA_DRIVERS: Final = "xray.signal.drivers"
PAYLOAD_NUMBERS: Final[Mapping[str, tuple[str, str]]] = {
    SCHEMA_CROWDING: ("score", "crowding_score"),
    SCHEMA_CASCADE: ("mass", "cascade_mass"),
    SCHEMA_DRIVERS: ("positioning_share", "positioning_share"),
}
# Price-bearing market event types and the normalized key that holds the price.
PRICE_KEYS: Final[Mapping[str, str]] = {"TradeTick": "price", "MarkPrice": "mark_price"}
DEFAULT_STALE_AFTER_MS: Final[Mapping[str, int]] = {
    # Every core stream carries at least one event per symbol per 180 s run: two runs of silence is stale.
    STREAM_ORCHESTRATOR: 360_000,
    STREAM_STATE_GATE: 360_000,
    STREAM_ANALYSIS: 360_000,
    # A live feed ticks every second; a minute of silence means the market data stopped.
    STREAM_MARKET: 60_000,
}


class IngestError(Exception):
    """An event the builder cannot use (the kind is its error_kind)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class BuilderConfig:
    """Thresholds and history bounds of the builder."""

    stale_after_ms: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_STALE_AFTER_MS))
    regime_history: int = 40
    price_history: int = 40
    price_bucket_ms: int = 30_000


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class DashboardBuilder:
    """Ingest orchestrator / state_gate / analysis_engine (and market) events; build DVM snapshots."""

    def __init__(
        self,
        *,
        time_fn: Callable[[], int] | None = None,
        observability: Observability | None = None,
        config: BuilderConfig | None = None,
    ) -> None:
        """All arguments optional: `time_fn` (epoch ms) defaults to the wall clock."""
        self._time_fn = time_fn or _wall_ms
        self._obs = observability or Observability()
        self.config = config or BuilderConfig()
        self._symbols: dict[str, SymbolState] = {}
        self._streams = {name: StreamState(name) for name in (*CORE_STREAMS, STREAM_MARKET)}
        self._source: Stamp | None = None
        self._prices: dict[str, dict[int, tuple[int, float]]] = {}
        self._last_logged_source: Stamp | None = None
        self._logged_once = False

    # --- ingest ---------------------------------------------------------------------------------

    def ingest_orchestrator_event(
        self, event: oe.OrchestratorEvent, *, record_ts_ms: int | None = None
    ) -> None:
        """One orchestrator_event (EngineRunStarted/Completed/Failed, HysteresisStatePublished)."""
        self._ingest(STREAM_ORCHESTRATOR, event, record_ts_ms, self._apply_orchestrator)

    def ingest_state_gate_event(self, event: sg.StateGateEvent, *, record_ts_ms: int | None = None) -> None:
        """One state_gate_event (GateEvaluated, StateReset, StateGateHalted)."""
        self._ingest(STREAM_STATE_GATE, event, record_ts_ms, self._apply_state_gate)

    def ingest_analysis_engine_event(
        self, event: ae.AnalysisEngineEvent, *, record_ts_ms: int | None = None
    ) -> None:
        """One analysis_engine_event (run lifecycle, artifacts, module failures)."""
        self._ingest(STREAM_ANALYSIS, event, record_ts_ms, self._apply_analysis)

    def ingest_market_event(
        self, event: RawMarketEvent, *, record_ts_ms: int | None = None, count: bool = True
    ) -> None:
        """A raw market event: trade and mark prices feed the price history; other types only count.

        `count=False`: the reader already counted this record (it re-offers the newest price per frame).
        """
        stream = self._streams[STREAM_MARKET]
        try:
            self._check_schema(STREAM_MARKET, event)
            key = PRICE_KEYS.get(event.event_type)
            price = _finite(event.normalized.get(key)) if key is not None else None
            if price is not None and price > 0:
                self._record_price(event.symbol, int(event.recv_ts_ms), price)
            stream.accepted(int(event.recv_ts_ms), record_ts_ms, count)
        except IngestError as error:
            self._failure(STREAM_MARKET, error.kind, str(error), event)
        except Exception as error:
            self._failure(STREAM_MARKET, ERROR_INGEST, f"{type(error).__name__}: {error}", event)

    def note_market_records(self, count: int, newest_record_ts_ms: int | None) -> None:
        """Market records the reader saw but did not decode (only one price per bucket is decoded)."""
        self._streams[STREAM_MARKET].seen(count, newest_record_ts_ms)

    def record_ingest_failure(self, stream: str, error_kind: str, error_detail: str) -> None:
        """A record of `stream` that never became an event (e.g. undecodable bytes)."""
        self._failure(stream, error_kind, error_detail, None)

    def observe_stream_position(
        self, stream: str, *, lag_records: int | None, caught_up: bool | None
    ) -> None:
        """Transport facts of a stream: records not yet consumed, and whether the reader is at the end."""
        state = self._streams.get(stream)
        if state is not None:
            state.lag_records = lag_records
            state.caught_up = caught_up

    def _check_schema(self, stream: str, event: Any) -> None:
        expected = EXPECTED_SCHEMAS[stream]
        got = (getattr(event, "schema", None), getattr(event, "schema_version", None))
        if got != expected:
            raise IngestError(
                ERROR_INVALID_SCHEMA, f"expected {expected[0]} v{expected[1]}, got {got[0]} v{got[1]}"
            )

    def _ingest(
        self,
        stream: str,
        event: Any,
        record_ts_ms: int | None,
        apply: Callable[[Any, SymbolState, Stamp], None],
    ) -> None:
        try:
            self._check_schema(stream, event)
            if stream == STREAM_ANALYSIS and event.event_type not in ae.EVENT_TYPES:
                raise IngestError(ERROR_INVALID_EVENT_TYPE, f"unknown event_type {event.event_type!r}")
            stamp: Stamp = (int(event.engine_timestamp_ms), str(event.run_id))
            symbol = str(event.symbol)
        except IngestError as error:
            self._failure(stream, error.kind, str(error), event)
            return
        except Exception as error:
            self._failure(stream, ERROR_INGEST, f"{type(error).__name__}: {error}", event)
            return
        try:
            state = self._symbols.get(symbol)
            if state is None:
                state = self._symbols[symbol] = SymbolState(symbol)
            seen = record_ts_ms if record_ts_ms is not None else stamp[0]
            state.touch(stamp, seen)
            apply(event, state, stamp)
            self._streams[stream].accepted(stamp[0], record_ts_ms)
        except Exception as error:  # partial updates stay, as with any at-least-once consumer
            self._failure(stream, ERROR_INGEST, f"{type(error).__name__}: {error}", event)

    def _failure(self, stream: str, kind: str, detail: str, event: Any) -> None:
        self._streams[stream].failed(kind, detail)
        self._obs.logger.error(
            LOG_INGEST_FAILURE,
            stream=stream,
            input_schema=getattr(event, "schema", None),
            input_event_type=getattr(event, "event_type", None),
            error_kind=kind,
            error_detail=detail[:200],
        )
        self._obs.metrics.increment(METRIC_FAILURES, tags={"component": "builder", "error_kind": kind})

    def _candidate(self, stamp: Stamp) -> None:
        """The global source pointer: greatest engine timestamp, then greatest run_id."""
        if self._source is None or stamp > self._source:
            self._source = stamp

    def _apply_orchestrator(self, event: oe.OrchestratorEvent, state: SymbolState, stamp: Stamp) -> None:
        payload = event.payload
        if payload is None:
            return
        output, hysteresis = payload.regime_output, payload.hysteresis_state
        if event.event_type == oe.ENGINE_RUN_COMPLETED and output is not None:
            self._candidate(stamp)
            state.apply_truth(stamp, output)
        elif event.event_type != oe.HYSTERESIS_STATE_PUBLISHED:
            return
        self._apply_engine_state(state, stamp, output, hysteresis)

    def _apply_engine_state(
        self,
        state: SymbolState,
        stamp: Stamp,
        output: oe.RegimeOutput | None,
        hysteresis: oe.HysteresisState | None,
    ) -> None:
        """Hysteresis, belief and the regime history point carried by an engine payload."""
        if hysteresis is not None:
            state.apply_hysteresis(stamp, hysteresis, output)
        belief = belief_map(hysteresis, output)
        if belief is not None:
            state.apply_belief(stamp, belief)
        committed = hysteresis.anchor_regime if hysteresis is not None else output.regime if output else None
        if committed is not None:
            confidence = float(output.confidence) if output is not None else None
            state.record_regime(stamp[0], committed, confidence, self.config.regime_history)

    def _apply_state_gate(self, event: sg.StateGateEvent, state: SymbolState, stamp: Stamp) -> None:
        self._candidate(stamp)
        state.apply_gate(stamp, event.gate_status, tuple(event.reasons))
        if event.event_type == sg.EVENT_STATE_RESET:
            state.apply_reset(stamp)
        payload = event.payload
        if not isinstance(payload, sg.GateEvaluatedPayload):
            return
        output, hysteresis = payload.regime_output, payload.hysteresis_state
        if output is not None:
            if event.engine_mode == sg.ENGINE_MODE_TRUTH:
                state.apply_effective(stamp, output, c.SOURCE_TRUTH)
            elif event.engine_mode == sg.ENGINE_MODE_HYSTERESIS and hysteresis is not None:
                state.apply_effective(stamp, output, c.SOURCE_HYSTERESIS)
        self._apply_engine_state(state, stamp, output, hysteresis)

    def _apply_analysis(self, event: ae.AnalysisEngineEvent, state: SymbolState, stamp: Stamp) -> None:
        self._candidate(stamp)
        window = state.analysis_window(stamp)
        if window is None:
            return
        payload = event.payload
        kind = event.event_type
        if kind == ae.EventType.ARTIFACT_EMITTED and isinstance(payload, ae.ArtifactEmittedPayload):
            window.highlights.add(f"artifact:{payload.module_id}:{payload.artifact_name}")
            window.artifacts[(payload.module_id, payload.artifact_name)] = c.AnalysisArtifactSummary(
                artifact_kind=payload.artifact_kind,
                module_id=payload.module_id,
                artifact_name=payload.artifact_name,
                artifact_schema=payload.artifact_schema,
                artifact_schema_version=payload.artifact_schema_version,
                summary=f"{payload.module_id}:{payload.artifact_name}",
            )
            self._read_artifact(window, payload)
        elif kind == ae.EventType.MODULE_FAILED and isinstance(payload, ae.ModuleFailedPayload):
            window.highlights.add(f"module_failed:{payload.module_id}")
        elif kind == ae.EventType.ANALYSIS_RUN_COMPLETED and isinstance(payload, ae.RunStatusPayload):
            window.highlights.add(f"run_completed:{payload.status.lower()}")
            window.highlights.update(f"module_failure:{m}" for m in payload.module_failures)
        elif kind == ae.EventType.ANALYSIS_RUN_SKIPPED:
            window.highlights.add("run_skipped")
        elif kind == ae.EventType.ANALYSIS_RUN_FAILED:
            window.highlights.add("run_failed")
        elif kind == ae.EventType.ANALYSIS_RUN_STARTED:
            window.highlights.add("run_started")

    def _read_artifact(self, window: AnalysisWindow, payload: ae.ArtifactEmittedPayload) -> None:
        """The few named values shown from known artifacts; a payload without them is simply not shown."""
        schema = payload.artifact_schema
        if schema != SCHEMA_ASSESSMENT and schema not in PAYLOAD_NUMBERS:
            return
        try:
            body = orjson.loads(payload.payload_json)
        except orjson.JSONDecodeError:
            return
        if not isinstance(body, dict):
            return
        if schema == SCHEMA_ASSESSMENT:
            summary = body.get("summary")
            if isinstance(summary, str):
                stance, bias, actionable = body.get("stance"), body.get("bias"), body.get("actionable")
                window.assessment = c.AnalysisAssessment(
                    summary,
                    stance if isinstance(stance, str) else None,
                    bias if isinstance(bias, str) else None,
                    actionable if isinstance(actionable, bool) else None,
                )
            return
        key, metric = PAYLOAD_NUMBERS[schema]
        number = _finite(body.get(key))
        if number is not None:
            window.numbers[metric] = number

    def _record_price(self, symbol: str, ts_ms: int, price: float) -> None:
        """Keep the newest price of each time bucket, for the newest `price_history` buckets."""
        buckets = self._prices.setdefault(symbol, {})
        bucket = ts_ms - ts_ms % self.config.price_bucket_ms
        held = buckets.get(bucket)
        if held is not None:
            if ts_ms >= held[0]:
                buckets[bucket] = (ts_ms, price)
            return
        if len(buckets) >= self.config.price_history:
            oldest = min(buckets)
            if bucket < oldest:
                return
            del buckets[oldest]
        buckets[bucket] = (ts_ms, price)

    # --- snapshot -------------------------------------------------------------------------------

    def _metrics(self, state: SymbolState, prices: tuple[c.PricePoint, ...]) -> c.MetricsSnapshot | None:
        values: dict[str, float | None] = {}
        if state.analysis is not None:
            values.update(state.analysis.numbers)
        if prices:
            first, last = prices[0].price, prices[-1].price
            low, high = min(p.price for p in prices), max(p.price for p in prices)
            values["price_last"] = last
            values["price_change_pct"] = (last - first) / first * 100.0
            values["range_session_pct"] = (high - low) / low * 100.0
        metrics = c.MetricsSnapshot(**values)
        return None if metrics.is_empty() else metrics

    def _symbol_snapshot(self, state: SymbolState) -> c.SymbolSnapshot:
        prices = tuple(
            c.PricePoint(ts, price) for ts, price in sorted(self._prices.get(state.symbol, {}).values())
        )
        history = c.SymbolHistory(tuple(state.regimes.values()), prices)
        run = state.run_stamp
        return c.SymbolSnapshot(
            symbol=state.symbol,
            last_run_id=run[1] if run else None,
            last_engine_timestamp_ms=run[0] if run else None,
            gate=state.gate,
            regime_truth=state.truth,
            hysteresis=state.hysteresis_section(),
            regime_effective=state.effective,
            analysis=state.analysis_section(),
            metrics=self._metrics(state, prices),
            belief=state.belief_section(),
            history=history,
            last_update_ts_ms=state.last_update_ts_ms,
        )

    def build_snapshot(self, *, as_of_ts_ms: int | None = None) -> c.DashboardViewModel:
        """A complete, immutable DVM of everything ingested so far."""
        started = time.perf_counter()
        as_of = int(as_of_ts_ms) if as_of_ts_ms is not None else int(self._time_fn())
        limits = self.config.stale_after_ms
        streams = {
            name: s.telemetry(as_of, limits.get(name), name in CORE_STREAMS)
            for name, s in self._streams.items()
        }
        if streams[STREAM_MARKET].events_ingested == 0 and not streams[STREAM_MARKET].failing:
            del streams[STREAM_MARKET]  # no market feed configured or seen: not part of the view
        reasons = stale_reasons(streams, bool(self._symbols))
        staleness = c.TelemetryStaleness(bool(reasons), reasons)
        ingest = c.TelemetryIngest(
            streams[STREAM_ORCHESTRATOR].last_event_ts_ms,
            streams[STREAM_STATE_GATE].last_event_ts_ms,
            streams[STREAM_ANALYSIS].last_event_ts_ms,
        )
        telemetry = c.TelemetrySection(ingest, staleness, tuple(streams.values()))
        source = self._source
        dvm = c.DashboardViewModel(
            dvm_schema=c.DVM_SCHEMA,
            dvm_schema_version=c.DVM_SCHEMA_VERSION,
            as_of_ts_ms=as_of,
            source_run_id=source[1] if source else None,
            source_engine_timestamp_ms=source[0] if source else None,
            system=system_section(streams, staleness, as_of),
            symbols=tuple(self._symbol_snapshot(s) for s in self._symbols.values()),
            telemetry=telemetry,
        )
        self._observe_build(dvm, (time.perf_counter() - started) * 1000.0)
        return dvm

    def _observe_build(self, dvm: c.DashboardViewModel, latency_ms: float) -> None:
        metrics = self._obs.metrics
        metrics.increment(METRIC_SNAPSHOTS)
        metrics.observe(METRIC_SNAPSHOT_LATENCY, latency_ms)
        ingest = dvm.telemetry.ingest
        stamps = [
            s
            for s in (
                ingest.last_orchestrator_event_ts_ms,
                ingest.last_state_gate_event_ts_ms,
                ingest.last_analysis_engine_event_ts_ms,
            )
            if s is not None
        ]
        if stamps:
            metrics.gauge(METRIC_BUILDER_LAG, float(max(0, dvm.as_of_ts_ms - max(stamps))))
        # The INFO line only when the source moved (a steady refresh would otherwise log every frame).
        if not self._logged_once or self._source != self._last_logged_source:
            self._logged_once = True
            self._last_logged_source = self._source
            self._obs.logger.info(
                LOG_SNAPSHOT_PRODUCED,
                dvm_schema=dvm.dvm_schema,
                dvm_schema_version=dvm.dvm_schema_version,
                as_of_ts_ms=dvm.as_of_ts_ms,
                source_run_id=dvm.source_run_id,
                source_engine_timestamp_ms=dvm.source_engine_timestamp_ms,
                production_latency_ms=round(latency_ms, 3),
                symbols=len(dvm.symbols),
            )
