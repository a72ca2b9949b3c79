"""market_data: Binance USD-M frames (live or recorded) -> RawMarketEvent v1 records on Kafka."""
