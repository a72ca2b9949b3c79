"""Small text graphics: a price sparkline and a coloured regime-history strip (renderer side only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from consumers.dashboards.contracts import PricePoint, RegimePoint
from rich.text import Text

BLOCKS: Final = "▁▂▃▄▅▆▇█"
# Colours live in the renderer, never in the DVM. Up regimes bright, down regimes darker.
REGIME_COLOURS: Final[dict[str, str]] = {
    "CHOP_BALANCED": "bright_blue",
    "CHOP_STOPHUNT": "cyan",
    "LIQUIDATION_UP": "bright_magenta",
    "LIQUIDATION_DOWN": "magenta",
    "SQUEEZE_UP": "bright_yellow",
    "SQUEEZE_DOWN": "dark_orange",
    "TREND_BUILD_UP": "bright_green",
    "TREND_BUILD_DOWN": "bright_red",
    "TREND_EXHAUSTION": "orchid",
}
# Glyph per regime direction in the history strip, so it reads without colour too.
REGIME_GLYPHS: Final[dict[str, str]] = {
    "CHOP_BALANCED": "■",
    "CHOP_STOPHUNT": "■",
    "LIQUIDATION_UP": "▲",
    "LIQUIDATION_DOWN": "▼",
    "SQUEEZE_UP": "▲",
    "SQUEEZE_DOWN": "▼",
    "TREND_BUILD_UP": "▲",
    "TREND_BUILD_DOWN": "▼",
    "TREND_EXHAUSTION": "◆",
}


def regime_style(regime: str | None) -> str:
    """The colour of a regime name (unknown names are plain)."""
    return REGIME_COLOURS.get(regime or "", "white")


def price_sparkline(points: Sequence[PricePoint], width: int) -> Text:
    """The newest `width` prices as block characters scaled between their min and max."""
    prices = [p.price for p in points][-width:]
    if not prices:
        return Text("—", style="dim")
    low, high = min(prices), max(prices)
    span = high - low
    chars = [
        BLOCKS[0 if span == 0 else min(len(BLOCKS) - 1, int((p - low) / span * len(BLOCKS)))] for p in prices
    ]
    colour = "green" if prices[-1] > prices[0] else "red" if prices[-1] < prices[0] else "white"
    return Text("".join(chars), style=colour)


def regime_strip(points: Sequence[RegimePoint], width: int) -> Text:
    """The newest `width` runs' committed regimes, one coloured glyph each (oldest left)."""
    recent = list(points)[-width:]
    if not recent:
        return Text("—", style="dim")
    text = Text()
    for point in recent:
        text.append(REGIME_GLYPHS.get(point.regime_name, "?"), style=regime_style(point.regime_name))
    return text


def stacked_bar(masses: Sequence[tuple[str, float]], width: int) -> Text:
    """A bar of `width` cells split between regimes by mass (largest first), each in its colour."""
    total = sum(m for _, m in masses if m > 0)
    text = Text()
    if total <= 0:
        return Text("·" * width, style="dim")
    used = 0
    for regime, mass in masses:
        cells = round(mass / total * width)
        cells = min(cells, width - used)
        if cells <= 0:
            continue
        text.append("█" * cells, style=regime_style(regime))
        used += cells
    if used < width:
        text.append("·" * (width - used), style="dim")
    return text
