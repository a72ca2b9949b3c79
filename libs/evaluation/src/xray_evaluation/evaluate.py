"""Score truth and hysteresis modes against labels (or forward outcomes when there are none)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from regime_engine.contracts.regimes import REGIMES
from regime_engine.hysteresis import HysteresisConfig

from xray_evaluation.forward import ForwardCheck, ForwardStats, forward_checks, forward_stats
from xray_evaluation.metrics import Report, evaluate_labels
from xray_evaluation.runner import Labelled, run_modes
from xray_evaluation.series import WINDOW_MS, Step

CLASSES = tuple(r.value for r in REGIMES)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Results of one evaluation run: label metrics (None when unlabelled) and forward outcomes."""

    truth: Report | None
    hysteresis: Report | None
    forward_truth: tuple[tuple[ForwardStats, ...], tuple[ForwardCheck, ...]]
    forward_hysteresis: tuple[tuple[ForwardStats, ...], tuple[ForwardCheck, ...]]
    labelled_steps: int
    total_steps: int
    # Changes of the true label per symbol-hour (None when unlabelled): the floor a stable label
    # that follows every real switch cannot go below.
    label_flip_rate_per_hour: float | None = None


def _labelled_only(
    truth: dict[str, list[str | None]], predicted: dict[str, list[str]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    t_out: dict[str, list[str]] = {}
    p_out: dict[str, list[str]] = {}
    for symbol, labels in truth.items():
        pairs = [(t, p) for t, p in zip(labels, predicted[symbol], strict=True) if t is not None]
        t_out[symbol] = [t for t, _ in pairs]
        p_out[symbol] = [p for _, p in pairs]
    return t_out, p_out


def _report(labelled: Labelled, mode: dict[str, list[str]]) -> Report:
    truth, predicted = _labelled_only(labelled.truth, mode)
    report = evaluate_labels(truth, predicted, CLASSES, WINDOW_MS)
    # Flip rate over the whole predicted series (labelled or not).
    full = evaluate_labels(mode, mode, CLASSES, WINDOW_MS)
    return Report(
        report.classes,
        report.confusion,
        report.per_class,
        report.macro_f1,
        report.accuracy,
        full.flips,
        full.hours,
        full.flip_rate_per_hour,
    )


def evaluate_steps(steps: Iterable[Step], config: HysteresisConfig | None = None) -> Evaluation:
    """Run both modes over `steps` and score them."""
    labelled = run_modes(steps, config)
    total = sum(len(v) for v in labelled.truth.values())
    known = sum(1 for v in labelled.truth.values() for t in v if t is not None)
    label_rate = None
    if known:
        labels, _ = _labelled_only(labelled.truth, labelled.truth_mode)
        label_rate = evaluate_labels(labels, labels, CLASSES, WINDOW_MS).flip_rate_per_hour
    ft = forward_stats(labelled.truth_mode, labelled.prices)
    fh = forward_stats(labelled.hysteresis_mode, labelled.prices)
    return Evaluation(
        truth=_report(labelled, labelled.truth_mode) if known else None,
        hysteresis=_report(labelled, labelled.hysteresis_mode) if known else None,
        forward_truth=(tuple(ft), tuple(forward_checks(ft))),
        forward_hysteresis=(tuple(fh), tuple(forward_checks(fh))),
        labelled_steps=known,
        total_steps=total,
        label_flip_rate_per_hour=label_rate,
    )
