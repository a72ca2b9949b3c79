"""`xray simulate`: write a simulated recording and its regime labels."""

from __future__ import annotations

from pathlib import Path

import click

from xray_simulator.api import write_labels, write_recording
from xray_simulator.config import SimulatorConfig, default_symbols
from xray_simulator.generator import iter_frames
from xray_simulator.schedule import all_labels


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--symbols", default="", help="comma-separated symbols (default: BTCUSDT + alts)")
@click.option("--count", default=5, show_default=True, help="number of symbols when --symbols is empty")
@click.option("--hours", default=6.0, show_default=True, help="simulated span (rounded to 180 s windows)")
@click.option("--seed", default=7, show_default=True)
@click.option("--start-ms", default=None, type=int, help="start (multiple of 180000)")
@click.option("--min-segment", type=int, default=None, help="shortest regime segment in windows (default 10)")
@click.option("--max-segment", type=int, default=None, help="longest regime segment in windows (default 40)")
@click.option("--gzip/--no-gzip", "compress", default=True, show_default=True)
def simulate(  # noqa: PLR0917 (click passes options positionally by name)
    out_dir: Path,
    symbols: str,
    count: int,
    hours: float,
    seed: int,
    start_ms: int | None,
    min_segment: int | None,
    max_segment: int | None,
    compress: bool,
) -> None:
    """Simulate regime-switching Binance USD-M frames: recording lines plus labels.jsonl."""
    names = tuple(s.strip().upper() for s in symbols.split(",") if s.strip()) or default_symbols(count)
    kwargs: dict[str, object] = {"seed": seed, "symbols": names, "windows": max(1, round(hours * 20))}
    if start_ms is not None:
        kwargs["start_ms"] = start_ms
    if min_segment is not None:
        kwargs["min_segment_windows"] = min_segment
    if max_segment is not None:
        kwargs["max_segment_windows"] = max_segment
    config = SimulatorConfig.model_validate(kwargs)
    out_dir.mkdir(parents=True, exist_ok=True)
    recording = out_dir / ("simulated.dat.gz" if compress else "simulated.dat")
    lines = write_recording(iter_frames(config), recording)
    labels = write_labels(all_labels(config), out_dir / "labels.jsonl")
    (out_dir / "config.json").write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
    click.echo(f"wrote {lines} frames to {recording} and {labels} labels to {out_dir / 'labels.jsonl'}")
