"""Backward compatibility: each schema in schemas/ reads data written by every earlier committed version.

Earlier versions come from `git log` of each .avsc file (a fresh clone has them; outside a git checkout
only the working copy is checked). Old writer revisions must also stay decodable as single-object
records, so any revision whose fingerprint differs from the current one must be kept in schemas/history.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import fastavro
import pytest
from xray_contracts.avro_writer import Encoded, compile_named_writers, compile_writer
from xray_contracts.codec import default_codecs
from xray_contracts.schema_store import default_store, make_entry, schemas_dir

SCHEMAS = schemas_dir()
SAMPLES_PER_VERSION = 25


def _git(*args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    result = subprocess.run([git, *args], cwd=SCHEMAS, capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def committed_versions(path: Path) -> list[tuple[str, str]]:
    """(commit, schema text) of every committed version of one schema file, newest first."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None:
        return []
    rel = path.resolve().relative_to(Path(top.strip()).resolve()).as_posix()
    log = _git("log", "--format=%H", "--follow", "--", rel) or ""
    versions = []
    for commit in log.split():
        text = _git("show", f"{commit}:{rel}")
        if text is not None:
            versions.append((commit, text))
    return versions


class _Generator:
    """Random data for a schema, depth-bounded so recursive types (JsonValue) terminate."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.named: dict[str, Any] = {}

    def register(self, schema: Any, namespace: str) -> None:
        """Record every named type up front (a union may reference one before its definition)."""
        if isinstance(schema, list):
            for branch in schema:
                self.register(branch, namespace)
        elif isinstance(schema, dict):
            ns = schema.get("namespace", namespace)
            if schema.get("type") in ("record", "enum", "fixed"):
                self.named[f"{ns}.{schema['name']}"] = schema
                self.named[schema["name"]] = schema
            for f in schema.get("fields", []):
                self.register(f["type"], ns)
            for key in ("items", "values"):
                if key in schema:
                    self.register(schema[key], ns)

    def _record_name(self, branch: Any, namespace: str) -> str | None:
        """Full name of a record branch (inline or by reference), else None."""
        if isinstance(branch, dict) and branch.get("type") == "record":
            return f"{branch.get('namespace', namespace)}.{branch['name']}"
        if isinstance(branch, str) and branch not in _PRIMITIVE_VALUES:
            full = branch if "." in branch else f"{namespace}.{branch}"
            return full if self.named.get(full, {}).get("type") == "record" else None
        return None

    def value(self, schema: Any, namespace: str = "", depth: int = 0) -> Any:
        rng = self.rng
        if isinstance(schema, list):
            branches = schema
            if depth > 3:  # prefer branches that cannot recurse
                simple = [b for b in branches if isinstance(b, str) and b in _PRIMITIVE_VALUES]
                branches = simple or branches
            branch = rng.choice(branches)
            value = self.value(branch, namespace, depth + 1)
            records = [b for b in schema if self._record_name(b, namespace) is not None]
            name = self._record_name(branch, namespace)
            # Several record branches: say which one (tuple notation, as the contract bindings do).
            return (name, value) if name is not None and len(records) > 1 else value
        if isinstance(schema, str):
            if schema in _PRIMITIVE_VALUES:
                return _PRIMITIVE_VALUES[schema](rng)
            full = schema if "." in schema else f"{namespace}.{schema}"
            return self.value(self.named.get(full, self.named.get(schema)), namespace, depth + 1)
        kind = schema["type"]
        if kind == "record":
            ns = schema.get("namespace", namespace)
            return {f["name"]: self.value(f["type"], ns, depth + 1) for f in schema["fields"]}
        if kind == "array":
            return [self.value(schema["items"], namespace, depth + 1) for _ in range(rng.randint(0, 2))]
        if kind == "map":
            return {
                f"k{i}": self.value(schema["values"], namespace, depth + 1) for i in range(rng.randint(0, 2))
            }
        if kind == "enum":
            return rng.choice(schema["symbols"])
        return self.value(kind, namespace, depth)


_PRIMITIVE_VALUES: dict[str, Any] = {
    "null": lambda r: None,
    "boolean": lambda r: r.random() < 0.5,
    "int": lambda r: r.randint(-(2**31), 2**31 - 1),
    "long": lambda r: r.randint(-(2**63), 2**63 - 1),
    "float": lambda r: r.random(),
    "double": lambda r: r.uniform(-1e12, 1e12),
    "string": lambda r: "".join(r.choice("abcxyzé") for _ in range(r.randint(0, 6))),
    "bytes": lambda r: bytes(r.randint(0, 255) for _ in range(r.randint(0, 6))),
}


def _values(schema_json: dict[str, Any], count: int = SAMPLES_PER_VERSION) -> list[Any]:
    """`count` random data of a schema (seeded, so reproducible)."""
    out = []
    for seed in range(count):
        generator = _Generator(seed)
        generator.register(schema_json, "")
        out.append(generator.value(schema_json))
    return out


def _samples(writer_json: dict[str, Any]) -> list[bytes]:
    """SAMPLES_PER_VERSION records written by fastavro with the writer schema."""
    writer = fastavro.parse_schema(writer_json, named_schemas={})
    out = []
    for value in _values(writer_json):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, writer, value)
        out.append(buf.getvalue())
    return out


SCHEMA_FILES = sorted(SCHEMAS.glob("*.avsc"))


def test_schema_files_exist_for_every_contract() -> None:
    names = {make_entry(json.loads(p.read_text()), str(p), current=True).full_name for p in SCHEMA_FILES}
    assert set(default_codecs().by_schema) <= names


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_reads_every_earlier_committed_version(path: Path) -> None:
    current = json.loads(path.read_text())
    reader = fastavro.parse_schema(current, named_schemas={})
    current_entry = make_entry(current, str(path), current=True)
    versions = [("working-copy", path.read_text()), *committed_versions(path)]
    store = default_store()
    for commit, text in versions:
        old = json.loads(text)
        old_entry = make_entry(old, f"{commit}:{path.name}", current=False)
        assert old_entry.full_name == current_entry.full_name, f"{path.name}@{commit} renamed the record"
        if old_entry.fingerprint != current_entry.fingerprint:
            assert old_entry.fingerprint in store.by_fingerprint, (
                f"{path.name}@{commit[:12]} differs from the current schema: keep it in schemas/history/ "
                "so single-object records written with it stay decodable"
            )
        writer = fastavro.parse_schema(old, named_schemas={})
        for data in _samples(old):
            stream = io.BytesIO(data)
            fastavro.schemaless_reader(stream, writer, reader)
            assert stream.tell() == len(data)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_compiled_writer_is_byte_identical_to_fastavro(path: Path) -> None:
    """The codec's own writer must produce exactly fastavro's bytes (replays compare bytes)."""
    schema_json = json.loads(path.read_text())
    parsed = fastavro.parse_schema(schema_json, named_schemas={})
    ours = compile_writer(schema_json)
    for value in _values(schema_json, 60):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, value)
        assert ours(value) == buf.getvalue()


def _spliced(datum: Any, schema: Any, writers: dict[str, Any], namespace: str) -> Any:
    """`datum` with every nested named record replaced by its `Encoded` body."""
    if isinstance(schema, list):  # a union: fastavro's random data picks a branch we must recognise
        if datum is None:
            return None
        for branch in schema:
            is_record = isinstance(branch, dict) and branch.get("type") == "record"
            if is_record and isinstance(datum, dict) and {f["name"] for f in branch["fields"]} == set(datum):
                return _spliced(datum, branch, writers, namespace)
        return datum
    if isinstance(schema, dict) and schema.get("type") == "record":
        full = (
            schema["name"]
            if "." in schema["name"]
            else f"{schema.get('namespace', namespace)}.{schema['name']}"
        )
        inner = full.rpartition(".")[0]
        fields = {f["name"]: _spliced(datum[f["name"]], f["type"], writers, inner) for f in schema["fields"]}
        return Encoded(writers[full](fields)) if full in writers else fields
    return datum


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_encoded_bodies_splice_into_the_same_bytes(path: Path) -> None:
    """A nested record given as an `Encoded` body from its named writer writes the same bytes."""
    schema_json = json.loads(path.read_text())
    writers = compile_named_writers(schema_json)
    top = compile_writer(schema_json)
    full_name = f"{schema_json['namespace']}.{schema_json['name']}"
    for value in _values(schema_json, 20):
        spliced = {
            f["name"]: _spliced(value[f["name"]], f["type"], writers, schema_json["namespace"])
            for f in schema_json["fields"]
        }
        assert writers[full_name](value) == top(value)
        assert top(spliced) == top(value)
        assert top(Encoded(top(value))) == top(value)
