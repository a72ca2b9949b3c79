"""Classical scoring of all nine regimes from snapshot signals: a per-signal Gaussian model.

For each regime r and signal s the model holds (mean, std) of the signal under r. The score is

    score(r) = TEMPERATURE * sum over present signals s of [ -(x_s - mean)^2 / (2 std^2) - ln std ]

i.e. a tempered naive-Bayes log-likelihood. Missing signals are marginalised out (their term is
absent), so missing data flattens the scores instead of biasing them. Every score is an exact sum
of per-signal terms, which is what the explanation reports.
"""

from __future__ import annotations

import math
from typing import Final

from regime_engine.contracts.regimes import REGIMES
from regime_engine.model_params import MODEL_PARAMS, MODEL_VERSION, TEMPERATURE

__all__ = ["MODEL_VERSION", "score_regimes"]

N_REGIMES: Final = len(REGIMES)

# (signal id, regime) -> (mean, 1 / (2 std^2), ln std), precomputed once.
_TERMS: Final[dict[str, tuple[tuple[float, float, float], ...]]] = {
    sid: tuple((mean, 1.0 / (2.0 * std * std), math.log(std)) for mean, std in per_regime)
    for sid, per_regime in MODEL_PARAMS.items()
}


def score_regimes(signals: dict[str, float]) -> tuple[list[float], dict[str, list[float]]]:
    """Scores of the regimes (enum order) and, per scored signal, its term for each regime."""
    scores = [0.0] * N_REGIMES
    contributions: dict[str, list[float]] = {}
    t = TEMPERATURE
    for sid, x in signals.items():
        terms = _TERMS.get(sid)
        if terms is None:
            continue
        row = [-t * ((x - mean) * (x - mean) * inv_two_var + log_std) for mean, inv_two_var, log_std in terms]
        contributions[sid] = row
        # Same additions in the same (signal) order as scores[i] += row[i], without index arithmetic.
        scores = [s + r for s, r in zip(scores, row, strict=True)]
    return scores, contributions
