"""The runtime Processor with halted-aware readiness and metrics counted once per committed outcome.

xray_runtime's Processor has no readiness hook, so this subclass overrides the steps after which the
owned state may have changed (assignment = restore, revocation, commit, rewind); each calls the
original first. `/readyz` answers 200 only while the instance's partitions are restored and no symbol
it owns is halted (a StateGateHalted input, persisted in the run ledger, until a newer gate decision).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import TopicPartition
from consumers.analysis_engine.contracts import AnalysisRunLedger
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.processor import Processor


# slots=True like the parent: only then does the generated __init__ set the parent's init=False
# defaults. Methods call Processor.x(self), never zero-argument super(), which slots dataclasses break.
@dataclass(slots=True)
class EngineProcessor(Processor[StateGateEvent]):
    """Processor[StateGateEvent] whose readiness also requires that no owned symbol is halted."""

    ledger_store: str = "run_ledger"
    on_halted_changed: Callable[[set[str], set[str]], None] | None = None
    halted: set[str] = field(default_factory=set)
    _partitions_ready: bool = False

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        Processor._on_assign(self, consumer, partitions)
        self._partitions_ready = True
        self.refresh_halted()

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        Processor._on_revoke(self, consumer, partitions)
        self._partitions_ready = False
        self.refresh_halted()

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        Processor._commit(self, offsets)
        self.refresh_halted()

    def _abort_and_rewind(self) -> None:
        Processor._abort_and_rewind(self)
        self.refresh_halted()

    def refresh_halted(self) -> None:
        """Recompute the halted symbols from the owned ledgers and apply readiness."""
        halted: set[str] = set()
        for store in self._store_data.get(self.ledger_store, {}).values():
            for _, ledger in store.items():
                if isinstance(ledger, AnalysisRunLedger) and ledger.halted:
                    halted.add(ledger.symbol)
        if halted != self.halted:
            previous, self.halted = self.halted, halted
            if self.on_halted_changed is not None:
                self.on_halted_changed(set(halted), previous - halted)
        ready = self._partitions_ready and not self.halted
        self._health.set_ready(ready)
        self.metrics.ready.set(1 if ready else 0)
