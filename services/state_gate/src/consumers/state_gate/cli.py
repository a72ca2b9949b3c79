"""`xray gate status [SYMBOL...]` and `xray gate resume SYMBOL` (a control record through Kafka)."""

from __future__ import annotations

import getpass
import os

import click
import orjson
from confluent_kafka import KafkaError, Message, Producer
from consumers.state_gate.contracts import (
    CONTROL_RESUME,
    CONTROL_SCHEMA,
    SCHEMA_VERSION,
    StateGateControl,
    StateGateSnapshot,
)
from xray_contracts import catalogue
from xray_contracts.codec import codecs_for_registry
from xray_runtime.reader import PartitionReader
from xray_runtime.state import fold_state

FLUSH_TIMEOUT_S = 30.0


def _default_bootstrap() -> str | None:
    return os.environ.get("XRAY_KAFKA__BOOTSTRAP_SERVERS") or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")


def send_control(
    bootstrap: str, namespace: str, command: StateGateControl, registry_url: str | None = None
) -> None:
    """Produce one control record keyed by symbol (murmur2, so it lands on the symbol's partition)."""
    codec = codecs_for_registry(registry_url).for_type(StateGateControl)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "enable.idempotence": "true",
            "acks": "all",
        }
    )
    errors: list[KafkaError] = []
    headers: list[tuple[str, str | bytes | None]] = list(codec.headers(command))

    def on_delivery(error: KafkaError | None, _msg: Message) -> None:
        if error is not None:
            errors.append(error)

    producer.produce(
        catalogue.STATE_GATE_CONTROL.topic(namespace),
        codec.encode(command),
        command.symbol.encode(),
        headers=headers,
        on_delivery=on_delivery,
    )
    if producer.flush(FLUSH_TIMEOUT_S) != 0:
        raise click.ClickException("control record not delivered in time")
    if errors:
        raise click.ClickException(f"control record not delivered: {errors[0]}")


@click.group()
def gate() -> None:
    """Operate the state gate."""


def read_snapshots(
    bootstrap: str, namespace: str, registry_url: str | None = None
) -> dict[str, StateGateSnapshot]:
    """Every symbol's committed snapshot from the compacted `state_gate.state` topic."""
    codec = codecs_for_registry(registry_url).for_type(StateGateSnapshot)
    spec = catalogue.STATE_GATE_STATE
    reader = PartitionReader({"bootstrap.servers": bootstrap, "group.id": "xray-gate-status"})
    try:
        rows = [
            (m.key(), m.value()) for m in reader.read_to_end(spec.topic(namespace), range(spec.partitions))
        ]
    finally:
        reader.close()
    return {key.decode(): value for key, value in fold_state(rows, codec.decode).items()}


def snapshot_summary(snapshot: StateGateSnapshot) -> dict[str, object]:
    """The operator's view of one symbol."""
    return {
        "symbol": snapshot.symbol,
        "state_status": snapshot.state_status,
        "gate_status": snapshot.gate_status,
        "reasons": list(snapshot.reasons),
        "halted": snapshot.halted,
        "halt_error_kind": snapshot.halt_error_kind,
        "halt_error_detail": snapshot.halt_error_detail,
        "last_run_id": snapshot.last_run_id,
        "last_engine_timestamp_ms": snapshot.last_engine_timestamp_ms,
        "pending_runs": len(snapshot.pending),
    }


_namespace_option = click.option(
    "--namespace", default=lambda: os.environ.get("XRAY_NAMESPACE", "xray"), show_default="xray"
)
_bootstrap_option = click.option("--bootstrap", default=_default_bootstrap, help="Kafka bootstrap servers.")
_registry_option = click.option(
    "--registry-url", default=lambda: os.environ.get("XRAY_SCHEMA_REGISTRY_URL"), help="Schema Registry URL."
)


@gate.command()
@click.argument("symbols", nargs=-1)
@_namespace_option
@_bootstrap_option
@_registry_option
def status(symbols: tuple[str, ...], namespace: str, bootstrap: str | None, registry_url: str | None) -> None:
    """Print each symbol's gate state (all symbols when none are named) as JSON lines."""
    if not bootstrap:
        raise click.UsageError("no bootstrap servers: pass --bootstrap or set XRAY_KAFKA__BOOTSTRAP_SERVERS")
    snapshots = read_snapshots(bootstrap, namespace, registry_url)
    for symbol in symbols or tuple(sorted(snapshots)):
        snapshot = snapshots.get(symbol)
        line = snapshot_summary(snapshot) if snapshot else {"symbol": symbol, "state_status": None}
        click.echo(orjson.dumps(line).decode())


@gate.command()
@click.argument("symbol")
@_namespace_option
@_bootstrap_option
@_registry_option
@click.option("--note", default=None, help="Why (kept on the control record).")
def resume(
    symbol: str, namespace: str, bootstrap: str | None, registry_url: str | None, note: str | None
) -> None:
    """Clear SYMBOL's halt: the service resumes gating it from BOOTSTRAP (closed until its next run)."""
    if not bootstrap:
        raise click.UsageError("no bootstrap servers: pass --bootstrap or set XRAY_KAFKA__BOOTSTRAP_SERVERS")
    command = StateGateControl(
        schema=CONTROL_SCHEMA,
        schema_version=SCHEMA_VERSION,
        command=CONTROL_RESUME,
        symbol=symbol,
        operator=getpass.getuser(),
        note=note,
    )
    send_control(bootstrap, namespace, command, registry_url)
    click.echo(f"resume sent for {symbol} ({catalogue.STATE_GATE_CONTROL.topic(namespace)})")
