"""The orchestrator service on the exactly-once runtime: raw_market_event in, engine runs out.

Per input partition one `PartitionState` (planner, histories, hysteresis states). A record that closes a
boundary runs every known symbol of the partition for it; the run-log records, the orchestrator events,
the hysteresis store records and the partition's cursor are produced in the batch's transaction, and the
runtime commits them with the input offset `commit_offset()` (the open window's first record), so a
restart re-reads exactly the window still open and never runs a closed boundary twice.

State is restored for exactly the assigned partitions: the cursor and the hysteresis states from their
compacted topics (by the runtime), the composer histories from the raw topic (here, in `on_assigned`).

Undecodable input records are dead-lettered here rather than by the runtime: a restart (or a partition
moving to another instance) re-reads the open window, and a record of it that an earlier owner already
dead-lettered must not go to the DLQ twice. On assignment the committed DLQ records of the partition name
those offsets (`dead_lettered_offsets`); each dead letter goes to the DLQ partition of its input partition.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from composer.history import FOLDED_EVENT_TYPES
from prometheus_client import Counter
from regime_engine.wire import state_from_store_record
from xray_contracts import catalogue
from xray_contracts.codec import HEADER_EVENT_TYPE, CodecSet, ContractCodec, codecs_for_registry
from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.orchestrator_cursor import OrchestratorCursor
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.run_log import EngineRunRecord
from xray_runtime.config import load_settings
from xray_runtime.context import Context, HeaderList, Record
from xray_runtime.dlq import H_SOURCE_OFFSET, H_SOURCE_PARTITION, H_SOURCE_TOPIC, dlq_headers
from xray_runtime.logs import get_logger, setup_logging
from xray_runtime.metrics import RuntimeMetrics
from xray_runtime.processor import InputTopic, Processor
from xray_runtime.reader import OffsetRange, PartitionReader
from xray_runtime.state import StoreSpec

from orchestrator.partition import CountedEvent, PartitionState, history_range, rebuild_histories
from orchestrator.runs import BoundaryRunner, Engine, Output
from orchestrator.settings import SERVICE, OrchestratorSettings

HYSTERESIS_STORE: Final = "hysteresis"
CURSOR_STORE: Final = "cursor"

_log = get_logger("orchestrator.service")


def wall_clock_ms() -> int:
    """Operational timestamps only (published/started/completed); never a cut decision."""
    return time.time_ns() // 1_000_000


def _sleep_ms(ms: int) -> None:
    time.sleep(ms / 1000.0)


def cursor_key(partition: int) -> str:
    """The cursor's key in its compacted topic (one cursor per input partition)."""
    return str(partition)


@dataclass(frozen=True, slots=True)
class Undecodable:
    """An input record the raw codec rejected: the handler dead-letters it (once)."""

    error: Exception


# What the handler gets per raw record: a folded type in full, another type counted only, or garbage.
Input = RawMarketEvent | CountedEvent | Undecodable


def dead_lettered_offsets(
    headers: Iterable[HeaderList], input_topic: str, committed: Mapping[int, int]
) -> dict[int, set[int]]:
    """From DLQ records' headers: per input partition, the offsets at or after its committed offset that
    are already dead-lettered (a restart re-reads them: they must not be dead-lettered again)."""
    found: dict[int, set[int]] = {p: set() for p in committed}
    for record_headers in headers:
        values = {k: v for k, v in record_headers}
        source, partition, offset = (
            values.get(h) for h in (H_SOURCE_TOPIC, H_SOURCE_PARTITION, H_SOURCE_OFFSET)
        )
        if source is None or partition is None or offset is None:
            continue
        if (source.encode() if isinstance(source, str) else source) != input_topic.encode():
            continue
        try:
            p, o = int(partition), int(offset)
        except ValueError:
            continue
        if p in committed and o >= committed[p]:
            found[p].add(o)
    return found


