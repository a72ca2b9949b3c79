"""Binance USD-M futures: stream routing, frame decoding, the live adapter."""
