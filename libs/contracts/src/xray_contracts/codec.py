"""Contract codecs: Avro single-object encoding by default, Confluent framing with a Schema Registry.

Wire formats (ARCHITECTURE §5):
- single-object: `C3 01` + 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
  parsing canonical form + Avro binary body;
- Confluent: `00` + 4-byte big-endian schema id + Avro binary body (written when a resolver is set).
Decoders read both, always. A single-object record is decoded with the writer schema found by
fingerprint (current or retired revision in schemas/history) resolved against the current schema; a
Confluent record's writer schema comes from the resolver. Anything else raises a `DecodeError`.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Protocol, TypeVar

from fastavro import schemaless_reader

from xray_contracts import bindings as b
from xray_contracts import catalogue
from xray_contracts.avro_writer import compile_named_writers, compile_writer
from xray_contracts.schema_store import SchemaEntry, SchemaStore, default_store, make_entry

T = TypeVar("T")

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
_SINGLE_OBJECT_HEADER_LEN = 10
_CONFLUENT_HEADER_LEN = 5

HEADER_SCHEMA = "schema"
HEADER_SCHEMA_VERSION = "schema_version"
HEADER_EVENT_TYPE = "event_type"

# The shape confluent_kafka's Producer.produce(headers=...) takes; values are UTF-8 bytes.
Headers = list[tuple[str, str | bytes | None]]


class EncodeError(ValueError):
    """A contract value could not be encoded (a field does not fit its schema)."""


class DecodeError(ValueError):
    """Bytes that are not a decodable record of the expected contract."""


class UnknownFramingError(DecodeError):
    """Neither single-object (`C3 01`) nor Confluent (`00`) framing, or a truncated header."""


class UnknownSchemaError(DecodeError):
    """The writer schema (fingerprint or registry id) is unknown or cannot be resolved."""


class MalformedRecordError(DecodeError):
    """The framing is fine but the body does not decode to a valid contract value."""


class SchemaResolver(Protocol):
    """Registers writer schemas and resolves schema ids (Confluent framing)."""

    def register(self, subject: str, schema_text: str) -> int:
        """Register (or look up) a schema under a subject; return its id."""
        ...

    def schema_text(self, schema_id: int) -> str:
        """The schema JSON text registered under an id (KeyError when unknown)."""
        ...


class InMemoryResolver:
    """An in-process id table with the registry's semantics (same text -> same id); for tests."""

    def __init__(self, first_id: int = 1) -> None:
        self._ids: dict[str, int] = {}
        self._texts: dict[int, str] = {}
        self._next = first_id
        self._lock = threading.Lock()

    def register(self, subject: str, schema_text: str) -> int:
        """Return the id of this schema text, assigning the next id on first sight."""
        with self._lock:
            if schema_text not in self._ids:
                self._ids[schema_text] = self._next
                self._texts[self._next] = schema_text
                self._next += 1
            return self._ids[schema_text]

    def schema_text(self, schema_id: int) -> str:
        """The text registered under an id."""
        return self._texts[schema_id]


def subject_for(schema_name: str) -> str:
    """Registry subject of a contract: its record full name (RecordNameStrategy).

    One subject per record rather than per topic, because every backtest namespace has its own topics.
    """
    return schema_name


def _read_record(data: bytes, offset: int, writer: Any, reader: Any) -> Any:
    stream = io.BytesIO(data)
    stream.seek(offset)
    value = schemaless_reader(
        stream, writer, reader, return_record_name=True, return_record_name_override=True
    )
    if stream.tell() != len(data):
        raise MalformedRecordError(f"{len(data) - stream.tell()} trailing bytes after the record")
    return value


