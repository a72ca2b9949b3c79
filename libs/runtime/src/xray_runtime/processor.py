"""The exactly-once processing loop: consume a batch, handle it in one transaction, commit offsets with it."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Generic, TypeVar, cast

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from xray_contracts.catalogue import TopicSpec, dlq_spec

from xray_runtime.clients import consumer_config, make_consumer, make_producer, producer_config, reader_config
from xray_runtime.config import ServiceSettings
from xray_runtime.context import Context, Headers, InputPartition, Record
from xray_runtime.dlq import dlq_headers
from xray_runtime.health import Health
from xray_runtime.http_server import StatusServer
from xray_runtime.logs import get_logger
from xray_runtime.metrics import RuntimeMetrics
from xray_runtime.reader import PartitionReader
from xray_runtime.secrets import redact_mapping
from xray_runtime.state import PartitionStore, StoreSpec, fold_state
from xray_runtime.stats import parse_stats
from xray_runtime.watchdog import StallWatchdog

T = TypeVar("T")

EXIT_OK = 0
EXIT_FATAL = 1

_EOF = KafkaError._PARTITION_EOF
_COORDINATOR_MOVING = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._WAIT_COORD,
    }
)
_log = get_logger("xray.runtime.processor")


@dataclass(frozen=True, slots=True)
class InputTopic(Generic[T]):
    """An input topic and its value deserializer (an exception from it sends the record to the DLQ)."""

    spec: TopicSpec
    decode: Callable[[bytes], T]


Handler = Callable[[Record[T], Context], None]
AssignHook = Callable[[Sequence[InputPartition], PartitionReader], None]
RevokeHook = Callable[[Sequence[InputPartition]], None]
PunctuateHook = Callable[[int, Context], None]
# (topic, partition) -> last offset handled in this transaction  =>  (topic, partition) -> offset to commit
CommitPositions = Callable[[Mapping[tuple[str, int], int]], Mapping[tuple[str, int], int]]


@dataclass(slots=True)
class Processor(Generic[T]):
    """A service's exactly-once processor. Build one, then `sys.exit(processor.run())`.

    - `handler(record, ctx)` runs for each decoded record inside the batch's transaction;
    - `stores` are restored for exactly the assigned partitions before any of their records are handled;
    - `on_assigned(partitions, reader)` rebuilds derived state (e.g. from an input topic) after restore;
    - `on_revoked(partitions)` drops it; after an aborted transaction the runtime rewinds to the last
      commit and calls `on_revoked` then `on_assigned` again for everything it owns;
    - `punctuate(now_ms, ctx)` runs every `processing.punctuate_interval_ms` inside a transaction;
    - `on_committed()` runs after each committed transaction (progress observation only);
    - `commit_positions(last_offsets)` chooses the input offsets committed with each transaction (default:
      each handled partition's last offset + 1). A service that holds records in memory across
      transactions (the orchestrator's open window) commits the first offset it still needs, so a restart
      re-reads exactly those; it may also name partitions that had no record in the transaction.
    """

    service: str
    settings: ServiceSettings
    inputs: Sequence[InputTopic[T]]
    handler: Handler[T]
    stores: Sequence[StoreSpec[Any]] = ()
    on_assigned: AssignHook | None = None
    on_revoked: RevokeHook | None = None
    punctuate: PunctuateHook | None = None
    on_committed: Callable[[], None] | None = None
    commit_positions: CommitPositions | None = None
    metrics: RuntimeMetrics = field(default_factory=RuntimeMetrics)
    txn_timeout_s: float = 30.0

    # Runtime state (not constructor arguments).
    _producer: Producer = field(init=False)
    _consumer: Consumer = field(init=False)
    _reader: PartitionReader = field(init=False)
    _health: Health = field(init=False)
    _watchdog: StallWatchdog | None = field(init=False, default=None)
    _ctx: Context = field(init=False)
    _http: StatusServer | None = field(init=False, default=None)
    _decoders: dict[str, Callable[[bytes], T]] = field(init=False, default_factory=dict)
    _store_data: dict[str, dict[int, PartitionStore[Any]]] = field(init=False, default_factory=dict)
    _assigned: list[tuple[str, int]] = field(init=False, default_factory=list)
    _at_end: set[tuple[str, int]] = field(init=False, default_factory=set)
    _out_counts: dict[str, int] = field(init=False, default_factory=dict)
    _stop: bool = field(init=False, default=False)
    _fatal: KafkaError | None = field(init=False, default=None)
    _in_txn: bool = field(init=False, default=False)
    _paused: bool = field(init=False, default=False)
    _dlq_topic: str = field(init=False, default="")
    _last_punctuate: float = field(init=False, default=0.0)
    _aborts_in_a_row: int = field(init=False, default=0)
    _rebalances: int = field(init=False, default=0)  # assign/revoke callbacks served so far
    _last_backpressure_log: float = field(init=False, default=-1e9)

    # ------------------------------------------------------------------ lifecycle

    @property
    def context(self) -> Context:
        """The context hooks use outside a record, e.g. `on_assigned` reading restored stores."""
        return self._ctx

    @property
    def http_port(self) -> int | None:
        """The status server's port once running."""
        return None if self._http is None else self._http.port

    def beat(self) -> None:
        """A long hook (e.g. a restore in `on_assigned`) tells liveness and the watchdog it progresses."""
        self._health.beat()

    def request_stop(self) -> None:
        """Ask the loop to finish its current batch and shut down cleanly."""
        self._stop = True

    def run(self, install_signal_handlers: bool = True) -> int:
        """Run until SIGTERM/SIGINT or `request_stop()`; returns the process exit code."""
        if install_signal_handlers:
            self._install_signal_handlers()
        try:
            self._setup()
            self._loop()
        except _FatalError as error:
            _log.error("fatal", error=str(error))
            self._shutdown(clean=False)
            return EXIT_FATAL
        except Exception as error:
            _log.error("fatal", exc_info=True, error=repr(error))
            self._shutdown(clean=False)
            return EXIT_FATAL
        self._shutdown(clean=True)
        return EXIT_OK

    def _on_stall(self, seconds: float) -> None:
        """The loop is stuck inside a call that does not return: exit so a supervisor restarts us."""
        _log.error("stalled_exit", stalled_s=round(seconds, 1), in_transaction=self._in_txn)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_FATAL)  # from a thread: sys.exit would only end the watchdog

    def _install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            _log.info("stop_requested", signal=signal.Signals(signum).name)
            self._stop = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _setup(self) -> None:
        s = self.settings
        self._health = Health(s.http.stall_after_s)
        self._watchdog = StallWatchdog(self._health, s.processing.stall_exit_s, self._on_stall)
        self._watchdog.start()
        self._decoders = {i.spec.topic(s.namespace): i.decode for i in self.inputs}
        self._store_data = {spec.name: {} for spec in self.stores}
        self._dlq_topic = dlq_spec(self.service).topic(s.namespace)
        self._ctx = Context(
            s.namespace,
            self._store_data,
            self._at_end,
            lambda: self._assigned,
        )
        self._http = StatusServer(s.http.host, s.http.port, self.metrics.registry, self._health)
        self._http.start()
        _log.info("http_started", port=self._http.port)

        callbacks: dict[str, Callable[..., Any]] = {"error_cb": self._on_client_error}
        if s.processing.statistics_interval_ms:
            callbacks["stats_cb"] = self._on_stats
        producer_props = producer_config(s, self.service)
        consumer_props = consumer_config(s, self.service)
        _log.info(
            "client_config", producer=redact_mapping(producer_props), consumer=redact_mapping(consumer_props)
        )
        self._producer = make_producer(producer_props, **callbacks)
        self._ctx.bind_producer(self._producer.produce, self._wait_for_queue_space, self._out_counts)
        self._consumer = make_consumer(consumer_props, **callbacks)
        self._reader = PartitionReader(reader_config(s, self.service))
        # Fences a previous incarnation with the same transactional.id and aborts its open transaction.
        self._producer.init_transactions(self.txn_timeout_s)
        topics = list(self._decoders)
        self._consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        _log.info("started", service=self.service, instance_id=s.instance_id, inputs=topics)

    def _shutdown(self, clean: bool) -> None:
        """Abort any open transaction, flush, close; tolerates a setup that failed half-way."""
        self.metrics.ready.set(0)
        if self._watchdog is not None:
            self._watchdog.stop()
        health: Health | None = getattr(self, "_health", None)
        producer: Producer | None = getattr(self, "_producer", None)
        consumer: Consumer | None = getattr(self, "_consumer", None)
        reader: PartitionReader | None = getattr(self, "_reader", None)
        if health is not None:
            health.set_ready(False)
        try:
            if producer is not None:
                if self._in_txn:
                    self._in_txn = False
                    producer.abort_transaction(self.txn_timeout_s)
                producer.flush(10.0)
            if consumer is not None:
                consumer.close()
            if reader is not None:
                reader.close()
        except (KafkaException, RuntimeError) as error:
            _log.warning("close_failed", error=str(error))
        if self._http is not None:
            self._http.stop()
        _log.info("stopped", clean=clean)

    # ------------------------------------------------------------------ main loop

    def _loop(self) -> None:
        p = self.settings.processing
        batch_max = p.batch_max_records
        batch_timeout = p.batch_timeout_ms / 1000.0
        punct_interval = p.punctuate_interval_ms / 1000.0
        self._last_punctuate = time.monotonic()
        while not self._stop:
            self._health.beat()
            if self._fatal is not None:
                raise _FatalError(str(self._fatal))
            # consume() runs only between transactions, so rebalance callbacks never see an open one.
            msgs = self._next_batch(batch_max, batch_timeout)
            punct_due = (
                self.punctuate is not None
                and bool(self._assigned)
                and time.monotonic() - self._last_punctuate >= punct_interval
            )
            if not msgs and not punct_due:
                self._producer.poll(0)
                continue
            self._run_transaction(msgs, punct_due)

    def _next_batch(self, batch_max: int, timeout_s: float) -> list[Message]:
        """What is already fetched, without waiting; when nothing is, wait up to `timeout_s` for the first
        record only and take what came with it. (consume(n, t) waits for n records or t: at a low input
        rate every record would wait the whole batch timeout, ~100 ms of latency for nothing.)"""
        consume = self._consumer.consume
        msgs = consume(batch_max, 0)
        if msgs:
            return msgs
        first = consume(1, timeout_s)
        if not first or batch_max == 1:
            return first
        rebalances = self._rebalances
        rest = consume(batch_max - 1, 0)
        if self._rebalances != rebalances:
            # A rebalance ran inside the second call: `first` came from the old assignment. Its partition
            # was revoked (another member owns it now) or re-assigned from the committed offset (it will
            # be fetched again), so handling it here would duplicate its outputs either way.
            return rest
        return first + rest

    def _run_transaction(self, msgs: list[Message], punct_due: bool) -> None:
        """Process one batch atomically; on an abortable error rewind to the last commit."""
        try:
            offsets = self._process(msgs, punct_due)
            if self._in_txn:
                self._commit(offsets)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.fatal():
                raise _FatalError(f"fatal Kafka error: {err}") from exc
            _log.warning("transaction_aborting", error=str(err), abortable=err.txn_requires_abort())
            self._abort_and_rewind()
        except _FatalError:
            raise
        except Exception:
            # A bug in a handler or hook: never commit a partial batch; exit and let a restart redo it.
            if self._in_txn:
                self._abort_quietly()
            raise

    def _process(self, msgs: list[Message], punct_due: bool) -> dict[tuple[str, int], int]:
        """Handle the batch's records (and punctuate) inside one transaction; returns last offsets.

        This is the hot path: per record only the handler call and two dict stores; counting and
        "at log end" bookkeeping happen once per batch.
        """
        offsets: dict[tuple[str, int], int] = {}
        eofs: list[tuple[str, int, int]] = []
        n_events = 0
        decoders = self._decoders
        handler = self.handler
        ctx = self._ctx
        # any() stops at the first record, usually msgs[0]; a batch of only end-of-partition
        # events needs no transaction.
        if not self._in_txn and (punct_due or any(m.error() is None for m in msgs)):
            self._begin()
        for msg in msgs:
            err = msg.error()
            if err is not None:
                n_events += 1
                if err.code() == _EOF:
                    eofs.append((msg.topic(), msg.partition(), msg.offset()))  # type: ignore[arg-type]
                elif err.fatal():
                    raise KafkaException(err)
                else:
                    _log.warning("consume_error", error=str(err))
                continue
            topic: str = msg.topic()  # type: ignore[assignment]
            partition: int = msg.partition()  # type: ignore[assignment]
            offset: int = msg.offset()  # type: ignore[assignment]
            offsets[(topic, partition)] = offset
            try:
                # A None value (tombstone) makes the decoder raise too, so it also goes to the DLQ.
                value = decoders[topic](msg.value())  # type: ignore[arg-type]
            except Exception as error:  # any deserializer failure means "to the DLQ"
                self._dead_letter(msg, topic, partition, offset, error)
                continue
            ctx.partition = partition
            handler(Record(msg, topic, partition, offset, value), ctx)
        ctx.partition = -1
        self._note_log_end(offsets, eofs)
        if punct_due and self.punctuate is not None:
            self._last_punctuate = time.monotonic()
            self.punctuate(int(time.time() * 1000), ctx)
        if offsets:
            self.metrics.add_records_in(self._count_by_topic(msgs, len(msgs) - n_events))
        return offsets

    def _note_log_end(self, offsets: dict[tuple[str, int], int], eofs: list[tuple[str, int, int]]) -> None:
        """A partition is at log end when its end-of-partition event is at or past its last record."""
        at_end = self._at_end
        at_end.difference_update(offsets)
        for topic, partition, end in eofs:
            if end > offsets.get((topic, partition), -1):
                at_end.add((topic, partition))

    def _count_by_topic(self, msgs: list[Message], n_records: int) -> dict[str, int]:
        if len(self._decoders) == 1:
            (topic,) = self._decoders
            return {topic: n_records}
        counts: dict[str, int] = {}
        for m in msgs:
            if m.error() is None:
                t: str = m.topic()  # type: ignore[assignment]
                counts[t] = counts.get(t, 0) + 1
        return counts

    def _begin(self) -> None:
        self._producer.begin_transaction()
        self._in_txn = True

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if self.commit_positions is not None:
            positions = self.commit_positions(offsets)
        else:
            positions = {tp: o + 1 for tp, o in offsets.items()}
        if positions:
            tps = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
            self._retry(
                lambda: self._producer.send_offsets_to_transaction(
                    tps, self._consumer.consumer_group_metadata(), self.txn_timeout_s
                )
            )
        self._retry(lambda: self._producer.commit_transaction(self.txn_timeout_s))
        self._in_txn = False
        self._aborts_in_a_row = 0
        for by_partition in self._store_data.values():
            for store in by_partition.values():
                store.commit()
        self.metrics.transactions.labels("committed").inc()
        if self._out_counts:
            self.metrics.add_records_out(self._out_counts)
            self._out_counts.clear()
        if self.on_committed is not None:
            self.on_committed()

    @staticmethod
    def _retry(call: Callable[[], None], attempts: int = 5) -> None:
        """Retry an operation librdkafka calls retriable (it is safe to call again after those)."""
        for attempt in range(attempts):
            try:
                call()
                return
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if not err.retriable() or attempt == attempts - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _abort_quietly(self) -> None:
        try:
            self._producer.abort_transaction(self.txn_timeout_s)
        except KafkaException as error:
            _log.warning("abort_failed", error=str(error))
        self._in_txn = False

    def _abort_and_rewind(self) -> None:
        """Abort, undo in-memory state, and seek back to the last committed offsets to redo the work."""
        try:
            self._retry(lambda: self._producer.abort_transaction(self.txn_timeout_s))
        except KafkaException as exc:
            raise _FatalError(f"abort failed: {exc.args[0]}") from exc
        self._in_txn = False
        self._out_counts.clear()
        for by_partition in self._store_data.values():
            for store in by_partition.values():
                store.rollback()
        self.metrics.transactions.labels("aborted").inc()
        self._aborts_in_a_row += 1
        if self._aborts_in_a_row >= self.settings.processing.max_consecutive_aborts:
            raise _FatalError(f"{self._aborts_in_a_row} transactions aborted in a row")
        parts = self._input_partitions(self._assigned)
        for ip in parts:
            offset = ip.committed_offset if ip.committed_offset is not None else self._reset_offset()
            self._consumer.seek(TopicPartition(ip.topic, ip.partition, offset))
        self._at_end.clear()
        if self.on_revoked is not None:
            self.on_revoked(parts)
        if self.on_assigned is not None:
            self.on_assigned(parts, self._reader)
        _log.info("rewound", partitions=[(p.topic, p.partition, p.committed_offset) for p in parts])

    def _reset_offset(self) -> int:
        reset = consumer_config(self.settings, self.service).get("auto.offset.reset", "earliest")
        return OFFSET_END if reset in ("latest", "largest", "end") else OFFSET_BEGINNING

    # ------------------------------------------------------------------ producing

    def _produce(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None, headers: Headers
    ) -> None:
        self._ctx.send(topic, partition, key, value, headers)

    def _wait_for_queue_space(self, produce: Callable[[], None]) -> None:
        """Producer queue full: pause input, serve deliveries until the record fits, resume. Never drop."""
        self.metrics.backpressure.inc()
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.pause(assignment)
        now = time.monotonic()
        if now - self._last_backpressure_log >= 10.0:  # the counter counts every pause; logs sample
            self._last_backpressure_log = now
            _log.warning("backpressure_paused", queued=len(self._producer))
        try:
            while True:
                self._producer.poll(0.05)
                try:
                    produce()
                    return
                except BufferError:
                    continue
        finally:
            if assignment:
                self._consumer.resume(assignment)

    def _dead_letter(self, msg: Message, topic: str, partition: int, offset: int, error: Exception) -> None:
        if self.settings.processing.decode_error_policy == "fail":
            raise _FatalError(f"undecodable record {topic}[{partition}]@{offset}: {type(error).__name__}")
        original = msg.headers()
        if isinstance(original, dict):
            original = list(original.items())
        headers = dlq_headers(self.service, topic, partition, offset, error=error, original=original)
        value = msg.value()
        key = msg.key()
        try:
            self._producer.produce(self._dlq_topic, value, key, headers=headers)
        except BufferError:
            self._wait_for_queue_space(
                lambda: self._producer.produce(self._dlq_topic, value, key, headers=headers)
            )
        self.metrics.dlq_records.labels(topic).inc()
        _log.warning(
            "record_dead_lettered",
            topic=topic,
            partition=partition,
            offset=offset,
            error_class=type(error).__name__,
        )

    # ------------------------------------------------------------------ rebalancing and state

    def _input_partitions(self, tps: Sequence[tuple[str, int]]) -> list[InputPartition]:
        if not tps:
            return []
        asked = [TopicPartition(t, p) for t, p in tps]
        committed = self._committed(asked)
        return [
            InputPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else None) for tp in committed
        ]

    def _committed(self, asked: list[TopicPartition]) -> list[TopicPartition]:
        """The group's committed offsets; retried while the group coordinator moves or loads (a broker
        restart makes it answer NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS for a while)."""
        deadline = time.monotonic() + self.txn_timeout_s
        while True:
            try:
                return list(self._consumer.committed(asked, timeout=self.txn_timeout_s))
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if err.code() not in _COORDINATOR_MOVING or time.monotonic() > deadline:
                    raise
                _log.warning("committed_offsets_retry", error=str(err))
                time.sleep(0.5)

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._rebalances += 1
        if self._in_txn:  # cannot happen while consume() runs only between transactions
            _log.error("rebalance_inside_transaction", kind="assign")
        self.metrics.rebalances.labels("assigned").inc()
        self._health.set_ready(False)
        tps = [(tp.topic, tp.partition) for tp in partitions]
        started = time.monotonic()
        new_numbers = sorted({p for _, p in tps} - self._owned_numbers())
        self._assigned = sorted(set(self._assigned) | set(tps))
        self._restore(new_numbers)
        parts = self._input_partitions(tps)
        if self.on_assigned is not None:
            self.on_assigned(parts, self._reader)
        self.metrics.assigned_partitions.set(len(self._assigned))
        self._health.set_ready(True)
        self.metrics.ready.set(1)
        _log.info(
            "partitions_assigned",
            partitions=[(p.topic, p.partition, p.committed_offset) for p in parts],
            restore_s=round(time.monotonic() - started, 3),
        )

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._rebalances += 1
        if self._in_txn:
            _log.error("rebalance_inside_transaction", kind="revoke")
        self.metrics.rebalances.labels("revoked").inc()
        self._health.set_ready(False)
        self.metrics.ready.set(0)
        gone = {(tp.topic, tp.partition) for tp in partitions}
        parts = [InputPartition(t, p, None) for t, p in sorted(gone)]
        self._assigned = [tp for tp in self._assigned if tp not in gone]
        self._at_end.difference_update(gone)
        kept = self._owned_numbers()
        for by_partition in self._store_data.values():
            for number in [n for n in by_partition if n not in kept]:
                del by_partition[number]
        if self.on_revoked is not None:
            self.on_revoked(parts)
        self.metrics.assigned_partitions.set(len(self._assigned))
        _log.info("partitions_revoked", partitions=sorted(gone))

    def _owned_numbers(self) -> set[int]:
        return {p for _, p in self._assigned}

    def _restore(self, numbers: list[int]) -> None:
        """Rebuild every store for the given partition numbers from its compacted topic."""
        if not numbers:
            return
        for spec in self.stores:
            topic = spec.topic.topic(self.settings.namespace)
            records: dict[int, list[tuple[bytes | None, bytes | None]]] = {n: [] for n in numbers}
            count = 0
            for msg in self._reader.read_to_end(topic, numbers):
                records[cast(int, msg.partition())].append((msg.key(), msg.value()))
                count += 1
                if not count % 10000:
                    self._health.beat()  # a long restore is progress, not a stall
            for number in numbers:
                data = fold_state(records[number], spec.decode, spec.restore_merge)
                self._store_data[spec.name][number] = PartitionStore(
                    spec, topic, number, data, self._produce_state
                )
            self.metrics.restore_records.labels(spec.name).inc(count)
            _log.info("store_restored", store=spec.name, partitions=numbers, records=count)

    def _produce_state(self, topic: str, partition: int, key: bytes, value: bytes | None) -> None:
        self._produce(topic, partition, key, value, None)

    # ------------------------------------------------------------------ client callbacks

    def _on_client_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = err
        _log.warning("kafka_client_error", error=str(err), fatal=err.fatal())

    def _on_stats(self, raw: str) -> None:
        self.metrics.apply_stats(parse_stats(raw))


class _FatalError(Exception):
    """Processing cannot continue safely; the process exits non-zero."""
