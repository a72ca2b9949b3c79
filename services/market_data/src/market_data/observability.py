"""Structured logs and metrics of the layer behind two small protocols, with null and real bindings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

from market_data.contracts import RawMarketEvent

DEBUG: Final = logging.DEBUG
INFO: Final = logging.INFO
WARNING: Final = logging.WARNING

EVENTS_COUNT: Final = "market_data.events.count"
DECODE_FAILURES_COUNT: Final = "market_data.decode_failures.count"
LATENCY_MS: Final = "market_data.exchange_to_recv.latency_ms"
BACKPRESSURE_COUNT: Final = "market_data.backpressure.count"
BACKPRESSURE_BLOCKED_MS: Final = "market_data.backpressure.blocked_ms"
TRANSPORT_STATE: Final = "market_data.transport.state"
RECONNECTS: Final = "market_data.transport.reconnects"
PRODUCER_QUEUE_DEPTH: Final = "market_data.producer.queue_depth"
DELIVERY_FAILURES: Final = "market_data.producer.delivery_failures"
FRAMES_COUNT: Final = "market_data.frames.count"


class Logger(Protocol):
    """Structured logger: one message name plus fields."""

    def log(self, level: int, message: str, fields: Mapping[str, Any]) -> None:
        """Write one structured record."""
        ...


class Metrics(Protocol):
    """Metric recorder: counters, distributions and gauges with string tags."""

    def increment(self, name: str, value: float = 1, tags: Mapping[str, str] | None = None) -> None:
        """Add `value` to a counter."""
        ...

    def observe(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record one sample of a distribution."""
        ...

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Set a gauge."""
        ...


class NullLogger:
    """Discards every record."""

    def is_enabled(self, level: int) -> bool:
        """Nothing is ever written."""
        return False

    def log(self, level: int, message: str, fields: Mapping[str, Any]) -> None:
        """Do nothing."""


class NullMetrics:
    """Discards every sample."""

    def increment(self, name: str, value: float = 1, tags: Mapping[str, str] | None = None) -> None:
        """Do nothing."""

    def observe(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Do nothing."""

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Do nothing."""


class StdlibLogger:
    """Binds the Logger protocol to a stdlib logger; fields travel in `extra={"fields": ...}`."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("market_data")

    def is_enabled(self, level: int) -> bool:
        """Whether records of this level would be written now."""
        return self._logger.isEnabledFor(level)

    def log(self, level: int, message: str, fields: Mapping[str, Any]) -> None:
        """Write one record if the level is enabled."""
        if self._logger.isEnabledFor(level):
            self._logger.log(level, message, extra={"fields": dict(fields)})


class EventTally:
    """Accepted records of one (source_id, event_type, symbol) not yet added to the metrics.

    The frame path appends one latency per record (a list append, not two metric updates); `fold`
    adds the count and the latency histogram in bulk. Appends and folds happen on the ingest thread.
    """

    __slots__ = ("_count", "_observe_many", "latencies", "latency")

    def __init__(
        self, count: Callable[[float], None], observe_many: Callable[[Sequence[float]], None]
    ) -> None:
        self.latencies: list[int] = []
        self.latency: Callable[[int], None] = self.latencies.append
        self._count = count
        self._observe_many = observe_many

    def fold(self) -> None:
        """Move what was appended into the metrics."""
        latencies = self.latencies
        if latencies:
            self._count(len(latencies))
            self._observe_many(latencies)
            latencies.clear()  # clear, not rebind: `latency` stays bound to this list


