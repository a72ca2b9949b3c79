"""Runnable example processors (used by the runtime's integration tests and benchmarks)."""
