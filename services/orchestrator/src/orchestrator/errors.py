"""Errors the orchestrator's pure core raises."""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base class of orchestrator errors."""


class BufferFullError(OrchestratorError):
    """The raw input buffer holds `max_records` records; the caller must apply backpressure."""


class CutSelectionError(OrchestratorError):
    """No cut can be selected for a symbol (nothing new, or no record at or below the cut end)."""


class SequencingError(OrchestratorError):
    """An event would move a symbol's engine timestamp backwards."""
