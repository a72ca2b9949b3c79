"""The service's pure core: boundary runs, per-partition state, restart from the persisted state alone."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orchestrator.partition import PartitionState, history_range, rebuild_histories
from orchestrator.planner import plan_partition
from orchestrator.run_id import derive_run_id
from orchestrator.runs import ENGINE_FAILURE, BoundaryRunner, Output, RunSettings, default_engine
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.hysteresis import HysteresisConfig, HysteresisState
from regime_engine.wire import state_from_store_record, store_record
from xray_contracts.codec import codec_for
from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.orchestrator_cursor import OrchestratorCursor
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.run_log import EngineRunRecord
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig

INTERVAL = 180_000
LOOKBACK = 12 * INTERVAL  # short lookback so the test's series prunes and the rebuild range matters
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


@cache
def log() -> tuple[RawMarketEvent, ...]:
    """One partition's log: a simulated market (several regimes), in receive order."""
    config = SimulatorConfig(seed=5, symbols=SYMBOLS, windows=24, activity=0.05, book_interval_s=30)
    events = sorted(simulate(config).events, key=lambda e: e.recv_ts_ms)
    return tuple(events)


def runner(mode: str = "hysteresis", engine: object = None) -> BoundaryRunner:
    settings = RunSettings(engine_mode=mode)  # type: ignore[arg-type]
    composer = settings.composer.model_copy(update={"lookback_ms": LOOKBACK})
    return BoundaryRunner(replace(settings, composer=composer), lambda: 0, lambda _ms: None, engine)  # type: ignore[arg-type]


def fresh(mode: str = "hysteresis") -> PartitionState:
    return PartitionState(0, runner(mode), INTERVAL, LOOKBACK)


def feed(state: PartitionState, start: int, stop: int) -> list[Output]:
    out: list[Output] = []
    events = log()
    for offset in range(start, stop):
        out.extend(state.add(offset, events[offset]))
    return out


def published(outputs: list[Output]) -> list[bytes]:
    """Outputs as the bytes the service would write (the codecs are the equality that matters)."""
    out: list[bytes] = []
    for o in outputs:
        out.append(codec_for(type(o.value)).encode(o.value))
    return out


def test_every_symbol_runs_once_per_boundary_with_the_fact_sheet_run_id() -> None:
    outputs = feed(fresh(), 0, len(log()))
    completed = [o.value for o in outputs if isinstance(o.value, OrchestratorEvent)]
    by_type: dict[str, list[OrchestratorEvent]] = {}
    for e in completed:
        by_type.setdefault(e.event_type, []).append(e)
    started = by_type["EngineRunStarted"]
    assert len(started) == len(by_type["EngineRunCompleted"]) == len(by_type["HysteresisStatePublished"])
    assert "EngineRunFailed" not in by_type
    boundaries = {e.engine_timestamp_ms for e in started}
    assert len(started) == len(boundaries) * len(SYMBOLS)
    for e in started:
        assert e.run_id == derive_run_id(e.symbol, e.engine_timestamp_ms, e.cut_end_ingest_seq, "hysteresis")
        assert e.cut_kind == "boundary"
    for e in by_type["EngineRunCompleted"] + by_type["HysteresisStatePublished"]:
        assert e.payload is not None
        assert e.payload.regime_output is not None
        assert e.payload.hysteresis_state is not None


def test_cuts_partition_the_log_and_match_the_reference_planner() -> None:
    events = log()
    outputs = feed(fresh(), 0, len(events))
    started = [o.value for o in outputs if isinstance(o.value, OrchestratorEvent)]
    started = [e for e in started if e.event_type == "EngineRunStarted"]
    reference = plan_partition(enumerate(events), INTERVAL)
    assert [
        (e.symbol, e.engine_timestamp_ms, e.cut_start_ingest_seq, e.cut_end_ingest_seq) for e in started
    ] == [(c.symbol, c.engine_timestamp_ms, c.cut_start_ingest_seq, c.cut_end_ingest_seq) for c in reference]
    # Every event of a closed window is counted in exactly one cut of its symbol.
    completed = [o.value for o in outputs if isinstance(o.value, OrchestratorEvent)]
    completed = [e for e in completed if e.event_type == "EngineRunCompleted"]
    last_end = max(e.cut_end_ingest_seq for e in completed)
    for symbol in SYMBOLS:
        counted = sum(sum((e.counts_by_event_type or {}).values()) for e in completed if e.symbol == symbol)
        expected = sum(1 for ev in events[: last_end + 1] if ev.symbol == symbol)
        assert counted == expected


