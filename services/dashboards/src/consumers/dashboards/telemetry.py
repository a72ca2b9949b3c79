"""Per-stream ingest telemetry, staleness against real time thresholds, and the system section.

Time enters only as numbers handed in: the record time of each ingested event (the topic's record
timestamp, or the engine timestamp when the caller has none) and `as_of_ts_ms` at build time. The
builder stays a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from consumers.dashboards import contracts as c

STREAM_ORCHESTRATOR: Final = "orchestrator_event"
STREAM_STATE_GATE: Final = "state_gate_event"
STREAM_ANALYSIS: Final = "analysis_engine_event"
STREAM_MARKET: Final = "raw_market_event"
# The three upstream streams of the DVM, and the component each one stands for.
CORE_STREAMS: Final[Mapping[str, str]] = {
    STREAM_ORCHESTRATOR: c.COMPONENT_ORCHESTRATOR,
    STREAM_STATE_GATE: c.COMPONENT_STATE_GATE,
    STREAM_ANALYSIS: c.COMPONENT_ANALYSIS_ENGINE,
}
MISSING_REASON: Final[Mapping[str, str]] = {
    STREAM_ORCHESTRATOR: c.STALE_MISSING_ORCHESTRATOR,
    STREAM_STATE_GATE: c.STALE_MISSING_STATE_GATE,
    STREAM_ANALYSIS: c.STALE_MISSING_ANALYSIS,
}
# Additive time-based reason codes.
STALE_REASON: Final[Mapping[str, str]] = {
    STREAM_ORCHESTRATOR: "orchestrator_events_stale",
    STREAM_STATE_GATE: "state_gate_events_stale",
    STREAM_ANALYSIS: "analysis_engine_events_stale",
}
DETAIL_STALE: Final = "stale"
DETAIL_CATCHING_UP: Final = "catching_up"
DETAIL_FAILURE_PREFIX: Final = "ingest_failure:"
_DETAIL_MAX: Final = 200


@dataclass(slots=True)
class StreamState:
    """What one input stream has delivered so far."""

    stream: str
    events: int = 0
    last_event_ts_ms: int | None = None
    last_record_ts_ms: int | None = None
    lag_records: int | None = None
    caught_up: bool | None = None
    failing: bool = False
    failures: int = 0
    last_failure_kind: str | None = None
    last_failure_detail: str | None = None

    def accepted(self, engine_ts_ms: int | None, record_ts_ms: int | None, count: bool = True) -> None:
        """A valid event: stamps advance (never back) and a failing stream has recovered."""
        self.events += int(count)
        if engine_ts_ms is not None and (
            self.last_event_ts_ms is None or engine_ts_ms > self.last_event_ts_ms
        ):
            self.last_event_ts_ms = engine_ts_ms
        seen = record_ts_ms if record_ts_ms is not None else engine_ts_ms
        if seen is not None and (self.last_record_ts_ms is None or seen > self.last_record_ts_ms):
            self.last_record_ts_ms = seen
        self.failing = False

    def seen(self, count: int, record_ts_ms: int | None) -> None:
        """Records counted without being decoded (their failures, if any, are not known)."""
        self.events += count
        if record_ts_ms is not None and (
            self.last_record_ts_ms is None or record_ts_ms > self.last_record_ts_ms
        ):
            self.last_record_ts_ms = record_ts_ms

    def failed(self, kind: str, detail: str) -> None:
        """An event that could not be used; the stream shows failing until its next valid event."""
        self.failures += 1
        self.failing = True
        self.last_failure_kind = kind
        self.last_failure_detail = detail[:_DETAIL_MAX]

    def telemetry(self, as_of_ts_ms: int, stale_after_ms: int | None, core: bool) -> c.StreamTelemetry:
        """This stream's DVM entry at `as_of_ts_ms`."""
        age = None if self.last_record_ts_ms is None else max(0, as_of_ts_ms - self.last_record_ts_ms)
        stale = age is not None and stale_after_ms is not None and age > stale_after_ms
        return c.StreamTelemetry(
            stream=self.stream,
            events_ingested=self.events,
            last_event_ts_ms=self.last_event_ts_ms,
            last_record_ts_ms=self.last_record_ts_ms,
            age_ms=age,
            stale_after_ms=stale_after_ms,
            is_stale=stale,
            lag_records=self.lag_records,
            caught_up=self.caught_up,
            failing=self.failing,
            failure_count=self.failures,
            last_failure_kind=self.last_failure_kind,
            last_failure_detail=self.last_failure_detail,
            counts_in_status=core,
        )


def _component(stream: c.StreamTelemetry, component_id: str) -> c.SystemComponentStatus:
    """A component is judged by its own stream only (one quiet stream does not degrade the others)."""
    if stream.events_ingested == 0 and not stream.failing:
        return c.SystemComponentStatus(component_id, c.STATUS_UNKNOWN, (c.DETAIL_NO_EVENTS,), None)
    details: list[str] = []
    if stream.failing and stream.last_failure_kind is not None:
        details.append(DETAIL_FAILURE_PREFIX + stream.last_failure_kind)
    if stream.is_stale:
        details.append(DETAIL_STALE)
    if stream.caught_up is False:
        details.append(DETAIL_CATCHING_UP)
    status = c.STATUS_DEGRADED if stream.failing or stream.is_stale else c.STATUS_OK
    return c.SystemComponentStatus(component_id, status, tuple(details), stream.last_record_ts_ms)


def stale_reasons(streams: Mapping[str, c.StreamTelemetry], symbols_seen: bool) -> tuple[str, ...]:
    """The view's stale reasons: streams never seen, streams gone quiet, failing streams, no symbols."""
    reasons: list[str] = []
    for name in CORE_STREAMS:
        stream = streams[name]
        if stream.events_ingested == 0:
            reasons.append(MISSING_REASON[name])
        elif stream.is_stale:
            reasons.append(STALE_REASON[name])
    if any(s.failing for s in streams.values() if s.counts_in_status):
        reasons.append(c.STALE_INGEST_FAILURE)
    if not symbols_seen:
        reasons.append(c.STALE_NO_SYMBOLS)
    return tuple(sorted(reasons))


def system_section(
    streams: Mapping[str, c.StreamTelemetry], staleness: c.TelemetryStaleness, as_of_ts_ms: int
) -> c.SystemSection:
    """Component per core stream plus the dashboard itself; UNKNOWN until any core stream delivered."""
    components = [_component(streams[s], comp) for s, comp in CORE_STREAMS.items()]
    dashboards = (
        c.SystemComponentStatus(
            c.COMPONENT_DASHBOARDS, c.STATUS_DEGRADED, staleness.stale_reasons, as_of_ts_ms
        )
        if staleness.is_stale
        else c.SystemComponentStatus(c.COMPONENT_DASHBOARDS, c.STATUS_OK, (), as_of_ts_ms)
    )
    components.append(dashboards)
    if all(streams[s].events_ingested == 0 for s in CORE_STREAMS):
        status = c.STATUS_UNKNOWN
    else:
        status = c.STATUS_DEGRADED if staleness.is_stale else c.STATUS_OK
    return c.SystemSection(status, tuple(components))
