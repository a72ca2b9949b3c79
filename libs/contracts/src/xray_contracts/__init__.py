"""xray-contracts: the wire contracts of every topic, bound to schemas/*.avsc.

Modules: `raw_market_event`, `orchestrator_event`, `run_log`, `hysteresis_record`,
`orchestrator_cursor`, `state_gate`, `analysis_engine` (contract dataclasses); `catalogue` (every
topic); `codec` (encode/decode, both wire formats, record headers); `plain` (contract <-> JSON-ready
data); `schema_store`, `bindings`, `avro_writer`, `json_value`, `schema_registry` (codec internals).
"""
