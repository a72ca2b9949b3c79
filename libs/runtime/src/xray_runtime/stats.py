"""Parse librdkafka's statistics JSON (stats_cb) into the few numbers we export."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

# librdkafka's internal pseudo-partition that carries unassigned messages.
_UA_PARTITION = -1


@dataclass(frozen=True, slots=True)
class ClientStats:
    """What one statistics emission tells us."""

    client_type: str
    producer_queue_messages: int | None = None
    consumer_lag: dict[tuple[str, int], int] = field(default_factory=dict)


def parse_stats(raw: str | bytes) -> ClientStats:
    """Extract producer queue depth and per-partition consumer lag (-1 = unknown) from a stats document."""
    doc = orjson.loads(raw)
    client_type = str(doc.get("type", ""))
    if client_type == "producer":
        return ClientStats(client_type, producer_queue_messages=int(doc.get("msg_cnt", 0)))
    lag: dict[tuple[str, int], int] = {}
    for topic, tdoc in (doc.get("topics") or {}).items():
        for pdoc in (tdoc.get("partitions") or {}).values():
            partition = int(pdoc.get("partition", _UA_PARTITION))
            # Only partitions this consumer fetches carry a meaningful lag.
            if partition == _UA_PARTITION or pdoc.get("fetch_state") in (None, "none", "stopped"):
                continue
            lag[(topic, partition)] = int(pdoc.get("consumer_lag", -1))
    return ClientStats(client_type, consumer_lag=lag)
