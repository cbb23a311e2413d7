"""Prometheus metrics: outcomes labelled by reason, the progress gauges, dedup waits, cleaning
time and end-to-end latency, state size, and the process's own CPU and memory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, process_resident_memory_bytes...
PlatformCollector(registry=REGISTRY)  # python_info

CLEANING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""A warm child cleans most pages in 15-30 ms; the per-page timeout is 30 s by default."""
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800, 3600)
"""From a live page's fraction of a second to a backlog's hour (dedup waits last 600 s)."""
OUTCOMES = Counter(
    "ingest_outcomes",
    "Pages decided, by outcome and reason or duplicate kind",
    ["outcome", "reason"],
    registry=REGISTRY,
)
LAG = Gauge(
    "ingest_lag_messages",
    "Messages not yet committed on this worker's partitions",
    registry=REGISTRY,
)
STALLED_S = Gauge(
    "ingest_seconds_without_progress",
    "Seconds since the committed offsets last moved",
    registry=REGISTRY,
)
REFETCH_REUSED = Counter(
    "ingest_refetch_reused",
    "Raw pages not cleaned: an unchanged re-fetch of a page this process cleaned or refused "
    "(worker.refetch)",
    registry=REGISTRY,
)
DEDUP_WAITING = Gauge(
    "ingest_dedup_waiting_pages",
    "Pages waiting at this worker's band partitions for an undecided near-copy",
    registry=REGISTRY,
)
DEDUP_OLDEST_WAIT_S = Gauge(
    "ingest_dedup_oldest_wait_seconds",
    "Age of the oldest such wait (released at INGEST_DEDUP_WAIT_S)",
    registry=REGISTRY,
)
DEDUP_UNDECIDED = Gauge(
    "ingest_dedup_undecided_pages",
    "Pages of this worker's article ids asking the band partitions or queued behind one",
    registry=REGISTRY,
)
DEDUP_OLDEST_UNDECIDED_S = Gauge(
    "ingest_dedup_oldest_undecided_seconds",
    "Age of the oldest such page (/healthz fails past INGEST_DEDUP_WAIT_S plus the stall limit)",
    registry=REGISTRY,
)
DEDUP_RELEASED = Counter(
    "ingest_dedup_waits_released",
    "Waits answered without their undecided near-copy after INGEST_DEDUP_WAIT_S",
    registry=REGISTRY,
)
DEDUP_EXPIRED = Counter(
    "ingest_dedup_expired_entries",
    "Dedup table entries out of INGEST_DEDUP_WINDOW_S, deleted or shrunk to a marker",
    ["table", "action"],
    registry=REGISTRY,
)
TIMEOUTS_RECYCLED = Counter(
    "ingest_extractor_recycled", "Extraction child processes killed and replaced", registry=REGISTRY
)
EXTRACT_SPARES = Gauge(
    "ingest_extractor_spares",
    "Extraction child processes serving in place of ones busy past INGEST_EXTRACT_SLOW_S",
    registry=REGISTRY,
)
CONSUMED = Counter(
    "ingest_pages_consumed",
    "Raw messages taken in by intake, by topic (redeliveries of settled messages not counted)",
    ["topic"],
    registry=REGISTRY,
)
CLEANING_S = Histogram(
    "ingest_cleaning_seconds",
    "Time a page spent in its extraction child process, timeouts included (re-fetches not "
    "cleaned again are ingest_refetch_reused)",
    buckets=CLEANING_BUCKETS,
    registry=REGISTRY,
)
LATENCY_S = Histogram(
    "ingest_latency_seconds",
    "From a page's fetch time (since=fetch) or its raw message's Kafka timestamp "
    "(since=produce) to the acknowledgement of its output record, by outcome",
    ["outcome", "since"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PARTITION_LAG = Gauge(
    "ingest_partition_lag_messages",
    "Messages not yet committed, per partition of the topics the group consumes",
    ["topic", "partition"],
    registry=REGISTRY,
)
STATE_BYTES = Gauge(
    "ingest_state_bytes",
    "Bytes of the local RocksDB files of each table (all partitions) under INGEST_DATA_DIR",
    ["table"],
    registry=REGISTRY,
)


@dataclass(frozen=True, slots=True)
class Latency:
    """What an output record's acknowledgement is timed from: its page's fetch time and its raw
    message's Kafka timestamp (epoch seconds, None when unknown)."""

    outcome: str
    """article, duplicate or rejected."""
    fetched_s: float | None
    produced_s: float | None


def delivered(latency: Latency, now: float) -> None:
    """Observe the end-to-end latency of a record acknowledged at `now` (epoch seconds)."""
    if latency.fetched_s is not None:  # (a clock ahead of ours is no negative latency)
        LATENCY_S.labels(latency.outcome, "fetch").observe(max(0.0, now - latency.fetched_s))
    if latency.produced_s is not None:
        LATENCY_S.labels(latency.outcome, "produce").observe(max(0.0, now - latency.produced_s))


def set_partition_lag(lags: Iterable[tuple[tuple[str, int], int]]) -> None:
    """Publish the lag of each (topic, partition) observed; a partition no longer observed goes."""
    PARTITION_LAG.clear()
    for (topic, partition), lag in lags:
        PARTITION_LAG.labels(topic, str(partition)).set(lag)


def table_sizes(tabledir: Path) -> dict[str, int]:
    """Bytes of the files of each table's RocksDB databases (`<table>-<partition>.db`, one per
    partition) in faust's table directory; none if it does not exist (`memory://`)."""
    sizes: dict[str, int] = {}
    try:
        databases = [e for e in os.scandir(tabledir) if e.is_dir() and e.name.endswith(".db")]
    except FileNotFoundError:
        return sizes
    for database in databases:
        table = database.name.removesuffix(".db").rsplit("-", 1)[0]
        sizes[table] = sizes.get(table, 0) + _files_bytes(database.path)
    return sizes


def _files_bytes(path: str) -> int:
    """Bytes of the files in a directory (RocksDB keeps a database's files in one), 0 if gone."""
    try:
        return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
    except FileNotFoundError:  # dropped after a rebalance while we looked
        return 0


class StateSize:
    """Updates `ingest_state_bytes` from the table directory at most every `every_s` seconds."""

    def __init__(self, tabledir: Path, every_s: float = 30.0) -> None:
        self.tabledir, self.every_s = tabledir, every_s
        self.last: float | None = None

    def update(self, now: float) -> None:
        """Walk the table directory if the last walk is `every_s` old (`now`: monotonic s)."""
        if self.last is not None and now - self.last < self.every_s:
            return
        self.last = now
        for table, size in table_sizes(self.tabledir).items():
            STATE_BYTES.labels(table).set(size)


def count(outcome: str, reason: str = "") -> None:
    """Count one decided page: outcome article, duplicate or rejected."""
    OUTCOMES.labels(outcome=outcome, reason=reason).inc()


def exposition() -> bytes:
    """The metrics in Prometheus text format."""
    return generate_latest(REGISTRY)
