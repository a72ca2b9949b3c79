"""Fold on arrival equals folding each whole cut at its boundary (the buffering design it replaced).

The reference keeps every event of the open window and folds the cut when its boundary closes; the
service's `PartitionState` keeps no raw event and folds a chunk at a time as records arrive. On a log with
late records, data gaps that close several boundaries at once, SnapshotInputs for the boundary (and for
another time), counted-only records and restarts, both publish the same bytes.
"""

from __future__ import annotations

import dataclasses
import random
from functools import cache
from itertools import pairwise
from typing import Any

import pytest
from composer.history import FOLDED_EVENT_TYPES, SymbolHistory
from orchestrator.partition import CountedEvent, PartitionState, history_range, rebuild_histories
from orchestrator.planner import PartitionCutPlanner
from orchestrator.runs import BoundaryRunner, Output, RunSettings
from orchestrator.window_fold import WindowFold
from regime_engine.hysteresis import HysteresisConfig, HysteresisState
from regime_engine.wire import state_from_store_record
from xray_contracts.codec import codec_for
from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.orchestrator_cursor import OrchestratorCursor
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig

INTERVAL = 180_000
LOOKBACK = 6 * INTERVAL  # short, so the series prunes and the rebuild range matters


@cache
def log() -> tuple[RawMarketEvent, ...]:
    config = SimulatorConfig(
        seed=7, symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"), windows=20, activity=0.05, book_interval_s=30
    )
    return tuple(sorted(simulate(config).events, key=lambda e: e.recv_ts_ms))


def runner() -> BoundaryRunner:
    settings = RunSettings()
    composer = settings.composer.model_copy(update={"lookback_ms": LOOKBACK})
    return BoundaryRunner(dataclasses.replace(settings, composer=composer), lambda: 0, lambda _ms: None)


def published(outputs: list[Output]) -> list[bytes]:
    return [codec_for(type(o.value)).encode(o.value) for o in outputs]


def restart(
    state: PartitionState,
    store: dict[str, HysteresisStoreRecord],
    events: tuple[RawMarketEvent, ...],
    chunk: int,
) -> tuple[PartitionState, int]:
    """A new instance from what is persisted: cursor, hysteresis records, the raw log re-read."""
    cursor_codec = codec_for(OrchestratorCursor)
    cursor = cursor_codec.decode(cursor_codec.encode(state.cursor_record()))
    states = {s: state_from_store_record(r, HysteresisConfig()) for s, r in store.items()}
    span = history_range(cursor, INTERVAL)
    composer = runner().settings.composer
    histories = {} if span is None else rebuild_histories(span, events[span.start : span.end], composer)
    again = PartitionState(
        0, runner(), INTERVAL, LOOKBACK, cursor=cursor, histories=histories, states=states, fold_chunk=chunk
    )
    resume = state.commit_offset()
    return again, 0 if resume is None else resume


def _snapshot_inputs(
    template: RawMarketEvent, symbol: str, recv_ts: int, timestamp_ms: int
) -> RawMarketEvent:
    normalized = {"timestamp_ms": timestamp_ms, "market": {"price": 101.5}, "flow": {"cvd": 3.0}}
    return dataclasses.replace(
        template, event_type="SnapshotInputs", symbol=symbol, recv_ts_ms=recv_ts, normalized=normalized
    )


