"""Keyed state stores backed by compacted topics, one in-memory map per assigned partition."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from xray_contracts.catalogue import TopicSpec

V = TypeVar("V")
Key = bytes | str


def key_bytes(key: Key) -> bytes:
    """Store keys are bytes on the wire; str keys are UTF-8."""
    return key.encode() if isinstance(key, str) else key


@dataclass(frozen=True, slots=True)
class StoreSpec(Generic[V]):
    """A state store: its compacted topic and how its values travel.

    `restore_merge(current, incoming)` decides which value survives restore when a key appears
    more than once; by default the later record wins (plain compaction semantics).
    """

    name: str
    topic: TopicSpec
    encode: Callable[[V], bytes]
    decode: Callable[[bytes], V]
    restore_merge: Callable[[V, V], V] | None = None


def fold_state(
    records: Iterable[tuple[bytes | None, bytes | None]],
    decode: Callable[[bytes], V],
    merge: Callable[[V, V], V] | None = None,
) -> dict[bytes, V]:
    """Replay (key, value) records in offset order: last write per key wins, tombstones delete."""
    state: dict[bytes, V] = {}
    for key, value in records:
        if key is None:
            continue  # keyless records cannot be state; compaction would reject them anyway
        if value is None:
            state.pop(key, None)
            continue
        decoded = decode(value)
        if merge is not None and key in state:
            decoded = merge(state[key], decoded)
        state[key] = decoded
    return state


# Marker for "key absent before this transaction" in the undo log.
_ABSENT = object()


class PartitionStore(Generic[V]):
    """One store's state for one partition; writes go to memory and to the state topic, in the transaction."""

    __slots__ = ("_data", "_emit", "_encode", "_undo", "partition", "spec", "topic")

    def __init__(
        self,
        spec: StoreSpec[V],
        topic: str,
        partition: int,
        data: dict[bytes, V],
        emit: Callable[[str, int, bytes, bytes | None], None],
    ) -> None:
        self.spec = spec
        self.topic = topic
        self.partition = partition
        self._data = data
        self._encode = spec.encode
        self._emit = emit
        self._undo: dict[bytes, object] = {}

    def get(self, key: Key) -> V | None:
        """The current value for `key`, or None."""
        return self._data.get(key_bytes(key))

    def __contains__(self, key: Key) -> bool:
        return key_bytes(key) in self._data

    def __len__(self) -> int:
        return len(self._data)

    def items(self) -> Iterator[tuple[bytes, V]]:
        """All (key, value) pairs of this partition."""
        return iter(list(self._data.items()))

    def put(self, key: Key, value: V) -> None:
        """Set `key` and write the state record to this partition of the state topic."""
        k = key_bytes(key)
        if k not in self._undo:
            self._undo[k] = self._data.get(k, _ABSENT)
        self._data[k] = value
        self._emit(self.topic, self.partition, k, self._encode(value))

    def delete(self, key: Key) -> None:
        """Remove `key` and write a tombstone."""
        k = key_bytes(key)
        if k not in self._undo:
            self._undo[k] = self._data.get(k, _ABSENT)
        self._data.pop(k, None)
        self._emit(self.topic, self.partition, k, None)

    def commit(self) -> None:
        """The transaction committed: forget the undo log."""
        self._undo.clear()

    def rollback(self) -> None:
        """The transaction aborted: put back every value changed since the last commit."""
        for k, old in self._undo.items():
            if old is _ABSENT:
                self._data.pop(k, None)
            else:
                self._data[k] = old  # type: ignore[assignment]
        self._undo.clear()
