"""What a handler sees: the record, and a context to emit outputs and reach its partition's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from confluent_kafka import Message
from xray_contracts.catalogue import TopicSpec

from xray_runtime.state import Key, PartitionStore

T = TypeVar("T")
HeaderList = list[tuple[str, str | bytes | None]]
# Accepts any sequence of (name, value) pairs, e.g. list[tuple[str, bytes]].
Headers = Sequence[tuple[str, str | bytes | None]] | None


class Record(Generic[T]):
    """One decoded input record."""

    __slots__ = ("_msg", "offset", "partition", "topic", "value")

    def __init__(self, msg: Message, topic: str, partition: int, offset: int, value: T) -> None:
        self._msg = msg
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.value = value

    @property
    def key(self) -> bytes | None:
        """The record's key bytes (read from the message on use: many handlers never look)."""
        key: bytes | None = self._msg.key()
        return key

    @property
    def headers(self) -> HeaderList:
        """The record's headers (read lazily: most handlers never look)."""
        raw = self._msg.headers() or []
        return list(raw.items()) if isinstance(raw, dict) else list(raw)

    @property
    def timestamp_ms(self) -> int:
        """The record's Kafka timestamp in ms."""
        return int(self._msg.timestamp()[1])

    @property
    def raw_value(self) -> bytes | None:
        """The undecoded value bytes."""
        value: bytes | None = self._msg.value()
        return value


@dataclass(frozen=True, slots=True)
class InputPartition:
    """An assigned input partition and its last committed offset (None = nothing committed yet)."""

    topic: str
    partition: int
    committed_offset: int | None


ProduceFn = Callable[..., None]
OnQueueFull = Callable[[Callable[[], None]], None]


def _as_list(headers: Headers) -> HeaderList | None:
    """confluent-kafka takes headers as a list (or dict), not any sequence."""
    return headers if headers is None or isinstance(headers, list) else list(headers)


def _unbound_produce(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("context used before the processor bound its producer")


class Context:
    """Emit outputs and reach state, inside the current transaction.

    In a handler, `partition` is the input record's partition and outputs default to it (topics
    are co-partitioned). In `punctuate`, `partition` is -1: pass `partition=` explicitly and use
    `partitions` / `at_log_end()` to see what this instance owns.
    """

    def __init__(
        self,
        namespace: str,
        stores: Mapping[str, Mapping[int, PartitionStore[Any]]],
        at_end: set[tuple[str, int]],
        assigned: Callable[[], Sequence[tuple[str, int]]],
    ) -> None:
        self.namespace = namespace
        self.partition = -1
        self._stores = stores
        self._at_end = at_end
        self._assigned = assigned
        self._produce: ProduceFn = _unbound_produce
        self._on_full: OnQueueFull = lambda _retry: None
        self._out: dict[str, int] = {}

    def bind_producer(self, produce: ProduceFn, on_full: OnQueueFull, out_counts: dict[str, int]) -> None:
        """Wire the transactional producer's `produce`, the backpressure wait, and the output counters."""
        self._produce = produce
        self._on_full = on_full
        self._out = out_counts

    def topic(self, spec: TopicSpec) -> str:
        """The physical name of a catalogue topic in this service's namespace."""
        return spec.topic(self.namespace)

    def emit(
        self,
        topic: str,
        key: Key | None,
        value: bytes | None,
        headers: Headers = None,
        partition: int | None = None,
    ) -> None:
        """Produce one record in the transaction, to the input record's partition unless told otherwise."""
        if partition is None:
            partition = self.partition
            if partition < 0:
                raise ValueError("emit outside a record needs an explicit partition")
        if key.__class__ is str:
            key = key.encode()
        try:
            # Positional arguments: produce() parses keywords noticeably slower on this hot path.
            if headers is None:
                self._produce(topic, value, key, partition)
            else:
                self._produce(topic, value, key, partition, headers=_as_list(headers))
        except BufferError:
            self._on_full(lambda: self._produce(topic, value, key, partition, headers=_as_list(headers)))
        out = self._out
        out[topic] = out.get(topic, 0) + 1

    def send(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None, headers: Headers
    ) -> None:
        """Low-level produce to an explicit partition (used by state stores and the DLQ)."""
        try:
            if headers is None:
                self._produce(topic, value, key, partition)
            else:
                self._produce(topic, value, key, partition, headers=_as_list(headers))
        except BufferError:
            self._on_full(lambda: self._produce(topic, value, key, partition, headers=_as_list(headers)))
        out = self._out
        out[topic] = out.get(topic, 0) + 1

    def store(self, name: str, partition: int | None = None) -> PartitionStore[Any]:
        """The named state store of the current (or given) partition."""
        p = self.partition if partition is None else partition
        try:
            return self._stores[name][p]
        except KeyError:
            raise KeyError(f"no store {name!r} for partition {p} on this instance") from None

    @property
    def partitions(self) -> list[tuple[str, int]]:
        """Input (topic, partition) pairs currently assigned to this instance."""
        return list(self._assigned())

    def at_log_end(self, topic: str, partition: int) -> bool:
        """True when this instance has consumed everything committed on that input partition so far."""
        return (topic, partition) in self._at_end
