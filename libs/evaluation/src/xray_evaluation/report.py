"""Plain-text rendering of evaluation results."""

from __future__ import annotations

from collections.abc import Sequence

from xray_evaluation.forward import ForwardCheck, ForwardStats
from xray_evaluation.metrics import Report

SHORT = {
    "CHOP_BALANCED": "CB",
    "CHOP_STOPHUNT": "CS",
    "LIQUIDATION_UP": "LU",
    "LIQUIDATION_DOWN": "LD",
    "SQUEEZE_UP": "SU",
    "SQUEEZE_DOWN": "SD",
    "TREND_BUILD_UP": "TU",
    "TREND_BUILD_DOWN": "TD",
    "TREND_EXHAUSTION": "TE",
}


def render_report(title: str, report: Report) -> str:
    """Confusion matrix (rows = truth, columns = predicted), per-class scores, macro-F1, flip rate."""
    names = [SHORT.get(c, c[:4]) for c in report.classes]
    lines = [f"== {title} ==", "truth\\pred " + " ".join(f"{n:>5}" for n in names)]
    for name, row in zip(names, report.confusion, strict=True):
        lines.append(f"{name:>10} " + " ".join(f"{v:>5}" for v in row))
    lines.append(f"{'regime':<18} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}")
    for c in report.classes:
        s = report.per_class[c]
        lines.append(f"{c:<18} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:5d}")
    lines.append(
        f"macro-F1 {report.macro_f1:.3f}  accuracy {report.accuracy:.3f}  "
        f"flips {report.flips} over {report.hours:.1f} symbol-hours = {report.flip_rate_per_hour:.2f}/h"
    )
    return "\n".join(lines)


def render_forward(title: str, stats: Sequence[ForwardStats], checks: Sequence[ForwardCheck]) -> str:
    """Forward-outcome table per regime and the pass/fail checks."""
    lines = [
        f"== {title}: next-window outcome per regime ==",
        f"{'regime':<18} {'n':>5} {'mean ret':>10} {'mean |ret|':>10}",
    ]
    for s in stats:
        lines.append(f"{s.regime:<18} {s.count:5d} {s.mean_return:10.5f} {s.mean_abs_return:10.5f}")
    for c in checks:
        verdict = "n/a " if c.passed is None else ("PASS" if c.passed else "FAIL")
        lines.append(f"[{verdict}] {c.description}")
    return "\n".join(lines)
