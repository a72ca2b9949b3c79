"""The state_gate contracts (StateGateEvent v1, StateGateStateRecord v1, codes), re-exported."""

from xray_contracts.state_gate import *  # noqa: F403
from xray_contracts.state_gate import __all__ as _contract_names

__all__ = list(_contract_names)
