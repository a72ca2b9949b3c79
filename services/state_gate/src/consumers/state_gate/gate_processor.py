"""The runtime Processor with the gate's fail-closed extras: halts in readiness, failure limits.

xray_runtime's Processor has no hooks for readiness conditions, delivery failures or aborted
transactions, so this subclass overrides a few of its steps (each calls the original first):
- /readyz is ready only while no owned symbol is halted and the input is healthy; the halted set is
  recomputed from the restored snapshots after every assignment, rewind and commit;
- every produced record carries a delivery callback, so an aborted transaction knows which topics and
  symbols failed; `TransactionFailures` turns a repeating failure into halts for the redo;
- each consume call feeds `InputHealth`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition
from consumers.state_gate.contracts import StateGateSnapshot
from consumers.state_gate.limits import InputHealth, TransactionFailures, failure_kind_for_topics
from xray_runtime.logs import get_logger
from xray_runtime.processor import Processor

_log = get_logger("state_gate.processor")

# Deliveries purged by an abort say nothing about what failed.
_PURGED = {KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT}
_EOF = KafkaError._PARTITION_EOF
# Group-membership errors (a rebalance while committing offsets) say nothing about the symbols' data:
# the runtime redoes the batch, and they never count towards a halt.
_MEMBERSHIP = {
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.FENCED_INSTANCE_ID,
}


@dataclass(frozen=True, slots=True)
class GateHooks:
    """What the service gives the processor: its store name, event topic and the two trackers."""

    store: str
    event_topic: str
    failures: TransactionFailures
    input_health: InputHealth
    on_halted_changed: Callable[[set[str], bool], None]


# slots=True like the parent: only then does the generated __init__ set the parent's init=False
# defaults (a slot has no class-level default to fall back on). Methods call Processor.x(self), never
# zero-argument super(), which slots dataclasses break.
@dataclass(slots=True)
class GateProcessor(Processor[Any]):
    """Processor[GateInput] plus halted-aware readiness and the Kafka-mode operation limits."""

    hooks: GateHooks | None = None
    halted: set[str] = field(default_factory=set)
    _partitions_ready: bool = False
    _failed_topics: set[str] = field(default_factory=set)
    _failed_symbols: set[str] = field(default_factory=set)
    _batch_symbols: set[str] = field(default_factory=set)
    _last_error: str = ""
    _membership_failure: bool = False

    def _gate_hooks(self) -> GateHooks:
        if self.hooks is None:
            raise RuntimeError("GateProcessor needs hooks")
        return self.hooks

    # ------------------------------------------------------------------ setup and produce

    def _setup(self) -> None:
        Processor._setup(self)
        producer = self._producer
        on_delivery = self._on_delivery

        def produce(
            topic: str,
            value: bytes | None,
            key: bytes | None,
            partition: int,
            headers: list[tuple[str, str | bytes | None]] | None = None,
        ) -> None:
            producer.produce(topic, value, key, partition, on_delivery, headers=headers)

        self._ctx.bind_producer(produce, self._wait_for_queue_space, self._out_counts)

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None or err.code() in _PURGED:
            return
        topic = msg.topic()
        key = msg.key()
        if topic is not None:
            self._failed_topics.add(topic)
        if key:
            self._failed_symbols.add(key.decode("utf-8", "replace"))
        self._last_error = err.str()

    def note_symbol(self, symbol: str) -> None:
        """The handler touched `symbol` in the open transaction."""
        self._batch_symbols.add(symbol)

    def note_produce_error(self, symbol: str, topic: str, error: KafkaException) -> None:
        """A produce call of the handler raised (the batch is about to abort)."""
        self._failed_topics.add(topic)
        self._failed_symbols.add(symbol)
        self._last_error = str(error.args[0]) if error.args else repr(error)

    # ------------------------------------------------------------------ transactions

    def _process(self, msgs: list[Message], punct_due: bool) -> dict[tuple[str, int], int]:
        errors = records = 0
        for msg in msgs:
            err = msg.error()
            if err is None:
                records += 1
            elif err.code() != _EOF:
                errors += 1
        if records or errors:
            self._gate_hooks().input_health.polled(records, errors, time.monotonic() * 1000.0)
            self._apply_readiness()
        return Processor._process(self, msgs, punct_due)

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        try:
            Processor._commit(self, offsets)
        except KafkaException as error:
            err = error.args[0] if error.args else None
            if isinstance(err, KafkaError) and err.code() in _MEMBERSHIP and not self._failed_topics:
                self._membership_failure = True
            if not self._last_error:
                self._last_error = str(err) if err is not None else repr(error)
            raise
        self._gate_hooks().failures.committed()
        self._clear_batch()
        self._refresh_halted()

    def _abort_and_rewind(self) -> None:
        hooks = self._gate_hooks()
        self._producer.poll(0)  # serve the delivery reports that explain the failure
        if self._membership_failure:
            hooks.failures.aborted()
            _log.warning("transaction_failed_by_rebalance", error=self._last_error)
        else:
            kind = failure_kind_for_topics(self._failed_topics, hooks.event_topic)
            symbols = self._failed_symbols or self._batch_symbols
            due = hooks.failures.failed(kind, set(symbols), self._last_error or "transaction aborted")
            _log.warning(
                "transaction_failed",
                error_kind=kind,
                consecutive=hooks.failures.consecutive.get(kind, 0),
                symbols=sorted(symbols),
                halting=due,
                error=self._last_error,
            )
        self._clear_batch()
        Processor._abort_and_rewind(self)
        self._refresh_halted()

    def _clear_batch(self) -> None:
        self._failed_topics.clear()
        self._failed_symbols.clear()
        self._batch_symbols.clear()
        self._last_error = ""
        self._membership_failure = False

    # ------------------------------------------------------------------ readiness

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        Processor._on_assign(self, consumer, partitions)
        self._partitions_ready = True
        self._refresh_halted()

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        Processor._on_revoke(self, consumer, partitions)
        self._partitions_ready = False
        self._refresh_halted()

    def _refresh_halted(self) -> None:
        """Recompute the halted symbols from the owned snapshots (after restore, rewind or commit)."""
        hooks = self._gate_hooks()
        halted: set[str] = set()
        for store in self._store_data.get(hooks.store, {}).values():
            for _, snapshot in store.items():
                if isinstance(snapshot, StateGateSnapshot) and snapshot.halted:
                    halted.add(snapshot.symbol)
        if halted != self.halted:
            self.halted = halted
            hooks.on_halted_changed(set(halted), self.input_healthy())
        self._apply_readiness()

    def input_healthy(self) -> bool:
        """The input is not failing beyond its limits."""
        return self._gate_hooks().input_health.healthy(time.monotonic() * 1000.0)

    def ready(self) -> bool:
        """Partitions restored, nothing halted, input healthy."""
        return self._partitions_ready and not self.halted and self.input_healthy()

    def _apply_readiness(self) -> None:
        ready = self.ready()
        self._health.set_ready(ready)
        self.metrics.ready.set(1 if ready else 0)
