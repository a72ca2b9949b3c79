"""Driver labels and the ranked, additive explanation of the projected regime."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from regime_engine.belief import opinion_weight
from regime_engine.contracts.evidence import EvidenceOpinion
from regime_engine.contracts.outputs import DriverContribution
from regime_engine.contracts.regimes import REGIMES

PRIOR_DRIVER: Final = "belief.prior"

LABELS: Final[dict[str, str]] = {
    "context.alt_breadth": "Context alt breadth",
    "context.beta_to_btc": "Context beta to BTC",
    "context.rs_vs_btc": "Context relative strength vs BTC",
    "derivatives.funding_level": "Derivatives funding level",
    "derivatives.funding_slope": "Derivatives funding slope",
    "derivatives.funding_zscore": "Derivatives funding z-score",
    "derivatives.oi_acceleration": "Derivatives OI acceleration",
    "derivatives.oi_slope_med": "Derivatives OI slope medium",
    "derivatives.oi_slope_short": "Derivatives OI slope short",
    "derivatives.liquidation_intensity": "Derivatives liquidation intensity",
    "flow.aggressive_volume_ratio": "Flow aggressive volume ratio",
    "flow.cvd_efficiency": "Flow CVD efficiency",
    "flow.cvd_slope": "Flow CVD slope",
    "flow.cvd_ratio": "Flow CVD vs open interest",
    "market.acceptance_score": "Market acceptance score",
    "market.atr_zscore": "Market ATR z-score",
    "market.range_expansion": "Market range expansion",
    "market.sweep_score": "Market sweep score",
    "market.price_vs_vwap": "Market price vs VWAP",
    "flow.price_divergence": "Flow price vs aggressor divergence",
    PRIOR_DRIVER: "Previous belief",
}


def label(driver_id: str) -> str:
    """Human label of a driver id; unknown ids (e.g. opinion sources) pass through."""
    return LABELS.get(driver_id, driver_id)


def centred_contributions(
    winner: int,
    signal_terms: Mapping[str, Sequence[float]],
    opinions: Iterable[EvidenceOpinion],
    log_prior: Sequence[float],
) -> dict[str, float]:
    """Each driver's share of logit(winner) minus the mean logit over all regimes (exactly additive)."""
    n = float(len(log_prior))
    out: dict[str, float] = {}
    for sid, row in signal_terms.items():
        out[sid] = row[winner] - sum(row) / n
    winner_regime = REGIMES[winner]
    for opinion in opinions:
        w = opinion_weight(opinion)
        share = w * ((1.0 if opinion.regime is winner_regime else 0.0) - 1.0 / n)
        out[opinion.source] = out.get(opinion.source, 0.0) + share
    prior_share = log_prior[winner] - sum(log_prior) / n
    if prior_share != 0.0:
        out[PRIOR_DRIVER] = prior_share
    return out


def ranked(contributions: Mapping[str, float]) -> tuple[DriverContribution, ...]:
    """Non-zero contributions, largest first (ties by label), with labels as driver names."""
    items = [(label(k), v) for k, v in contributions.items() if v != 0.0]
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    return tuple(DriverContribution(k, v) for k, v in items)


def driver_labels(ranked_contributions: tuple[DriverContribution, ...], limit: int = 5) -> list[str]:
    """The top positive drivers (at most `limit`); the strongest one even when nothing is positive."""
    positive = [c.driver for c in ranked_contributions if c.contribution > 0.0][:limit]
    if positive:
        return positive
    return [ranked_contributions[0].driver] if ranked_contributions else []
