"""Streaming ingestion worker: raw web pages on Kafka in, clean deduplicated articles out."""

__version__ = "0.1.0"
