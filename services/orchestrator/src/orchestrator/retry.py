"""The deterministic retry schedule shared by every failure domain (fact sheet §10.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """Doubling delays from `min_delay_ms`, capped at `max_delay_ms`, at most `max_attempts` of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_delay_ms: int = Field(gt=0)
    max_delay_ms: int = Field(gt=0)
    max_attempts: int = Field(gt=0)
    max_elapsed_ms: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _max_not_below_min(self) -> RetryPolicy:
        if self.max_delay_ms < self.min_delay_ms:
            raise ValueError("max_delay_ms must be >= min_delay_ms")
        return self

    def delays(self) -> tuple[int, ...]:
        """The delays in order; the elapsed cap stops before a delay that would exceed it."""
        out: list[int] = []
        delay, total = self.min_delay_ms, 0
        for _ in range(self.max_attempts):
            if self.max_elapsed_ms is not None and total + delay > self.max_elapsed_ms:
                break
            out.append(delay)
            total += delay
            delay = min(delay * 2, self.max_delay_ms)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class RetryOutcome(Generic[T]):
    """The result of `retry`: the value on success, else the last error, plus the attempts made."""

    value: T | None
    error: BaseException | None
    attempts: int

    @property
    def ok(self) -> bool:
        """True when an attempt succeeded."""
        return self.error is None and self.attempts > 0


def retry(action: Callable[[], T], policy: RetryPolicy, sleep_ms: Callable[[int], None]) -> RetryOutcome[T]:
    """Run `action` once per delay until it succeeds, sleeping the delay after every failure."""
    error: BaseException | None = None
    attempts = 0
    for delay in policy.delays():
        attempts += 1
        try:
            return RetryOutcome(action(), None, attempts)
        except Exception as exc:  # the caller decides what a failure means
            error = exc
            sleep_ms(delay)
    if attempts == 0:
        error = RuntimeError("retry policy allows no attempt")
    return RetryOutcome(None, error, attempts)
