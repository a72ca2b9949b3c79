"""When to restart a service that died: capped exponential backoff that resets after a healthy run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Delay before restart n (1-based) = min(min_delay_s * 2**(n-1), max_delay_s).

    A process that ran at least `healthy_after_s` before it died starts the count again at 1, so a
    crash a day later waits `min_delay_s`, while a crash loop backs off to `max_delay_s`.
    """

    min_delay_s: float = 1.0
    max_delay_s: float = 30.0
    healthy_after_s: float = 60.0

    def delay(self, consecutive_failures: int) -> float:
        """Seconds to wait before the restart that follows `consecutive_failures` crashes in a row."""
        if consecutive_failures < 1:
            return 0.0
        exponent = min(consecutive_failures - 1, 30)
        return float(min(self.min_delay_s * 2**exponent, self.max_delay_s))

    def failures_after(self, previous_failures: int, uptime_s: float) -> int:
        """The consecutive-failure count after a crash that followed `uptime_s` of running."""
        return 1 if uptime_s >= self.healthy_after_s else previous_failures + 1
