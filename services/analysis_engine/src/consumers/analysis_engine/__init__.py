"""analysis-engine."""
