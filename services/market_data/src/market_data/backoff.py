"""Reconnect delays: capped exponential backoff with jitter, a pure function of the attempt number."""

from __future__ import annotations

from market_data.config import RetryPolicy


def backoff_delay_ms(policy: RetryPolicy, attempt: int, unit_random: float) -> int | None:
    """Delay before retry `attempt` (1-based), or None once the policy's attempts are spent.

    base = min(min_delay * 2**(attempt-1), max_delay); the jitter takes off up to `jitter * base`,
    so the delay never exceeds the cap and concurrent clients spread out. `unit_random` is in [0, 1).
    """
    if attempt <= 0 or attempt > policy.max_attempts:
        return None
    base = min(policy.min_delay_ms * (1 << min(attempt - 1, 40)), policy.max_delay_ms)
    return max(1, round(base * (1.0 - policy.jitter * unit_random)))


def retry_schedule(policy: RetryPolicy) -> list[int]:
    """The jitter-free delays of the whole budget (the fact sheet's deterministic schedule)."""
    delays: list[int] = []
    total = 0
    delay = policy.min_delay_ms
    for _ in range(policy.max_attempts):
        if policy.max_elapsed_ms is not None and total + delay > policy.max_elapsed_ms:
            break
        delays.append(delay)
        total += delay
        delay = min(2 * delay, policy.max_delay_ms)
        if len(delays) >= 10_000:
            break
    return delays
