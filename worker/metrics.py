"""Prometheus metrics: one counter of outcomes labelled by reason, and the progress gauges."""

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
TIMEOUTS_RECYCLED = Counter(
    "ingest_extractor_recycled", "Extraction child processes killed and replaced", registry=REGISTRY
)


def count(outcome: str, reason: str = "") -> None:
    """Count one decided page: outcome article, duplicate or rejected."""
    OUTCOMES.labels(outcome=outcome, reason=reason).inc()


def exposition() -> bytes:
    """The metrics in Prometheus text format."""
    return generate_latest(REGISTRY)
