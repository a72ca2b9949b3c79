"""`xray up`, `xray down`, `xray status` and `xray replay`."""

from __future__ import annotations

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


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("XRAY_"):
            raise click.BadParameter(f"{pair!r}: expected XRAY_NAME=value", param_hint="--set")
        out[key] = value
    return out


@click.command()
@click.option(
    "--recording",
    "recordings",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replay these recordings (repeatable; `<recv ns> <frame>` lines, gzip or plain).",
)
@click.option(
    "--simulate", is_flag=True, help="Replay a simulator run instead (see --symbols/--hours/--seed)."
)
@click.option("--symbols", default="", help="Simulator symbols, comma-separated (default BTCUSDT + alts).")
@click.option("--count", default=3, show_default=True, help="Simulator: number of symbols without --symbols.")
@click.option("--hours", default=1.0, show_default=True, help="Simulator: simulated span.")
@click.option("--seed", default=7, show_default=True, help="Simulator: seed.")
@click.option("--from-namespace", default=None, help="Replay a time range of this namespace's raw topic.")
@click.option("--start", default=None, help="With --from-namespace: first recv time (ISO 8601 or epoch ms).")
@click.option("--end", default=None, help="With --from-namespace: end recv time, exclusive.")
@click.option(
    "--id", "replay_id", default=None, help="Replay id; the namespace is bt-<id> (default: time-based)."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TOML settings file for every service (XRAY_CONFIG_FILE).",
)
@click.option("--set", "pairs", multiple=True, help="XRAY_NAME=value setting for every service (repeatable).")
@click.option(
    "--bootstrap", default=None, help="Broker [env XRAY_KAFKA__BOOTSTRAP_SERVERS, KAFKA_BOOTSTRAP_SERVERS]."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for logs and the report [.cache/replays/<id>].",
)
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds before giving up.")
@click.option("--clean-after", is_flag=True, help="Remove the namespace's topics once the report is written.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of Markdown.")
@click.option(
    "--compare",
    nargs=2,
    default=None,
    metavar="A B",
    help="Compare two replays (ids, folders or report.json files) side by side, then exit.",
)
@click.option(
    "--clean",
    "clean_target",
    default=None,
    metavar="ID",
    help="Remove the topics and groups of replay ID (or namespace bt-...), then exit.",
)
def replay(
    *,
    recordings: tuple[Path, ...],
    simulate: bool,
    symbols: str,
    count: int,
    hours: float,
    seed: int,
    from_namespace: str | None,
    start: str | None,
    end: str | None,
    replay_id: str | None,
    config_file: Path | None,
    pairs: tuple[str, ...],
    bootstrap: str | None,
    out_dir: Path | None,
    timeout: float,
    clean_after: bool,
    as_json: bool,
    compare: tuple[str, str] | None,
    clean_target: str | None,
) -> None:
    """Backtest: replay a recording, a simulator run or a raw-topic time range into namespace bt-<id>."""
    from xray_ops.namespaces import remove_namespace
    from xray_ops.paths import replays_dir
    from xray_ops.replay import (
        NAMESPACE_PREFIX,
        Replay,
        ReplayError,
        ReplayOptions,
        ReplaySource,
        load_report,
        namespace_of,
        new_replay_id,
        parse_time_ms,
    )
    from xray_ops.report import render_compare, render_markdown
    from xray_ops.stack import configured_bootstrap

    if compare is not None:
        try:
            a, b = (load_report(t, replays_dir()) for t in compare)
        except ReplayError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(render_compare(a, b), nl=False)
        return
    broker = configured_bootstrap(bootstrap)
    if broker is None:
        raise click.ClickException(
            "no broker: pass --bootstrap or set KAFKA_BOOTSTRAP_SERVERS (`make kafka-up`)"
        )
    if clean_target is not None:
        namespace = namespace_of(clean_target)
        if not namespace.startswith(NAMESPACE_PREFIX):
            raise click.ClickException(f"{namespace} is not a replay namespace")
        removed = remove_namespace(broker, namespace)
        click.echo(f"removed {len(removed.topics)} topics and {len(removed.groups)} groups of {namespace}")
        return
    chosen = sum([bool(recordings), simulate, from_namespace is not None])
    if chosen != 1:
        raise click.UsageError(
            "give exactly one source: --recording FILE..., --simulate or --from-namespace NS"
        )
    if recordings:
        source = ReplaySource("recording", files=recordings)
    elif simulate:
        from xray_simulator.config import SimulatorConfig, default_symbols

        names = tuple(s.strip().upper() for s in symbols.split(",") if s.strip()) or default_symbols(count)
        sim = SimulatorConfig(seed=seed, symbols=names, windows=max(1, round(hours * 20)))
        source = ReplaySource("simulator", simulator=sim)
    else:
        source = ReplaySource(
            "topic",
            from_namespace=from_namespace,
            start_ms=parse_time_ms(start) if start else None,
            end_ms=parse_time_ms(end) if end else None,
        )
    rid = (replay_id or new_replay_id()).lower()
    if rid.startswith(NAMESPACE_PREFIX):
        rid = rid[len(NAMESPACE_PREFIX) :]
    options = ReplayOptions(
        replay_id=rid,
        source=source,
        bootstrap=broker,
        out_dir=out_dir or replays_dir() / rid,
        config_file=config_file,
        settings=_settings(pairs),
        timeout_s=timeout,
        clean_after=clean_after,
    )
    try:
        report = Replay(options).run()
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(render_markdown(report), nl=False)
