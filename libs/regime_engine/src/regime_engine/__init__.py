"""regime-engine."""
