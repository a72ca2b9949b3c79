"""The screen (columns, sorting, filter, pause, keys), line mode, key parsing and the settings."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from consumers.dashboards import DashboardBuilder, TuiRenderer
from consumers.dashboards.keyboard import split_keys
from consumers.dashboards.settings import DashboardSettings
from consumers.dashboards.testing import gate, hysteresis, orchestrator, regime
from consumers.dashboards.view import sort_symbols, visible_columns
from consumers.dashboards.view_state import ViewState, apply_key
from rich.console import Console
from xray_runtime.config import load_settings


def sample() -> DashboardBuilder:
    builder = DashboardBuilder()
    rows = (
        ("ETHUSDT", "TREND_BUILD_UP", 0.9, "OPEN"),
        ("BTCUSDT", "CHOP_BALANCED", 0.4, "CLOSED"),
        ("SOLUSDT", "SQUEEZE_DOWN", 0.6, "OPEN"),
    )
    for i, (symbol, name, conf, status) in enumerate(rows):
        state = hysteresis(name, symbol=symbol, belief={name: 0.7, "CHOP_STOPHUNT": 0.3})
        builder.ingest_orchestrator_event(
            orchestrator(
                "EngineRunCompleted",
                f"r{i}",
                180_000,
                output=regime(name, conf, symbol),
                state=state,
                symbol=symbol,
            )
        )
        builder.ingest_state_gate_event(
            gate(
                f"r{i}",
                180_000,
                status,
                [] if status == "OPEN" else ["transition_active"],
                output=regime(name, conf, symbol),
                state=state,
                symbol=symbol,
            ),
            record_ts_ms=1_000 * i,
        )
    return builder


def screen(builder: DashboardBuilder, state: ViewState | None = None, width: int = 200) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    TuiRenderer(console=console, view_state=state).render(builder.build_snapshot(as_of_ts_ms=10_000))
    return out.getvalue()


def test_every_symbol_row_shows_regime_gate_and_reasons() -> None:
    text = screen(sample())
    for token in (
        "BTCUSDT",
        "ETHUSDT",
        "SOLUSDT",
        "TREND_BUILD_UP",
        "CHOP_BALANCED",
        "SQUEEZE_DOWN",
        "OPEN",
        "CLOSED",
        "transition_active",
        "orchestrator_event",
    ):
        assert token in text, token


def test_narrow_terminals_drop_the_least_important_columns() -> None:
    assert visible_columns(80) == ["Symbol", "Regime", "Belief", "Conf", "Gate", "Last run"]
    assert "Assessment" in visible_columns(120)
    assert visible_columns(200)[-2:] == ["Regime history", "Assessment"]
    assert "ETHUSDT" in screen(sample(), width=80)


def test_sort_keys_filter_and_direction() -> None:
    dvm = sample().build_snapshot(as_of_ts_ms=10_000)
    assert [s.symbol for s in sort_symbols(dvm, ViewState())] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    by_conf = ViewState(sort_key="confidence", descending=True)
    assert [s.symbol for s in sort_symbols(dvm, by_conf)] == ["ETHUSDT", "SOLUSDT", "BTCUSDT"]
    assert next(s.symbol for s in sort_symbols(dvm, ViewState(sort_key="gate"))) == "BTCUSDT"
    assert [s.symbol for s in sort_symbols(dvm, ViewState(symbol_filter="eth"))] == ["ETHUSDT"]
    assert "no symbol matches" in screen(sample(), ViewState(symbol_filter="XRP"))


def test_keys() -> None:
    state = ViewState()
    state = apply_key(state, "s")
    assert state.sort_key == "regime"
    assert apply_key(state, "S").sort_key == "symbol"
    assert apply_key(state, "r").descending
    for key in "/eth":
        state = apply_key(state, key)
    assert state.editing_filter == "eth"
    assert apply_key(state, "q").editing_filter == "ethq"  # typing, not quitting
    state = apply_key(apply_key(state, "\x7f"), "\r")
    assert (state.symbol_filter, state.editing_filter) == ("et", None)
    assert apply_key(state, "c").symbol_filter == ""
    assert apply_key(apply_key(state, "/"), "\x1b").symbol_filter == "et"
    paused = apply_key(state, "p")
    assert paused.paused
    assert "PAUSED" in screen(sample(), paused)
    assert not apply_key(paused, " ").paused
    assert apply_key(state, "q").quit


def test_escape_sequences_are_not_keys() -> None:
    assert split_keys("s\x1b[Ar") == ["s", "r"]
    assert split_keys("\x1b") == ["\x1b"]
    assert split_keys("\x1bOPq") == ["q"]


def test_bad_setting_exits_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("XRAY_DASHBOARD__REFRESH_HZ", "fast")
    with pytest.raises(SystemExit) as exit_info:
        load_settings(DashboardSettings)
    assert exit_info.value.code == 2
    assert "XRAY_DASHBOARD__REFRESH_HZ" in capsys.readouterr().err


def test_the_service_exits_2_on_a_bad_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
    env.update(
        {
            "XRAY_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "XRAY_DASHBOARD__STALE_AFTER_S__STATE_GATE_EVENT": "-1",
        }
    )
    done = subprocess.run(  # noqa: PLW1510 (the exit code is the assertion)
        [sys.executable, "-m", "consumers.dashboards"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "XRAY_DASHBOARD__STALE_AFTER_S__STATE_GATE_EVENT" in done.stderr


def test_settings_map_onto_the_builder() -> None:
    config = DashboardSettings(
        kafka={"bootstrap_servers": "x:1"},
        dashboard={"price_bucket_s": 15, "stale_after_s": {"orchestrator_event": 30}},
    ).dashboard.builder_config()
    assert config.price_bucket_ms == 15_000
    assert config.stale_after_ms["orchestrator_event"] == 30_000
    assert config.stale_after_ms["state_gate_event"] == 360_000
