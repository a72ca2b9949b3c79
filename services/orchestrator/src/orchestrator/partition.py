"""Everything the orchestrator keeps for one input partition, and how it is rebuilt after a restart.

State of a partition:
- the cut planner (open window, cut ends, known symbols), restart form: `OrchestratorCursor`;
- each symbol's composer history (bounded lookback), rebuilt from the raw topic; the open window's events
  are folded into a copy of it as they arrive (`WindowFold`), so no raw event waits for its boundary;
- each symbol's hysteresis state, restored from the compacted hysteresis topic.

The cursor also lists where each recent window started in the log (`window_starts`), so a restart knows
which raw offsets still feed the lookback: it re-reads `[history_start_offset, last cut end]` and folds
those events into fresh histories (`composer.history.rebuild`, equal to the cut-by-cut fold), then
re-reads the open window from the committed offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from composer.config import ComposerConfig
from composer.history import FOLDED_EVENT_TYPES, SymbolHistory, rebuild
from regime_engine.hysteresis import HysteresisState
from xray_contracts import orchestrator_cursor as oc
from xray_contracts.orchestrator_cursor import OrchestratorCursor, SymbolOffset, WindowStart
from xray_contracts.raw_market_event import RawMarketEvent

from orchestrator.planner import PartitionCursor, PartitionCutPlanner, PlannedCut
from orchestrator.runs import BoundaryRunner, Output
from orchestrator.window_fold import FOLD_CHUNK, WindowFold


def keep_for_history(event: RawMarketEvent) -> bool:
    """Only the event types the composer folds change a history."""
    return event.event_type in FOLDED_EVENT_TYPES


@dataclass(frozen=True, slots=True)
class CountedEvent:
    """A raw record the composer does not fold: only what planning reads (it is counted, never folded)."""

    event_type: str
    symbol: str
    recv_ts_ms: int


def _keep_none(_event: RawMarketEvent) -> bool:
    return False  # the planner only counts: events are folded on arrival, not carried in cuts


@dataclass(frozen=True, slots=True)
class HistoryRange:
    """Raw offsets `[start, end)` whose events rebuild the histories as of `engine_timestamp_ms`."""

    start: int
    end: int
    engine_timestamp_ms: int
    symbols: tuple[str, ...]


def cursor_from_record(record: OrchestratorCursor) -> PartitionCursor:
    """The planner's restart state from the persisted cursor."""
    return PartitionCursor(
        open_boundary_ms=record.open_boundary_ms,
        last_offset=record.last_offset,
        last_cut_end=tuple((s.symbol, s.offset) for s in record.last_cut_end),
        known_symbols=record.known_symbols,
    )


def history_range(record: OrchestratorCursor | None, interval_ms: int) -> HistoryRange | None:
    """Which raw offsets a restart must re-read to rebuild the histories (None: nothing to rebuild)."""
    if record is None or record.open_boundary_ms is None or record.last_offset is None:
        return None
    if not record.window_starts:
        return None
    start = min(w.offset for w in record.window_starts)
    return HistoryRange(
        start=start,
        end=record.last_offset + 1,
        engine_timestamp_ms=record.open_boundary_ms - interval_ms,
        symbols=record.known_symbols,
    )


def rebuild_histories(
    span: HistoryRange, events: Iterable[RawMarketEvent], config: ComposerConfig
) -> dict[str, SymbolHistory]:
    """Each known symbol's history after the last closed cut, from the raw events of `span`.

    Streamed: the events are folded a chunk at a time under the last closed boundary, which equals
    `composer.history.rebuild` over all of them, without holding the lookback's events in memory.
    """
    known = set(span.symbols)
    ts = span.engine_timestamp_ms
    fold = WindowFold(config)
    empty: dict[str, SymbolHistory] = {}
    for event in events:
        if event.symbol in known and event.event_type in FOLDED_EVENT_TYPES:
            fold.add(event, ts, empty)
    folded = fold.take(ts, empty)
    out: dict[str, SymbolHistory] = {}
    for symbol in span.symbols:
        result = folded.get(symbol)
        if isinstance(result, Exception):
            raise result  # rebuild() would have raised it too
        out[symbol] = rebuild(symbol, (), ts, config) if result is None else result
    return out


