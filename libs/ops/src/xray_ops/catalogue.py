"""The services the stack runs and the replay drives: entry point, consumer group, input topics.

One table, read by `xray up`, `xray status`, `xray replay` and the compose file's test, so a service is
declared once. `module` is what `python -m` runs; `group` is the service name its consumer group is
built from (`{namespace}.{group}`, xray_runtime.clients.group_id).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Final, Literal

from xray_contracts import catalogue
from xray_contracts.catalogue import TopicSpec

Role = Literal["feed", "processor", "dashboard"]


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One deployable service."""

    name: str
    module: str
    role: Role
    inputs: tuple[TopicSpec, ...] = ()
    # The issue that delivers the service, named in the message when it is not installed yet.
    issue: str = ""
    # It cuts its input on event-time boundaries and commits the first offset of each partition's open
    # window, which a replay never closes: drained means every boundary the log crosses is cut
    # (xray_ops.drain), not that its group committed the log end.
    event_time_cuts: bool = False

    @property
    def group(self) -> str:
        """Service name of its consumer group (`{namespace}.{group}`)."""
        return self.name

    def installed(self) -> bool:
        """`python -m <module>` would run (the package and its __main__ exist)."""
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False


MARKET_DATA: Final = ServiceEntry("market_data", "market_data", "feed", issue="3")
ORCHESTRATOR: Final = ServiceEntry(
    "orchestrator",
    "orchestrator",
    "processor",
    (catalogue.RAW_MARKET_EVENT,),
    issue="6",
    event_time_cuts=True,
)
STATE_GATE: Final = ServiceEntry(
    "state_gate",
    "consumers.state_gate",
    "processor",
    (catalogue.ORCHESTRATOR_EVENT, catalogue.STATE_GATE_CONTROL),
    issue="7",
)
ANALYSIS_ENGINE: Final = ServiceEntry(
    "analysis_engine", "consumers.analysis_engine", "processor", (catalogue.STATE_GATE_EVENT,), issue="8"
)
DASHBOARDS: Final = ServiceEntry("dashboards", "consumers.dashboards", "dashboard", issue="9")

# Pipeline order: a replay drains them in this order; the stack starts them in reverse.
PROCESSORS: Final[tuple[ServiceEntry, ...]] = (ORCHESTRATOR, STATE_GATE, ANALYSIS_ENGINE)
ALL_SERVICES: Final[tuple[ServiceEntry, ...]] = (MARKET_DATA, *PROCESSORS, DASHBOARDS)


def by_name(name: str) -> ServiceEntry:
    """The entry of a service name."""
    for entry in ALL_SERVICES:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown service {name!r}; known: {', '.join(e.name for e in ALL_SERVICES)}")


def missing(entries: tuple[ServiceEntry, ...] = ALL_SERVICES) -> list[ServiceEntry]:
    """The entries whose entry point is not installed in this environment."""
    return [e for e in entries if not e.installed()]
