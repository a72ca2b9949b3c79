"""The stall watchdog fires once the loop stops beating, and never while it beats."""

from __future__ import annotations

import time

from xray_runtime.health import Health
from xray_runtime.watchdog import StallWatchdog


def test_fires_once_the_loop_stops_beating() -> None:
    health = Health(stall_after_s=60)
    fired: list[float] = []
    dog = StallWatchdog(health, 0.2, fired.append)
    dog.start()
    deadline = time.monotonic() + 5
    while not fired and time.monotonic() < deadline:
        time.sleep(0.02)
    dog.stop()
    assert len(fired) == 1
    assert fired[0] >= 0.2


def test_quiet_while_the_loop_beats_and_after_stop() -> None:
    health = Health(stall_after_s=60)
    fired: list[float] = []
    dog = StallWatchdog(health, 0.3, fired.append)
    dog.start()
    for _ in range(40):  # 0.8 s of beating, well past the limit in total
        health.beat()
        time.sleep(0.02)
    dog.stop()
    time.sleep(0.5)  # stopped: no beat any more, still silent
    assert fired == []


def test_zero_turns_it_off() -> None:
    health = Health(stall_after_s=60)
    dog = StallWatchdog(health, 0, lambda _s: None)
    dog.start()
    assert not dog._thread.is_alive()
