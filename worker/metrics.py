"""Prometheus metrics: outcomes labelled by reason, the progress gauges, dedup waits."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

REGISTRY = CollectorRegistry()
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
    "Raw pages not cleaned: an unchanged re-fetch of a page this process cleaned (worker.refetch)",
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


def count(outcome: str, reason: str = "") -> None:
    """Count one decided page: outcome article, duplicate or rejected."""
    OUTCOMES.labels(outcome=outcome, reason=reason).inc()


def exposition() -> bytes:
    """The metrics in Prometheus text format."""
    return generate_latest(REGISTRY)
