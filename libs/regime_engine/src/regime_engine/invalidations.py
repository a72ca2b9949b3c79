"""Concrete conditions (levels, funding, OI moves) that would end the projected regime."""

from __future__ import annotations

from typing import Final

from regime_engine.contracts.outputs import InvalidationCondition
from regime_engine.contracts.regimes import Regime
from regime_engine.signals import Inputs

RANGE_BAND_ATR: Final = 1.5  # chop ends when price leaves vwap +/- this many ATRs
STOPHUNT_BAND_ATR: Final = 2.0
OI_TURN: Final = 0.002  # |OI slope| that counts as a real build-up or unwind
OI_BREAKOUT: Final = 0.005
ATR_Z_CALM_MAX: Final = 1.0
FUNDING_Z_CROWDED: Final = 2.5
FUNDING_Z_NORMAL: Final = 1.0
LIQUIDATION_FADED: Final = 0.005
RANGE_NORMAL: Final = 1.0
ACCEPTANCE_BREAKOUT: Final = 0.7


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _c(kind: str, field: str, op: str, threshold: float | None, description: str) -> InvalidationCondition:
    return InvalidationCondition(kind, field, op, threshold, description)


def _band(x: Inputs, width: float) -> tuple[float, float] | None:
    if x.vwap is None or x.atr is None or x.atr <= 0.0:
        return None
    return x.vwap - width * x.atr, x.vwap + width * x.atr


def _trend(x: Inputs, up: bool) -> list[InvalidationCondition]:
    out: list[InvalidationCondition] = []
    side = "below" if up else "above"
    if x.vwap is not None:
        out.append(
            _c(
                "level",
                "market.price",
                "<" if up else ">",
                x.vwap,
                f"price closes {side} VWAP {_fmt(x.vwap)}",
            )
        )
    out.append(
        _c(
            "open_interest",
            "derivatives.oi_slope_med",
            "<",
            -OI_TURN,
            f"OI medium slope turns negative (< {-OI_TURN:g}): positions unwinding",
        )
    )
    if up:
        out.append(
            _c(
                "funding",
                "derivatives.funding_z",
                ">",
                FUNDING_Z_CROWDED,
                f"funding z-score above {FUNDING_Z_CROWDED:g}: longs crowded",
            )
        )
    else:
        out.append(
            _c(
                "funding",
                "derivatives.funding_z",
                "<",
                -FUNDING_Z_CROWDED,
                f"funding z-score below {-FUNDING_Z_CROWDED:g}: shorts crowded",
            )
        )
    return out


def _liquidation(x: Inputs, up: bool) -> list[InvalidationCondition]:
    out = [
        _c(
            "flow",
            "derivatives.liquidation_intensity",
            "<",
            LIQUIDATION_FADED,
            f"liquidation intensity falls below {LIQUIDATION_FADED:g}",
        ),
        _c(
            "volatility",
            "market.range_expansion",
            "<",
            RANGE_NORMAL,
            f"range expansion back below {RANGE_NORMAL:g}",
        ),
    ]
    if x.vwap is not None:
        out.append(
            _c(
                "level",
                "market.price",
                "<" if up else ">",
                x.vwap,
                f"price back {'below' if up else 'above'} VWAP {_fmt(x.vwap)}",
            )
        )
    return out


def _squeeze(x: Inputs, up: bool) -> list[InvalidationCondition]:
    out = [
        _c(
            "funding",
            "derivatives.funding_z",
            ">" if up else "<",
            0.0,
            f"funding z-score crosses {'above' if up else 'below'} 0: "
            f"{'shorts' if up else 'longs'} no longer crowded",
        ),
        _c(
            "open_interest",
            "derivatives.oi_slope_short",
            ">",
            OI_TURN,
            f"OI short slope rises above {OI_TURN:g}: new positions, not covering",
        ),
    ]
    if x.vwap is not None:
        out.append(
            _c(
                "level",
                "market.price",
                "<" if up else ">",
                x.vwap,
                f"price back {'below' if up else 'above'} VWAP {_fmt(x.vwap)}",
            )
        )
    return out


def _chop(x: Inputs, width: float) -> list[InvalidationCondition]:
    out: list[InvalidationCondition] = []
    band = _band(x, width)
    if band is not None:
        lo, hi = band
        out.append(
            _c("level", "market.price", ">", hi, f"price breaks above {_fmt(hi)} (VWAP + {width:g} ATR)")
        )
        out.append(
            _c("level", "market.price", "<", lo, f"price breaks below {_fmt(lo)} (VWAP - {width:g} ATR)")
        )
    return out


def conditions_for(regime: Regime, x: Inputs) -> tuple[InvalidationCondition, ...]:
    """The ending conditions for `regime` given this run's inputs (levels use current VWAP/ATR)."""
    if regime is Regime.CHOP_BALANCED:
        out = _chop(x, RANGE_BAND_ATR)
        out.append(
            _c(
                "volatility",
                "market.atr_z",
                ">",
                ATR_Z_CALM_MAX,
                f"ATR z-score rises above {ATR_Z_CALM_MAX:g}",
            )
        )
        out.append(
            _c(
                "open_interest",
                "derivatives.oi_slope_short",
                ">",
                OI_BREAKOUT,
                f"OI short slope above {OI_BREAKOUT:g}: positions building",
            )
        )
    elif regime is Regime.CHOP_STOPHUNT:
        out = _chop(x, STOPHUNT_BAND_ATR)
        out.append(
            _c(
                "flow",
                "market.acceptance_score",
                ">",
                ACCEPTANCE_BREAKOUT,
                f"acceptance above {ACCEPTANCE_BREAKOUT:g}: the sweep is accepted (breakout)",
            )
        )
    elif regime is Regime.LIQUIDATION_UP:
        out = _liquidation(x, True)
    elif regime is Regime.LIQUIDATION_DOWN:
        out = _liquidation(x, False)
    elif regime is Regime.SQUEEZE_UP:
        out = _squeeze(x, True)
    elif regime is Regime.SQUEEZE_DOWN:
        out = _squeeze(x, False)
    elif regime is Regime.TREND_BUILD_UP:
        out = _trend(x, True)
    elif regime is Regime.TREND_BUILD_DOWN:
        out = _trend(x, False)
    else:
        out = [
            _c(
                "funding",
                "derivatives.funding_z",
                "abs<",
                FUNDING_Z_NORMAL,
                f"|funding z-score| back below {FUNDING_Z_NORMAL:g}: crowding gone",
            ),
            _c(
                "open_interest",
                "derivatives.oi_accel",
                ">",
                OI_TURN,
                f"OI re-accelerates (> {OI_TURN:g}): the trend is being refuelled",
            ),
        ]
    return tuple(out)
