"""Frozen contract types of the regime engine (shared with composer and orchestrator)."""