class ContractCodec(Generic[T]):
    """Encoder/decoder of one contract type bound to its parsed schema."""

    def __init__(
        self, binding: b.Binding[T], store: SchemaStore, resolver: SchemaResolver | None = None
    ) -> None:
        self.binding = binding
        self.entry: SchemaEntry = store.schema(binding.schema_name)
        self._store = store
        self._resolver = resolver
        self._write_body = compile_writer(self.entry.schema_json)
        self._single_object_prefix = SINGLE_OBJECT_MAGIC + self.entry.fingerprint
        self._confluent_prefix: bytes | None = None
        self._by_id: dict[int, SchemaEntry] = {}
        self._named_writers: dict[str, Callable[[Any], bytes]] | None = None
        self._header_base: Headers = [
            (HEADER_SCHEMA, binding.header_schema.encode()),
            (HEADER_SCHEMA_VERSION, binding.header_schema_version.encode()),
        ]

    @property
    def schema_name(self) -> str:
        """Avro full name of the contract's record schema."""
        return self.binding.schema_name

    def _prefix(self) -> bytes:
        if self._resolver is None:
            return self._single_object_prefix
        if self._confluent_prefix is None:
            schema_id = self._resolver.register(subject_for(self.schema_name), self.entry.text)
            self._by_id[schema_id] = self.entry
            self._confluent_prefix = CONFLUENT_MAGIC + schema_id.to_bytes(4, "big")
        return self._confluent_prefix

    def framing_prefix(self) -> bytes:
        """The bytes every encoded record starts with (single-object header, or Confluent magic and
        schema id, registering the schema on first use): for writers that produce the body themselves."""
        return self._prefix()

    def encode_body(self, value: T) -> bytes:
        """The bare Avro binary body (no framing)."""
        try:
            return self._write_body(self.binding.to_avro(value))
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            raise EncodeError(f"cannot encode {type(value).__name__} as {self.schema_name}: {exc}") from exc

    def encode_datum(self, datum: Any) -> bytes:
        """Framed record bytes of an Avro datum (e.g. `binding.to_avro(value)` with some nested records
        replaced by `Encoded` bodies from `named_encoder`): for callers that reuse encoded parts."""
        try:
            return self._prefix() + self._write_body(datum)
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            raise EncodeError(f"cannot encode a {self.schema_name} datum: {exc}") from exc

    def named_encoder(self, full_name: str) -> Callable[[Any], bytes]:
        """`datum -> Avro binary body` of a named record defined inside this contract's schema."""
        if self._named_writers is None:
            self._named_writers = compile_named_writers(self.entry.schema_json)
        try:
            return self._named_writers[full_name]
        except KeyError:
            raise KeyError(f"{self.schema_name} defines no record {full_name!r}") from None

    def encode(self, value: T) -> bytes:
        """Framed record bytes: single-object, or Confluent when a resolver is configured."""
        if type(value) is not self.binding.contract:
            raise EncodeError(f"{self.schema_name} codec cannot encode a {type(value).__name__}")
        return self._prefix() + self.encode_body(value)

    def headers(self, value: T) -> Headers:
        """Record headers `schema`, `schema_version`, `event_type` (UTF-8 bytes)."""
        return [*self._header_base, (HEADER_EVENT_TYPE, self.binding.event_type(value).encode())]

    def writer_entry(self, data: bytes) -> tuple[SchemaEntry, int]:
        """The writer schema of framed bytes and where the body starts."""
        if data[:2] == SINGLE_OBJECT_MAGIC:
            if len(data) < _SINGLE_OBJECT_HEADER_LEN:
                raise UnknownFramingError("truncated single-object header")
            entry = self._store.by_fingerprint.get(bytes(data[2:10]))
            if entry is None:
                raise UnknownSchemaError(f"unknown schema fingerprint {bytes(data[2:10]).hex()}")
            return entry, _SINGLE_OBJECT_HEADER_LEN
        if data[:1] == CONFLUENT_MAGIC:
            if len(data) < _CONFLUENT_HEADER_LEN:
                raise UnknownFramingError("truncated Confluent header")
            return self._entry_for_id(int.from_bytes(data[1:5], "big")), _CONFLUENT_HEADER_LEN
        raise UnknownFramingError(f"unknown framing (first byte {data[:1].hex() or 'none'})")

    def _entry_for_id(self, schema_id: int) -> SchemaEntry:
        entry = self._by_id.get(schema_id)
        if entry is not None:
            return entry
        if self._resolver is None:
            raise UnknownSchemaError(
                f"Confluent-framed record (schema id {schema_id}) but no schema registry is set"
            )
        try:
            import json

            entry = make_entry(
                json.loads(self._resolver.schema_text(schema_id)), f"registry:{schema_id}", current=False
            )
        except Exception as exc:
            raise UnknownSchemaError(f"cannot resolve schema id {schema_id}: {exc}") from exc
        self._by_id[schema_id] = entry
        return entry

    def decode(self, data: bytes) -> T:
        """Decode framed bytes (either framing) into the contract type."""
        return self.from_datum(self.decode_datum(data))

    def decode_datum(self, data: bytes) -> Any:
        """The Avro datum of framed bytes, read and checked against the writer schema and resolved to the
        current one, before conversion: `decode` = `from_datum(decode_datum(...))`, with the same errors.
        A caller that needs only a few fields of some records can skip the conversion."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UnknownFramingError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        writer, offset = self.writer_entry(data)
        try:
            if writer.fingerprint == self.entry.fingerprint:
                return _read_record(data, offset, self.entry.parsed, None)
            return _read_record(data, offset, writer.parsed, self.entry.parsed)
        except DecodeError:
            raise
        except Exception as exc:  # fastavro raises many types on garbage; callers get one.
            raise self._malformed(exc) from exc

    def from_datum(self, datum: Any) -> T:
        """A datum from `decode_datum` as the contract type."""
        try:
            return self.binding.from_avro(datum)
        except DecodeError:
            raise
        except Exception as exc:
            raise self._malformed(exc) from exc

    def _malformed(self, exc: Exception) -> MalformedRecordError:
        return MalformedRecordError(f"malformed {self.schema_name} record: {type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class CodecSet:
    """Every contract codec, by contract type, by schema name and by catalogue topic."""

    by_schema: Mapping[str, ContractCodec[Any]]
    by_type: Mapping[type, ContractCodec[Any]]

    def for_type(self, contract: type[T]) -> ContractCodec[T]:
        """The codec of a contract type."""
        try:
            codec: ContractCodec[T] = self.by_type[contract]
        except KeyError:
            raise KeyError(f"no codec for {contract.__name__}") from None
        return codec

    def for_schema(self, schema_name: str) -> ContractCodec[Any]:
        """The codec of a record full name."""
        return self.by_schema[schema_name]

    def for_topic(self, topic: str | catalogue.TopicSpec) -> ContractCodec[Any]:
        """The codec of a catalogue topic's values (logical name, physical name or spec)."""
        spec = topic if isinstance(topic, catalogue.TopicSpec) else catalogue.resolve(topic)[1]
        if spec.value_schema is None:
            raise KeyError(f"topic {spec.name!r} carries raw bytes, not a contract")
        return self.by_schema[spec.value_schema]

    def decode_any(self, data: bytes) -> Any:
        """Decode a record of any known contract, choosing the codec by the writer schema's name."""
        some = next(iter(self.by_schema.values()))
        writer, _ = some.writer_entry(bytes(data))
        codec = self.by_schema.get(writer.full_name)
        if codec is None:
            raise UnknownSchemaError(f"no contract type for schema {writer.full_name}")
        return codec.decode(data)


