"""Classification and stability metrics: confusion matrix, precision/recall/F1, flip rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class ClassScore:
    """Precision, recall and F1 of one class (0.0 where undefined) and its true count."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    """Everything printed for one mode."""

    classes: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows = truth, columns = predicted
    per_class: Mapping[str, ClassScore]
    macro_f1: float
    accuracy: float
    flips: int
    hours: float
    flip_rate_per_hour: float


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> list[list[int]]:
    """counts[i][j] = number of samples with truth classes[i] predicted as classes[j]."""
    index = {c: i for i, c in enumerate(classes)}
    counts = [[0] * len(classes) for _ in classes]
    for t, p in zip(truth, predicted, strict=True):
        counts[index[t]][index[p]] += 1
    return counts


def class_scores(counts: Sequence[Sequence[int]], classes: Sequence[str]) -> dict[str, ClassScore]:
    """Per-class precision/recall/F1 from a confusion matrix."""
    out: dict[str, ClassScore] = {}
    for i, c in enumerate(classes):
        tp = counts[i][i]
        predicted = sum(row[i] for row in counts)
        actual = sum(counts[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[c] = ClassScore(precision, recall, f1, actual)
    return out


def flip_count(series_by_symbol: Mapping[str, Sequence[str]]) -> int:
    """Number of adjacent label changes, summed over symbols."""
    return sum(sum(1 for a, b in pairwise(s) if a != b) for s in series_by_symbol.values())


def evaluate_labels(
    truth_by_symbol: Mapping[str, Sequence[str]],
    predicted_by_symbol: Mapping[str, Sequence[str]],
    classes: Sequence[str],
    step_ms: int,
) -> Report:
    """Confusion, per-class scores, macro-F1 (over classes with support) and flips per symbol-hour."""
    truth = [t for s in truth_by_symbol for t in truth_by_symbol[s]]
    predicted = [p for s in truth_by_symbol for p in predicted_by_symbol[s]]
    counts = confusion_matrix(truth, predicted, classes)
    per_class = class_scores(counts, classes)
    supported = [per_class[c].f1 for c in classes if per_class[c].support]
    macro = sum(supported) / len(supported) if supported else 0.0
    correct = sum(counts[i][i] for i in range(len(classes)))
    flips = flip_count(predicted_by_symbol)
    hours = sum(max(0, len(s) - 1) for s in predicted_by_symbol.values()) * step_ms / HOUR_MS
    return Report(
        classes=tuple(classes),
        confusion=tuple(tuple(row) for row in counts),
        per_class=per_class,
        macro_f1=macro,
        accuracy=correct / len(truth) if truth else 0.0,
        flips=flips,
        hours=hours,
        flip_rate_per_hour=flips / hours if hours else 0.0,
    )
