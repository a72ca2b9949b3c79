"""The explicit missing-data sentinel and a walker that lists where it occurs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final


class Missing:
    """Type of the one MISSING sentinel; copies and pickles resolve to the same object."""

    __slots__ = ()
    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        """Return the singleton."""
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        """Render as the bare name."""
        return "MISSING"

    def __reduce__(self) -> str:
        """Pickle by reference to the module-level name."""
        return "MISSING"

    def __copy__(self) -> Missing:
        """Copying keeps identity."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Missing:
        """Deep-copying keeps identity."""
        return self


MISSING: Final[Missing] = Missing()

# Wire marker for MISSING inside snapshot JSON.
MISSING_MARKER_KEY: Final = "__xray_missing__"


def is_missing(value: object) -> bool:
    """True only for the MISSING singleton (None is a value, not missing)."""
    return value is MISSING


def missing_paths(value: object, root: str = "") -> frozenset[str]:
    """Return the dotted path of every MISSING inside `value` (dataclasses, mappings, sequences)."""
    found: set[str] = set()
    _walk(value, root, found)
    return frozenset(found)


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _walk(value: object, path: str, found: set[str]) -> None:
    if value is MISSING:
        found.add(path)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), _join(path, f.name), found)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(item, _join(path, str(key)), found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", found)
