"""One closed boundary of a partition -> engine runs: history update, context, composer, engine, outputs.

Pure apart from the injected clock (operational timestamps only: `published_ts_ms`, `started_ts_ms`,
`completed_ts_ms`, which comparisons mask) and the retry sleep. Every decision is a function of the cuts,
the histories and the hysteresis states, so a replay, a restart or a second instance computes the same
outputs with the same `run_id`s.

Per symbol, in lexicographic order, the outputs are: run-log `started`, EngineRunStarted, then either
(hysteresis mode) the new store record when the state advanced, HysteresisStatePublished and
EngineRunCompleted, both carrying the regime output and the hysteresis state, or (truth mode)
EngineRunCompleted with the regime output, or EngineRunFailed; and last the run-log terminal record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypedDict

from composer.composer import compose_engine_input
from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.context import MarketContext, build_market_context
from composer.history import SymbolHistory
from regime_engine.contracts.outputs import RegimeOutput as EngineOutput
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.engine import run as run_truth
from regime_engine.engine import step as run_hysteresis
from regime_engine.hysteresis import HysteresisConfig, HysteresisDecision, HysteresisState
from regime_engine.wire import store_record, wire_hysteresis, wire_output
from xray_contracts import run_log as rl
from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.run_log import EngineRunRecord

from orchestrator.config import EngineMode
from orchestrator.planner import PlannedCut
from orchestrator.publisher import (
    MAX_ERROR_DETAIL,
    build_engine_run_completed,
    build_engine_run_failed,
    build_engine_run_started,
    build_hysteresis_state_published,
)
from orchestrator.retry import RetryPolicy, retry
from orchestrator.run_id import derive_run_id

CUT_KIND = "boundary"
SNAPSHOT_BUILD_FAILURE = "snapshot_build_failure"
ENGINE_FAILURE = "engine_failure"

Clock = Callable[[], int]
SleepMs = Callable[[int], None]
# The engine as the runner calls it: (snapshot, previous state or None) -> output, decision (hysteresis).
Engine = Callable[
    [RegimeInputSnapshot, HysteresisState | None], tuple[EngineOutput, HysteresisDecision | None]
]


class Envelope(TypedDict):
    """The fields every event of one run shares."""

    run_id: str
    symbol: str
    engine_timestamp_ms: int
    cut_start_ingest_seq: int
    cut_end_ingest_seq: int
    cut_kind: str


@dataclass(frozen=True, slots=True)
class Output:
    """One record to publish, in order: a run-log entry, an orchestrator event or a hysteresis record."""

    kind: Literal["run_log", "event", "hysteresis"]
    symbol: str
    value: EngineRunRecord | OrchestratorEvent | HysteresisStoreRecord


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What the runs of every boundary share."""

    engine_mode: EngineMode = "hysteresis"
    composer: ComposerConfig = DEFAULT_CONFIG
    hysteresis: HysteresisConfig = field(default_factory=HysteresisConfig)
    engine_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(min_delay_ms=1, max_delay_ms=1, max_attempts=2)
    )


def default_engine(settings: RunSettings) -> Engine:
    """The regime engine in the configured mode."""
    if settings.engine_mode == "truth":
        return lambda snapshot, _prev: (run_truth(snapshot), None)

    def hysteresis(
        snapshot: RegimeInputSnapshot, prev: HysteresisState | None
    ) -> tuple[EngineOutput, HysteresisDecision | None]:
        decision = run_hysteresis(snapshot, prev, settings.hysteresis)
        return decision.output, decision

    return hysteresis


