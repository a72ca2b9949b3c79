"""Hand-written contract <-> Avro datum converters, one pair per contract type (no reflection).

`to_avro` builds what `avro_writer` writes: tuples and mappings pass through as they are, multi-record
unions use the tuple notation `(full_name, datum)`. `from_avro` takes what fastavro reads (with
`return_record_name=True, return_record_name_override=True`) and rebuilds the frozen dataclass; arrays
become tuples, maps become dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from xray_contracts import analysis_engine as ae
from xray_contracts import hysteresis_record as hr
from xray_contracts import orchestrator_cursor as oc
from xray_contracts import orchestrator_event as oe
from xray_contracts import raw_market_event as rme
from xray_contracts import run_log as rl
from xray_contracts import state_gate as sg
from xray_contracts.json_value import NotJsonError, json_from_avro, json_to_avro

NAMESPACE = "io.xrayvision.v1"
_NS = NAMESPACE + "."

T = TypeVar("T")
Datum = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Binding(Generic[T]):
    """How one contract type maps onto its Avro record schema, plus its record-header values."""

    schema_name: str
    contract: type[T]
    to_avro: Callable[[T], Datum]
    from_avro: Callable[[Datum], T]
    header_schema: str
    header_schema_version: str
    event_type: Callable[[T], str]


# ---- RawMarketEvent ------------------------------------------------------------------------------


def _is_float(v: Any) -> bool:
    return type(v) is float


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_str(v: Any) -> bool:
    return type(v) is str


def _is_opt_str(v: Any) -> bool:
    return v is None or type(v) is str


def _is_opt_bool(v: Any) -> bool:
    return v is None or type(v) is bool


def _is_levels(v: Any) -> bool:
    if type(v) is not list:
        return False
    for level in v:
        if type(level) is not list or len(level) != 2 or type(level[0]) is not float:
            return False
        if type(level[1]) is not float:
            return False
    return True


Check = Callable[[Any], bool]

# event_type -> (typed record full name, required keys with the exact Python type they must hold).
_TYPED_NORMALIZED: Mapping[str, tuple[str, tuple[tuple[str, Check], ...]]] = {
    "TradeTick": (
        _NS + "TradeTickNormalized",
        (("price", _is_float), ("quantity", _is_float), ("side", _is_opt_str)),
    ),
    "BookTop": (
        _NS + "BookTopNormalized",
        (
            ("best_bid_price", _is_float),
            ("best_bid_quantity", _is_float),
            ("best_ask_price", _is_float),
            ("best_ask_quantity", _is_float),
        ),
    ),
    "BookDelta": (_NS + "BookDeltaNormalized", (("bids", _is_levels), ("asks", _is_levels))),
    "Candle": (
        _NS + "CandleNormalized",
        (
            ("open", _is_float),
            ("high", _is_float),
            ("low", _is_float),
            ("close", _is_float),
            ("volume", _is_float),
            ("interval_ms", _is_int),
            ("is_final", _is_opt_bool),
        ),
    ),
    "FundingRate": (_NS + "FundingRateNormalized", (("funding_rate", _is_float),)),
    "OpenInterest": (_NS + "OpenInterestNormalized", (("open_interest", _is_float),)),
    "MarkPrice": (_NS + "MarkPriceNormalized", (("mark_price", _is_float),)),
    "IndexPrice": (_NS + "IndexPriceNormalized", (("index_price", _is_float),)),
    "LiquidationPrint": (
        _NS + "LiquidationPrintNormalized",
        (("price", _is_float), ("quantity", _is_float), ("side", _is_opt_str)),
    ),
    "SnapshotInputs": (_NS + "SnapshotInputsNormalized", (("timestamp_ms", _is_int),)),
    "DecodeFailure": (_NS + "DecodeFailureNormalized", (("error_kind", _is_str), ("error_detail", _is_str))),
}
_GENERIC_NORMALIZED = _NS + "GenericNormalized"
_KEYS_BY_BRANCH: Mapping[str, tuple[str, ...]] = {
    name: tuple(k for k, _ in checks) for name, checks in _TYPED_NORMALIZED.values()
}
_NO_EXTRA: Mapping[str, Any] = {}


def _json_object_to_avro(n: Mapping[str, Any], skip: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in n.items():
        if k in skip:
            continue
        if type(k) is not str:
            raise NotJsonError(f"normalized keys must be strings, got {type(k).__name__}")
        out[k] = json_to_avro(v)
    return out


def normalized_to_avro(event_type: str, normalized: Mapping[str, Any]) -> tuple[str, Datum]:
    """The typed record of the event type when every required key holds its exact type, else generic."""
    typed = _TYPED_NORMALIZED.get(event_type)
    if typed is not None:
        name, checks = typed
        rec: Datum = {}
        for key, ok in checks:
            if key not in normalized:
                break
            value = normalized[key]
            if not ok(value):
                break
            rec[key] = value
        else:
            rec["extra"] = (
                _NO_EXTRA if len(normalized) == len(checks) else _json_object_to_avro(normalized, rec)
            )
            return (name, rec)
    return (_GENERIC_NORMALIZED, {"fields": _json_object_to_avro(normalized, _NO_EXTRA)})


def normalized_from_avro(datum: tuple[str, Datum]) -> dict[str, Any]:
    """Rebuild the normalized dict from its typed or generic record."""
    name, rec = datum
    if name == _GENERIC_NORMALIZED:
        return {k: json_from_avro(v) for k, v in rec["fields"].items()}
    out = {k: rec[k] for k in _KEYS_BY_BRANCH[name]}
    extra = rec["extra"]
    if extra:
        for k, v in extra.items():
            out[k] = json_from_avro(v)
    return out


def raw_market_event_to_avro(e: rme.RawMarketEvent) -> Datum:
    """RawMarketEvent -> Avro datum."""
    return {
        "schema": e.schema,
        "schema_version": e.schema_version,
        "event_type": e.event_type,
        "source_id": e.source_id,
        "symbol": e.symbol,
        "exchange_ts_ms": e.exchange_ts_ms,
        "recv_ts_ms": e.recv_ts_ms,
        "raw_payload": e.raw_payload,
        "normalized": normalized_to_avro(e.event_type, e.normalized),
        "source_event_id": e.source_event_id,
        "source_seq": e.source_seq,
        "channel": e.channel,
        "payload_content_type": e.payload_content_type,
        "payload_hash": e.payload_hash,
    }


def raw_market_event_from_avro(d: Datum) -> rme.RawMarketEvent:
    """Avro datum -> RawMarketEvent."""
    return rme.RawMarketEvent(
        schema=d["schema"],
        schema_version=d["schema_version"],
        event_type=d["event_type"],
        source_id=d["source_id"],
        symbol=d["symbol"],
        exchange_ts_ms=d["exchange_ts_ms"],
        recv_ts_ms=d["recv_ts_ms"],
        raw_payload=d["raw_payload"],
        normalized=normalized_from_avro(d["normalized"]),
        source_event_id=d["source_event_id"],
        source_seq=d["source_seq"],
        channel=d["channel"],
        payload_content_type=d["payload_content_type"],
        payload_hash=d["payload_hash"],
    )


# ---- engine payloads -----------------------------------------------------------------------------


def regime_output_to_avro(r: oe.RegimeOutput) -> Datum:
    """RegimeOutput -> Avro datum."""
    dc = r.driver_contributions
    ic = r.invalidation_conditions
    return {
        "symbol": r.symbol,
        "timestamp": r.timestamp,
        "regime": r.regime,
        "confidence": r.confidence,
        "drivers": r.drivers,
        "invalidations": r.invalidations,
        "permissions": r.permissions,
        "belief_by_regime": r.belief_by_regime,
        "driver_contributions": None
        if dc is None
        else [{"driver": c.driver, "contribution": c.contribution} for c in dc],
        "invalidation_conditions": None
        if ic is None
        else [
            {
                "kind": c.kind,
                "field": c.field,
                "op": c.op,
                "threshold": c.threshold,
                "description": c.description,
            }
            for c in ic
        ],
    }


def regime_output_from_avro(d: Datum) -> oe.RegimeOutput:
    """Avro datum -> RegimeOutput."""
    dc = d["driver_contributions"]
    ic = d["invalidation_conditions"]
    return oe.RegimeOutput(
        symbol=d["symbol"],
        timestamp=d["timestamp"],
        regime=d["regime"],
        confidence=d["confidence"],
        drivers=tuple(d["drivers"]),
        invalidations=tuple(d["invalidations"]),
        permissions=tuple(d["permissions"]),
        belief_by_regime=d["belief_by_regime"],
        driver_contributions=None
        if dc is None
        else tuple(oe.DriverContribution(driver=c["driver"], contribution=c["contribution"]) for c in dc),
        invalidation_conditions=None
        if ic is None
        else tuple(
            oe.InvalidationCondition(
                kind=c["kind"],
                field=c["field"],
                op=c["op"],
                threshold=c["threshold"],
                description=c["description"],
            )
            for c in ic
        ),
    )


def hysteresis_state_to_avro(h: oe.HysteresisState) -> Datum:
    """HysteresisState -> Avro datum."""
    return {
        "schema": h.schema,
        "schema_version": h.schema_version,
        "symbol": h.symbol,
        "engine_timestamp_ms": h.engine_timestamp_ms,
        "anchor_regime": h.anchor_regime,
        "candidate_regime": h.candidate_regime,
        "progress_current": h.progress_current,
        "progress_required": h.progress_required,
        "last_commit_timestamp_ms": h.last_commit_timestamp_ms,
        "reason_codes": h.reason_codes,
        "debug": None if h.debug is None else {"belief_by_regime": h.debug.belief_by_regime},
    }


def hysteresis_state_from_avro(d: Datum) -> oe.HysteresisState:
    """Avro datum -> HysteresisState."""
    debug = d["debug"]
    return oe.HysteresisState(
        schema=d["schema"],
        schema_version=d["schema_version"],
        symbol=d["symbol"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        anchor_regime=d["anchor_regime"],
        candidate_regime=d["candidate_regime"],
        progress_current=d["progress_current"],
        progress_required=d["progress_required"],
        last_commit_timestamp_ms=d["last_commit_timestamp_ms"],
        reason_codes=tuple(d["reason_codes"]),
        debug=None if debug is None else oe.HysteresisDebug(belief_by_regime=debug["belief_by_regime"]),
    )


def _opt_regime_output_to_avro(r: oe.RegimeOutput | None) -> Datum | None:
    return None if r is None else regime_output_to_avro(r)


def _opt_regime_output_from_avro(d: Datum | None) -> oe.RegimeOutput | None:
    return None if d is None else regime_output_from_avro(d)


def _opt_hysteresis_to_avro(h: oe.HysteresisState | None) -> Datum | None:
    return None if h is None else hysteresis_state_to_avro(h)


def _opt_hysteresis_from_avro(d: Datum | None) -> oe.HysteresisState | None:
    return None if d is None else hysteresis_state_from_avro(d)


# ---- OrchestratorEvent, EngineRunRecord, HysteresisStoreRecord, OrchestratorCursor ---------------


def orchestrator_event_to_avro(e: oe.OrchestratorEvent) -> Datum:
    """OrchestratorEvent -> Avro datum."""
    p = e.payload
    return {
        "schema": e.schema,
        "schema_version": e.schema_version,
        "event_type": e.event_type,
        "run_id": e.run_id,
        "symbol": e.symbol,
        "engine_timestamp_ms": e.engine_timestamp_ms,
        "cut_start_ingest_seq": e.cut_start_ingest_seq,
        "cut_end_ingest_seq": e.cut_end_ingest_seq,
        "cut_kind": e.cut_kind,
        "engine_mode": e.engine_mode,
        "attempt": e.attempt,
        "published_ts_ms": e.published_ts_ms,
        "counts_by_event_type": e.counts_by_event_type,
        "payload": None
        if p is None
        else {
            "regime_output": _opt_regime_output_to_avro(p.regime_output),
            "hysteresis_state": _opt_hysteresis_to_avro(p.hysteresis_state),
            "error_kind": p.error_kind,
            "error_detail": p.error_detail,
        },
    }


def orchestrator_event_from_avro(d: Datum) -> oe.OrchestratorEvent:
    """Avro datum -> OrchestratorEvent."""
    p = d["payload"]
    return oe.OrchestratorEvent(
        schema=d["schema"],
        schema_version=d["schema_version"],
        event_type=d["event_type"],
        run_id=d["run_id"],
        symbol=d["symbol"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        cut_start_ingest_seq=d["cut_start_ingest_seq"],
        cut_end_ingest_seq=d["cut_end_ingest_seq"],
        cut_kind=d["cut_kind"],
        engine_mode=d["engine_mode"],
        attempt=d["attempt"],
        published_ts_ms=d["published_ts_ms"],
        counts_by_event_type=d["counts_by_event_type"],
        payload=None
        if p is None
        else oe.OrchestratorPayload(
            regime_output=_opt_regime_output_from_avro(p["regime_output"]),
            hysteresis_state=_opt_hysteresis_from_avro(p["hysteresis_state"]),
            error_kind=p["error_kind"],
            error_detail=p["error_detail"],
        ),
    )


def engine_run_record_to_avro(r: rl.EngineRunRecord) -> Datum:
    """EngineRunRecord -> Avro datum."""
    return {
        "run_id": r.run_id,
        "symbol": r.symbol,
        "engine_timestamp_ms": r.engine_timestamp_ms,
        "engine_mode": r.engine_mode,
        "cut_kind": r.cut_kind,
        "cut_start_ingest_seq": r.cut_start_ingest_seq,
        "cut_end_ingest_seq": r.cut_end_ingest_seq,
        "planned_ts_ms": r.planned_ts_ms,
        "started_ts_ms": r.started_ts_ms,
        "completed_ts_ms": r.completed_ts_ms,
        "status": r.status,
        "attempts": r.attempts,
        "error_kind": r.error_kind,
        "error_detail": r.error_detail,
    }


def engine_run_record_from_avro(d: Datum) -> rl.EngineRunRecord:
    """Avro datum -> EngineRunRecord."""
    return rl.EngineRunRecord(
        run_id=d["run_id"],
        symbol=d["symbol"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        engine_mode=d["engine_mode"],
        cut_kind=d["cut_kind"],
        cut_start_ingest_seq=d["cut_start_ingest_seq"],
        cut_end_ingest_seq=d["cut_end_ingest_seq"],
        planned_ts_ms=d["planned_ts_ms"],
        started_ts_ms=d["started_ts_ms"],
        completed_ts_ms=d["completed_ts_ms"],
        status=d["status"],
        attempts=d["attempts"],
        error_kind=d["error_kind"],
        error_detail=d["error_detail"],
    )


def hysteresis_store_record_to_avro(r: hr.HysteresisStoreRecord) -> Datum:
    """HysteresisStoreRecord -> Avro datum."""
    return {
        "schema": r.schema,
        "schema_version": r.schema_version,
        "symbol": r.symbol,
        "engine_timestamp_ms": r.engine_timestamp_ms,
        "anchor_regime": r.anchor_regime,
        "candidate_regime": r.candidate_regime,
        "progress_current": r.progress_current,
        "last_commit_timestamp_ms": r.last_commit_timestamp_ms,
        "belief_by_regime": None if r.belief_by_regime is None else dict(r.belief_by_regime),
    }


def hysteresis_store_record_from_avro(d: Datum) -> hr.HysteresisStoreRecord:
    """Avro datum -> HysteresisStoreRecord."""
    return hr.HysteresisStoreRecord(
        schema=d["schema"],
        schema_version=d["schema_version"],
        symbol=d["symbol"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        anchor_regime=d["anchor_regime"],
        candidate_regime=d["candidate_regime"],
        progress_current=d["progress_current"],
        last_commit_timestamp_ms=d["last_commit_timestamp_ms"],
        belief_by_regime=d["belief_by_regime"],
    )


def orchestrator_cursor_to_avro(c: oc.OrchestratorCursor) -> Datum:
    """OrchestratorCursor -> Avro datum."""
    return {
        "schema": c.schema,
        "schema_version": c.schema_version,
        "partition": c.partition,
        "open_boundary_ms": c.open_boundary_ms,
        "last_offset": c.last_offset,
        "last_cut_end": [{"symbol": s.symbol, "offset": s.offset} for s in c.last_cut_end],
        "known_symbols": c.known_symbols,
        "window_starts": [{"boundary_ms": w.boundary_ms, "offset": w.offset} for w in c.window_starts],
    }


def orchestrator_cursor_from_avro(d: Datum) -> oc.OrchestratorCursor:
    """Avro datum -> OrchestratorCursor."""
    return oc.OrchestratorCursor(
        schema=d["schema"],
        schema_version=d["schema_version"],
        partition=d["partition"],
        open_boundary_ms=d["open_boundary_ms"],
        last_offset=d["last_offset"],
        last_cut_end=tuple(
            oc.SymbolOffset(symbol=s["symbol"], offset=s["offset"]) for s in d["last_cut_end"]
        ),
        known_symbols=tuple(d["known_symbols"]),
        window_starts=tuple(
            oc.WindowStart(boundary_ms=w["boundary_ms"], offset=w["offset"]) for w in d["window_starts"]
        ),
    )


# ---- state_gate ----------------------------------------------------------------------------------

_GATE_EVALUATED_PAYLOAD = _NS + "GateEvaluatedPayload"
_STATE_RESET_PAYLOAD = _NS + "StateResetPayload"
_STATE_GATE_HALTED_PAYLOAD = _NS + "StateGateHaltedPayload"


def _state_gate_payload_to_avro(p: sg.StateGatePayload | None) -> tuple[str, Datum] | None:
    if p is None:
        return None
    if isinstance(p, sg.GateEvaluatedPayload):
        return (
            _GATE_EVALUATED_PAYLOAD,
            {
                "regime_output": _opt_regime_output_to_avro(p.regime_output),
                "hysteresis_state": _opt_hysteresis_to_avro(p.hysteresis_state),
            },
        )
    if isinstance(p, sg.StateResetPayload):
        return (_STATE_RESET_PAYLOAD, {"reset_reason": p.reset_reason})
    return (_STATE_GATE_HALTED_PAYLOAD, {"error_kind": p.error_kind, "error_detail": p.error_detail})


def _state_gate_payload_from_avro(datum: tuple[str, Datum] | None) -> sg.StateGatePayload | None:
    if datum is None:
        return None
    name, d = datum
    if name == _GATE_EVALUATED_PAYLOAD:
        return sg.GateEvaluatedPayload(
            regime_output=_opt_regime_output_from_avro(d["regime_output"]),
            hysteresis_state=_opt_hysteresis_from_avro(d["hysteresis_state"]),
        )
    if name == _STATE_RESET_PAYLOAD:
        return sg.StateResetPayload(reset_reason=d["reset_reason"])
    return sg.StateGateHaltedPayload(error_kind=d["error_kind"], error_detail=d["error_detail"])


def state_gate_event_to_avro(e: sg.StateGateEvent) -> Datum:
    """StateGateEvent -> Avro datum."""
    return {
        "schema": e.schema,
        "schema_version": e.schema_version,
        "event_type": e.event_type,
        "symbol": e.symbol,
        "engine_timestamp_ms": e.engine_timestamp_ms,
        "run_id": e.run_id,
        "state_status": e.state_status,
        "gate_status": e.gate_status,
        "reasons": e.reasons,
        "payload": _state_gate_payload_to_avro(e.payload),
        "input_event_type": e.input_event_type,
        "engine_mode": e.engine_mode,
    }


def state_gate_event_from_avro(d: Datum) -> sg.StateGateEvent:
    """Avro datum -> StateGateEvent."""
    return sg.StateGateEvent(
        schema=d["schema"],
        schema_version=d["schema_version"],
        event_type=d["event_type"],
        symbol=d["symbol"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        run_id=d["run_id"],
        state_status=d["state_status"],
        gate_status=d["gate_status"],
        reasons=tuple(d["reasons"]),
        payload=_state_gate_payload_from_avro(d["payload"]),
        input_event_type=d["input_event_type"],
        engine_mode=d["engine_mode"],
    )


def state_gate_state_record_to_avro(r: sg.StateGateStateRecord) -> Datum:
    """StateGateStateRecord -> Avro datum."""
    return {
        "symbol": r.symbol,
        "engine_timestamp_ms": r.engine_timestamp_ms,
        "run_id": r.run_id,
        "state_status": r.state_status,
        "gate_status": r.gate_status,
        "reasons": r.reasons,
        "engine_mode": r.engine_mode,
        "source_event_type": r.source_event_type,
        "regime_output": _opt_regime_output_to_avro(r.regime_output),
        "hysteresis_state": _opt_hysteresis_to_avro(r.hysteresis_state),
        "reset_reason": r.reset_reason,
        "error_kind": r.error_kind,
        "error_detail": r.error_detail,
        "event_type": r.event_type,
    }


def state_gate_state_record_from_avro(d: Datum) -> sg.StateGateStateRecord:
    """Avro datum -> StateGateStateRecord."""
    return sg.StateGateStateRecord(
        symbol=d["symbol"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        run_id=d["run_id"],
        state_status=d["state_status"],
        gate_status=d["gate_status"],
        reasons=tuple(d["reasons"]),
        engine_mode=d["engine_mode"],
        source_event_type=d["source_event_type"],
        regime_output=_opt_regime_output_from_avro(d["regime_output"]),
        hysteresis_state=_opt_hysteresis_from_avro(d["hysteresis_state"]),
        reset_reason=d["reset_reason"],
        error_kind=d["error_kind"],
        error_detail=d["error_detail"],
        event_type=d["event_type"],
    )


def _pending_run_to_avro(p: sg.PendingRun) -> Datum:
    return {
        "run_id": p.run_id,
        "engine_timestamp_ms": p.engine_timestamp_ms,
        "engine_mode": p.engine_mode,
        "regime_output": _opt_regime_output_to_avro(p.regime_output),
        "hysteresis_state": _opt_hysteresis_to_avro(p.hysteresis_state),
        "failed": p.failed,
        "seen_input_types": p.seen_input_types,
    }


def _pending_run_from_avro(d: Datum) -> sg.PendingRun:
    return sg.PendingRun(
        run_id=d["run_id"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        engine_mode=d["engine_mode"],
        regime_output=_opt_regime_output_from_avro(d["regime_output"]),
        hysteresis_state=_opt_hysteresis_from_avro(d["hysteresis_state"]),
        failed=d["failed"],
        seen_input_types=tuple(d["seen_input_types"]),
    )


def state_gate_snapshot_to_avro(s: sg.StateGateSnapshot) -> Datum:
    """StateGateSnapshot -> Avro datum."""
    last = s.last_record
    return {
        "symbol": s.symbol,
        "last_run_id": s.last_run_id,
        "last_engine_timestamp_ms": s.last_engine_timestamp_ms,
        "state_status": s.state_status,
        "gate_status": s.gate_status,
        "reasons": s.reasons,
        "engine_mode": s.engine_mode,
        "source_event_type": s.source_event_type,
        "halted": s.halted,
        "halt_error_kind": s.halt_error_kind,
        "halt_error_detail": s.halt_error_detail,
        "halt_run_id": s.halt_run_id,
        "processed_keys": s.processed_keys,
        "pending": [_pending_run_to_avro(p) for p in s.pending],
        "last_record": None if last is None else state_gate_state_record_to_avro(last),
        "record_count": s.record_count,
        "config_fingerprint": s.config_fingerprint,
    }


def state_gate_snapshot_from_avro(d: Datum) -> sg.StateGateSnapshot:
    """Avro datum -> StateGateSnapshot."""
    last = d["last_record"]
    return sg.StateGateSnapshot(
        symbol=d["symbol"],
        last_run_id=d["last_run_id"],
        last_engine_timestamp_ms=d["last_engine_timestamp_ms"],
        state_status=d["state_status"],
        gate_status=d["gate_status"],
        reasons=tuple(d["reasons"]),
        engine_mode=d["engine_mode"],
        source_event_type=d["source_event_type"],
        halted=d["halted"],
        halt_error_kind=d["halt_error_kind"],
        halt_error_detail=d["halt_error_detail"],
        halt_run_id=d["halt_run_id"],
        processed_keys=tuple(d["processed_keys"]),
        pending=tuple(_pending_run_from_avro(p) for p in d["pending"]),
        last_record=None if last is None else state_gate_state_record_from_avro(last),
        record_count=d["record_count"],
        config_fingerprint=d["config_fingerprint"],
    )


def state_gate_control_to_avro(c: sg.StateGateControl) -> Datum:
    """StateGateControl -> Avro datum."""
    return {
        "schema": c.schema,
        "schema_version": c.schema_version,
        "command": c.command,
        "symbol": c.symbol,
        "operator": c.operator,
        "note": c.note,
    }


def state_gate_control_from_avro(d: Datum) -> sg.StateGateControl:
    """Avro datum -> StateGateControl."""
    return sg.StateGateControl(
        schema=d["schema"],
        schema_version=d["schema_version"],
        command=d["command"],
        symbol=d["symbol"],
        operator=d["operator"],
        note=d["note"],
    )


# ---- analysis_engine -----------------------------------------------------------------------------

_ARTIFACT_PAYLOAD = _NS + "ArtifactEmittedPayload"
_MODULE_FAILED_PAYLOAD = _NS + "ModuleFailedPayload"
_RUN_STATUS_PAYLOAD = _NS + "RunStatusPayload"


def _analysis_payload_to_avro(p: ae.AnalysisEnginePayload | None) -> tuple[str, Datum] | None:
    if p is None:
        return None
    if isinstance(p, ae.ArtifactEmittedPayload):
        return (
            _ARTIFACT_PAYLOAD,
            {
                "artifact_kind": p.artifact_kind,
                "module_id": p.module_id,
                "artifact_name": p.artifact_name,
                "artifact_schema": p.artifact_schema,
                "artifact_schema_version": p.artifact_schema_version,
                "payload_json": p.payload_json,
            },
        )
    if isinstance(p, ae.ModuleFailedPayload):
        return (
            _MODULE_FAILED_PAYLOAD,
            {
                "module_id": p.module_id,
                "module_kind": p.module_kind,
                "error_kind": p.error_kind,
                "error_detail": p.error_detail,
            },
        )
    return (_RUN_STATUS_PAYLOAD, {"status": p.status, "module_failures": p.module_failures})


def _analysis_payload_from_avro(datum: tuple[str, Datum] | None) -> ae.AnalysisEnginePayload | None:
    if datum is None:
        return None
    name, d = datum
    if name == _ARTIFACT_PAYLOAD:
        return ae.ArtifactEmittedPayload(
            artifact_kind=d["artifact_kind"],
            module_id=d["module_id"],
            artifact_name=d["artifact_name"],
            artifact_schema=d["artifact_schema"],
            artifact_schema_version=d["artifact_schema_version"],
            payload_json=d["payload_json"],
        )
    if name == _MODULE_FAILED_PAYLOAD:
        return ae.ModuleFailedPayload(
            module_id=d["module_id"],
            module_kind=d["module_kind"],
            error_kind=d["error_kind"],
            error_detail=d["error_detail"],
        )
    return ae.RunStatusPayload(status=d["status"], module_failures=tuple(d["module_failures"]))


def analysis_engine_event_to_avro(e: ae.AnalysisEngineEvent) -> Datum:
    """AnalysisEngineEvent -> Avro datum."""
    return {
        "schema": e.schema,
        "schema_version": e.schema_version,
        "event_type": e.event_type,
        "symbol": e.symbol,
        "run_id": e.run_id,
        "engine_timestamp_ms": e.engine_timestamp_ms,
        "payload": _analysis_payload_to_avro(e.payload),
        "engine_mode": e.engine_mode,
        "source_gate_reasons": e.source_gate_reasons,
    }


def analysis_engine_event_from_avro(d: Datum) -> ae.AnalysisEngineEvent:
    """Avro datum -> AnalysisEngineEvent."""
    reasons = d["source_gate_reasons"]
    return ae.AnalysisEngineEvent(
        schema=d["schema"],
        schema_version=d["schema_version"],
        event_type=d["event_type"],
        symbol=d["symbol"],
        run_id=d["run_id"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        payload=_analysis_payload_from_avro(d["payload"]),
        engine_mode=d["engine_mode"],
        source_gate_reasons=None if reasons is None else tuple(reasons),
    )


def analysis_module_state_to_avro(r: ae.AnalysisModuleStateRecord) -> Datum:
    """AnalysisModuleStateRecord -> Avro datum."""
    return {
        "symbol": r.symbol,
        "module_id": r.module_id,
        "run_id": r.run_id,
        "engine_timestamp_ms": r.engine_timestamp_ms,
        "state_schema_id": r.state_schema_id,
        "state_schema_version": r.state_schema_version,
        "state_payload_json": r.state_payload_json,
    }


def analysis_module_state_from_avro(d: Datum) -> ae.AnalysisModuleStateRecord:
    """Avro datum -> AnalysisModuleStateRecord."""
    return ae.AnalysisModuleStateRecord(
        symbol=d["symbol"],
        module_id=d["module_id"],
        run_id=d["run_id"],
        engine_timestamp_ms=d["engine_timestamp_ms"],
        state_schema_id=d["state_schema_id"],
        state_schema_version=d["state_schema_version"],
        state_payload_json=d["state_payload_json"],
    )


def analysis_run_ledger_to_avro(r: ae.AnalysisRunLedger) -> Datum:
    """AnalysisRunLedger -> Avro datum."""
    return {
        "symbol": r.symbol,
        "last_run_id": r.last_run_id,
        "last_engine_timestamp_ms": r.last_engine_timestamp_ms,
        "recent_run_ids": r.recent_run_ids,
        "halted": r.halted,
        "halted_by_run_id": r.halted_by_run_id,
        "halted_at_engine_timestamp_ms": r.halted_at_engine_timestamp_ms,
    }


def analysis_run_ledger_from_avro(d: Datum) -> ae.AnalysisRunLedger:
    """Avro datum -> AnalysisRunLedger."""
    return ae.AnalysisRunLedger(
        symbol=d["symbol"],
        last_run_id=d["last_run_id"],
        last_engine_timestamp_ms=d["last_engine_timestamp_ms"],
        recent_run_ids=tuple(d["recent_run_ids"]),
        halted=d["halted"],
        halted_by_run_id=d["halted_by_run_id"],
        halted_at_engine_timestamp_ms=d["halted_at_engine_timestamp_ms"],
    )


# ---- the table -----------------------------------------------------------------------------------


def _constant(name: str) -> Callable[[Any], str]:
    def event_type(_: Any) -> str:
        return name

    return event_type


def _own_event_type(value: Any) -> str:
    return str(value.event_type)


RAW_MARKET_EVENT: Binding[rme.RawMarketEvent] = Binding(
    _NS + "RawMarketEvent",
    rme.RawMarketEvent,
    raw_market_event_to_avro,
    raw_market_event_from_avro,
    rme.SCHEMA,
    rme.SCHEMA_VERSION,
    _own_event_type,
)
ORCHESTRATOR_EVENT: Binding[oe.OrchestratorEvent] = Binding(
    _NS + "OrchestratorEvent",
    oe.OrchestratorEvent,
    orchestrator_event_to_avro,
    orchestrator_event_from_avro,
    oe.SCHEMA,
    oe.SCHEMA_VERSION,
    _own_event_type,
)
ENGINE_RUN_RECORD: Binding[rl.EngineRunRecord] = Binding(
    _NS + "EngineRunRecord",
    rl.EngineRunRecord,
    engine_run_record_to_avro,
    engine_run_record_from_avro,
    rl.SCHEMA,
    rl.SCHEMA_VERSION,
    _constant("EngineRunRecord"),
)
HYSTERESIS_STORE_RECORD: Binding[hr.HysteresisStoreRecord] = Binding(
    _NS + "HysteresisStoreRecord",
    hr.HysteresisStoreRecord,
    hysteresis_store_record_to_avro,
    hysteresis_store_record_from_avro,
    hr.SCHEMA,
    hr.SCHEMA_VERSION,
    _constant("HysteresisStoreRecord"),
)
ORCHESTRATOR_CURSOR: Binding[oc.OrchestratorCursor] = Binding(
    _NS + "OrchestratorCursor",
    oc.OrchestratorCursor,
    orchestrator_cursor_to_avro,
    orchestrator_cursor_from_avro,
    oc.SCHEMA,
    oc.SCHEMA_VERSION,
    _constant("OrchestratorCursor"),
)
STATE_GATE_EVENT: Binding[sg.StateGateEvent] = Binding(
    _NS + "StateGateEvent",
    sg.StateGateEvent,
    state_gate_event_to_avro,
    state_gate_event_from_avro,
    sg.SCHEMA,
    sg.SCHEMA_VERSION,
    _own_event_type,
)
STATE_GATE_STATE_RECORD: Binding[sg.StateGateStateRecord] = Binding(
    _NS + "StateGateStateRecord",
    sg.StateGateStateRecord,
    state_gate_state_record_to_avro,
    state_gate_state_record_from_avro,
    sg.STATE_RECORD_SCHEMA,
    "1",
    _constant("StateGateStateRecord"),
)
STATE_GATE_SNAPSHOT: Binding[sg.StateGateSnapshot] = Binding(
    _NS + "StateGateSnapshot",
    sg.StateGateSnapshot,
    state_gate_snapshot_to_avro,
    state_gate_snapshot_from_avro,
    sg.SNAPSHOT_SCHEMA,
    "1",
    _constant("StateGateSnapshot"),
)
STATE_GATE_CONTROL: Binding[sg.StateGateControl] = Binding(
    _NS + "StateGateControl",
    sg.StateGateControl,
    state_gate_control_to_avro,
    state_gate_control_from_avro,
    sg.CONTROL_SCHEMA,
    "1",
    _constant("StateGateControl"),
)
ANALYSIS_ENGINE_EVENT: Binding[ae.AnalysisEngineEvent] = Binding(
    _NS + "AnalysisEngineEvent",
    ae.AnalysisEngineEvent,
    analysis_engine_event_to_avro,
    analysis_engine_event_from_avro,
    ae.SCHEMA,
    ae.SCHEMA_VERSION,
    _own_event_type,
)
ANALYSIS_MODULE_STATE_RECORD: Binding[ae.AnalysisModuleStateRecord] = Binding(
    _NS + "AnalysisModuleStateRecord",
    ae.AnalysisModuleStateRecord,
    analysis_module_state_to_avro,
    analysis_module_state_from_avro,
    ae.STATE_RECORD_SCHEMA,
    ae.STATE_RECORD_SCHEMA_VERSION,
    _constant("AnalysisModuleStateRecord"),
)
ANALYSIS_RUN_LEDGER: Binding[ae.AnalysisRunLedger] = Binding(
    _NS + "AnalysisRunLedger",
    ae.AnalysisRunLedger,
    analysis_run_ledger_to_avro,
    analysis_run_ledger_from_avro,
    ae.LEDGER_SCHEMA,
    ae.LEDGER_SCHEMA_VERSION,
    _constant("AnalysisRunLedger"),
)

BINDINGS: tuple[Binding[Any], ...] = (
    RAW_MARKET_EVENT,
    ORCHESTRATOR_EVENT,
    ENGINE_RUN_RECORD,
    HYSTERESIS_STORE_RECORD,
    ORCHESTRATOR_CURSOR,
    STATE_GATE_EVENT,
    STATE_GATE_STATE_RECORD,
    STATE_GATE_SNAPSHOT,
    STATE_GATE_CONTROL,
    ANALYSIS_ENGINE_EVENT,
    ANALYSIS_MODULE_STATE_RECORD,
    ANALYSIS_RUN_LEDGER,
)
