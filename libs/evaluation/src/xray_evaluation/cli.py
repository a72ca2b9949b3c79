"""`xray evaluate`: composer + engine over a labelled simulator series or a recording."""

from __future__ import annotations

import json
from pathlib import Path

import click
from regime_engine.hysteresis import HysteresisConfig

from xray_evaluation.evaluate import Evaluation, evaluate_steps
from xray_evaluation.report import render_forward, render_report
from xray_evaluation.series import Step, steps_from_events

# The operating point evaluated by default: one-update commits gated by belief mass, with the
# previous belief carried into the prior (see Planning/regime_engine/spec.md, "Evaluation").
EVALUATION_CONFIG = HysteresisConfig(
    window_updates=1, enter_threshold=0.9, commit_threshold=0.9, prior_carry=0.9
)


def simulated_steps(
    seed: int, hours: float, count: int, min_segment: int | None, max_segment: int | None
) -> list[Step]:
    """Simulate, then compose one labelled step per (window, symbol)."""
    from xray_simulator import SimulatorConfig, all_labels, default_symbols, iter_events

    kwargs: dict[str, object] = {
        "seed": seed,
        "symbols": default_symbols(count),
        "windows": max(2, round(hours * 20)),
    }
    if min_segment is not None:
        kwargs["min_segment_windows"] = min_segment
    if max_segment is not None:
        kwargs["max_segment_windows"] = max_segment
    config = SimulatorConfig.model_validate(kwargs)
    labels = {(lb.symbol, lb.window_end_ms): lb.regime for lb in all_labels(config)}
    return [s for group in steps_from_events(iter_events(config), config.symbols, labels) for s in group]


def recorded_steps(paths: tuple[Path, ...], labels_path: Path | None) -> list[Step]:
    """Compose steps from a recording; labels from a labels.jsonl (as written by `xray simulate`) if given."""
    from xray_evaluation.recording import recording_events

    events = list(recording_events(paths))
    symbols = tuple(dict.fromkeys(ev.symbol for ev in events if ev.symbol))
    labels = None
    if labels_path is not None:
        labels = {}
        for line in labels_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                labels[(obj["symbol"], int(obj["window_end_ms"]))] = obj["regime"]
    events.sort(key=lambda ev: ev.recv_ts_ms)
    return [s for group in steps_from_events(events, symbols, labels) for s in group]


def render(evaluation: Evaluation) -> str:
    """The full text report."""
    parts = [f"steps: {evaluation.total_steps} symbol-runs, {evaluation.labelled_steps} labelled"]
    if evaluation.truth is not None and evaluation.hysteresis is not None:
        parts.append(render_report("truth mode (run)", evaluation.truth))
        parts.append(render_report("hysteresis mode (anchor)", evaluation.hysteresis))
        t, h = evaluation.truth, evaluation.hysteresis
        ratio = h.flip_rate_per_hour / t.flip_rate_per_hour if t.flip_rate_per_hour else 0.0
        parts.append(
            f"summary: macro-F1 truth {t.macro_f1:.3f} hysteresis {h.macro_f1:.3f} "
            f"(cost {t.macro_f1 - h.macro_f1:+.3f}); flips/h truth {t.flip_rate_per_hour:.2f} "
            f"hysteresis {h.flip_rate_per_hour:.2f} (ratio {ratio:.2f}); "
            f"true labels change {evaluation.label_flip_rate_per_hour or 0.0:.2f}/h"
        )
    parts.append(render_forward("truth mode", *evaluation.forward_truth))
    parts.append(render_forward("hysteresis mode", *evaluation.forward_hysteresis))
    return "\n\n".join(parts)


@click.command()
@click.option("--seed", default=2026, show_default=True, help="simulator seed")
@click.option("--hours", default=8.0, show_default=True, help="simulated span")
@click.option("--count", default=5, show_default=True, help="simulated symbols")
@click.option(
    "--min-segment", type=int, default=None, help="shortest regime segment in windows (simulator default 10)"
)
@click.option(
    "--max-segment", type=int, default=None, help="longest regime segment in windows (simulator default 40)"
)
@click.option(
    "--recording",
    "recordings",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="evaluate a recording instead of the simulator (repeatable)",
)
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="labels.jsonl for the recording",
)
@click.option("--window-updates", type=int, default=EVALUATION_CONFIG.window_updates, show_default=True)
@click.option("--enter-threshold", type=float, default=EVALUATION_CONFIG.enter_threshold, show_default=True)
@click.option("--commit-threshold", type=float, default=EVALUATION_CONFIG.commit_threshold, show_default=True)
@click.option("--prior-carry", type=float, default=EVALUATION_CONFIG.prior_carry, show_default=True)
def evaluate(
    *,
    seed: int,
    hours: float,
    count: int,
    min_segment: int | None,
    max_segment: int | None,
    recordings: tuple[Path, ...],
    labels_path: Path | None,
    window_updates: int,
    enter_threshold: float,
    commit_threshold: float,
    prior_carry: float,
) -> None:
    """Score the regime engine: confusion matrix, precision/recall, macro-F1, flip rate, forward outcomes."""
    config = HysteresisConfig(
        window_updates=window_updates,
        enter_threshold=enter_threshold,
        commit_threshold=commit_threshold,
        prior_carry=prior_carry,
    )
    if recordings:
        steps = recorded_steps(recordings, labels_path)
    else:
        steps = simulated_steps(seed, hours, count, min_segment, max_segment)
    click.echo(f"hysteresis config: {config.model_dump_json()}")
    click.echo(render(evaluate_steps(steps, config)))
