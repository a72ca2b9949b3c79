"""The operation limits in Kafka mode (pure bookkeeping; the service feeds it what the transactions did).

In Kafka mode every input record is decided inside one transaction together with its outputs, its
state-log records and the symbol's snapshot, so a failed publish or persist is an aborted transaction:
nothing becomes visible and the runtime redoes the batch from the last commit. The limits turn a
failure that keeps coming back into a fail-closed halt of the symbols it touches:

- `publish_limits.max_failures`: consecutive aborted transactions in which an output event could not be
  produced or delivered (the event topic refused it). The symbols whose events failed are halted with
  `publish_blocked` when the batch is redone.
- `persistence_limits.max_failures`: consecutive aborted transactions in which a state-log record or a
  snapshot could not be written, or the commit itself (offsets included) failed. The symbols whose
  records failed (every symbol of the batch when the commit failed as a whole) are halted with
  `persistence_failure`.
- `input_limits.max_failures` / `input_limits.max_block_ms`: consecutive consume calls that returned
  only errors, or an error streak lasting that long, mark the input unhealthy (not ready) until a
  record is consumed again. No input means no decision, so nothing can open meanwhile.

A null `max_failures` falls back to one less than the runtime's `processing.max_consecutive_aborts`,
so a persistent failure always halts its symbols before the runtime gives up and exits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from consumers.state_gate.config import StateGateConfig
from consumers.state_gate.contracts import ERROR_PERSISTENCE_FAILURE, ERROR_PUBLISH_BLOCKED

DETAIL_LIMIT: Final = 200


@dataclass(frozen=True, slots=True)
class KafkaLimits:
    """The effective failure limits of one running service."""

    publish_max_failures: int
    persistence_max_failures: int
    input_max_failures: int | None
    input_max_block_ms: int | None

    def max_for(self, error_kind: str) -> int:
        """The consecutive-failure limit for `publish_blocked` or `persistence_failure`."""
        if error_kind == ERROR_PUBLISH_BLOCKED:
            return self.publish_max_failures
        return self.persistence_max_failures

    @property
    def needed_aborts(self) -> int:
        """The runtime must tolerate more aborts in a row than this, or it exits before a halt."""
        return max(self.publish_max_failures, self.persistence_max_failures) + 1


def kafka_limits(config: StateGateConfig, max_consecutive_aborts: int) -> KafkaLimits:
    """Resolve the configured limits (null → just below the runtime's abort limit, at least 1)."""
    fallback = max(1, max_consecutive_aborts - 1)
    publish = config.publish_limits.max_failures
    persistence = config.persistence_limits.max_failures
    return KafkaLimits(
        publish_max_failures=fallback if publish is None else publish,
        persistence_max_failures=fallback if persistence is None else persistence,
        input_max_failures=config.input_limits.max_failures,
        input_max_block_ms=config.input_limits.max_block_ms,
    )


@dataclass(slots=True)
class TransactionFailures:
    """Counts consecutive aborted transactions per error kind and decides which symbols to halt."""

    limits: KafkaLimits
    consecutive: dict[str, int] = field(default_factory=dict)
    pending_halts: dict[str, tuple[str, str]] = field(default_factory=dict)
    _applied: set[str] = field(default_factory=set)

    def failed(self, error_kind: str, symbols: set[str], detail: str) -> list[str]:
        """One aborted transaction; returns the symbols newly due for a halt (sorted)."""
        count = self.consecutive.get(error_kind, 0) + 1
        self.consecutive[error_kind] = count
        self.aborted()
        if count < self.limits.max_for(error_kind):
            return []
        text = f"{count} consecutive failed transactions: {detail}"[:DETAIL_LIMIT]
        due = sorted(s for s in symbols if s not in self.pending_halts)
        for symbol in due:
            self.pending_halts[symbol] = (error_kind, text)
        return due

    def aborted(self) -> None:
        """A transaction aborted: the halts written in it did not happen."""
        self._applied.clear()

    def halt_for(self, symbol: str) -> tuple[str, str] | None:
        """(error_kind, detail) when the symbol must be halted instead of gated, else None."""
        return self.pending_halts.get(symbol)

    def applied(self, symbol: str) -> None:
        """The halt of `symbol` was written in the open transaction."""
        self._applied.add(symbol)

    def committed(self) -> None:
        """A transaction committed: the failure streak ends and the halts written in it are done."""
        self.consecutive.clear()
        for symbol in self._applied:
            self.pending_halts.pop(symbol, None)
        self._applied.clear()


@dataclass(slots=True)
class InputHealth:
    """Consecutive input-error polls and how long the streak has lasted (monotonic ms passed in)."""

    max_failures: int | None
    max_block_ms: int | None
    streak: int = 0
    since_ms: float | None = None

    def polled(self, records: int, errors: int, now_ms: float) -> None:
        """One consume call: any record ends a streak; errors alone extend it."""
        if records:
            self.streak, self.since_ms = 0, None
        elif errors:
            self.streak += 1
            if self.since_ms is None:
                self.since_ms = now_ms

    def healthy(self, now_ms: float) -> bool:
        """False once the streak reaches max_failures polls or has lasted max_block_ms."""
        if self.streak == 0:
            return True
        if self.max_failures is not None and self.streak >= self.max_failures:
            return False
        return not (
            self.max_block_ms is not None
            and self.since_ms is not None
            and now_ms - self.since_ms >= self.max_block_ms
        )


def failure_kind_for_topics(failed_topics: set[str], event_topic: str) -> str:
    """publish_blocked when an output event failed; persistence_failure for records, snapshots, commits."""
    return ERROR_PUBLISH_BLOCKED if event_topic in failed_topics else ERROR_PERSISTENCE_FAILURE
