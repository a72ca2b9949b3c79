"""Exit when the processing loop stops turning, so the supervisor restarts the service.

A client call can ignore its own timeout: after a broker restart, `send_offsets_to_transaction` was seen
blocking for minutes while the group coordinator was away (librdkafka issues #5456, #5511). `/healthz`
reports such a stall, but nothing acts on it unless a liveness probe is configured; this watchdog acts.
The exit is safe: the open transaction is aborted by the broker (or fenced by the restarted instance)
and the restart redoes the batch from the committed offsets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from xray_runtime.health import Health


class StallWatchdog:
    """A daemon thread calling `on_stall(seconds)` once the loop has not beaten for `limit_s`."""

    def __init__(self, health: Health, limit_s: float, on_stall: Callable[[float], None]) -> None:
        self._health = health
        self._limit_s = limit_s
        self._on_stall = on_stall
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="xray-stall-watchdog", daemon=True)

    def start(self) -> None:
        """Start watching (a limit of 0 or less watches nothing)."""
        if self._limit_s > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop watching (shutdown)."""
        self._stop.set()

    def _watch(self) -> None:
        check_every = min(5.0, self._limit_s / 4)
        while not self._stop.wait(check_every):
            stalled = self._health.seconds_since_beat()
            if stalled >= self._limit_s:
                self._on_stall(stalled)
                return
