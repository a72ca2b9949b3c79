"""The operator's local view settings (sort, filter, pause) and what each key does to them.

Purely local: keys never reach upstream. `apply_key` is a pure function so every key is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

SORT_KEYS: Final[tuple[str, ...]] = ("symbol", "regime", "confidence", "gate", "age", "change")
ESCAPE: Final = "\x1b"
ENTER_KEYS: Final = ("\r", "\n")
BACKSPACE_KEYS: Final = ("\x7f", "\b")
QUIT_KEYS: Final = ("q", "Q")


@dataclass(frozen=True, slots=True)
class ViewState:
    """Sort key and direction, the symbol filter, pause, and the filter being typed (if any)."""

    sort_key: str = "symbol"
    descending: bool = False
    symbol_filter: str = ""
    paused: bool = False
    editing_filter: str | None = None
    quit: bool = False

    def matches(self, symbol: str) -> bool:
        """Whether a symbol passes the filter (case-insensitive substring; an empty filter passes all)."""
        return self.symbol_filter.upper() in symbol.upper()


def apply_key(state: ViewState, key: str) -> ViewState:
    """The view after one key press."""
    if state.editing_filter is not None:
        if key in ENTER_KEYS:
            return replace(state, symbol_filter=state.editing_filter.strip(), editing_filter=None)
        if key == ESCAPE:
            return replace(state, editing_filter=None)
        if key in BACKSPACE_KEYS:
            return replace(state, editing_filter=state.editing_filter[:-1])
        if key.isprintable():
            return replace(state, editing_filter=state.editing_filter + key)
        return state
    if key in QUIT_KEYS:
        return replace(state, quit=True)
    if key in ("p", "P", " "):
        return replace(state, paused=not state.paused)
    if key == "s":
        following = SORT_KEYS[(SORT_KEYS.index(state.sort_key) + 1) % len(SORT_KEYS)]
        return replace(state, sort_key=following)
    if key == "S":
        previous = SORT_KEYS[(SORT_KEYS.index(state.sort_key) - 1) % len(SORT_KEYS)]
        return replace(state, sort_key=previous)
    if key == "r":
        return replace(state, descending=not state.descending)
    if key == "/":
        return replace(state, editing_filter="")
    if key in ("c", ESCAPE):
        return replace(state, symbol_filter="")
    return state
