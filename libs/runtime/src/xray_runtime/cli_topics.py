"""`xray topics create|describe|delete` and `xray tail TOPIC`: the catalogue on a real broker.

`tail` prints one JSON object per record: topic, partition, offset, timestamp (ms), key (UTF-8 text),
headers (UTF-8 text) and `value`, the decoded contract as plain JSON (bytes fields such as
`raw_payload` as standard base64). A record that does not decode (DLQ topics, garbage) is printed with
`value: null`, `value_base64` and `error`; a tombstone has `value: null`. It reads read_committed,
without a consumer group commit, so it never disturbs the services.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

import click
import orjson
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, TopicPartition
from xray_contracts import catalogue
from xray_contracts.codec import CodecSet, DecodeError, codecs_for_registry
from xray_contracts.plain import to_plain

from xray_runtime.topics import delete_namespace, describe_topics, ensure_topics

_BOOTSTRAP_ENV = ["XRAY_KAFKA__BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"]
_DEFAULT_BOOTSTRAP = "127.0.0.1:9092"

bootstrap_option = click.option(
    "--bootstrap",
    envvar=_BOOTSTRAP_ENV,
    default=_DEFAULT_BOOTSTRAP,
    show_default=True,
    help="Bootstrap servers (env XRAY_KAFKA__BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_SERVERS).",
)
namespace_option = click.option(
    "--namespace",
    envvar="XRAY_NAMESPACE",
    default=catalogue.DEFAULT_NAMESPACE,
    show_default=True,
    help="Topic namespace (a backtest uses its own).",
)


@click.group()
def topics() -> None:
    """Create, describe or delete the catalogue's topics in a namespace."""


@topics.command("create")
@bootstrap_option
@namespace_option
@click.option("--replication-factor", type=int, default=-1, show_default=True, help="-1: the broker default.")
def create(bootstrap: str, namespace: str, replication_factor: int) -> None:
    """Create every catalogue topic (idempotent; verifies partitions and cleanup policy)."""
    try:
        created = ensure_topics(bootstrap, namespace, replication_factor=replication_factor)
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc
    total = len(catalogue.ALL_TOPICS)
    click.echo(
        f"{len(created)} created, {total - len(created)} already there, all {total} match the catalogue"
    )
    for name in created:
        click.echo(f"  + {name}")


@topics.command("describe")
@bootstrap_option
@namespace_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per topic.")
def describe(bootstrap: str, namespace: str, as_json: bool) -> None:
    """Show each catalogue topic: exists, partitions, cleanup policy, retention, value schema."""
    try:
        states = describe_topics(bootstrap, namespace)
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc
    for s in states:
        row = {
            "topic": s.topic,
            "name": s.spec.name,
            "exists": s.exists,
            "partitions": s.partitions,
            "cleanup.policy": s.config.get("cleanup.policy"),
            "retention.ms": s.config.get("retention.ms"),
            "value_schema": s.spec.value_schema,
            "key": s.spec.key,
            "ok": not s.mismatches(),
        }
        if as_json:
            click.echo(orjson.dumps(row).decode())
        else:
            state = "ok" if row["ok"] else "; ".join(s.mismatches())
            click.echo(
                f"{s.topic:<55} {s.partitions or '-'!s:>3}  {row['cleanup.policy'] or '-':<8} "
                f"{s.spec.value_schema or '(raw bytes)':<45} {state}"
            )


@topics.command("delete")
@bootstrap_option
@click.option("--namespace", required=True, help="Namespace whose topics (`<namespace>.*`) go.")
@click.option("--yes", is_flag=True, help="Do it without asking.")
def delete(bootstrap: str, namespace: str, yes: bool) -> None:
    """Delete every topic of a namespace (for backtests and tests)."""
    if not yes:
        click.confirm(f"delete every topic named {namespace}.* ?", abort=True)
    for name in delete_namespace(bootstrap, namespace):
        click.echo(f"  - {name}")


def render_record(msg: Any, codecs: CodecSet, spec: catalogue.TopicSpec) -> dict[str, Any]:
    """One consumed message as a JSON-ready dict (decoded value, or the raw bytes and the error)."""
    key = msg.key()
    headers = {
        k: (v.decode("utf-8", "backslashreplace") if v is not None else None) for k, v in msg.headers() or []
    }
    out: dict[str, Any] = {
        "topic": msg.topic(),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "timestamp": msg.timestamp()[1],
        "key": None if key is None else key.decode("utf-8", "backslashreplace"),
        "headers": headers,
        "value": None,
    }
    raw = msg.value()
    if raw is None:
        return out
    if spec.value_schema is None:
        out["value_base64"] = _b64(raw)
        return out
    try:
        out["value"] = to_plain(codecs.for_topic(spec).decode(raw))
    except DecodeError as exc:
        out["value_base64"] = _b64(raw)
        out["error"] = str(exc)
    return out


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _matches(record: dict[str, Any], symbol: str | None, event_type: str | None) -> bool:
    if symbol is not None:
        value = record["value"]
        value_symbol = value.get("symbol") if isinstance(value, dict) else None
        if symbol not in (record["key"], value_symbol):
            return False
    return event_type is None or record["headers"].get("event_type") == event_type


@click.command()
@click.argument("topic")
@bootstrap_option
@namespace_option
@click.option(
    "--from-beginning", is_flag=True, help="Start at the earliest offset (default: only new records)."
)
@click.option("--symbol", default=None, help="Only records of this symbol (key or value.symbol).")
@click.option("--event-type", default=None, help="Only records whose `event_type` header is this.")
@click.option("--max", "max_records", type=int, default=None, help="Stop after printing N records.")
@click.option("--timeout", type=float, default=None, help="Stop after this many seconds without a record.")
@click.option("--registry-url", envvar="XRAY_SCHEMA_REGISTRY_URL", default=None, help="Schema Registry URL.")
def tail(
    *,
    topic: str,
    bootstrap: str,
    namespace: str,
    from_beginning: bool,
    symbol: str | None,
    event_type: str | None,
    max_records: int | None,
    timeout: float | None,
    registry_url: str | None,
) -> None:
    """Print TOPIC's records (logical or physical name) as JSON lines, read_committed."""
    try:
        physical, spec = catalogue.resolve(topic, namespace)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    codecs = codecs_for_registry(registry_url)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"xray-tail-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": "false",
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(physical, timeout=10).topics.get(physical)
        if metadata is None or metadata.error is not None:
            raise click.ClickException(f"topic {physical} does not exist (run `xray topics create`)")
        start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(physical, p, start) for p in sorted(metadata.partitions)])
        printed = 0
        last_seen = time.monotonic()
        while max_records is None or printed < max_records:
            msg = consumer.poll(0.5)
            if msg is None:
                if timeout is not None and time.monotonic() - last_seen > timeout:
                    break
                continue
            last_seen = time.monotonic()
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise click.ClickException(str(error))
            record = render_record(msg, codecs, spec)
            if _matches(record, symbol, event_type):
                sys.stdout.write(orjson.dumps(record).decode() + "\n")
                sys.stdout.flush()
                printed += 1
    finally:
        consumer.close()