@dataclass(slots=True)
class BoundaryRunner:
    """Runs the cuts of closed boundaries; owns nothing but what it is given (histories, states)."""

    settings: RunSettings
    clock: Clock
    sleep_ms: SleepMs
    engine: Engine | None = None

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = default_engine(self.settings)

    def run_boundary(
        self,
        cuts: Sequence[PlannedCut],
        histories: dict[str, SymbolHistory],
        states: dict[str, HysteresisState],
        folded: Mapping[str, SymbolHistory | Exception] | None = None,
    ) -> list[Output]:
        """Run one boundary's cuts (one per known symbol, same engine timestamp); updates the dicts.

        `folded`: per symbol, the history with the window's events already folded in under this boundary
        (fold on arrival), or the exception that fold raised; the cut's own `events` are folded on top.
        """
        if not cuts:
            return []
        boundary = cuts[0].engine_timestamp_ms
        config = self.settings.composer
        build_errors: dict[str, Exception] = {}
        for cut in cuts:
            early = None if folded is None else folded.get(cut.symbol)
            if isinstance(early, Exception):
                build_errors[cut.symbol] = early  # as if the whole cut's update had raised
                continue
            history = early or histories.get(cut.symbol) or SymbolHistory.empty(cut.symbol, config)
            try:
                histories[cut.symbol] = history.update(cut.events, boundary)
            except Exception as error:  # one symbol's bad data must not stop the others
                build_errors[cut.symbol] = error
        context = build_market_context(
            histories.values(),
            boundary,
            btc_regime=_anchor(states, config.reference_symbol),
            eth_regime=_anchor(states, "ETHUSDT"),
            config=config,
        )
        out: list[Output] = []
        for cut in sorted(cuts, key=lambda c: c.symbol):
            out.extend(self._run_one(cut, histories, states, context, build_errors.get(cut.symbol)))
        return out

    def _run_one(
        self,
        cut: PlannedCut,
        histories: Mapping[str, SymbolHistory],
        states: dict[str, HysteresisState],
        context: MarketContext,
        build_error: Exception | None,
    ) -> list[Output]:
        mode = self.settings.engine_mode
        symbol, ts = cut.symbol, cut.engine_timestamp_ms
        run_id = derive_run_id(symbol, ts, cut.cut_end_ingest_seq, mode)
        counts = dict(cut.counts_by_event_type)
        envelope: Envelope = {
            "run_id": run_id,
            "symbol": symbol,
            "engine_timestamp_ms": ts,
            "cut_start_ingest_seq": cut.cut_start_ingest_seq,
            "cut_end_ingest_seq": cut.cut_end_ingest_seq,
            "cut_kind": CUT_KIND,
        }
        started_ts = self.clock()
        started = EngineRunRecord(
            run_id=run_id,
            symbol=symbol,
            engine_timestamp_ms=ts,
            engine_mode=mode,
            cut_kind=CUT_KIND,
            cut_start_ingest_seq=cut.cut_start_ingest_seq,
            cut_end_ingest_seq=cut.cut_end_ingest_seq,
            planned_ts_ms=ts,
            started_ts_ms=started_ts,
            completed_ts_ms=None,
            status=rl.STATUS_STARTED,
            attempts=1,
        )
        out = [
            Output("run_log", symbol, started),
            Output("event", symbol, self._stamp(build_engine_run_started(**envelope, engine_mode=mode))),
        ]
        failure: tuple[str, str] | None = None
        attempts = 1
        snapshot: RegimeInputSnapshot | None = None
        if build_error is None:
            try:
                snapshot = compose_engine_input(
                    histories[symbol],
                    engine_timestamp_ms=ts,
                    context=context,
                    config=self.settings.composer,
                ).snapshot
            except Exception as error:
                build_error = error
        if build_error is not None or snapshot is None:
            failure = (SNAPSHOT_BUILD_FAILURE, _detail(build_error))
        else:
            engine = self.engine
            assert engine is not None
            frozen = snapshot
            prev = states.get(symbol)
            outcome = retry(lambda: engine(frozen, prev), self.settings.engine_retry, self.sleep_ms)
            attempts = max(outcome.attempts, 1)
            if not outcome.ok or outcome.value is None:
                failure = (ENGINE_FAILURE, _detail(outcome.error))
            else:
                output, decision = outcome.value
                out.extend(
                    self._completed(
                        envelope,
                        counts=counts,
                        output=output,
                        decision=decision,
                        states=states,
                        attempts=attempts,
                    )
                )
        if failure is not None:
            kind, detail = failure
            failed = build_engine_run_failed(
                **envelope,
                engine_mode=mode,
                error_kind=kind,
                error_detail=detail,
                counts_by_event_type=counts,
                attempt=attempts,
            )
            out.append(Output("event", symbol, self._stamp(failed)))
        terminal = replace(
            started,
            completed_ts_ms=self.clock(),
            status=rl.STATUS_FAILED if failure is not None else rl.STATUS_COMPLETED,
            attempts=attempts,
            error_kind=None if failure is None else failure[0],
            error_detail=None if failure is None else failure[1],
        )
        out.append(Output("run_log", symbol, terminal))
        return out

    def _completed(
        self,
        envelope: Envelope,
        *,
        counts: dict[str, int],
        output: EngineOutput,
        decision: HysteresisDecision | None,
        states: dict[str, HysteresisState],
        attempts: int,
    ) -> list[Output]:
        symbol = envelope["symbol"]
        wired = wire_output(output)
        if decision is None:
            completed = build_engine_run_completed(
                **envelope,
                engine_mode="truth",
                regime_output=wired,
                counts_by_event_type=counts,
                attempt=attempts,
            )
            return [Output("event", symbol, self._stamp(completed))]
        out: list[Output] = []
        if decision.applied:
            states[symbol] = decision.state
            out.append(Output("hysteresis", symbol, store_record(decision.state)))
        state = wire_hysteresis(decision.state)
        published = build_hysteresis_state_published(
            **envelope,
            hysteresis_state=state,
            counts_by_event_type=counts,
            regime_output=wired,
            attempt=attempts,
        )
        completed = build_engine_run_completed(
            **envelope,
            engine_mode="hysteresis",
            regime_output=wired,
            counts_by_event_type=counts,
            hysteresis_state=state,
            attempt=attempts,
        )
        out.append(Output("event", symbol, self._stamp(published)))
        out.append(Output("event", symbol, self._stamp(completed)))
        return out

    def _stamp(self, event: OrchestratorEvent) -> OrchestratorEvent:
        return replace(event, published_ts_ms=self.clock())


def _anchor(states: Mapping[str, HysteresisState], symbol: str) -> str | None:
    state = states.get(symbol)
    return None if state is None else state.anchor_regime.value


def _detail(error: BaseException | None) -> str:
    if error is None:
        return "unknown failure"
    text = f"{type(error).__name__}: {error}"
    return text[:MAX_ERROR_DETAIL]
