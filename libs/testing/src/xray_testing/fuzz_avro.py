"""Seeded generators of bad topic records for the contract decoders (`make fuzz` and its CI form).

`valid_records(codec, rng, n)` makes well-formed single-object records of a contract from random datums
of its schema (kept only when the contract decodes them); `bad_inputs(...)` breaks such records in one
way each. Every kind says whether it is *always* undecodable (`certain=True`: the decoder must raise a
DecodeError) or may, by chance, still be a valid record of the contract (a flipped bit inside a long
field is another long; nothing but a checksum could tell), in which case the decoded value must
re-encode (it is a real contract value, not garbage that slipped through).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastavro import schemaless_writer
from xray_contracts.codec import CONFLUENT_MAGIC, SINGLE_OBJECT_MAGIC, ContractCodec

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_TEXT = string.ascii_letters + string.digits + "_-.:é€"
_DOUBLES = (0.0, -0.0, 1.5, -3.25, 1e300, -1e-300, float("inf"), float("-inf"))
_LONGS = (0, 1, -1, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63))


@dataclass(frozen=True, slots=True)
class BadInput:
    """One generated record value (None is a tombstone), how it was made, and whether it must fail."""

    kind: str
    data: bytes | None
    certain: bool


class DatumMaker:
    """Random datums of an Avro schema (JSON form), named types resolved as they are defined."""

    def __init__(self, rng: random.Random, max_depth: int = 4) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.names: dict[str, Any] = {}

    def register(self, schema: Any, namespace: str = "") -> None:
        """Record every named type defined anywhere in `schema` (a union may skip its definition)."""
        if isinstance(schema, list):
            for branch in schema:
                self.register(branch, namespace)
        elif isinstance(schema, dict):
            kind = schema["type"]
            if kind in ("record", "enum", "fixed"):
                namespace = schema.get("namespace", namespace)
                name = schema["name"]
                self.names[name if "." in name else f"{namespace}.{name}"] = schema
                self.names.setdefault(name, schema)
                for f in schema.get("fields", ()):
                    self.register(f["type"], namespace)
            elif kind == "array":
                self.register(schema["items"], namespace)
            elif kind == "map":
                self.register(schema["values"], namespace)
            elif kind not in _PRIMITIVES:
                self.register(kind, namespace)

    def make_root(self, schema: Any) -> Any:
        """One datum of a top-level schema (its named types registered first)."""
        self.register(schema)
        return self.make(schema)

    def make(self, schema: Any, namespace: str = "", depth: int = 0) -> Any:
        """One datum valid for `schema` (named types it references must be registered)."""
        rng = self.rng
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return self._primitive(schema)
            named = self.names.get(schema) or self.names.get(f"{namespace}.{schema}")
            if named is None:
                raise KeyError(f"unknown named type {schema}")
            return self.make(named, namespace, depth)
        if isinstance(schema, list):  # union: prefer null near the depth limit
            if depth >= self.max_depth and "null" in schema:
                return None
            return self.make(rng.choice(schema), namespace, depth + 1)
        kind = schema["type"]
        if kind in _PRIMITIVES:
            return self._primitive(kind)
        if kind in ("record", "enum", "fixed"):
            ns = schema.get("namespace", namespace)
            if kind == "enum":
                return rng.choice(schema["symbols"])
            if kind == "fixed":
                return rng.randbytes(schema["size"])
            return {f["name"]: self.make(f["type"], ns, depth + 1) for f in schema["fields"]}
        size = 0 if depth >= self.max_depth else rng.choice((0, 1, 1, 2, 3))
        if kind == "array":
            return [self.make(schema["items"], namespace, depth + 1) for _ in range(size)]
        if kind == "map":
            return {self._text(): self.make(schema["values"], namespace, depth + 1) for _ in range(size)}
        raise ValueError(f"unsupported schema type {kind!r}")

    def _text(self) -> str:
        return "".join(self.rng.choice(_TEXT) for _ in range(self.rng.randrange(0, 9)))

    def _primitive(self, kind: str) -> Any:
        rng = self.rng
        if kind == "null":
            return None
        if kind == "boolean":
            return rng.random() < 0.5
        if kind in ("int", "long"):
            limit = 2**31 if kind == "int" else 2**63
            return rng.choice(_LONGS) % limit if rng.random() < 0.2 else rng.randrange(-1000, 10**13)
        if kind in ("float", "double"):
            return rng.choice(_DOUBLES) if rng.random() < 0.2 else rng.uniform(-1e6, 1e6)
        if kind == "bytes":
            return rng.randbytes(rng.randrange(0, 24))
        return self._text()


def encode_datum(codec: ContractCodec[Any], datum: Any) -> bytes:
    """A single-object record of the codec's current schema holding `datum` (no contract checks)."""
    import io

    out = io.BytesIO()
    schemaless_writer(out, codec.entry.parsed, datum)
    return SINGLE_OBJECT_MAGIC + codec.entry.fingerprint + out.getvalue()


