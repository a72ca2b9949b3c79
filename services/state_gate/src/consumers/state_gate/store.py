"""StateGateStateStore: the append-only StateGateStateRecord log plus per-symbol snapshots (in memory).

The log is authoritative: a store built from records alone folds them into the same snapshots
(halts included, so a restart does not silently resume a halted symbol). The service keeps the same
snapshots in the compacted `state_gate.state` topic instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from consumers.state_gate.contracts import StateGateSnapshot, StateGateStateRecord
from consumers.state_gate.transitions import bootstrap_snapshot, fold_record, remember_key


class StateGateStateStore:
    """Append-only transition log and the snapshot cache derived from it."""

    def __init__(
        self,
        records: Iterable[StateGateStateRecord] = (),
        snapshots: Iterable[StateGateSnapshot] = (),
    ) -> None:
        """Seed from earlier snapshots (restart state), then fold any records on top, in order."""
        self._records: list[StateGateStateRecord] = []
        self._snapshots: dict[str, StateGateSnapshot] = {s.symbol: s for s in snapshots}
        for record in records:
            self._fold(record)

    def _fold(self, record: StateGateStateRecord) -> None:
        snapshot = fold_record(self.snapshot(record.symbol), record)
        if record.source_event_type is not None:
            key = f"{record.run_id}:{record.source_event_type}"
            snapshot = replace(snapshot, processed_keys=remember_key(snapshot.processed_keys, key))
        self._records.append(record)
        self._snapshots[record.symbol] = snapshot

    def append(self, record: StateGateStateRecord) -> None:
        """Append one record and fold it into its symbol's snapshot."""
        self._fold(record)

    def put_snapshot(self, snapshot: StateGateSnapshot) -> None:
        """Replace a symbol's snapshot (restart state that records alone do not carry, e.g. pending runs)."""
        self._snapshots[snapshot.symbol] = snapshot

    def snapshot(self, symbol: str) -> StateGateSnapshot:
        """The symbol's snapshot, or the bootstrap snapshot when it was never seen."""
        return self._snapshots.get(symbol) or bootstrap_snapshot(symbol)

    @property
    def records(self) -> tuple[StateGateStateRecord, ...]:
        """The whole log, oldest first."""
        return tuple(self._records)

    @property
    def snapshots(self) -> Mapping[str, StateGateSnapshot]:
        """Read-only view of every known symbol's snapshot."""
        return MappingProxyType(self._snapshots)
