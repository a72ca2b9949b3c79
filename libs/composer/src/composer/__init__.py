"""composer: pure feature maths, evidence observers and engine-input assembly."""

from regime_engine.native import extend_path

# compiled modules (mypyc) first when they were built from these sources; see regime_engine.native
extend_path(__path__, __name__)

from composer.composer import ComposedInput, compose, compose_engine_input, compose_with_history  # noqa: E402
from composer.config import DEFAULT_CONFIG, ComposerConfig  # noqa: E402
from composer.context import EMPTY_CONTEXT, MarketContext, build_market_context  # noqa: E402
from composer.history import SymbolHistory, history_from_dict, history_to_dict, rebuild  # noqa: E402
from composer.universe import UniverseHistory  # noqa: E402

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
