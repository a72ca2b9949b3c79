"""Liveness and readiness as the processing loop reports them (read by the HTTP server thread)."""

from __future__ import annotations

import threading
import time


class Health:
    """Thread-safe enough flags: the loop writes, the HTTP thread reads (single attribute stores)."""

    def __init__(self, stall_after_s: float) -> None:
        self._stall_after_s = stall_after_s
        self._last_beat = time.monotonic()
        self._ready = False
        self._lock = threading.Lock()

    def beat(self) -> None:
        """The loop is turning."""
        self._last_beat = time.monotonic()

    def seconds_since_beat(self) -> float:
        """How long ago the loop last turned."""
        return time.monotonic() - self._last_beat

    def set_ready(self, ready: bool) -> None:
        """Assigned partitions restored and processing (True), or not (False)."""
        with self._lock:
            self._ready = ready

    def is_alive(self) -> bool:
        """The loop has turned within the stall limit."""
        return time.monotonic() - self._last_beat < self._stall_after_s

    def is_ready(self) -> bool:
        """Alive and ready to process."""
        with self._lock:
            return self._ready and self.is_alive()