def schema_records(codec: ContractCodec[Any], rng: random.Random, count: int) -> list[bytes]:
    """`count` records that are valid Avro for the schema (the contract may still reject some)."""
    maker = DatumMaker(rng)
    return [encode_datum(codec, maker.make_root(dict(codec.entry.schema_json))) for _ in range(count)]


def valid_records(
    codec: ContractCodec[Any], rng: random.Random, count: int, attempts: int = 50
) -> list[bytes]:
    """Up to `count` records the contract decodes (re-encoded by the codec, so they are canonical)."""
    found: list[bytes] = []
    for raw in schema_records(codec, rng, count * attempts):
        try:
            found.append(codec.encode(codec.decode(raw)))
        except ValueError:
            continue
        if len(found) == count:
            break
    return found


def zigzag_varint(value: int) -> bytes:
    """Avro's zig-zag varint encoding of a long."""
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


_HUGE = (2**31, 2**40, 2**62, 2**63 - 1, -(2**62), -(2**63))
HEADER = 10  # C3 01 + 8-byte fingerprint
Mutator = Callable[[random.Random, bytes, bytes, Sequence[bytes]], bytes | None]


def _truncated(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    return good[: rng.randrange(0, len(good))]


def _header_bit_flip(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    i = rng.randrange(0, HEADER)
    return good[:i] + bytes([good[i] ^ (1 << rng.randrange(8))]) + good[i + 1 :]


def _body_bit_flips(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    data = bytearray(good)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(HEADER, len(data))
        data[i] ^= 1 << rng.randrange(8)
    return bytes(data)


def _wrong_magic(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    while True:
        magic = rng.randbytes(2)
        if magic != SINGLE_OBJECT_MAGIC and magic[:1] != CONFLUENT_MAGIC:
            return magic + good[2:]


def _wrong_fingerprint(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    return SINGLE_OBJECT_MAGIC + rng.randbytes(8) + good[HEADER:]


def _other_schema_header(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    """This body under another contract's fingerprint (a known schema, the wrong one)."""
    return rng.choice(others)[:HEADER] + good[HEADER:]


def _wrong_contract(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    """A perfectly valid record of another contract (valid Avro of the wrong type)."""
    return rng.choice(others)


def _huge_length_first(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    """The first field (a string in every contract) claims a huge or negative length."""
    return header + zigzag_varint(rng.choice(_HUGE)) + rng.randbytes(rng.randrange(0, 16))


def _huge_varint_inside(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    """A huge varint spliced into the body: a length, a block count or (by chance) a long."""
    i = rng.randrange(HEADER, len(good) + 1)
    return good[:i] + zigzag_varint(rng.choice(_HUGE)) + good[i:]


def _random_bytes(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    while True:
        data = rng.randbytes(rng.randrange(0, 200))
        if data[:2] != SINGLE_OBJECT_MAGIC:  # that prefix has its own kinds
            return data


def _random_body(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    return header + rng.randbytes(rng.randrange(0, 200))


def _trailing_bytes(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    return good + rng.randbytes(rng.randint(1, 16))


def _confluent_without_registry(
    rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]
) -> bytes:
    return CONFLUENT_MAGIC + rng.randbytes(4) + good[HEADER:]


def _empty(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> bytes:
    return b""


def _tombstone(rng: random.Random, good: bytes, header: bytes, others: Sequence[bytes]) -> None:
    return None


# kind -> (mutator, certain to be undecodable)
MUTATORS: Mapping[str, tuple[Mutator, bool]] = {
    "truncated": (_truncated, True),
    "header_bit_flip": (_header_bit_flip, True),
    "body_bit_flips": (_body_bit_flips, False),
    "wrong_magic": (_wrong_magic, True),
    "wrong_fingerprint": (_wrong_fingerprint, True),
    "other_schema_header": (_other_schema_header, True),
    "wrong_contract": (_wrong_contract, True),
    "huge_length_first": (_huge_length_first, True),
    "huge_varint_inside": (_huge_varint_inside, False),
    "random_bytes": (_random_bytes, True),
    "random_body": (_random_body, False),
    "trailing_bytes": (_trailing_bytes, True),
    "confluent_without_registry": (_confluent_without_registry, True),
    "empty": (_empty, True),
    "tombstone": (_tombstone, True),
}
SCHEMA_VALID = "schema_valid_datum"  # valid Avro of the right schema that the contract may reject


def bad_inputs(
    codec: ContractCodec[Any],
    samples: Sequence[bytes],
    others: Sequence[bytes],
    rng: random.Random,
    count: int,
) -> Iterator[BadInput]:
    """`count` broken records of `codec`'s contract, made from its `samples` and other contracts' records.

    About one in sixteen is a random datum of the schema itself (`schema_valid_datum`, not certain).
    """
    header = SINGLE_OBJECT_MAGIC + codec.entry.fingerprint
    kinds = sorted(MUTATORS)
    maker = DatumMaker(rng)
    schema = dict(codec.entry.schema_json)
    maker.register(schema)
    for i in range(count):
        if i % 16 == 15:
            yield BadInput(SCHEMA_VALID, encode_datum(codec, maker.make(schema)), False)
            continue
        kind = kinds[rng.randrange(len(kinds))]
        mutate, certain = MUTATORS[kind]
        yield BadInput(kind, mutate(rng, rng.choice(samples), header, others), certain)


FUZZ_ENV = "XRAY_FUZZ"  # "full" under `make fuzz`; anything else is the small CI form


def fuzz_count(ci: int, full: int = 100_000) -> int:
    """How many inputs a fuzz test generates: `full` under `make fuzz`, `ci` otherwise."""
    import os

    return full if os.environ.get(FUZZ_ENV, "").strip().lower() == "full" else ci


@dataclass(slots=True)
class FuzzTally:
    """Outcomes per input kind: `rejected` (a DecodeError) or `decoded` (a valid value by chance)."""

    rejected: dict[str, int]
    decoded: dict[str, int]

    @property
    def total(self) -> int:
        """Every input counted."""
        return sum(self.rejected.values()) + sum(self.decoded.values())

    def line(self, name: str) -> str:
        """One printable summary line."""
        lucky = ", ".join(f"{k} {v}" for k, v in sorted(self.decoded.items())) or "none"
        return (
            f"fuzz {name}: {self.total} inputs, {sum(self.rejected.values())} DecodeError, "
            f"{sum(self.decoded.values())} still valid records ({lucky})"
        )


def run_decoder(
    decode: Callable[[Any], Any],
    inputs: Iterator[BadInput],
    *,
    accept: Callable[[Any], None],
    rejected_as: Callable[[Any], BaseException | None] | None = None,
) -> FuzzTally:
    """Feed every input to `decode`; each must raise a DecodeError (or, with `rejected_as`, return a value
    that it maps to the DecodeError it carries), unless its kind may be valid by chance, in which case
    `accept(value)` must hold for what decoded. Anything else raises AssertionError naming the input."""
    from xray_contracts.codec import DecodeError

    tally = FuzzTally({}, {})
    for bad in inputs:
        try:
            value = decode(bad.data)
        except DecodeError:
            tally.rejected[bad.kind] = tally.rejected.get(bad.kind, 0) + 1
            continue
        except Exception as exc:
            raise AssertionError(
                f"{bad.kind} {bad.data!r:.120}: {type(exc).__name__} is no DecodeError"
            ) from exc
        carried = rejected_as(value) if rejected_as is not None else None
        if carried is not None:
            if not isinstance(carried, DecodeError):
                raise AssertionError(f"{bad.kind} {bad.data!r:.120}: carries {carried!r}, no DecodeError")
            tally.rejected[bad.kind] = tally.rejected.get(bad.kind, 0) + 1
            continue
        if bad.certain:
            raise AssertionError(f"{bad.kind} {bad.data!r:.120} decoded to {value!r:.200}")
        accept(value)
        tally.decoded[bad.kind] = tally.decoded.get(bad.kind, 0) + 1
    return tally
