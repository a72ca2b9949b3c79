"""Whole-run helpers: materialise a simulation, write it as a recording plus labels."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from xray_contracts.raw_market_event import RawMarketEvent

from xray_simulator.config import SimulatorConfig
from xray_simulator.generator import SimFrame, iter_frames, recording_line
from xray_simulator.schedule import WindowLabel, all_labels


@dataclass(frozen=True, slots=True)
class Simulation:
    """A materialised run: events in receive order and one label per (window, symbol)."""

    config: SimulatorConfig
    events: tuple[RawMarketEvent, ...]
    labels: tuple[WindowLabel, ...]

    def label_map(self) -> dict[tuple[str, int], str]:
        """(symbol, window_end_ms) -> regime; window_end_ms is the engine timestamp of that window."""
        return {(lb.symbol, lb.window_end_ms): lb.regime for lb in self.labels}


def simulate(config: SimulatorConfig) -> Simulation:
    """Run the generator to completion and keep every event in memory."""
    events = tuple(ev for frame in iter_frames(config) for ev in frame.events)
    return Simulation(config, events, all_labels(config))


def label_to_json(label: WindowLabel) -> str:
    """One labels.jsonl line (sorted keys, compact)."""
    return json.dumps(asdict(label), sort_keys=True, separators=(",", ":"))


def write_recording(frames: Iterable[SimFrame], path: Path) -> int:
    """Write `<recv ns> <frame>` lines (gzip when the name ends in .gz); return the line count."""
    count = 0
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        for frame in frames:
            fh.write(recording_line(frame) + b"\n")
            count += 1
    return count


def write_labels(labels: Iterable[WindowLabel], path: Path) -> int:
    """Write one JSON label per line; return the count."""
    lines = [label_to_json(lb) for lb in labels]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
