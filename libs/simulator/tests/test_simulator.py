"""Simulator: determinism, regime coverage, frame/event consistency, recording format, CLI."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from itertools import groupby
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from regime_engine.contracts.regimes import Regime
from xray_contracts.raw_market_event import REQUIRED_NORMALIZED_KEYS
from xray_simulator import (
    REGIMES,
    SimulatorConfig,
    all_labels,
    default_symbols,
    iter_cuts,
    iter_frames,
    recording_line,
    regime_schedule,
    simulate,
)
from xray_simulator.cli import simulate as simulate_cmd

SMALL = SimulatorConfig(seed=3, symbols=default_symbols(3), windows=3, activity=0.5)


def test_regime_names_match_engine() -> None:
    assert tuple(r.value for r in Regime) == REGIMES


def test_same_seed_same_bytes_other_seed_differs() -> None:
    a = [recording_line(f) for f in iter_frames(SMALL)]
    b = [recording_line(f) for f in iter_frames(SMALL)]
    c = [recording_line(f) for f in iter_frames(SMALL.model_copy(update={"seed": 4}))]
    assert a == b
    assert a != c


@pytest.mark.parametrize(("windows", "shortest", "longest"), [(360, 10, 40), (72, 4, 8)])
def test_every_regime_labelled_once_per_window(windows: int, shortest: int, longest: int) -> None:
    # The first cycle is a shuffle of all 9 regimes: 9 x longest windows always cover every regime.
    cfg = SimulatorConfig(
        seed=1,
        symbols=default_symbols(5),
        windows=windows,
        min_segment_windows=shortest,
        max_segment_windows=longest,
    )
    labels = all_labels(cfg)
    assert len(labels) == 5 * windows
    for symbol in cfg.symbols:
        mine = regime_schedule(cfg, symbol)
        assert {lb.regime for lb in mine} == set(REGIMES)
        assert [lb.window_start_ms for lb in mine] == [cfg.start_ms + i * 180_000 for i in range(windows)]
        assert all(lb.window_end_ms - lb.window_start_ms == 180_000 for lb in mine)
        runs = [len(list(g)) for _, g in groupby(lb.regime for lb in mine)]
        # every complete segment respects the bounds (the last one may be cut by the run's end)
        assert all(shortest <= n for n in runs[:-1]), runs
        assert all(n <= 2 * longest for n in runs), runs  # equal neighbours at a cycle seam may merge


def test_default_regimes_last_30_minutes_to_2_hours() -> None:
    cfg = SimulatorConfig()
    assert (cfg.min_segment_windows, cfg.max_segment_windows) == (10, 40)


def test_events_follow_registry_and_frames() -> None:
    sim = simulate(SMALL)
    kinds = Counter(e.event_type for e in sim.events)
    assert {"TradeTick", "BookTop", "MarkPrice", "IndexPrice", "FundingRate", "OpenInterest"} <= set(kinds)
    recv = [e.recv_ts_ms for e in sim.events]
    assert recv == sorted(recv)
    for e in sim.events:
        assert set(REQUIRED_NORMALIZED_KEYS[e.event_type]) <= set(e.normalized)
        assert e.source_id == "binance"
        assert e.symbol in SMALL.symbols
        assert e.exchange_ts_ms is not None
        assert e.recv_ts_ms > e.exchange_ts_ms - 10
        body = json.loads(e.raw_payload)
        data = body.get("data", body)
        if e.event_type == "TradeTick":
            assert body["stream"] == f"{e.symbol.lower()}@aggTrade"
            assert float(data["p"]) == e.normalized["price"]
            assert float(data["q"]) == e.normalized["quantity"]
            assert e.normalized["side"] == ("sell" if data["m"] else "buy")
            assert data["T"] == e.exchange_ts_ms
            assert e.source_event_id == str(data["a"])
        elif e.event_type == "FundingRate":
            assert float(data["r"]) == e.normalized["funding_rate"]
            assert e.channel == "mark_price"
        elif e.event_type == "OpenInterest":
            assert "stream" not in body
            assert float(body["openInterest"]) == e.normalized["open_interest"]
            assert body["time"] == e.exchange_ts_ms
        elif e.event_type == "LiquidationPrint":
            assert data["o"]["S"].lower() == e.normalized["side"]


def test_liquidation_regime_emits_force_orders() -> None:
    cfg = SimulatorConfig(
        seed=5,
        symbols=("BTCUSDT",),
        windows=45,
        activity=0.3,
        mark_interval_s=10,
        book_interval_s=60,
        min_segment_windows=4,
        max_segment_windows=8,
    )
    sim = simulate(cfg)
    liq_windows = {lb.window_start_ms for lb in sim.labels if lb.regime.startswith("LIQUIDATION")}
    assert liq_windows
    per_window = Counter(
        (e.exchange_ts_ms or 0) // 180_000 * 180_000 for e in sim.events if e.event_type == "LiquidationPrint"
    )
    quiet = [per_window[w] for w in {lb.window_start_ms for lb in sim.labels} - liq_windows]
    loud = [per_window[w] for w in liq_windows]
    assert min(loud) > 10 * (sum(quiet) / len(quiet) + 1)


def test_cuts_partition_by_receive_time() -> None:
    sim = simulate(SMALL)
    cuts = list(iter_cuts(sim.events, SMALL.symbols))
    assert sum(len(v) for _, c in cuts for v in c.values()) == len(sim.events)
    for boundary, cut in cuts:
        for events in cut.values():
            assert all(boundary - 180_000 <= e.recv_ts_ms < boundary for e in events)


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_any_seed_is_reproducible(seed: int) -> None:
    cfg = SimulatorConfig(seed=seed, symbols=("BTCUSDT", "ETHUSDT"), windows=1, activity=0.2)
    assert [f.payload for f in iter_frames(cfg)] == [f.payload for f in iter_frames(cfg)]


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="multiple of 180000"):
        SimulatorConfig(start_ms=1)
    with pytest.raises(ValueError, match="unique"):
        SimulatorConfig(symbols=("A", "A"))


def test_cli_writes_recording_and_labels(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        simulate_cmd, ["--out", str(tmp_path), "--hours", "0.05", "--symbols", "BTCUSDT,ETHUSDT"]
    )
    assert result.exit_code == 0, result.output
    lines = gzip.decompress((tmp_path / "simulated.dat.gz").read_bytes()).splitlines()
    stamps = [int(line.split(b" ", 1)[0]) for line in lines]
    assert stamps == sorted(stamps)
    assert all(len(str(s)) == 19 for s in stamps)
    assert all(json.loads(line.split(b" ", 1)[1]) for line in lines[:50])
    labels = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert {lb["symbol"] for lb in labels} == {"BTCUSDT", "ETHUSDT"}