def test_run_log_has_a_started_and_a_terminal_record_before_and_after_the_events() -> None:
    outputs = feed(fresh(), 0, len(log()))
    per_run: dict[str, list[str]] = {}
    for o in outputs:
        v = o.value
        if isinstance(v, EngineRunRecord):
            per_run.setdefault(v.run_id, []).append(f"log:{v.status}")
        elif isinstance(v, OrchestratorEvent):
            per_run.setdefault(v.run_id, []).append(v.event_type)
    for sequence in per_run.values():
        assert sequence == [
            "log:started",
            "EngineRunStarted",
            "HysteresisStatePublished",
            "EngineRunCompleted",
            "log:completed",
        ]


def test_truth_mode_publishes_completed_without_hysteresis() -> None:
    outputs = feed(fresh("truth"), 0, len(log()))
    kinds = {o.kind for o in outputs}
    assert "hysteresis" not in kinds
    completed = [o.value for o in outputs if isinstance(o.value, OrchestratorEvent)]
    assert {e.event_type for e in completed} == {"EngineRunStarted", "EngineRunCompleted"}
    assert all(e.engine_mode == "truth" for e in completed)


def test_a_failing_symbol_gets_engine_run_failed_and_the_others_run() -> None:
    base = default_engine(RunSettings())
    calls: list[str] = []

    def flaky(snapshot: RegimeInputSnapshot, prev: HysteresisState | None):  # type: ignore[no-untyped-def]
        calls.append(snapshot.symbol)
        if snapshot.symbol == "ETHUSDT":
            raise RuntimeError("boom " + "x" * 2000)
        return base(snapshot, prev)

    state = PartitionState(0, runner(engine=flaky), INTERVAL, LOOKBACK)
    outputs = feed(state, 0, len(log()))
    events = [o.value for o in outputs if isinstance(o.value, OrchestratorEvent)]
    failed = [e for e in events if e.event_type == "EngineRunFailed"]
    assert failed
    assert {e.symbol for e in failed} == {"ETHUSDT"}
    for e in failed:
        assert e.payload is not None
        assert e.payload.error_kind == ENGINE_FAILURE
        assert e.payload.error_detail is not None
        assert len(e.payload.error_detail) <= 512
        assert e.attempt == 2  # engine_retry default: 2 attempts
    assert calls.count("ETHUSDT") == 2 * len(failed)
    ok = {e.symbol for e in events if e.event_type == "EngineRunCompleted"}
    assert ok == {"BTCUSDT", "SOLUSDT"}
    terminal = [
        o.value for o in outputs if isinstance(o.value, EngineRunRecord) and o.value.status == "failed"
    ]
    assert len(terminal) == len(failed)
    assert all(r.attempts == 2 for r in terminal)


def restart(state: PartitionState, store: dict[str, HysteresisStoreRecord]) -> tuple[PartitionState, int]:
    """A new instance from the persisted state alone: cursor, hysteresis records, raw log re-read."""
    cursor_codec = codec_for(OrchestratorCursor)
    cursor = cursor_codec.decode(cursor_codec.encode(state.cursor_record()))
    config = HysteresisConfig()
    store_codec = codec_for(HysteresisStoreRecord)
    states = {
        s: state_from_store_record(store_codec.decode(store_codec.encode(r)), config)
        for s, r in store.items()
    }
    span = history_range(cursor, INTERVAL)
    composer = runner().settings.composer
    histories = {} if span is None else rebuild_histories(span, log()[span.start : span.end], composer)
    again = PartitionState(0, runner(), INTERVAL, LOOKBACK, cursor=cursor, histories=histories, states=states)
    resume = state.commit_offset()
    return again, 0 if resume is None else resume


def run_with_restarts(points: list[int]) -> list[bytes]:
    events = log()
    state = fresh()
    store: dict[str, HysteresisStoreRecord] = {}
    out: list[Output] = []
    position = 0
    for point in [*sorted(points), len(events)]:
        produced = feed(state, position, max(point, position))
        for o in produced:
            if isinstance(o.value, HysteresisStoreRecord):
                store[o.symbol] = o.value
        out.extend(produced)
        position = max(point, position)
        if point < len(events):
            state, position = restart(state, store)
    return published(out)


@pytest.fixture(scope="module")
def uninterrupted() -> list[bytes]:
    return run_with_restarts([])


@settings(max_examples=8, deadline=None)
@given(points=st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=4))
def test_a_restart_anywhere_gives_the_uninterrupted_outputs(
    points: list[int], uninterrupted: list[bytes]
) -> None:
    n = len(log())
    assert run_with_restarts([p % n for p in points]) == uninterrupted


def test_the_belief_survives_the_store_record() -> None:
    outputs = feed(fresh(), 0, len(log()))
    records = [o.value for o in outputs if isinstance(o.value, HysteresisStoreRecord)]
    assert records
    assert all(r.belief_by_regime for r in records)
    state = state_from_store_record(records[-1], HysteresisConfig())
    assert state.belief() is not None
    assert store_record(state) == records[-1]