class Observability:
    """The layer's logging and metric calls, each with the fact sheet's names and tags."""

    def __init__(self, logger: Logger, metrics: Metrics) -> None:
        self.logger = logger
        self.metrics = metrics
        # Per-event DEBUG lines cost a dict each: skip building them when the logger would drop them.
        enabled = getattr(logger, "is_enabled", None)
        self._log_events = bool(enabled(DEBUG)) if callable(enabled) else True
        self._recorders: dict[
            tuple[str, str, str], tuple[Callable[[float], None], Callable[[float], None]]
        ] = {}
        self._tallies: dict[tuple[str, str, str], EventTally] = {}

    @property
    def logs_events(self) -> bool:
        """Whether every accepted event is logged (DEBUG): then only whole events are published."""
        return self._log_events

    def event_tally(self, source_id: str, event_type: str, symbol: str) -> EventTally:
        """The bulk recorder of accepted records of one series (same metrics as `record_event`)."""
        key = (source_id, event_type, symbol)
        tally = self._tallies.get(key)
        if tally is None:
            count, observe = self._recorders.get(key) or self._recorders_for(key)
            many = getattr(self.metrics, "bound_histogram_many", None)
            if callable(many):
                tags = {"source_id": source_id, "event_type": event_type, "symbol": symbol}
                observe_many: Callable[[Sequence[float]], None] = many(LATENCY_MS, tags)
            else:

                def observe_many(values: Sequence[float]) -> None:
                    for value in values:
                        observe(value)

            tally = EventTally(count, observe_many)
            if len(self._tallies) < 10_000:
                self._tallies[key] = tally
        return tally

    def fold(self) -> None:
        """Add every tally's pending records to the metrics."""
        for tally in self._tallies.values():
            tally.fold()

    def _recorders_for(
        self, key: tuple[str, str, str]
    ) -> tuple[Callable[[float], None], Callable[[float], None]]:
        """(count, observe latency) for one (source_id, event_type, symbol), bound once."""
        tags = {"source_id": key[0], "event_type": key[1], "symbol": key[2]}
        metrics = self.metrics
        bound_counter = getattr(metrics, "bound_counter", None)
        bound_histogram = getattr(metrics, "bound_histogram", None)
        if callable(bound_counter) and callable(bound_histogram):
            recorders = (bound_counter(EVENTS_COUNT, tags), bound_histogram(LATENCY_MS, tags))
        else:
            recorders = (
                lambda value: metrics.increment(EVENTS_COUNT, value, tags),
                lambda value: metrics.observe(LATENCY_MS, value, tags),
            )
        if len(self._recorders) < 10_000:
            self._recorders[key] = recorders
        return recorders

    def record_event(self, event: RawMarketEvent) -> None:
        """Count and log one accepted event (success or DecodeFailure)."""
        if event.event_type != "DecodeFailure":
            key = (event.source_id, event.event_type, event.symbol)
            recorders = self._recorders.get(key) or self._recorders_for(key)
            recorders[0](1)
            ts = event.exchange_ts_ms
            if ts is not None:
                recorders[1](event.recv_ts_ms - ts)
            if self._log_events:
                self.logger.log(
                    DEBUG,
                    "market_data.event",
                    {
                        "source_id": event.source_id,
                        "symbol": event.symbol,
                        "event_type": event.event_type,
                        "exchange_ts_ms": ts,
                        "recv_ts_ms": event.recv_ts_ms,
                    },
                )
            return
        fields: dict[str, Any] = {
            "source_id": event.source_id,
            "symbol": event.symbol,
            "event_type": event.event_type,
            "exchange_ts_ms": event.exchange_ts_ms,
            "recv_ts_ms": event.recv_ts_ms,
        }
        kind = str(event.normalized.get("error_kind"))
        self.metrics.increment(DECODE_FAILURES_COUNT, 1, {"source_id": event.source_id, "error_kind": kind})
        fields["error_kind"] = kind
        fields["error_detail"] = event.normalized.get("error_detail")
        fields["channel"] = event.channel
        self.logger.log(WARNING, "market_data.decode_failure", fields)

    def record_backpressure(self, source_id: str, blocked_ms: int, *, refused: bool) -> None:
        """Count one backpressure episode (a refusal, or a successful write that had to wait)."""
        tags = {"source_id": source_id}
        self.metrics.increment(BACKPRESSURE_COUNT, 1, tags)
        self.metrics.observe(BACKPRESSURE_BLOCKED_MS, blocked_ms, tags)
        if refused:
            self.logger.log(
                WARNING, "market_data.backpressure", {"source_id": source_id, "blocked_ms": blocked_ms}
            )

    def record_transport_state(
        self,
        *,
        source_id: str,
        channel: str,
        symbol: str,
        state: str,
        reconnect_count: int | None = None,
        error_detail: str | None = None,
    ) -> None:
        """Log a transport state change; `connected` also sets the state gauge."""
        fields: dict[str, Any] = {
            "source_id": source_id,
            "symbol": symbol,
            "channel": channel,
            "state": state,
        }
        if reconnect_count is not None:
            fields["reconnect_count"] = reconnect_count
        if error_detail is not None:
            fields["error_detail"] = error_detail
        level = INFO if state in ("connecting", "connected") else WARNING
        self.logger.log(level, "market_data.transport_state", fields)
        tags = {"source_id": source_id, "channel": channel, "symbol": symbol}
        self.metrics.gauge(TRANSPORT_STATE, 1.0 if state == "connected" else 0.0, tags)

    def record_reconnect(self, *, source_id: str, channel: str, symbol: str) -> None:
        """Count one reconnect (a connection opened after a failure or a planned cut)."""
        self.metrics.increment(RECONNECTS, 1, {"source_id": source_id, "channel": channel, "symbol": symbol})

    def record_frame(self, source_id: str, channel: str) -> None:
        """Count one received frame or HTTP body."""
        self.metrics.increment(FRAMES_COUNT, 1, {"source_id": source_id, "channel": channel})
