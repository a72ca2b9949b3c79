"""Evaluation over hand-made labelled steps, cut grouping, and the `xray evaluate` command."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from regime_engine.hysteresis import HysteresisConfig
from regime_engine.samples import neutral_snapshot, with_fields
from xray_contracts.raw_market_event import RawMarketEvent
from xray_evaluation.cli import evaluate
from xray_evaluation.evaluate import evaluate_steps
from xray_evaluation.series import Step, cuts


def _event(recv: int) -> RawMarketEvent:
    return RawMarketEvent("raw_market_event", "1", "TradeTick", "sim", "X", recv, recv, b"", {})


def test_cuts_group_by_boundary_with_grace() -> None:
    events = [_event(t) for t in (3_000, 179_000, 181_000, 182_500, 545_000)]
    got = [(b, [e.recv_ts_ms for e in evs]) for b, evs in cuts(events, grace_ms=2_000)]
    assert got == [
        (180_000, [3_000, 179_000, 181_000]),
        (360_000, [182_500]),
        (540_000, []),
        (720_000, [545_000]),
    ]


def _steps() -> list[Step]:
    chop = neutral_snapshot()
    busy = with_fields(
        chop, derivatives__liquidation_intensity=0.9, market__atr_z=2.0, flow__aggressive_volume_ratio=0.9
    )
    out = []
    for i in range(12):
        ts = (i + 1) * 180_000
        snap = dataclasses.replace(chop if i < 6 else busy, timestamp=ts)
        label = "CHOP_BALANCED" if i < 6 else "LIQUIDATION_UP"
        out.append(Step("TEST", ts, snap, label))
    return out


def test_evaluate_steps_reports_both_modes() -> None:
    ev = evaluate_steps(
        _steps(), HysteresisConfig(window_updates=1, enter_threshold=0.5, commit_threshold=0.5)
    )
    assert ev.truth is not None
    assert ev.hysteresis is not None
    assert ev.labelled_steps == ev.total_steps == 12
    assert ev.truth.per_class["CHOP_BALANCED"].recall == 1.0
    assert ev.hysteresis.flips <= ev.truth.flips + 1


def test_cli_on_a_tiny_simulation() -> None:
    result = CliRunner().invoke(evaluate, ["--seed", "5", "--hours", "0.6", "--count", "2"])
    assert result.exit_code == 0, result.output
    assert "truth mode (run)" in result.output
    assert "hysteresis mode (anchor)" in result.output
    assert "macro-F1" in result.output
    assert "next-window outcome" in result.output


def test_cli_on_a_real_recording() -> None:
    root = os.environ.get("XRAY_SAMPLE_DATA")
    if not root:
        pytest.skip("XRAY_SAMPLE_DATA is not set: no real recordings to evaluate")
    path = Path(root) / "binance_usdm_cryptofeed_2021" / "BINANCE_FUTURES.ws.1.0"
    if not path.exists():
        pytest.skip(f"{path} not present")
    result = CliRunner().invoke(evaluate, ["--recording", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 labelled" in result.output
    assert "next-window outcome" in result.output


def test_evaluate_is_registered_as_an_xray_subcommand() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="xray.cli")}
    assert names.get("evaluate") == "xray_evaluation.cli:evaluate"