def build_codecs(
    *,
    store: SchemaStore | None = None,
    resolver: SchemaResolver | None = None,
    bindings: Iterable[b.Binding[Any]] = b.BINDINGS,
) -> CodecSet:
    """Build a codec per contract (one shared resolver; Confluent framing iff a resolver is given)."""
    schema_store = store or default_store()
    codecs = [ContractCodec(binding, schema_store, resolver) for binding in bindings]
    return CodecSet(
        by_schema={c.schema_name: c for c in codecs},
        by_type={c.binding.contract: c for c in codecs},
    )


def codecs_for_registry(url: str | None, conf: Mapping[str, str] | None = None) -> CodecSet:
    """Codecs for a deployment: Confluent framing via the registry at `url`, else single-object."""
    if not url:
        return default_codecs()
    from xray_contracts.schema_registry import ConfluentRegistryResolver

    return build_codecs(resolver=ConfluentRegistryResolver(url, conf))


@cache
def default_codecs() -> CodecSet:
    """The process-wide single-object codecs (no Schema Registry)."""
    return build_codecs()


def codec_for(contract: type[T]) -> ContractCodec[T]:
    """Shortcut: the default (single-object) codec of a contract type."""
    return default_codecs().for_type(contract)


def headers_for(value: Any) -> Headers:
    """Shortcut: the record headers of any contract value."""
    return default_codecs().for_type(type(value)).headers(value)