class OrchestratorService:
    """Builds the runtime processor and keeps the per-partition state between its hooks."""

    def __init__(
        self,
        settings: OrchestratorSettings,
        codecs: CodecSet | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        engine: Engine | None = None,
    ) -> None:
        """Resolve topics and codecs; call `processor()` to run."""
        self.settings = settings
        self.config = settings.orchestrator
        self.run_settings = settings.run_settings()
        self.interval_ms = self.config.scheduler.boundary_interval_ms
        self.clock = clock
        self.runner = BoundaryRunner(self.run_settings, clock, _sleep_ms, engine)
        codecs = codecs or codecs_for_registry(settings.schema_registry_url)
        self._raw: ContractCodec[RawMarketEvent] = codecs.for_type(RawMarketEvent)
        self._event: ContractCodec[OrchestratorEvent] = codecs.for_type(OrchestratorEvent)
        self._run_log: ContractCodec[EngineRunRecord] = codecs.for_type(EngineRunRecord)
        self._store_codec: ContractCodec[HysteresisStoreRecord] = codecs.for_type(HysteresisStoreRecord)
        self._cursor_codec: ContractCodec[OrchestratorCursor] = codecs.for_type(OrchestratorCursor)
        ns = settings.namespace
        self.input_topic = catalogue.RAW_MARKET_EVENT.topic(ns)
        self.dlq_topic = catalogue.dlq_spec(SERVICE).topic(ns)
        self.event_topic = catalogue.ORCHESTRATOR_EVENT.topic(ns)
        self.run_log_topic = catalogue.ORCHESTRATOR_RUN_LOG.topic(ns)
        self.partitions: dict[int, PartitionState] = {}
        # Per input partition: offsets in the re-read open window that an earlier owner dead-lettered.
        self._dead_lettered: dict[int, set[int]] = {}
        self.runtime_metrics = RuntimeMetrics()
        registry = self.runtime_metrics.registry
        self.runs = Counter(
            "xray_orchestrator_runs", "Engine runs by outcome", ["outcome"], registry=registry
        )
        self.boundaries = Counter(
            "xray_orchestrator_boundaries", "Boundaries closed by how", ["how"], registry=registry
        )
        self._processor: Processor[Input] | None = None

    def processor(self) -> Processor[Input]:
        """The runtime processor: one input, two compacted stores, live close on punctuate."""
        stores: list[StoreSpec[Any]] = [
            StoreSpec(
                name=HYSTERESIS_STORE,
                topic=catalogue.ORCHESTRATOR_HYSTERESIS_STATE,
                encode=self._store_codec.encode,
                decode=self._store_codec.decode,
                restore_merge=_latest_state,
            ),
            StoreSpec(
                name=CURSOR_STORE,
                topic=catalogue.ORCHESTRATOR_CURSOR,
                encode=self._cursor_codec.encode,
                decode=self._cursor_codec.decode,
            ),
        ]
        scheduler = self.config.scheduler
        self._processor = Processor(
            service=SERVICE,
            settings=self.settings,
            inputs=[InputTopic(catalogue.RAW_MARKET_EVENT, self._decode)],
            handler=self._handle,
            stores=stores,
            on_assigned=self._on_assigned,
            on_revoked=self._on_revoked,
            punctuate=self._punctuate if scheduler.live_close else None,
            commit_positions=self._commit_positions,
            metrics=self.runtime_metrics,
        )
        return self._processor

    # ------------------------------------------------------------------ records

    def _decode(self, data: bytes) -> Input:
        """Every record is read and checked in full (a malformed one of any type is dead-lettered); only
        the types the composer folds become a `RawMarketEvent`, the rest keep the three fields planning
        reads (building the full event is most of the decode cost, and most records are book/mark)."""
        raw = self._raw
        try:
            datum = raw.decode_datum(data)
            event_type = datum["event_type"]
            if event_type in FOLDED_EVENT_TYPES:
                return raw.from_datum(datum)
            return CountedEvent(event_type, datum["symbol"], datum["recv_ts_ms"])
        except Exception as error:
            if self.settings.processing.decode_error_policy == "fail":
                raise  # the runtime stops the service
            return Undecodable(error)

    def _handle(self, record: Record[Input], ctx: Context) -> None:
        value = record.value
        if isinstance(value, Undecodable):
            self._dead_letter(record, value.error, ctx)
            return
        state = self.partitions[record.partition]
        outputs = state.add(record.offset, value)
        if outputs:
            self.boundaries.labels("event_time").inc()
            self._publish(state, outputs, ctx)

    def _dead_letter(self, record: Record[Any], error: Exception, ctx: Context) -> None:
        """The record, its key and headers plus provenance to the DLQ, unless an earlier owner did."""
        p, offset = record.partition, record.offset
        done = self._dead_lettered.get(p)
        if done is not None and offset in done:
            done.discard(offset)
            _log.info("dead_letter_already_written", topic=record.topic, partition=p, offset=offset)
            return
        headers = dlq_headers(SERVICE, record.topic, p, offset, error=error, original=record.headers)
        ctx.emit(self.dlq_topic, record.key, record.raw_value, headers, partition=p)
        self.runtime_metrics.dlq_records.labels(record.topic).inc()
        _log.warning(
            "record_dead_lettered",
            topic=record.topic,
            partition=p,
            offset=offset,
            error_class=type(error).__name__,
        )

    def _publish(self, state: PartitionState, outputs: Sequence[Output], ctx: Context) -> None:
        p = state.partition
        hysteresis = ctx.store(HYSTERESIS_STORE, p)
        for out in outputs:
            value = out.value
            if out.kind == "event":
                assert isinstance(value, OrchestratorEvent)
                headers = [*self._event.headers(value), ("run_id", value.run_id.encode())]
                ctx.emit(self.event_topic, out.symbol, self._event.encode(value), headers, partition=p)
                if value.event_type == "EngineRunCompleted":
                    self.runs.labels("completed").inc()
                elif value.event_type == "EngineRunFailed":
                    self.runs.labels("failed").inc()
                    _log.warning(
                        "orchestrator.failure",
                        run_id=value.run_id,
                        symbol=value.symbol,
                        engine_timestamp_ms=value.engine_timestamp_ms,
                        error_kind=value.payload.error_kind if value.payload else None,
                    )
            elif out.kind == "run_log":
                assert isinstance(value, EngineRunRecord)
                headers = [*self._run_log.headers(value), ("run_id", value.run_id.encode())]
                ctx.emit(self.run_log_topic, out.symbol, self._run_log.encode(value), headers, partition=p)
            else:
                assert isinstance(value, HysteresisStoreRecord)
                hysteresis.put(out.symbol, value)
        if state.cursor_changed:
            ctx.store(CURSOR_STORE, p).put(cursor_key(p), state.cursor_record())
            state.cursor_changed = False

    def _punctuate(self, now_ms: int, ctx: Context) -> None:
        """Live close: a quiet partition at the log end closes boundaries the wall clock has passed."""
        scheduler = self.config.scheduler
        due = ((now_ms - scheduler.boundary_delay_ms) // self.interval_ms) * self.interval_ms
        for p, state in self.partitions.items():
            boundary = state.planner.open_boundary_ms
            if boundary is None or boundary > due or state.last_event_ts_ms is None:
                continue
            if now_ms - state.last_event_ts_ms > scheduler.live_close_max_lag_ms:
                continue  # not a live feed (a replay of older data): cuts come from the log alone
            if not ctx.at_log_end(self.input_topic, p):
                continue
            outputs = state.close_through(due)
            if outputs:
                self.boundaries.labels("live_close").inc()
                _log.info("live_close", partition=p, through_ms=due)
                self._publish(state, outputs, ctx)

    def _commit_positions(self, last: Mapping[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        """Commit the open window's first offset; with no window open, everything handled so far."""
        positions: dict[tuple[str, int], int] = {}
        for p, state in self.partitions.items():
            tp = (self.input_topic, p)
            window_start = state.planner.window_start_offset
            handled = last.get(tp)
            if window_start is not None:
                positions[tp] = window_start
                continue
            planned = state.commit_offset()
            candidates = [o for o in (planned, None if handled is None else handled + 1) if o is not None]
            if candidates:
                positions[tp] = max(candidates)
        return positions

    # ------------------------------------------------------------------ assignment

    def _on_assigned(self, partitions: Sequence[Any], reader: PartitionReader) -> None:
        assert self._processor is not None
        ctx = self._processor.context
        committed = {
            part.partition: part.committed_offset or 0
            for part in partitions
            if part.topic == self.input_topic
        }
        if committed:
            dlq = reader.read_to_end(self.dlq_topic, sorted(committed))
            self._dead_lettered.update(
                dead_lettered_offsets((_headers(m) for m in dlq), self.input_topic, committed)
            )
        for part in partitions:
            if part.topic != self.input_topic:
                continue
            p = part.partition
            started = time.monotonic()
            cursor: OrchestratorCursor | None = ctx.store(CURSOR_STORE, p).get(cursor_key(p))
            states = {
                key.decode(): state_from_store_record(record, self.run_settings.hysteresis)
                for key, record in ctx.store(HYSTERESIS_STORE, p).items()
            }
            span = history_range(cursor, self.interval_ms)
            histories = {}
            rebuilt = 0
            if span is not None:
                events = self._read_raw(reader, p, span.start, span.end)
                histories = rebuild_histories(span, events, self.run_settings.composer)
                rebuilt = span.end - span.start
            self.partitions[p] = PartitionState(
                p,
                self.runner,
                self.interval_ms,
                self.run_settings.composer.lookback_ms,
                cursor=cursor,
                histories=histories,
                states=states,
            )
            _log.info(
                "partition_restored",
                partition=p,
                open_boundary_ms=None if cursor is None else cursor.open_boundary_ms,
                hysteresis_states=len(states),
                history_offsets=rebuilt,
                restore_s=round(time.monotonic() - started, 3),
            )

    def _read_raw(
        self, reader: PartitionReader, partition: int, start: int, end: int
    ) -> Iterator[RawMarketEvent]:
        """The decodable raw events of `[start, end)` whose type the composer folds, streamed.

        Records are filtered by their `event_type` header before decoding (most of a busy feed is book
        and mark updates the history never reads); a record without the header is decoded and kept.
        """
        decode = self._raw.decode
        for n, msg in enumerate(reader.read([OffsetRange(self.input_topic, partition, start, end)]), 1):
            if not n % 20_000 and self._processor is not None:
                self._processor.beat()  # a long rebuild is progress, not a stall
            value = msg.value()
            if value is None or not _folded(msg.headers()):
                continue
            try:
                event = decode(value)
            except Exception:
                continue  # it went to the DLQ when it was first consumed
            yield event

    def _on_revoked(self, partitions: Sequence[Any]) -> None:
        for part in partitions:
            if part.topic == self.input_topic:
                self.partitions.pop(part.partition, None)
                self._dead_lettered.pop(part.partition, None)


_FOLDED_HEADERS = frozenset(t.encode() for t in FOLDED_EVENT_TYPES)


def _folded(headers: Any) -> bool:
    """False only when the record's `event_type` header names a type the composer does not fold."""
    for name, value in headers or ():
        if name == HEADER_EVENT_TYPE:
            return value in _FOLDED_HEADERS
    return True


def _headers(msg: Any) -> HeaderList:
    raw = msg.headers() or []
    return list(raw.items()) if isinstance(raw, dict) else list(raw)


def _latest_state(current: HysteresisStoreRecord, incoming: HysteresisStoreRecord) -> HysteresisStoreRecord:
    """Restore keeps the newest engine timestamp (a re-written older record never wins)."""
    return incoming if incoming.engine_timestamp_ms >= current.engine_timestamp_ms else current


def main() -> int:
    """Entry point of `python -m orchestrator`."""
    settings = load_settings(OrchestratorSettings)
    setup_logging(SERVICE, settings.log_level)
    return OrchestratorService(settings).processor().run()


if __name__ == "__main__":
    sys.exit(main())
