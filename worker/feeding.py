"""`ingest-worker feed`: publish what `sources` reads to the raw topic.

One idempotent producer, an optional rate limit, a progress bar on a terminal; returns a
`Summary` of what was sent, skipped (with why and where first) and failed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from tqdm import tqdm  # type: ignore[import-untyped]

from worker import kafka_tools
from worker.security import client_options
from worker.settings import Settings
from worker.sources import Item, Skipped

CHUNK = 64
"""Messages read per hop to the reading thread (file reads stay off the event loop)."""


class TokenBucket:
    """At most `rate_per_s` takes a second on average, in bursts of at most `burst`."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"--rate must be positive, got {rate_per_s}")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = burst
        self._last = time.monotonic()

    @classmethod
    def per_second(cls, rate_per_s: float) -> TokenBucket:
        """A bucket whose bursts last a tenth of a second (at least one message)."""
        return cls(rate_per_s, max(1.0, rate_per_s / 10))

    async def take(self) -> None:
        """Take one token, sleeping (never spinning) until there is one."""
        self._refill()
        if self._tokens < 1:
            await asyncio.sleep((1 - self._tokens) / self.rate_per_s)
            self._refill()
        self._tokens -= 1  # may go slightly below 0 after an early wake: a debt, repaid next

    def _refill(self) -> None:
        """Add the tokens earned since the last refill, up to the burst."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
        self._last = now


@dataclass
class Summary:
    """What one feed did: messages delivered, skipped by reason, deliveries failed by error."""

    topic: str
    sent: int = 0
    """Messages the broker acknowledged."""
    skipped: Counter[str] = field(default_factory=Counter)
    first_skip: dict[str, str] = field(default_factory=dict)
    """Where each skip reason was first met."""
    failed: Counter[str] = field(default_factory=Counter)
    """Failed deliveries by error name."""
    stopped: str | None = None
    """The producer error that ended the feed early, if one did."""
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True if every message was delivered (skips do not count against it)."""
        return not self.failed and self.stopped is None

    def skip(self, item: Skipped) -> None:
        """Count one skip."""
        self.skipped[item.reason.value] += 1
        self.first_skip.setdefault(item.reason.value, item.where)

    def lines(self) -> list[str]:
        """The summary as printed: totals first, then one line per skip reason and error."""
        head = (
            f"sent {self.sent} to {self.topic} in {self.elapsed_s:.1f} s, "
            f"skipped {self.skipped.total()}, failed {self.failed.total()}"
        )
        skips = [
            f"  skipped {reason}: {count} (first: {self.first_skip[reason]})"
            for reason, count in sorted(self.skipped.items())
        ]
        fails = [f"  failed {error}: {count}" for error, count in sorted(self.failed.items())]
        stop = [f"  stopped early: {self.stopped}"] if self.stopped else []
        return [head, *skips, *fails, *stop]


async def feed(
    settings: Settings,
    items: Iterable[Item],
    compression: str | None = None,
    rate_per_s: float | None = None,
    progress: bool = False,
) -> Summary:
    """Publish the messages to the raw topic, count the skips; return the summary.

    A missing topic is a TopologyError before anything is read. A failed delivery is counted
    and the feed goes on; an error raised by the producer itself (the topic deleted meanwhile,
    no metadata in time...) ends it. Reading runs in a thread, off the event loop.
    """
    bucket = None if rate_per_s is None else TokenBucket.per_second(rate_per_s)
    summary, started = Summary(settings.topic_raw), time.monotonic()
    await check_topic(settings)
    producer = AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=True,
        max_request_size=settings.max_message_bytes,
        compression_type=compression,
    )
    await producer.start()
    pending: set[asyncio.Future[Any]] = set()
    bar = tqdm(unit="msg", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    try:
        iterator = iter(items)
        while chunk := await asyncio.to_thread(_take, iterator, CHUNK):
            for item in chunk:
                if isinstance(item, Skipped):
                    summary.skip(item)
                    bar.set_postfix(skipped=summary.skipped.total(), refresh=False)
                    continue
                if bucket is not None:
                    await bucket.take()
                try:
                    future = await producer.send(summary.topic, value=item.value, key=item.key)
                except KafkaError as exc:
                    summary.stopped = f"{type(exc).__name__}: {exc}"
                    return summary
                pending.add(future)
                future.add_done_callback(partial(_settled, summary, pending))
                bar.update()
        return summary
    finally:
        await asyncio.gather(*pending, return_exceptions=True)
        await producer.stop()
        bar.close()
        summary.elapsed_s = time.monotonic() - started


async def check_topic(settings: Settings) -> None:
    """Raise TopologyError if the raw topic does not exist (rather than wait on its metadata)."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        if not await kafka_tools.partition_counts(admin, [settings.topic_raw]):
            raise kafka_tools.TopologyError(
                f"{settings.topic_raw} does not exist (`ingest-worker topics` creates it)"
            )
    finally:
        await admin.close()


def _take(iterator: Iterator[Item], count: int) -> list[Item]:
    """Up to `count` items (fewer only at the end)."""
    return list(islice(iterator, count))


def _settled(
    summary: Summary, pending: set[asyncio.Future[Any]], future: asyncio.Future[Any]
) -> None:
    """Count a finished delivery as sent or failed."""
    pending.discard(future)
    error = None if future.cancelled() else future.exception()
    if future.cancelled() or error is not None:
        summary.failed[type(error).__name__ if error else "Cancelled"] += 1
    else:
        summary.sent += 1
