"""Loads schemas/*.avsc once: parsed schemas, parsing canonical forms and CRC-64-AVRO fingerprints.

`schemas/` (repo root) is the single source of truth. A wheel carries a copy under
`xray_contracts/schemas`; `XRAY_SCHEMAS_DIR` overrides both. Retired writer revisions of a schema live in
`schemas/history/` so single-object records written with them stay decodable (by fingerprint).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import to_parsing_canonical_form

SCHEMAS_DIR_ENV = "XRAY_SCHEMAS_DIR"
_MARKER = "raw_market_event.v1.avsc"
_CRC64_EMPTY = 0xC15D213AA4D7A795


def _crc64_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    return tuple(table)


_CRC64_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    """The Avro specification's 64-bit Rabin fingerprint (CRC-64-AVRO) of some bytes."""
    fp = _CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _CRC64_TABLE[(fp ^ byte) & 0xFF]
    return fp


def fingerprint_bytes(schema_json: Mapping[str, Any] | str) -> bytes:
    """The 8-byte little-endian fingerprint single-object encoding puts after `C3 01`."""
    schema = json.loads(schema_json) if isinstance(schema_json, str) else schema_json
    canonical = to_parsing_canonical_form(fastavro.parse_schema(dict(schema), named_schemas={}))
    return crc64_avro(canonical.encode()).to_bytes(8, "little")


@dataclass(frozen=True, slots=True)
class SchemaEntry:
    """One schema revision: its JSON, fastavro-parsed form, canonical form and fingerprint."""

    full_name: str
    source: str
    schema_json: Mapping[str, Any]
    parsed: Any
    canonical: str
    fingerprint: bytes
    current: bool

    @property
    def text(self) -> str:
        """The schema as compact JSON text (what a Schema Registry stores)."""
        return json.dumps(self.schema_json, separators=(",", ":"))


def make_entry(schema_json: Mapping[str, Any], source: str, *, current: bool) -> SchemaEntry:
    """Parse one schema (fresh named-type table, so files never share definitions)."""
    parsed = fastavro.parse_schema(dict(schema_json), named_schemas={})
    canonical = to_parsing_canonical_form(parsed)
    namespace = schema_json.get("namespace", "")
    name = str(schema_json["name"])
    full_name = name if "." in name or not namespace else f"{namespace}.{name}"
    fp = crc64_avro(canonical.encode()).to_bytes(8, "little")
    return SchemaEntry(full_name, source, schema_json, parsed, canonical, fp, current)


class SchemaStore:
    """Every known schema revision, by record full name (current) and by fingerprint (all)."""

    def __init__(self, entries: list[SchemaEntry]) -> None:
        self.current: dict[str, SchemaEntry] = {}
        self.by_fingerprint: dict[bytes, SchemaEntry] = {}
        for entry in entries:
            if entry.current:
                if entry.full_name in self.current:
                    raise ValueError(f"two current schemas named {entry.full_name}")
                self.current[entry.full_name] = entry
            self.by_fingerprint.setdefault(entry.fingerprint, entry)

    def schema(self, full_name: str) -> SchemaEntry:
        """The current revision of a record schema."""
        try:
            return self.current[full_name]
        except KeyError:
            raise KeyError(f"no schema named {full_name} in the schema store") from None

    @classmethod
    def load(cls, directory: Path) -> SchemaStore:
        """Load `<dir>/*.avsc` as current schemas and `<dir>/history/*.avsc` as retired revisions."""
        entries = [
            make_entry(json.loads(p.read_text()), str(p), current=True)
            for p in sorted(directory.glob("*.avsc"))
        ]
        history = directory / "history"
        if history.is_dir():
            entries += [
                make_entry(json.loads(p.read_text()), str(p), current=False)
                for p in sorted(history.glob("*.avsc"))
            ]
        if not entries:
            raise FileNotFoundError(f"no .avsc schemas in {directory}")
        return cls(entries)


def schemas_dir() -> Path:
    """Where the schemas are: $XRAY_SCHEMAS_DIR, the wheel's bundled copy, or the repo's schemas/."""
    override = os.environ.get(SCHEMAS_DIR_ENV)
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    bundled = here / "schemas"
    if (bundled / _MARKER).is_file():
        return bundled
    for parent in here.parents:
        candidate = parent / "schemas"
        if (candidate / _MARKER).is_file():
            return candidate
    raise FileNotFoundError(f"cannot find the schemas directory (set {SCHEMAS_DIR_ENV})")


@cache
def default_store() -> SchemaStore:
    """The process-wide schema store, loaded once."""
    return SchemaStore.load(schemas_dir())
