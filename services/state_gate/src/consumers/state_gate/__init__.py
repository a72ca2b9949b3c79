"""state-gate."""
