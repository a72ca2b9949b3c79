"""The demo feed: a simulated market that ends in the present, split into a backfill and a live part.

The backfill (every frame received before `live_from_ms`) is ingested at full speed so the dashboard has
regimes within seconds; the live part is replayed at the recorded pace from `live_from_ms` on, so the
simulated receive times track the wall clock and the orchestrator's live boundary closes fire on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from xray_simulator.api import write_labels
from xray_simulator.config import WINDOW_MS, SimulatorConfig
from xray_simulator.generator import iter_frames, recording_line
from xray_simulator.schedule import all_labels

DEFAULT_SYMBOLS: Final = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


@dataclass(frozen=True, slots=True)
class DemoFeed:
    """The two recording files of a demo and what they hold."""

    backfill: Path
    live: Path
    labels: Path
    symbols: tuple[str, ...]
    live_from_ms: int
    backfill_frames: int
    live_frames: int


def demo_config(
    symbols: tuple[str, ...], now_ms: int, backfill_windows: int, live_windows: int, seed: int
) -> SimulatorConfig:
    """A thinned simulation (a third of the trades, book and mark every 5 s) around `now_ms`."""
    first_open = (now_ms // WINDOW_MS) - backfill_windows
    return SimulatorConfig(
        seed=seed,
        symbols=symbols,
        start_ms=first_open * WINDOW_MS,
        windows=backfill_windows + live_windows,
        activity=0.3,
        book_interval_s=5,
        mark_interval_s=5,
    )


def write_demo_feed(
    folder: Path,
    *,
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS,
    now_ms: int,
    live_from_ms: int,
    backfill_windows: int = 30,
    live_windows: int = 40,
    seed: int = 11,
) -> DemoFeed:
    """Write `backfill.dat` (receive time < live_from_ms), `live.dat` (the rest) and `labels.jsonl`."""
    folder.mkdir(parents=True, exist_ok=True)
    config = demo_config(symbols, now_ms, backfill_windows, live_windows, seed)
    backfill, live = folder / "backfill.dat", folder / "live.dat"
    counts = [0, 0]
    split_ns = live_from_ms * 1_000_000
    with backfill.open("wb") as early, live.open("wb") as late:
        for frame in iter_frames(config):
            index = 0 if frame.recv_ns < split_ns else 1
            (early, late)[index].write(recording_line(frame) + b"\n")
            counts[index] += 1
    labels = folder / "labels.jsonl"
    write_labels(all_labels(config), labels)
    return DemoFeed(backfill, live, labels, symbols, live_from_ms, counts[0], counts[1])
