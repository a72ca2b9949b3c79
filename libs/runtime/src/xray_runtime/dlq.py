"""Dead-letter records: the raw bytes plus headers naming where they came from and why they failed."""

from __future__ import annotations

from typing import Final

MAX_ERROR_MESSAGE: Final = 512

H_SOURCE_TOPIC: Final = "dlq.source.topic"
H_SOURCE_PARTITION: Final = "dlq.source.partition"
H_SOURCE_OFFSET: Final = "dlq.source.offset"
H_ERROR_CLASS: Final = "dlq.error.class"
H_ERROR_MESSAGE: Final = "dlq.error.message"
H_SERVICE: Final = "dlq.service"


def dlq_headers(
    service: str,
    topic: str,
    partition: int,
    offset: int,
    *,
    error: BaseException,
    original: list[tuple[str, str | bytes | None]] | None = None,
) -> list[tuple[str, str | bytes | None]]:
    """The original headers followed by provenance headers (error text truncated)."""
    message = str(error)[:MAX_ERROR_MESSAGE]
    headers = list(original or [])
    headers += [
        (H_SERVICE, service.encode()),
        (H_SOURCE_TOPIC, topic.encode()),
        (H_SOURCE_PARTITION, str(partition).encode()),
        (H_SOURCE_OFFSET, str(offset).encode()),
        (H_ERROR_CLASS, type(error).__name__.encode()),
        (H_ERROR_MESSAGE, message.encode("utf-8", "replace")),
    ]
    return headers
