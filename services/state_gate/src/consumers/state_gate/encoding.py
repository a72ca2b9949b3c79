"""GateEncoder: the gate's output bytes, with every embedded payload encoded once.

One decided run carries the same regime_output and hysteresis_state objects into its GateEvaluated,
its log record and the symbol's snapshot (whose `last_record` is that log record), and the next
input's snapshot embeds them again. Encoding each of them afresh was most of the gate's CPU on a
boundary burst. The contract values are frozen, so a body can be memoised by object identity; the
bytes are exactly the codec's (tests/test_encoding.py), so every topic's record sequence is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from consumers.state_gate.contracts import (
    GateEvaluatedPayload,
    StateGateEvent,
    StateGateSnapshot,
    StateGateStateRecord,
)
from xray_contracts.avro_writer import Encoded
from xray_contracts.bindings import hysteresis_state_to_avro, regime_output_to_avro
from xray_contracts.codec import CodecSet, ContractCodec, EncodeError
from xray_contracts.orchestrator_event import HysteresisState, RegimeOutput

_NS: Final = "io.xrayvision.v1."
# Bounds the memo (entries hold their value alive, so an id is never reused while cached). A boundary
# burst touches ~4 objects per symbol; far more than that only ever costs a re-encode.
MEMO_LIMIT: Final = 4096


class GateEncoder:
    """Framed bytes of events, log records and snapshots, sharing the bodies they have in common."""

    def __init__(self, codecs: CodecSet, memo_limit: int = MEMO_LIMIT) -> None:
        """Bind the three output codecs and the writers of the records they embed."""
        self._memo_limit = memo_limit
        self.event_codec: ContractCodec[StateGateEvent] = codecs.for_type(StateGateEvent)
        self.record_codec: ContractCodec[StateGateStateRecord] = codecs.for_type(StateGateStateRecord)
        self.snapshot_codec: ContractCodec[StateGateSnapshot] = codecs.for_type(StateGateSnapshot)
        # The snapshot schema defines every embedded record with the same definitions as the event and
        # record schemas (one copy per schema file); the byte-equality tests pin that.
        named = self.snapshot_codec.named_encoder
        self._regime_body = named(_NS + "RegimeOutput")
        self._hysteresis_body = named(_NS + "HysteresisState")
        self._record_body = named(_NS + "StateGateStateRecord")
        self._memo: dict[int, tuple[object, Encoded]] = {}

    def _memoised(self, value: Any, body: Callable[[], bytes]) -> Encoded:
        hit = self._memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        try:
            encoded = Encoded(body())
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:  # as the codec does
            raise EncodeError(f"cannot encode {type(value).__name__}: {exc}") from exc
        if len(self._memo) >= self._memo_limit:
            self._memo.clear()
        self._memo[id(value)] = (value, encoded)
        return encoded

    def _regime(self, value: RegimeOutput | None) -> Encoded | None:
        if value is None:
            return None
        return self._memoised(value, lambda: self._regime_body(regime_output_to_avro(value)))

    def _hysteresis(self, value: HysteresisState | None) -> Encoded | None:
        if value is None:
            return None
        return self._memoised(value, lambda: self._hysteresis_body(hysteresis_state_to_avro(value)))

    def _record(self, record: StateGateStateRecord) -> Encoded:
        return self._memoised(record, lambda: self._record_body(self._record_datum(record)))

    def _record_datum(self, record: StateGateStateRecord) -> dict[str, Any]:
        # The conversion is cheap (a few us); the nested datums it builds are replaced by memoised bodies.
        datum: dict[str, Any] = self.record_codec.binding.to_avro(record)
        datum["regime_output"] = self._regime(record.regime_output)
        datum["hysteresis_state"] = self._hysteresis(record.hysteresis_state)
        return datum

    def event(self, event: StateGateEvent) -> bytes:
        """The framed StateGateEvent."""
        payload = event.payload
        if not isinstance(payload, GateEvaluatedPayload):
            return self.event_codec.encode(event)
        datum: dict[str, Any] = self.event_codec.binding.to_avro(event)
        datum["payload"] = (
            _NS + "GateEvaluatedPayload",
            {
                "regime_output": self._regime(payload.regime_output),
                "hysteresis_state": self._hysteresis(payload.hysteresis_state),
            },
        )
        return self.event_codec.encode_datum(datum)

    def record(self, record: StateGateStateRecord) -> bytes:
        """The framed StateGateStateRecord (its body is kept for the snapshot that embeds it)."""
        return self.record_codec.framing_prefix() + self._record(record).body

    def snapshot(self, snapshot: StateGateSnapshot) -> bytes:
        """The framed StateGateSnapshot."""
        if type(snapshot) is not StateGateSnapshot:
            return self.snapshot_codec.encode(snapshot)  # the codec's own error for a wrong type
        last = snapshot.last_record
        pending = snapshot.pending
        datum: dict[str, Any] = self.snapshot_codec.binding.to_avro(snapshot)
        datum["last_record"] = None if last is None else self._record(last)
        for run, run_datum in zip(pending, datum["pending"], strict=True):
            run_datum["regime_output"] = self._regime(run.regime_output)
            run_datum["hysteresis_state"] = self._hysteresis(run.hysteresis_state)
        return self.snapshot_codec.encode_datum(datum)