@cache
def awkward_log() -> tuple[RawMarketEvent, ...]:
    """The simulated log with late records, two data gaps and SnapshotInputs added."""
    rng = random.Random(11)
    events = list(log())
    start = events[0].recv_ts_ms
    # Gaps: drop windows 5-6 and 14 entirely (the next record closes several boundaries).
    gap = {5, 6, 14}
    events = [e for e in events if (e.recv_ts_ms - start) // INTERVAL not in gap]
    # Late records: some events re-appear further on in the log (received out of order).
    for _ in range(40):
        i = rng.randrange(len(events) - 400)
        events.insert(i + rng.randrange(50, 400), events[i])
    # SnapshotInputs for the boundary that closes their window, and one for another time.
    for n in (2, 3, 9, 17):
        boundary = (start // INTERVAL + n + 1) * INTERVAL
        at = next(i for i, e in enumerate(events) if e.recv_ts_ms >= boundary - 30_000)
        symbol = ("BTCUSDT", "ETHUSDT", "SOLUSDT")[n % 3]
        events.insert(at, _snapshot_inputs(events[at], symbol, events[at].recv_ts_ms, boundary))
        events.insert(at + 1, _snapshot_inputs(events[at], symbol, events[at].recv_ts_ms, boundary - 1))
    return tuple(events)


def as_consumed(event: RawMarketEvent) -> RawMarketEvent | CountedEvent:
    """What the service's decoder hands the handler."""
    if event.event_type in FOLDED_EVENT_TYPES:
        return event
    return CountedEvent(event.event_type, event.symbol, event.recv_ts_ms)


def reference(events: tuple[RawMarketEvent, ...]) -> list[Output]:
    """Buffer every event of the window; fold the whole cut at its boundary."""
    planner = PartitionCutPlanner(INTERVAL)
    run = runner()
    histories: dict[str, SymbolHistory] = {}
    states: dict[str, HysteresisState] = {}
    out: list[Output] = []
    for offset, event in enumerate(events):
        cuts = planner.add(offset, event)
        for boundary in sorted({c.engine_timestamp_ms for c in cuts}):
            batch = [c for c in cuts if c.engine_timestamp_ms == boundary]
            out.extend(run.run_boundary(batch, histories, states))
    return out


def on_arrival(
    events: tuple[RawMarketEvent, ...], chunk: int, restarts: tuple[int, ...] = ()
) -> list[Output]:
    state = PartitionState(0, runner(), INTERVAL, LOOKBACK, fold_chunk=chunk)
    store: dict[str, HysteresisStoreRecord] = {}
    out: list[Output] = []
    position = 0
    for point in [*restarts, len(events)]:
        for offset in range(position, max(point, position)):
            produced = state.add(offset, as_consumed(events[offset]))
            out.extend(produced)
            store.update(_records(produced))
        position = max(point, position)
        if point < len(events):
            state, position = restart(state, store, events, chunk)
    return out


def _records(outputs: list[Output]) -> dict[str, HysteresisStoreRecord]:
    found: dict[str, Any] = {o.symbol: o.value for o in outputs if o.kind == "hysteresis"}
    return found


def test_the_awkward_log_has_what_it_claims() -> None:
    events = awkward_log()
    assert sum(e.event_type == "SnapshotInputs" for e in events) == 8
    assert any(b.recv_ts_ms < a.recv_ts_ms - INTERVAL for a, b in pairwise(events))
    assert any(b.recv_ts_ms - a.recv_ts_ms > 2 * INTERVAL for a, b in pairwise(events))


@pytest.mark.parametrize("chunk", [1, 7, 64, 100_000])
def test_fold_on_arrival_publishes_what_folding_whole_cuts_publishes(chunk: int) -> None:
    events = awkward_log()
    expected = published(reference(events))
    assert expected
    assert published(on_arrival(events, chunk)) == expected


@pytest.mark.parametrize("points", [(1,), (700, 2_100), (1_234, 1_235, 3_000)])
def test_restarts_with_fold_on_arrival_publish_the_same_bytes(points: tuple[int, ...]) -> None:
    events = awkward_log()
    assert published(on_arrival(events, 5, points)) == published(reference(events))


def test_a_fold_that_raises_fails_the_whole_window_and_drops_the_rest() -> None:
    events = [e for e in log() if e.symbol == "BTCUSDT" and e.event_type == "TradeTick"][:10]
    boundary = (events[0].recv_ts_ms // INTERVAL + 1) * INTERVAL
    composer = runner().settings.composer
    ahead = dataclasses.replace(SymbolHistory.empty("BTCUSDT", composer), engine_timestamp_ms=boundary + 1)
    fold = WindowFold(composer, chunk=3)
    for event in events:
        fold.add(event, boundary, {"BTCUSDT": ahead})
    (result,) = fold.take(boundary, {"BTCUSDT": ahead}).values()
    assert isinstance(result, ValueError)
    assert fold.take(boundary, {}) == {}


def test_a_record_redelivered_after_a_live_close_is_not_folded_again() -> None:
    events = log()
    cut_at = len(events) // 2

    def run(redeliver: bool) -> list[bytes]:
        state = PartitionState(0, runner(), INTERVAL, LOOKBACK, fold_chunk=3)
        out: list[Output] = []
        for offset in range(cut_at):
            out.extend(state.add(offset, as_consumed(events[offset])))
        boundary = state.planner.open_boundary_ms
        assert boundary is not None
        out.extend(state.close_through(boundary))  # live close: no window is open now
        if redeliver:
            trades = [o for o in range(cut_at) if events[o].event_type == "TradeTick"]
            assert state.add(trades[-1], events[trades[-1]]) == []
        for offset in range(cut_at, len(events)):
            out.extend(state.add(offset, as_consumed(events[offset])))
        return published(out)

    assert run(redeliver=True) == run(redeliver=False)
