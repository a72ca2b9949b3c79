"""`xray ingest` (live or from recordings into the raw topic) and `xray record` (live frames to a file)."""

from __future__ import annotations

import asyncio
import gzip
import signal
import sys
from pathlib import Path
from typing import BinaryIO, get_args

import click
from xray_runtime.config import load_settings
from xray_runtime.logs import setup_logging

from market_data.binance.adapter import BinanceUsdmAdapter
from market_data.config import BackpressureConfig, BinanceFeedConfig, StreamKind, SymbolStreams
from market_data.observability import NullLogger, NullMetrics, Observability
from market_data.pipeline import IngestionPipeline
from market_data.recording import format_line
from market_data.replay import parse_speed
from market_data.settings import MarketDataSettings


class _DiscardSink:
    """`xray record` needs no topic: events are decoded (to prove the frames parse) then dropped."""

    def write(self, event: object, *, block: bool, timeout_ms: int | None) -> None:
        """Accept and forget."""


@click.command()
@click.option(
    "--recording",
    "recordings",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Replay these files instead of connecting to the exchange (repeatable).",
)
@click.option("--speed", default="max", show_default=True, help="Recording pace: 1, 10, ... or max.")
@click.option("--limit", type=int, default=None, help="At most this many frames per recording file.")
@click.option(
    "--resume/--no-resume",
    default=False,
    show_default=True,
    help="Recordings: continue a killed earlier run of the same replay into the same (own) namespace.",
)
@click.option(
    "--status-server/--no-status-server",
    default=True,
    show_default=True,
    help="Serve /metrics, /healthz, /readyz on XRAY_HTTP__PORT.",
)
def ingest(
    *, recordings: tuple[Path, ...], speed: str, limit: int | None, resume: bool, status_server: bool
) -> None:
    """Run market_data: live Binance USD-M (or recordings) into the raw_market_event topic."""
    from market_data.service import IngestService

    settings = load_settings(MarketDataSettings)
    setup_logging("market_data", settings.log_level)
    service = IngestService(settings)
    server = service.start_status_server() if status_server else None
    try:
        if recordings:
            code, stats = service.run_recording(list(recordings), parse_speed(speed), limit, resume=resume)
            click.echo(
                f"frames={stats.frames} rest={stats.rest_bodies} events={stats.events} "
                f"overflows={stats.overflows} by_type={stats.by_event_type}",
                err=True,
            )
        else:
            code = asyncio.run(service.run_live())
    finally:
        if server is not None:
            server.stop()
    sys.exit(code)


@click.command()
@click.option("--symbol", "symbols", multiple=True, required=True, help="Symbol, e.g. BTCUSDT (repeatable).")
@click.option(
    "--stream",
    "streams",
    multiple=True,
    type=click.Choice(get_args(StreamKind)),
    default=("aggTrade", "bookTicker", "depth", "markPrice", "forceOrder", "kline"),
    show_default=True,
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Output file; a .gz suffix writes gzip.",
)
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--ws-base-url", default="wss://fstream.binance.com", show_default=True)
@click.option("--rest-base-url", default="https://fapi.binance.com", show_default=True)
@click.option("--open-interest/--no-open-interest", default=True, show_default=True)
def record(
    *,
    symbols: tuple[str, ...],
    streams: tuple[str, ...],
    out_path: Path,
    duration: float | None,
    ws_base_url: str,
    rest_base_url: str,
    open_interest: bool,
) -> None:
    """Record live frames as `<receive ns> <frame>` lines (the format the recording feed reads)."""
    config = BinanceFeedConfig(
        symbols=[
            SymbolStreams(
                symbol=s.upper(),
                streams=list(streams),
                open_interest=open_interest,
                depth_snapshot="depth" in streams,
            )
            for s in symbols
        ],
        ws_base_url=ws_base_url,
        rest_base_url=rest_base_url,
    )
    count = asyncio.run(record_frames(config, out_path, duration))
    click.echo(f"recorded {count} frames to {out_path}", err=True)


async def record_frames(config: BinanceFeedConfig, out_path: Path, duration: float | None) -> int:
    """Run the live adapter with a discarding sink and write every frame and REST body it receives."""
    pipeline = IngestionPipeline(
        sink=_DiscardSink(),
        backpressure=BackpressureConfig(policy="fail", max_pending=1),
        observability=Observability(logger=NullLogger(), metrics=NullMetrics()),
    )
    with _open_out(out_path) as fh:
        return await _record_into(config, pipeline, fh, duration)


def _open_out(path: Path) -> BinaryIO:
    """The output file, gzip-compressed when its name ends in .gz."""
    if path.suffix == ".gz":
        return gzip.GzipFile(path, "wb")  # type: ignore[return-value]
    return path.open("wb")


async def _record_into(
    config: BinanceFeedConfig, pipeline: IngestionPipeline, fh: BinaryIO, duration: float | None
) -> int:
    written = 0

    def hook(recv_ns: int, payload: bytes, url: str | None) -> None:
        nonlocal written
        fh.write(format_line(recv_ns, payload))
        written += 1

    adapter = BinanceUsdmAdapter(config, pipeline, frame_hook=hook)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, adapter.stop)
    if duration is not None:
        loop.call_later(duration, adapter.stop)
    await adapter.run()
    return written
