"""`ingest-worker tail` and `dump`: read the output topics, following them or from the beginning.

Reads without a consumer group (commits nothing, joins nothing): every partition of the chosen
topics is assigned to this reader, from the end (new records only) or from the beginning.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from worker import codec, kafka_tools, show
from worker.errors import PageError
from worker.security import client_options
from worker.settings import Settings

POLL_MS = 500


@dataclass(frozen=True, slots=True)
class Filters:
    """Which records to print; an empty set lets everything through."""

    partitions: frozenset[int] = frozenset()
    reasons: frozenset[str] = frozenset()
    """Rejection reasons: with any, only rejections with one of them pass."""
    sites: frozenset[str] = frozenset()
    """Site names or hosts (a host matches its subdomains too), compared case-insensitively."""

    def accept(self, value: Any) -> bool:
        """True if a decoded record passes every filter."""
        if not isinstance(value, dict):
            return not (self.reasons or self.sites)
        if self.reasons and value.get("reason") not in self.reasons:
            return False
        return not self.sites or _site_matches(value, self.sites)


def _site_matches(value: dict[str, Any], sites: frozenset[str]) -> bool:
    """True if the record's site name or URL host is one of `sites` (or a subdomain of one)."""
    name = (value.get("site_name") or "").lower()
    host = show.site({"url": value.get("url")}).lower()
    return any(s == name or host == s or host.endswith("." + s) for s in sites)


def consumer(settings: Settings, start: str) -> AIOKafkaConsumer:
    """A consumer with no group that can fetch the largest record the worker writes; the
    partitions assigned to it start at their `earliest` or `latest` offset (no seek: a seek
    right after an assignment races the position lookup the assignment starts)."""
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        auto_offset_reset=start,
        enable_auto_commit=False,
        fetch_max_bytes=settings.max_message_bytes * 2,
        max_partition_fetch_bytes=settings.max_message_bytes,
    )


async def assign(
    reader: AIOKafkaConsumer,
    settings: Settings,
    topics: list[str],
    partitions: frozenset[int] = frozenset(),
) -> list[TopicPartition]:
    """Assign every partition of the topics (only `partitions`, if any) to the consumer.

    Raises ValueError for a topic that does not exist or a partition none of them has.
    """
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        counts = await kafka_tools.partition_counts(admin, topics)
    finally:
        await admin.close()
    chosen = []
    for topic in topics:
        if topic not in counts:
            raise ValueError(f"topic {topic} does not exist")
        chosen += [
            TopicPartition(topic, p)
            for p in range(counts[topic])
            if not partitions or p in partitions
        ]
    if not chosen:
        raise ValueError(f"no partition {sorted(partitions)} in {', '.join(topics)}")
    reader.assign(chosen)
    return chosen


async def tail(
    settings: Settings,
    topics: list[str],
    filters: Filters,
    from_beginning: bool,
    write: Callable[[Any, Any], None],
    started: Callable[[str], None],
    limit: int | None = None,
    idle_s: float | None = None,
) -> int:
    """Print the topics' records as they arrive (`write(record, value)`); return how many.

    `started` is told once every partition's starting position is known: records produced
    after that are printed. Runs until `limit` records, `idle_s` quiet seconds, or Ctrl-C.
    """
    client = consumer(settings, "earliest" if from_beginning else "latest")
    await client.start()
    try:
        chosen = await assign(client, settings, topics, filters.partitions)
        for tp in chosen:  # resolve the positions now, so "started" is true
            await client.position(tp)
        where = "the beginning" if from_beginning else "now"
        started(f"following {', '.join(topics)} from {where}")
        printed, last = 0, time.monotonic()

        def done() -> bool:
            if limit is not None and printed >= limit:
                return True
            return idle_s is not None and time.monotonic() - last >= idle_s

        while not done():
            batches = await client.getmany(timeout_ms=POLL_MS)
            for records in batches.values():
                last = time.monotonic()
                for record in records:
                    value = decoded(record.value)
                    if filters.accept(value) and not done():
                        write(record, value)
                        printed += 1
        return printed
    finally:
        await client.stop()


def decoded(data: bytes | None) -> Any:
    """A record's value as JSON, or its text when it is not JSON (printed, never fatal)."""
    if data is None:
        return None
    try:
        return codec.decode(data)
    except PageError:
        return data.decode("utf-8", errors="replace")


def line(record: Any, value: Any) -> dict[str, Any]:
    """One record as a JSON line: where it is, its key as text, its decoded value."""
    key = record.key.decode("utf-8", errors="replace") if record.key else None
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "key": key,
        "value": value,
    }


async def dump(
    settings: Settings, expect: int | None, idle_s: float, write: Callable[[Any, Any], None]
) -> Counter[str]:
    """Print every record of the three output topics from the beginning (`write(record,
    value)`), as `tail --from-beginning` does; return counts (see `_labels`). Stops once
    `expect` records were printed or nothing new arrived for `idle_s` seconds."""
    counts: Counter[str] = Counter()

    def counted(record: Any, value: Any) -> None:
        counts.update(_labels(record.topic, value))
        write(record, value)

    topics = [settings.topic_articles, settings.topic_duplicates, settings.topic_rejected]
    await tail(settings, topics, Filters(), True, counted, lambda _: None, expect, idle_s)
    return counts


def _labels(topic: str, value: Any) -> list[str]:
    """Summary counters for one output record: all records, per topic, per reason or kind."""
    detail = value.get("reason") or value.get("kind") if isinstance(value, dict) else None
    return ["records", topic, f"{topic}:{detail}"] if detail else ["records", topic]
