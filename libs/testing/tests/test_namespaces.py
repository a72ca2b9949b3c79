"""Test namespaces are legal Kafka name parts and never repeat."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from xray_testing.namespaces import namespace_for

LEGAL = re.compile(r"^t-[a-z0-9]+(?:-[a-z0-9]+)*-[0-9a-f]{8}$")


@given(st.text(max_size=300))
def test_any_test_name_gives_a_legal_short_namespace(name: str) -> None:
    ns = namespace_for(name)
    assert LEGAL.match(ns), ns
    # leaves room for ".<longest logical name>.v<major>" under Kafka's 249-character limit
    assert len(ns) <= 2 + 40 + 1 + 8


def test_parametrized_names_are_cleaned() -> None:
    assert namespace_for("test_round_trip[raw_market_event-6]", suffix="0123abcd") == (
        "t-round-trip-raw-market-event-6-0123abcd"
    )


def test_namespaces_are_unique() -> None:
    names = {namespace_for("test_same_name") for _ in range(2000)}
    assert len(names) == 2000
