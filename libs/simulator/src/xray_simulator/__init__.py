"""xray_simulator: seeded regime-switching Binance USD-M market data with per-window regime labels."""

from xray_simulator.api import Simulation, simulate, write_labels, write_recording
from xray_simulator.config import WINDOW_MS, SimulatorConfig, default_symbols
from xray_simulator.cuts import iter_cuts
from xray_simulator.generator import SimFrame, iter_events, iter_frames, recording_line
from xray_simulator.regimes import REGIMES
from xray_simulator.schedule import WindowLabel, all_labels, regime_schedule

__all__ = [
    "REGIMES",
    "WINDOW_MS",
    "SimFrame",
    "Simulation",
    "SimulatorConfig",
    "WindowLabel",
    "all_labels",
    "default_symbols",
    "iter_cuts",
    "iter_events",
    "iter_frames",
    "recording_line",
    "regime_schedule",
    "simulate",
    "write_labels",
    "write_recording",
]
