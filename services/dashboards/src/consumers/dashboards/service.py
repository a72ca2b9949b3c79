"""`python -m consumers.dashboards`: the live terminal dashboard over Kafka.

One loop: read what the topics have (never waiting past the next frame), apply key presses, and at a
steady rate build a DVM (as of the wall clock: the edge) and draw it. The dashboard writes nothing to
Kafka and commits nothing. q, Ctrl-C and SIGTERM end it cleanly (exit 0, terminal restored).
"""

from __future__ import annotations

import io
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Final

from consumers.dashboards.builder import DashboardBuilder
from consumers.dashboards.contracts import DashboardViewModel
from consumers.dashboards.feed import KafkaFeed
from consumers.dashboards.keyboard import KeyReader
from consumers.dashboards.line_mode import frame_lines
from consumers.dashboards.observability import Observability
from consumers.dashboards.prometheus import PrometheusDashboardMetrics
from consumers.dashboards.renderer import TuiRenderer
from consumers.dashboards.settings import SERVICE, DashboardSettings
from consumers.dashboards.view_state import ViewState, apply_key
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.live import Live
from xray_contracts.codec import codecs_for_registry
from xray_runtime.config import load_settings
from xray_runtime.health import Health
from xray_runtime.http_server import StatusServer
from xray_runtime.logs import get_logger, setup_logging

_log = get_logger("dashboards.service")
_POLL_MAX_S: Final = 0.1


def wall_ms() -> int:
    """The wall clock in epoch ms (only the service's edge reads it)."""
    return time.time_ns() // 1_000_000


def export_svg(renderer: TuiRenderer, dvm: DashboardViewModel, path: Path, width: int) -> None:
    """Save one frame with rich's SVG export."""
    console = Console(
        record=True, width=width, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(renderer.renderable(dvm))
    path.parent.mkdir(parents=True, exist_ok=True)
    console.save_svg(str(path), title="xray-vision dashboard")


class DashboardService:
    """The reader, the builder and the screen, driven by one loop."""

    def __init__(self, settings: DashboardSettings, console: Console | None = None) -> None:
        """Wire the parts; nothing connects until `run()`."""
        self.settings = settings
        section = settings.dashboard
        self.registry = CollectorRegistry()
        observability = Observability(
            get_logger("consumers.dashboards"), PrometheusDashboardMetrics(self.registry)
        )
        self.builder = DashboardBuilder(observability=observability, config=section.builder_config())
        self.feed = KafkaFeed(
            settings,
            self.builder,
            codecs_for_registry(settings.schema_registry_url),
            history_records=section.history_records,
            price_feed=section.price_feed,
            price_history_records=section.price_history_records,
            price_bucket_ms=int(section.price_bucket_s * 1000),
        )
        self.console = console or Console()
        self.renderer = TuiRenderer(console=self.console, observability=observability)
        self.health = Health(settings.http.stall_after_s)
        self.view = ViewState()
        self.shown: DashboardViewModel | None = None
        self._stop = False
        self._last_lines: list[str] | None = None

    def request_stop(self, *_: object) -> None:
        """SIGTERM: finish the current turn and exit."""
        self._stop = True

    def live_mode(self) -> bool:
        """Live screen or line mode."""
        mode = self.settings.dashboard.mode
        return mode == "live" or (mode == "auto" and self.console.is_terminal)

    def frame(self) -> DashboardViewModel:
        """Build the snapshot of now (the shown one stays frozen while paused)."""
        self.feed.flush_prices()
        self.feed.report_positions()
        dvm = self.builder.build_snapshot(as_of_ts_ms=wall_ms())
        if not self.view.paused or self.shown is None:
            self.shown = dvm
        self.health.set_ready(not self.feed.missing_topics)
        return self.shown

    def _print_lines(self, dvm: DashboardViewModel, out: IO[str]) -> None:
        lines = frame_lines(dvm)
        # Line mode writes a frame only when something besides the clock changed.
        comparable = [line for line in lines[1:] if "age_ms=" not in line]
        if comparable != self._last_lines:
            self._last_lines = comparable
            out.write("\n".join(lines) + "\n")
            out.flush()

    def run(self) -> int:
        """Run until q / Ctrl-C / SIGTERM (or `exit_after_s`); return the exit code."""
        section = self.settings.dashboard
        period = 1.0 / section.refresh_hz
        deadline = time.monotonic() + section.exit_after_s if section.exit_after_s else None
        signal.signal(signal.SIGTERM, self.request_stop)
        server = self._start_http() if section.serve_http else None
        live_mode = self.live_mode()
        _log.info(
            "dashboard_started",
            mode="live" if live_mode else "lines",
            topics=sorted(self.feed._topics.values()),
        )
        try:
            with self._screen(live_mode) as live, KeyReader() if live_mode else nullcontext() as keys:
                next_frame = time.monotonic()
                while not self._stop and not self.view.quit:
                    self.health.beat()
                    wait = min(_POLL_MAX_S, max(0.0, next_frame - time.monotonic()))
                    self.feed.poll(wait)
                    redraw = False
                    for key in keys.read() if isinstance(keys, KeyReader) else ():
                        self.view = apply_key(self.view, key)
                        self.renderer.view_state = self.view
                        redraw = True
                    now = time.monotonic()
                    if now >= next_frame or redraw:
                        dvm = self.frame()
                        if live is not None:
                            live.update(self.renderer.renderable(dvm), refresh=True)
                        else:
                            self._print_lines(dvm, sys.stdout)
                        if now >= next_frame:
                            next_frame = max(next_frame + period, now)
                    if deadline is not None and now >= deadline:
                        break
        except KeyboardInterrupt:
            pass
        finally:
            self._finish(server)
        return 0

    @contextmanager
    def _screen(self, live_mode: bool) -> Iterator[Live | None]:
        if not live_mode:
            yield None
            return
        with Live(
            console=self.console,
            auto_refresh=False,
            screen=self.settings.dashboard.screen,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live:
            yield live

    def _start_http(self) -> StatusServer | None:
        http = self.settings.http
        try:
            server = StatusServer(http.host, http.port, self.registry, self.health)
        except OSError as error:
            _log.warning("http_unavailable", host=http.host, port=http.port, error=str(error))
            return None
        server.start()
        _log.info("http_started", host=http.host, port=server.port)
        return server

    def _finish(self, server: StatusServer | None) -> None:
        section = self.settings.dashboard
        if section.export_svg is not None:
            dvm = self.shown or self.frame()
            export_svg(self.renderer, dvm, section.export_svg, section.export_width)
            _log.info("svg_exported", path=str(section.export_svg))
        self.feed.close()
        if server is not None:
            server.stop()
        _log.info("dashboard_stopped", records=self.feed.records)


def _log_stream(settings: DashboardSettings) -> IO[str]:
    """Where the JSON log lines go: the log file, else stderr unless it is the dashboard's terminal."""
    path = settings.dashboard.log_file
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8", buffering=1)
    if sys.stderr.isatty() and sys.stdout.isatty():
        return open(os.devnull, "w", encoding="utf-8")
    return sys.stderr


def main() -> int:
    """Entry point of `python -m consumers.dashboards` and `xray dashboard`."""
    settings = load_settings(DashboardSettings)
    setup_logging(SERVICE, settings.log_level, stream=_log_stream(settings))
    return DashboardService(settings).run()


if __name__ == "__main__":
    sys.exit(main())
