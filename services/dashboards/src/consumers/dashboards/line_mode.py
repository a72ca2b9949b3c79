"""Plain-text "line mode": one DVM as the original TUI's text frame (for logs, non-TTY use and tests)."""

from __future__ import annotations

from collections.abc import Sequence

from consumers.dashboards.contracts import DashboardViewModel, MetricsSnapshot, SymbolSnapshot

METRIC_ORDER = (
    "atr_pct",
    "atr_rank",
    "range_24h_pct",
    "range_session_pct",
    "volume_24h",
    "volume_rank",
    "relative_volume",
    "relative_strength",
    "price_last",
    "price_change_pct",
    "crowding_score",
    "cascade_mass",
    "positioning_share",
)


def _join(items: Sequence[str]) -> str:
    return ", ".join(items)


def _metrics_line(metrics: MetricsSnapshot) -> str | None:
    known = [(name, getattr(metrics, name)) for name in METRIC_ORDER if getattr(metrics, name) is not None]
    if not known:
        return None
    return " metrics: " + "; ".join(f"{name}={value}" for name, value in known)


def _symbol_lines(s: SymbolSnapshot) -> list[str]:
    lines = [
        f"[{s.symbol}] run_id={s.last_run_id} engine_ts_ms={s.last_engine_timestamp_ms}",
        f" gate={s.gate.status} reasons={_join(s.gate.reasons)}",
    ]
    if s.regime_effective is not None:
        e = s.regime_effective
        lines.append(f" regime_effective={e.regime_name} ({e.source}) confidence={e.confidence}")
    if s.regime_truth is not None:
        t = s.regime_truth
        lines.append(f" regime_truth={t.regime_name} confidence={t.confidence}")
        for name, values in (
            ("drivers", t.drivers),
            ("invalidations", t.invalidations),
            ("permissions", t.permissions),
        ):
            if values:
                lines.append(f"  {name}={_join(values)}")
    if s.hysteresis is not None:
        h = s.hysteresis
        lines.append(f" hysteresis_confidence={h.effective_confidence}")
        if h.summary is not None:
            m = h.summary
            lines.append(f"  phase={m.phase} anchor={m.anchor_regime} candidate={m.candidate_regime}")
            lines.append(f"  progress={m.progress.current}/{m.progress.required} trend={m.confidence_trend}")
            if m.notes:
                lines.append(f"  notes={_join(m.notes)}")
    if s.belief is not None:
        b = s.belief
        lines.append(f" belief_anchor={b.anchor_regime}")
        lines.append(f" belief_trend={b.trend.status} delta={b.trend.anchor_mass_delta}")
        dist = "; ".join(f"{e.regime_name}={e.mass:.4f}" for e in b.distribution)
        lines.append(f" belief_distribution={dist}")
    if s.analysis is not None:
        a = s.analysis
        lines.append(f" analysis_status={a.status}")
        if a.highlights:
            lines.append(f"  highlights={_join(a.highlights)}")
        for art in a.artifacts:
            name = f"{art.module_id}:{art.artifact_name}"
            lines.append(f"  artifact={name} kind={art.artifact_kind} summary={art.summary}")
        if a.assessment is not None:
            lines.append(f"  assessment={a.assessment.summary}")
    if s.metrics is not None:
        line = _metrics_line(s.metrics)
        if line is not None:
            lines.append(line)
    return lines


def frame_lines(dvm: DashboardViewModel) -> list[str]:
    """The frame's lines, in the original's order and tokens (plus the additive sections at the end)."""
    lines = [
        f"DVM {dvm.dvm_schema} v{dvm.dvm_schema_version} as_of={dvm.as_of_ts_ms}",
        f"source_run_id={dvm.source_run_id} source_engine_ts_ms={dvm.source_engine_timestamp_ms}",
        f"system_status={dvm.system.status}",
    ]
    for comp in dvm.system.components:
        detail = f" ({'; '.join(comp.details)})" if comp.details else ""
        lines.append(f" component={comp.component_id} status={comp.status}{detail}")
    staleness = dvm.telemetry.staleness
    lines.append(f"stale={staleness.is_stale} reasons={_join(staleness.stale_reasons)}")
    for stream in dvm.telemetry.streams:
        lines.append(
            f" stream={stream.stream} events={stream.events_ingested} age_ms={stream.age_ms}"
            f" lag={stream.lag_records} stale={stream.is_stale} failing={stream.failing}"
            f" failures={stream.failure_count}"
        )
    for symbol in dvm.symbols:
        lines.extend(_symbol_lines(symbol))
    return lines


def frame_text(dvm: DashboardViewModel) -> str:
    """The whole frame as one string with a trailing newline."""
    return "\n".join(frame_lines(dvm)) + "\n"
