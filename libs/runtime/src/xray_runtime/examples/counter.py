"""Toy exactly-once processor: a running count per key, kept in a compacted state topic.

Input value: an ASCII decimal integer (anything else goes to the DLQ). For every input record it
emits `f"{key}:{count}"` to the output topic, `count` being how many records of that key it has
seen. Run it with `python -m xray_runtime.examples.counter`, configured by XRAY_* env vars.
"""

from __future__ import annotations

import sys
from typing import Final

from pydantic import BaseModel, ConfigDict
from xray_contracts.catalogue import TopicSpec

from xray_runtime.config import ServiceSettings, load_settings
from xray_runtime.context import Context, Record
from xray_runtime.logs import setup_logging
from xray_runtime.processor import InputTopic, Processor
from xray_runtime.state import StoreSpec

SERVICE: Final = "counter"
INPUT: Final = TopicSpec(name="counter.input", value_schema=None, cleanup_policy="delete")
OUTPUT: Final = TopicSpec(name="counter.output", value_schema=None, cleanup_policy="delete")
COUNTS: Final = TopicSpec(
    name="counter.counts",
    value_schema=None,
    cleanup_policy="compact",
    extra_config={"segment.ms": "600000"},
)
TOPICS: Final = (INPUT, OUTPUT, COUNTS)


class CounterSection(BaseModel):
    """Counter-specific settings (exists to show a service section)."""

    model_config = ConfigDict(extra="forbid")

    output_separator: str = ":"


class CounterSettings(ServiceSettings):
    """Runtime settings plus the counter section (XRAY_COUNTER__OUTPUT_SEPARATOR)."""

    counter: CounterSection = CounterSection()


def decode_amount(raw: bytes) -> int:
    """Input values are ASCII integers; anything else raises (and the record goes to the DLQ)."""
    return int(raw.decode("ascii"), 10)


def encode_count(count: int) -> bytes:
    """State value encoding."""
    return str(count).encode()


def decode_count(raw: bytes) -> int:
    """State value decoding."""
    return int(raw)


COUNT_STORE: Final[StoreSpec[int]] = StoreSpec(
    name="counts", topic=COUNTS, encode=encode_count, decode=decode_count
)


def next_count(current: int | None) -> int:
    """The pure step: one more record for this key."""
    return (current or 0) + 1


def output_value(key: bytes, count: int, separator: str = ":") -> bytes:
    """The output record's value for the `count`-th record of `key`."""
    return key + separator.encode() + str(count).encode()


def build(settings: CounterSettings) -> Processor[int]:
    """Wire the counter into a runtime Processor."""
    output_topic = OUTPUT.topic(settings.namespace)
    separator = settings.counter.output_separator

    def handle(record: Record[int], ctx: Context) -> None:
        key = record.key or b""
        store = ctx.store("counts")
        count = next_count(store.get(key))
        store.put(key, count)
        ctx.emit(output_topic, key, output_value(key, count, separator))

    return Processor(
        service=SERVICE,
        settings=settings,
        inputs=[InputTopic(INPUT, decode_amount)],
        handler=handle,
        stores=[COUNT_STORE],
    )


def main() -> int:
    """Entry point: validate settings, set up logs, run until SIGTERM."""
    settings = load_settings(CounterSettings)
    setup_logging(SERVICE, settings.log_level)
    return build(settings).run()


if __name__ == "__main__":
    sys.exit(main())
