"""composer: pure feature maths, evidence observers and engine-input assembly."""

from composer.composer import ComposedInput, compose, compose_engine_input, compose_with_history
from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.context import EMPTY_CONTEXT, MarketContext, build_market_context
from composer.history import SymbolHistory, history_from_dict, history_to_dict, rebuild
from composer.universe import UniverseHistory

__all__ = [
    "DEFAULT_CONFIG",
    "EMPTY_CONTEXT",
    "ComposedInput",
    "ComposerConfig",
    "MarketContext",
    "SymbolHistory",
    "UniverseHistory",
    "build_market_context",
    "compose",
    "compose_engine_input",
    "compose_with_history",
    "history_from_dict",
    "history_to_dict",
    "rebuild",
]
