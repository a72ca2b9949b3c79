"""Renderers consume DVM snapshots only: the abstract base, the rich terminal renderer, line mode."""

from __future__ import annotations

import contextlib
import sys
from abc import ABC, abstractmethod
from typing import IO

from consumers.dashboards.contracts import DashboardViewModel
from consumers.dashboards.line_mode import frame_text
from consumers.dashboards.observability import (
    ERROR_INVALID_SNAPSHOT,
    ERROR_RENDER_FAILURE,
    LOG_RENDERER_FAILURE,
    METRIC_FAILURES,
    METRIC_FRAMES,
    Observability,
)
from consumers.dashboards.view import dashboard
from consumers.dashboards.view_state import ViewState
from rich.console import Console, RenderableType


def validate_renderer_input(obj: object) -> DashboardViewModel:
    """The DVM itself, or TypeError for anything else."""
    if not isinstance(obj, DashboardViewModel):
        raise TypeError(f"renderers accept a DashboardViewModel, not {type(obj).__name__}")
    return obj


class DashboardRenderer(ABC):
    """A renderer: `start()`, `stop()`, and `render(snapshot)` which draws one frame and returns."""

    def __init__(self, *, observability: Observability | None = None) -> None:
        """Renderers log failures and count frames through `observability`."""
        self._obs = observability or Observability()
        self.started = False

    def start(self) -> None:
        """Mark the renderer started (independent of any builder)."""
        self.started = True

    def stop(self) -> None:
        """Mark the renderer stopped."""
        self.started = False

    def render(self, snapshot: object) -> None:
        """Draw one frame; a non-DVM or a failing output is logged and counted, never raised."""
        try:
            dvm = validate_renderer_input(snapshot)
        except TypeError as error:
            self._failed(ERROR_INVALID_SNAPSHOT, str(error))
            return
        try:
            self._draw(dvm)
        except Exception as error:
            self._failed(ERROR_RENDER_FAILURE, f"{type(error).__name__}: {error}")
            return
        self._obs.metrics.increment(METRIC_FRAMES)

    def _failed(self, kind: str, detail: str) -> None:
        self._obs.logger.error(LOG_RENDERER_FAILURE, error_kind=kind, error_detail=detail[:200])
        self._obs.metrics.increment(METRIC_FAILURES, tags={"component": "renderer", "error_kind": kind})

    @abstractmethod
    def _draw(self, dvm: DashboardViewModel) -> None:
        """Write one frame of `dvm`."""


class TuiRenderer(DashboardRenderer):
    """Draws the operator's screen with `rich`: colours on a terminal, plain text elsewhere."""

    def __init__(
        self,
        *,
        writer: IO[str] | None = None,
        observability: Observability | None = None,
        console: Console | None = None,
        view_state: ViewState | None = None,
    ) -> None:
        """`writer` defaults to stdout; a ready `console` (e.g. one recording for SVG export) wins over it."""
        super().__init__(observability=observability)
        self._writer = writer
        self._console = console
        self.view_state = view_state or ViewState()

    @property
    def console(self) -> Console:
        """The console frames go to (created on first use)."""
        if self._console is None:
            self._console = Console(file=self._writer or sys.stdout)
        return self._console

    def renderable(self, dvm: DashboardViewModel) -> RenderableType:
        """The frame as a rich renderable (what the service's Live loop shows)."""
        return dashboard(dvm, self.view_state)

    def _draw(self, dvm: DashboardViewModel) -> None:
        self.console.print(self.renderable(dvm))
        with contextlib.suppress(Exception):  # a sink that cannot flush still got the frame
            self.console.file.flush()


class LineRenderer(DashboardRenderer):
    """Writes the plain-text frame of the original TUI in one write per frame."""

    def __init__(self, *, writer: IO[str] | None = None, observability: Observability | None = None) -> None:
        """`writer` defaults to stdout."""
        super().__init__(observability=observability)
        self._writer = writer

    def _draw(self, dvm: DashboardViewModel) -> None:
        writer = self._writer or sys.stdout
        writer.write(frame_text(dvm))
        with contextlib.suppress(Exception):
            writer.flush()
