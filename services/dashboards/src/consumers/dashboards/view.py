"""The operator's screen as `rich` renderables, built from one DVM and the local view state only.

Imports DVM types and nothing upstream. Missing sections render as "—".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from consumers.dashboards import contracts as c
from consumers.dashboards.sparklines import (
    REGIME_COLOURS,
    REGIME_GLYPHS,
    price_sparkline,
    regime_strip,
    regime_style,
    stacked_bar,
)
from consumers.dashboards.view_state import ViewState
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

DASH: Final = "—"
STATUS_STYLES: Final[dict[str, str]] = {
    c.STATUS_OK: "bold green",
    c.STATUS_DEGRADED: "bold yellow",
    c.UNKNOWN: "dim",
    c.GATE_OPEN: "bold green",
    c.GATE_CLOSED: "bold red",
    c.ANALYSIS_PRESENT: "green",
    c.ANALYSIS_PARTIAL: "yellow",
    c.ANALYSIS_EMPTY: "dim",
}
PHASE_STYLES: Final[dict[str, str]] = {
    c.STABLE: "dim",
    c.TRANSITIONING: "yellow",
    c.FLIPPED: "bold magenta",
    c.RESET: "bold red",
}
TREND_GLYPHS: Final[dict[str, tuple[str, str]]] = {
    c.RISING: ("▲", "green"),
    c.FALLING: ("▼", "yellow"),
    c.FLAT: ("─", "dim"),
    c.UNKNOWN: ("·", "dim"),
}
STANCE_STYLES: Final[dict[str, str]] = {"stand_aside": "yellow", "reduce_exposure": "yellow"}
SPARK_WIDTH: Final = 16
BELIEF_WIDTH: Final = 10


def fmt_age(ms: int | None) -> str:
    """A duration as 42s / 3m05s / 2h10m / 3d."""
    if ms is None:
        return DASH
    s = max(0, ms) // 1000
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d"


def fmt_utc(ms: int | None, with_date: bool = False) -> str:
    """Epoch ms as UTC clock time."""
    if ms is None:
        return DASH
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S")


def fmt_price(price: float | None) -> str:
    """A price with about six significant digits."""
    if price is None:
        return DASH
    return f"{price:,.2f}" if price >= 100 else f"{price:.6g}"


def committed_regime(s: c.SymbolSnapshot) -> str | None:
    """The regime to show: the hysteresis anchor, else the effective regime, else the truth."""
    if s.hysteresis is not None and s.hysteresis.transition.stable_regime:
        return s.hysteresis.transition.stable_regime
    if s.regime_effective is not None:
        return s.regime_effective.regime_name
    return s.regime_truth.regime_name if s.regime_truth is not None else None


def shown_confidence(s: c.SymbolSnapshot) -> float | None:
    """The confidence next to the regime: state_gate's effective one, else the truth's."""
    if s.regime_effective is not None:
        return s.regime_effective.confidence
    if s.regime_truth is not None:
        return s.regime_truth.confidence
    return s.hysteresis.effective_confidence if s.hysteresis is not None else None


def _age(s: c.SymbolSnapshot, as_of: int) -> int | None:
    return None if s.last_update_ts_ms is None else as_of - s.last_update_ts_ms


_GATE_ORDER: Final = {c.GATE_CLOSED: 0, c.UNKNOWN: 1, c.GATE_OPEN: 2}


def sort_symbols(dvm: c.DashboardViewModel, state: ViewState) -> list[c.SymbolSnapshot]:
    """Filtered and sorted rows (ties by symbol; missing values last)."""
    rows = [s for s in dvm.symbols if state.matches(s.symbol)]
    keys: dict[str, Callable[[c.SymbolSnapshot], tuple[bool, float | str]]] = {
        "symbol": lambda s: (False, s.symbol),
        "regime": lambda s: (committed_regime(s) is None, committed_regime(s) or ""),
        "confidence": lambda s: (shown_confidence(s) is None, shown_confidence(s) or 0.0),
        "gate": lambda s: (False, _GATE_ORDER.get(s.gate.status, 1)),
        "age": lambda s: (_age(s, dvm.as_of_ts_ms) is None, _age(s, dvm.as_of_ts_ms) or 0),
        "change": lambda s: (
            s.metrics is None or s.metrics.price_change_pct is None,
            (s.metrics.price_change_pct or 0.0) if s.metrics else 0.0,
        ),
    }
    key = keys.get(state.sort_key, keys["symbol"])
    rows.sort(key=lambda s: s.symbol)
    present = [s for s in rows if not key(s)[0]]
    missing = [s for s in rows if key(s)[0]]
    present.sort(key=lambda s: key(s)[1], reverse=state.descending)
    return present + missing


def _regime_cell(s: c.SymbolSnapshot) -> Text:
    regime = committed_regime(s)
    if regime is None:
        return Text(DASH, style="dim")
    text = Text(regime, style=f"bold {regime_style(regime)}")
    truth = s.regime_truth.regime_name if s.regime_truth is not None else None
    if truth is not None and truth != regime:
        text.append(f"\ntruth {truth}", style=regime_style(truth))
    return text


def _phase_cell(s: c.SymbolSnapshot) -> Text:
    summary = s.hysteresis.summary if s.hysteresis is not None else None
    if summary is None:
        return Text(DASH, style="dim")
    if summary.phase in (c.TRANSITIONING, c.FLIPPED) and summary.candidate_regime:
        text = Text(f"{summary.phase[:5]} ", style=PHASE_STYLES[summary.phase])
        text.append(f"→{summary.candidate_regime}", style=regime_style(summary.candidate_regime))
        text.append(f" {summary.progress.current}/{summary.progress.required}", style="dim")
        return text
    return Text(summary.phase, style=PHASE_STYLES[summary.phase])


def _belief_cell(s: c.SymbolSnapshot) -> Text:
    if s.belief is None or not s.belief.distribution:
        return Text(DASH, style="dim")
    dist = [(e.regime_name, e.mass) for e in s.belief.distribution]
    text = stacked_bar(dist, BELIEF_WIDTH)
    total = sum(m for _, m in dist if m > 0) or 1.0
    top = s.belief.distribution[0]
    text.append(f" {top.mass / total:4.0%}", style=regime_style(top.regime_name))
    glyph, style = TREND_GLYPHS[s.belief.trend.status]
    text.append(f" {glyph}", style=style)
    return text


def _confidence_cell(s: c.SymbolSnapshot) -> Text:
    value = shown_confidence(s)
    if value is None:
        return Text(DASH, style="dim")
    trend = s.hysteresis.summary.confidence_trend if s.hysteresis and s.hysteresis.summary else c.UNKNOWN
    glyph, style = TREND_GLYPHS[trend]
    text = Text(f"{value:.2f} ")
    text.append(glyph, style=style)
    return text


def _gate_cell(s: c.SymbolSnapshot) -> Text:
    text = Text(s.gate.status, style=STATUS_STYLES.get(s.gate.status, "dim"))
    if s.gate.reasons:
        text.append("\n" + ", ".join(s.gate.reasons), style="dim")
    return text


def _price_cell(s: c.SymbolSnapshot) -> Text:
    prices = s.history.prices if s.history is not None else ()
    text = price_sparkline(prices, SPARK_WIDTH)
    if prices:
        change = s.metrics.price_change_pct if s.metrics is not None else None
        text.append(f"\n{fmt_price(prices[-1].price)}")
        if change is not None:
            text.append(f" {change:+.2f}%", style="green" if change > 0 else "red" if change < 0 else "dim")
    return text


def _assessment_cell(s: c.SymbolSnapshot) -> Text:
    analysis = s.analysis
    if analysis is None:
        return Text(c.ANALYSIS_EMPTY, style="dim")
    if analysis.assessment is None:
        return Text(analysis.status, style=STATUS_STYLES.get(analysis.status, "dim"))
    assessment = analysis.assessment
    _, _, advice = assessment.summary.partition(": ")
    style = STANCE_STYLES.get(assessment.stance or "", "green" if assessment.actionable else "white")
    text = Text(advice or assessment.summary, style=style)
    if analysis.status != c.ANALYSIS_PRESENT:
        text.append(f" ({analysis.status})", style=STATUS_STYLES[analysis.status])
    return text


# Columns in the order they appear, and the narrowest terminal each one is shown on (most important first).
COLUMNS: Final[tuple[tuple[str, int], ...]] = (
    ("Symbol", 0),
    ("Regime", 0),
    ("Phase", 130),
    ("Belief", 0),
    ("Conf", 0),
    ("Gate", 0),
    ("Last run", 0),
    ("Price", 130),
    ("Regime history", 160),
    ("Assessment", 100),
)


def visible_columns(width: int) -> list[str]:
    """The columns that fit a terminal `width` characters wide."""
    return [name for name, min_width in COLUMNS if width >= min_width]


def _add_column(table: Table, name: str) -> None:
    options: dict[str, dict[str, object]] = {
        "Symbol": {"no_wrap": True, "min_width": 8, "style": "bold"},
        "Regime": {"no_wrap": True, "min_width": 16},
        "Phase": {"no_wrap": True, "max_width": 30},
        "Belief": {"no_wrap": True, "min_width": 17},
        "Conf": {"no_wrap": True, "min_width": 6},
        "Gate": {"min_width": 6, "max_width": 28},
        "Last run": {"no_wrap": True, "min_width": 8},
        "Price": {"no_wrap": True, "min_width": SPARK_WIDTH},
        "Regime history": {"no_wrap": True, "min_width": 8},
        "Assessment": {"ratio": 1, "min_width": 20},
    }
    table.add_column(name, **options[name])  # type: ignore[arg-type]


def _cells(s: c.SymbolSnapshot, as_of: int) -> dict[str, RenderableType]:
    age = _age(s, as_of)
    last_run = Text(f"{fmt_age(age)} ago" if age is not None else DASH)
    last_run.append(f"\n{fmt_utc(s.last_engine_timestamp_ms)}", style="dim")
    history = s.history.regimes if s.history is not None else ()
    return {
        "Symbol": s.symbol,
        "Regime": _regime_cell(s),
        "Phase": _phase_cell(s),
        "Belief": _belief_cell(s),
        "Conf": _confidence_cell(s),
        "Gate": _gate_cell(s),
        "Last run": last_run,
        "Price": _price_cell(s),
        "Regime history": regime_strip(history, SPARK_WIDTH),
        "Assessment": _assessment_cell(s),
    }


def symbols_table(dvm: c.DashboardViewModel, state: ViewState, width: int = 200) -> Table:
    """One row per symbol, with the columns that fit `width`."""
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, header_style="bold")
    columns = visible_columns(width)
    for name in columns:
        _add_column(table, name)
    for s in sort_symbols(dvm, state):
        cells = _cells(s, dvm.as_of_ts_ms)
        table.add_row(*(cells[name] for name in columns))
    if not table.rows:
        table.add_row(
            Text("no symbols yet" if not dvm.symbols else "no symbol matches the filter", style="dim")
        )
    return table


def _stream_status(st: c.StreamTelemetry) -> Text:
    if st.events_ingested == 0 and not st.failing:
        return Text(c.UNKNOWN, style="dim")
    if st.failing:
        return Text("FAILING", style="bold red")
    if st.is_stale:
        return Text("STALE", style="bold yellow")
    return Text(c.STATUS_OK, style="bold green")


def system_table(dvm: c.DashboardViewModel, width: int = 200) -> Table:
    """Per input stream: status, events, age of the newest record, lag, ingest failures."""
    wide = width >= 100
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, header_style="bold", title_justify="left")
    table.add_column("Stream", no_wrap=True, min_width=21)
    table.add_column("Status", no_wrap=True, min_width=7)
    table.add_column("Events", justify="right", no_wrap=True)
    table.add_column("Last record", no_wrap=True, min_width=11)
    if wide:
        table.add_column("Stale after", no_wrap=True, style="dim")
    table.add_column("Lag", justify="right", no_wrap=True, min_width=3)
    table.add_column("Failures", no_wrap=True)
    for st in dvm.telemetry.streams:
        lag = Text(DASH, style="dim") if st.lag_records is None else Text(f"{st.lag_records:,}")
        if st.caught_up is False:
            lag.append(" catching up", style="yellow")
        failures = Text(str(st.failure_count), style="red" if st.failing else "dim")
        if st.last_failure_kind:
            failures.append(f" last: {st.last_failure_kind}", style="red" if st.failing else "dim")
        name = st.stream if st.counts_in_status else f"{st.stream} (price)"
        age = f"{fmt_age(st.age_ms)} ago" if st.age_ms is not None else DASH
        cells: list[RenderableType] = [name, _stream_status(st), f"{st.events_ingested:,}", age]
        if wide:
            cells.append(fmt_age(st.stale_after_ms))
        table.add_row(*cells, lag, failures)
    return table


def header(dvm: c.DashboardViewModel, state: ViewState) -> Text:
    """Title, time, system status, source pointer and the view settings."""
    text = Text("xray-vision ", style="bold")
    text.append(f"{fmt_utc(dvm.as_of_ts_ms, with_date=True)}  ")
    text.append(" system ")
    text.append(f" {dvm.system.status} ", style=f"reverse {STATUS_STYLES.get(dvm.system.status, 'dim')}")
    run = dvm.source_run_id
    text.append(
        f"  source {run[:12] if run else DASH} @ {fmt_utc(dvm.source_engine_timestamp_ms)}", style="dim"
    )
    text.append(f"  symbols {len(dvm.symbols)}", style="dim")
    if state.paused:
        text.append("  PAUSED", style="bold reverse yellow")
    return text


def stale_banner(dvm: c.DashboardViewModel) -> Text | None:
    """A red line naming why the view is stale (None when it is not)."""
    staleness = dvm.telemetry.staleness
    if not staleness.is_stale:
        return None
    return Text(" STALE: " + ", ".join(staleness.stale_reasons) + " ", style="bold white on red")


def legend(dvm: c.DashboardViewModel) -> Text:
    """The colours and glyphs of the regimes on screen."""
    seen = {p.regime_name for s in dvm.symbols if s.history for p in s.history.regimes}
    seen.update(r for s in dvm.symbols if (r := committed_regime(s)))
    text = Text()
    for regime in REGIME_COLOURS:
        if regime in seen:
            text.append(f"{REGIME_GLYPHS[regime]} {regime}  ", style=regime_style(regime))
    return text


def footer(state: ViewState) -> Text:
    """The keys and the current sort / filter."""
    text = Text("keys: ", style="dim")
    order = "desc" if state.descending else "asc"
    text.append(f"[s]ort {state.sort_key} ({order})  [r]everse  ")
    if state.editing_filter is not None:
        text.append(f"filter: {state.editing_filter}▏ (Enter apply, Esc cancel)", style="bold cyan")
    else:
        text.append(f"[/] filter {state.symbol_filter or DASH}  [c]lear  ")
    text.append("  [p]ause  [q]uit")
    return text


class DashboardView:
    """The whole screen for one DVM; lays itself out for the width it is given."""

    def __init__(self, dvm: c.DashboardViewModel, state: ViewState | None = None) -> None:
        """Hold the snapshot and the view settings."""
        self.dvm = dvm
        self.state = state or ViewState()

    def parts(self, width: int) -> list[RenderableType]:
        """Header, stale banner, symbols, legend, system panel, keys."""
        dvm, view = self.dvm, self.state
        parts: list[RenderableType] = [header(dvm, view)]
        banner = stale_banner(dvm)
        if banner is not None:
            parts.append(banner)
        parts.append(symbols_table(dvm, view, width))
        parts.append(legend(dvm))
        parts.append(Text("System", style="bold underline"))
        parts.append(system_table(dvm, width))
        parts.append(footer(view))
        return parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Render at the available width."""
        yield Group(*self.parts(options.max_width))


def dashboard(dvm: c.DashboardViewModel, state: ViewState | None = None) -> RenderableType:
    """The whole screen as a renderable."""
    return DashboardView(dvm, state)
