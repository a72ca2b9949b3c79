"""UniverseHistory: every symbol's SymbolHistory advanced together, composed with a shared context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from xray_contracts.raw_market_event import RawMarketEvent

from composer.composer import ComposedInput, compose_engine_input
from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.context import build_market_context
from composer.history import SymbolHistory


@dataclass(frozen=True, slots=True)
class UniverseHistory:
    """Immutable map symbol -> SymbolHistory (sorted by symbol)."""

    histories: Mapping[str, SymbolHistory] = field(default_factory=lambda: MappingProxyType({}))

    def advance(
        self,
        cuts: Mapping[str, Iterable[RawMarketEvent]],
        engine_timestamp_ms: int,
        config: ComposerConfig = DEFAULT_CONFIG,
    ) -> UniverseHistory:
        """Fold each symbol's cut in; known symbols without a cut advance with an empty one."""
        symbols = sorted(set(self.histories) | set(cuts))
        out: dict[str, SymbolHistory] = {}
        for s in symbols:
            current = self.histories.get(s) or SymbolHistory.empty(s, config)
            out[s] = current.update(cuts.get(s, ()), engine_timestamp_ms)
        return UniverseHistory(MappingProxyType(out))

    def compose_all(
        self,
        engine_timestamp_ms: int,
        *,
        btc_regime: str | None = None,
        eth_regime: str | None = None,
        config: ComposerConfig = DEFAULT_CONFIG,
    ) -> dict[str, ComposedInput]:
        """compose_engine_input for every symbol (sorted), sharing one MarketContext."""
        context = build_market_context(
            self.histories.values(),
            engine_timestamp_ms,
            btc_regime=btc_regime,
            eth_regime=eth_regime,
            config=config,
        )
        return {
            s: compose_engine_input(
                h, engine_timestamp_ms=engine_timestamp_ms, context=context, config=config
            )
            for s, h in sorted(self.histories.items())
        }
