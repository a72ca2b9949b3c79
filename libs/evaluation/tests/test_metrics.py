"""Metrics and forward checks on small hand-made series."""

from __future__ import annotations

import pytest
from xray_evaluation.forward import forward_checks, forward_stats
from xray_evaluation.metrics import class_scores, confusion_matrix, evaluate_labels, flip_count

CLASSES = ("A", "B", "C")


def test_confusion_and_scores() -> None:
    truth = ["A", "A", "B", "B", "C"]
    pred = ["A", "B", "B", "B", "A"]
    counts = confusion_matrix(truth, pred, CLASSES)
    assert counts == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    scores = class_scores(counts, CLASSES)
    assert scores["A"].precision == pytest.approx(0.5)
    assert scores["A"].recall == pytest.approx(0.5)
    assert scores["B"].precision == pytest.approx(2 / 3)
    assert scores["B"].f1 == pytest.approx(0.8)
    assert scores["C"].f1 == 0.0


def test_macro_f1_and_flip_rate() -> None:
    truth = {"X": ["A", "A", "B", "B"], "Y": ["C", "C", "C", "C"]}
    pred = {"X": ["A", "B", "B", "B"], "Y": ["C", "A", "C", "C"]}
    report = evaluate_labels(truth, pred, CLASSES, step_ms=180_000)
    per = report.per_class
    assert report.macro_f1 == pytest.approx((per["A"].f1 + per["B"].f1 + per["C"].f1) / 3)
    assert report.flips == 3
    assert flip_count(truth) == 1
    # 2 symbols x 3 intervals x 3 min = 0.3 symbol-hours
    assert report.hours == pytest.approx(0.3)
    assert report.flip_rate_per_hour == pytest.approx(10.0)


def test_forward_checks() -> None:
    labels = {"X": ["TREND_BUILD_UP"] * 6 + ["CHOP_BALANCED"] * 7}
    prices = {"X": [100.0 + i for i in range(6)] + [106.0, 106.1, 106.0, 106.1, 106.0, 106.1, 106.0]}
    stats = {s.regime: s for s in forward_stats(labels, prices)}
    assert stats["TREND_BUILD_UP"].count == 6
    assert stats["TREND_BUILD_UP"].mean_return > 0.0
    checks = forward_checks(list(stats.values()))
    assert checks[0].passed is True
    assert checks[1].passed is None  # no TREND_BUILD_DOWN windows
