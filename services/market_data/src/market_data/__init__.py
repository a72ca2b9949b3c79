"""market-data."""