class PartitionState:
    """One input partition: feed it records in offset order; it returns what to publish."""

    def __init__(
        self,
        partition: int,
        runner: BoundaryRunner,
        interval_ms: int,
        lookback_ms: int,
        *,
        cursor: OrchestratorCursor | None = None,
        histories: Mapping[str, SymbolHistory] | None = None,
        states: Mapping[str, HysteresisState] | None = None,
        keep: Callable[[RawMarketEvent], bool] = keep_for_history,
        fold_chunk: int = FOLD_CHUNK,
    ) -> None:
        self.partition = partition
        self.interval_ms = interval_ms
        self.lookback_ms = lookback_ms
        self._runner = runner
        self._keep = keep
        self.planner = PartitionCutPlanner(
            interval_ms, None if cursor is None else cursor_from_record(cursor), keep=_keep_none
        )
        self._window = WindowFold(runner.settings.composer, fold_chunk)
        self.histories: dict[str, SymbolHistory] = dict(histories or {})
        self.states: dict[str, HysteresisState] = dict(states or {})
        self._window_starts: list[tuple[int, int]] = (
            [] if cursor is None else [(w.boundary_ms, w.offset) for w in cursor.window_starts]
        )
        self.last_event_ts_ms: int | None = None
        self.cursor_changed = False

    def add(self, offset: int, event: RawMarketEvent | CountedEvent) -> list[Output]:
        """One decoded record; the outputs of every boundary it closes (usually none)."""
        planner = self.planner
        redelivered = planner.is_redelivery(offset)  # already in a closed cut: never folded again
        window_start = planner.window_start_offset
        cuts = planner.add(offset, event)
        ts = event.recv_ts_ms
        if self.last_event_ts_ms is None or ts > self.last_event_ts_ms:
            self.last_event_ts_ms = ts
        out = self._closed(cuts, window_start) if cuts else []
        # After the close: the record that closes a window belongs to the next one.
        if not redelivered and isinstance(event, RawMarketEvent) and self._keep(event):
            boundary = planner.open_boundary_ms
            assert boundary is not None  # add() opened a window
            self._window.add(event, boundary, self.histories)
        return out

    def close_through(self, boundary_ms: int) -> list[Output]:
        """Live grace close at the log end: close every open boundary <= `boundary_ms`."""
        window_start = self.planner.window_start_offset
        cuts = self.planner.close_through(boundary_ms)
        return self._closed(cuts, window_start) if cuts else []

    def commit_offset(self) -> int | None:
        """The input offset to commit: the open window's first record (re-read after a restart)."""
        return self.planner.commit_offset()

    def cursor_record(self) -> OrchestratorCursor:
        """The persisted restart state as of the last closed boundary."""
        c = self.planner.cursor()
        return OrchestratorCursor(
            schema=oc.SCHEMA,
            schema_version=oc.SCHEMA_VERSION,
            partition=self.partition,
            open_boundary_ms=c.open_boundary_ms,
            last_offset=c.last_offset,
            last_cut_end=tuple(SymbolOffset(s, o) for s, o in c.last_cut_end),
            known_symbols=c.known_symbols,
            window_starts=tuple(WindowStart(b, o) for b, o in self._window_starts),
        )

    def _closed(self, cuts: list[PlannedCut], window_start: int | None) -> list[Output]:
        first_boundary = cuts[0].engine_timestamp_ms
        # The window's events belong to the first closed boundary (later ones of a gap are empty).
        folded = self._window.take(first_boundary, self.histories)
        batches: list[list[PlannedCut]] = []
        for cut in cuts:  # oldest boundary first, symbols sorted within one
            if not batches or cut.engine_timestamp_ms != batches[-1][0].engine_timestamp_ms:
                batches.append([])
            batches[-1].append(cut)
        out: list[Output] = []
        for i, batch in enumerate(batches):
            out.extend(
                self._runner.run_boundary(batch, self.histories, self.states, folded if i == 0 else None)
            )
        if window_start is not None:
            self._window_starts.append((first_boundary, window_start))
        last_closed = cuts[-1].engine_timestamp_ms
        # Keep the windows that can still hold events of a bar inside the lookback, plus one of slack
        # for events received a little out of order.
        horizon = last_closed - self.lookback_ms - self.interval_ms
        self._window_starts = [(b, o) for b, o in self._window_starts if b >= horizon]
        self.cursor_changed = True
        return out
