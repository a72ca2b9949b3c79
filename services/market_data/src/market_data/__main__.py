"""`python -m market_data [--recording FILE ...] [--speed 1|10|max]`: the ingest service."""

from market_data.cli import ingest

if __name__ == "__main__":
    ingest()
