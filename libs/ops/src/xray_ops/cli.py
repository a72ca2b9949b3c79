"""`xray up`, `xray down`, `xray status` and `xray replay`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import orjson
from xray_contracts import catalogue

from xray_ops.control import stack_status, stop_stack
from xray_ops.paths import stack_dir
from xray_ops.stack import Stack, StackError, StackOptions
from xray_ops.status import render_plain

DEFAULT_SYMBOLS = "BTCUSDT,ETHUSDT"


def _symbols(text: str) -> tuple[str, ...]:
    names = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    if not names:
        raise click.BadParameter("give at least one symbol")
    return names


@click.command()
@click.option(
    "--live", "mode", flag_value="live", default=True, help="The live Binance USD-M feed (default)."
)
@click.option("--demo", "mode", flag_value="demo", help="A simulated market instead (no network needed).")
@click.option(
    "--recording",
    "recordings",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ingest these recordings first (repeatable), then run the pipeline on them.",
)
@click.option(
    "--symbols",
    envvar="XRAY_SYMBOLS",
    default=None,
    help=f"Comma-separated symbols [env XRAY_SYMBOLS; live default {DEFAULT_SYMBOLS}, demo BTC/ETH/SOL].",
)
@click.option("--namespace", default=None, help="Topic namespace [live: xray, demo: demo].")
@click.option(
    "--bootstrap",
    default=None,
    help="An existing broker (else $XRAY_KAFKA__BOOTSTRAP_SERVERS, "
    "$KAFKA_BOOTSTRAP_SERVERS, or a local broker started here).",
)
@click.option(
    "--dashboard/--no-dashboard", default=True, show_default=True, help="Dashboard in the foreground."
)
@click.option("--backfill-windows", default=30, show_default=True, help="Demo: 180 s windows of history.")
@click.option("--live-windows", default=40, show_default=True, help="Demo: 180 s windows played live.")
@click.option("--seed", default=11, show_default=True, help="Demo: simulator seed.")
@click.option(
    "--keep-namespace", is_flag=True, help="Demo: keep the previous demo's topics (default: start clean)."
)
def up(
    *,
    mode: str,
    recordings: tuple[Path, ...],
    symbols: str | None,
    namespace: str | None,
    bootstrap: str | None,
    dashboard: bool,
    backfill_windows: int,
    live_windows: int,
    seed: int,
    keep_namespace: bool,
) -> None:
    """Run the whole stack here: broker, topics, every service, the feed and the dashboard."""
    if recordings:
        mode = "recording"
    demo = mode == "demo"
    default_symbols = "BTCUSDT,ETHUSDT,SOLUSDT" if demo else DEFAULT_SYMBOLS
    options = StackOptions(
        mode=mode,  # type: ignore[arg-type]
        folder=stack_dir(),
        namespace=namespace or ("demo" if demo else catalogue.DEFAULT_NAMESPACE),
        symbols=_symbols(symbols or default_symbols),
        bootstrap=bootstrap,
        recordings=recordings,
        dashboard=dashboard,
        reset_namespace=demo and not keep_namespace,
        backfill_windows=backfill_windows,
        live_windows=live_windows,
        seed=seed,
    )
    try:
        code = Stack(options).run()
    except StackError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@click.command()
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait for a clean stop.")
def down(timeout: float) -> None:
    """Stop the stack `xray up` runs (everything it started)."""
    result = stop_stack(stack_dir(), timeout)
    if not result.found:
        click.echo("xray down: no stack is running")
        return
    if result.leftovers_killed:
        click.echo(f"xray down: terminated leftover processes {result.leftovers_killed}")
    click.echo("xray down: stopped")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per service.")
def status(as_json: bool) -> None:
    """Each service's health, readiness, lag and last error (from /healthz, /readyz, /metrics, logs)."""
    state, statuses = stack_status(stack_dir())
    if state is None:
        click.echo("xray status: no stack is running (start one with `xray up` or `make run`)", err=True)
        sys.exit(3)
    if as_json:
        for s in statuses:
            click.echo(orjson.dumps({"namespace": state.namespace, **s.to_json()}).decode())
    else:
        alive = "running" if state.supervisor_alive() else "NOT RUNNING (stale state; `xray down` cleans up)"
        click.echo(
            f"stack {state.mode} · namespace {state.namespace} · broker {state.bootstrap} · "
            f"supervisor pid {state.supervisor_pid} {alive} · {state.phase}"
        )
        click.echo(f"logs: {state.log_dir}")
        click.echo(render_plain(statuses))
    ok = state.supervisor_alive() and all(
        s.state in ("done",) or (s.state == "running" and s.ready is not False) for s in statuses
    )
    sys.exit(0 if ok else 1)


def _environ_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


@click.command()
def replay() -> None:
    """Backtest by replay (placeholder while the driver is written)."""
    raise click.ClickException("not yet")
