"""Graded belief update over index-ordered lists: log-prior plus evidence logits, softmax, vetoes.

Lists are in Regime enum order (index i is REGIMES[i]); enum hashing is kept out of the hot path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from regime_engine.contracts.evidence import EvidenceOpinion
from regime_engine.contracts.regimes import REGIME_INDEX, REGIMES, Regime

N: Final = len(REGIMES)
UNIFORM: Final[tuple[float, ...]] = (1.0 / N,) * N
# Logit added per unit of (strength x confidence) of one composer opinion.
OPINION_LOGIT_GAIN: Final = 2.0
# Floor on prior mass before taking logs, so a vetoed (zero) regime can come back next run.
PRIOR_FLOOR: Final = 1e-6


def opinion_weight(opinion: EvidenceOpinion) -> float:
    """Logit an opinion adds to its regime: gain x strength x confidence (both in [0,1])."""
    return OPINION_LOGIT_GAIN * opinion.strength * opinion.confidence


def blend_prior(previous: Mapping[Regime, float] | None, carry: float) -> list[float]:
    """Prior for this run: carry x previous belief + (1 - carry) x uniform (uniform when no previous)."""
    if previous is None or carry <= 0.0:
        return list(UNIFORM)
    prior = [carry * max(0.0, previous.get(r, 0.0)) + (1.0 - carry) / N for r in REGIMES]
    total = sum(prior)
    if not math.isfinite(total) or total <= 0.0:
        return list(UNIFORM)
    return [v / total for v in prior]


def log_prior(prior: Sequence[float]) -> list[float]:
    """ln of the floored prior masses."""
    return [math.log(max(v, PRIOR_FLOOR)) for v in prior]


def evidence_logits(classical: Sequence[float], opinions: Iterable[EvidenceOpinion]) -> list[float]:
    """Per-regime evidence logit: classical score plus the weights of the opinions naming it."""
    logits = list(classical)
    for opinion in opinions:
        logits[REGIME_INDEX[opinion.regime]] += opinion_weight(opinion)
    return logits


def posterior(
    log_prior_values: Sequence[float], logits: Sequence[float], eligible: Sequence[bool]
) -> list[float]:
    """softmax(log prior + logits) over eligible regimes; vetoed regimes get exactly 0."""
    raw = [
        lp + lg if ok else -math.inf for lp, lg, ok in zip(log_prior_values, logits, eligible, strict=True)
    ]
    top = max(raw)
    exp = [math.exp(v - top) if v != -math.inf else 0.0 for v in raw]
    total = sum(exp)
    belief = [v / total for v in exp]
    # Renormalise once more so the sum is 1 within float rounding (the invariant is 1e-9).
    total = sum(belief)
    return [min(1.0, v / total) for v in belief]


def project(belief: Sequence[float]) -> int:
    """Index of the argmax of belief; ties go to the lower enum index."""
    best = 0
    for i in range(1, len(belief)):
        if belief[i] > belief[best]:
            best = i
    return best


def belief_confidence(belief: Sequence[float], coverage: float) -> float:
    """Confidence from belief: mean of top mass and top-vs-runner-up margin, scaled by data coverage.

    Uniform belief -> ~0.06; one-hot -> 1.0; every scored field missing halves it.
    """
    ordered = sorted(belief, reverse=True)
    top = ordered[0]
    margin = top - ordered[1] if len(ordered) > 1 else top
    value = (0.5 * top + 0.5 * margin) * (0.5 + 0.5 * max(0.0, min(1.0, coverage)))
    return max(0.0, min(1.0, value))
