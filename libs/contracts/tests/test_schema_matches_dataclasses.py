"""Drift guard: every Avro record that mirrors a contract dataclass has exactly its fields, in order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from xray_contracts import (
    analysis_engine,
    hysteresis_record,
    orchestrator_cursor,
    orchestrator_event,
    raw_market_event,
    run_log,
    state_gate,
)
from xray_contracts.schema_store import default_store

MODULES = (
    raw_market_event,
    orchestrator_event,
    run_log,
    hysteresis_record,
    orchestrator_cursor,
    state_gate,
    analysis_engine,
)
DATACLASSES: dict[str, type] = {
    name: obj
    for module in MODULES
    for name, obj in vars(module).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj)
}


def named_records(schema: Any, out: dict[str, list[str]]) -> dict[str, list[str]]:
    """Short record name -> field names, for every record defined anywhere in a schema."""
    if isinstance(schema, list):
        for branch in schema:
            named_records(branch, out)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            out[schema["name"].rpartition(".")[2]] = [f["name"] for f in schema["fields"]]
            for f in schema["fields"]:
                named_records(f["type"], out)
        for key in ("items", "values"):
            if key in schema:
                named_records(schema[key], out)
    return out


STORE = default_store()


@pytest.mark.parametrize("full_name", sorted(STORE.current), ids=lambda n: n.rpartition(".")[2])
def test_record_fields_equal_dataclass_fields(full_name: str) -> None:
    records = named_records(STORE.current[full_name].schema_json, {})
    checked = 0
    for name, fields in records.items():
        cls = DATACLASSES.get(name)
        if cls is None:
            continue  # wire-only records (typed normalized variants, JsonValue)
        expected = [f.name for f in dataclasses.fields(cls)]
        assert fields == expected, f"{name}: schema fields {fields} != dataclass fields {expected}"
        checked += 1
    assert checked >= 1
