"""The three agents, thin: decode, decide (in core), route, wait for delivery.

    pages.raw --intake--> <app>-pages.by-content --by_content--> <app>-pages.by-url --by_url--> articles
        |                          |                                   |
        +--> pages.rejected        +--> articles.duplicates            +--> articles.duplicates

Every event is handled inside an error boundary: a bug becomes a `internal_error` rejection,
never a skipped offset. An event is settled (may be committed, see `offsets`) only after its
output is acknowledged by the broker; if the broker refuses output, or does not acknowledge it
within `INGEST_SEND_TIMEOUT_S`, the process exits without committing (`exits`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import faust
from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError

from worker import codec, metrics, pipeline
from worker.core import dedup
from worker.core.envelope import iso_utc
from worker.errors import Reason
from worker.health import ProgressClock
from worker.pipeline import Failure
from worker.records import Article, Extracted, Source
from worker.runner import InlineRunner, ProcessRunner
from worker.settings import Settings
from worker.streaming import exits
from worker.streaming.offsets import SettlingConsumer
from worker.streaming.tables import Tables
from worker.streaming.topics import Topics

log = logging.getLogger(__name__)

BATCH_WAIT_S = 0.05
TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError)

Send = tuple[faust.TopicT, bytes | None, bytes]


def register(
    app: faust.App,
    topics: Topics,
    tables: Tables,
    runner: ProcessRunner | InlineRunner,
    settings: Settings,
    clock: ProgressClock,
) -> None:
    """Attach the intake and the two dedup agents to the app."""
    process = functools.partial(
        pipeline.process, max_page_bytes=settings.max_page_bytes, rules=pipeline.rules_from(settings)
    )
    output = Output(topics, settings, lambda: app.consumer, clock)

    @app.agent(topics.raw, name="intake")
    async def intake(stream: faust.StreamT[bytes]) -> None:
        """Clean raw pages in parallel child processes, in batches; publish in input order."""
        async for batch in stream.take_events(settings.batch_size, within=BATCH_WAIT_S):
            events = output.unsettled(batch)
            try:
                cleaning = [asyncio.ensure_future(_intake_one(event)) for event in events]
                await output.publish(cleaning, events)
            except Exception as exc:  # faust would ack the batch anyway: never let it
                exits.output_failed(exc)

    async def _intake_one(event: faust.EventT) -> Send:
        origin = source_of(event)
        try:
            result = await runner.run(process, event.value, origin)
        except Exception as exc:  # the boundary: a bug rejects this page, not the batch
            result = internal_failure(exc)
        clock.mark()  # a page finished (even by timing out): progress, though nothing settled yet
        if isinstance(result, Failure):
            return output.rejection(result, origin, event.key, event.value)
        return topics.by_content, result.content_hash.encode(), codec.encode(result)

    def _by_content_one(page: Extracted, value: bytes) -> Send:
        """Stage 1: the same text under another URL is a duplicate of its first owner."""
        stored = tables.owners.get(page.content_hash)
        owner = dedup.ContentOwner(**stored) if stored else None
        new, duplicate = dedup.check_content(owner, page)
        if new is not None:
            tables.owners[page.content_hash] = dedup.to_table(new)
        if duplicate is not None:
            metrics.count("duplicate", duplicate.kind)
            return topics.duplicates, page.id.encode(), codec.encode(duplicate)
        return topics.by_url, page.id.encode(), value

    def _by_url_one(page: Extracted, value: bytes) -> Send:
        """Stage 2: unchanged content at a known URL is a duplicate; changed is a revision."""
        stored = tables.urls.get(page.id)
        state = dedup.UrlState(**stored) if stored else None
        new, record = dedup.check_url(state, page, iso_utc(datetime.now(timezone.utc)))
        if new is not None:
            tables.urls[page.id] = dedup.to_table(new)
        if isinstance(record, Article):
            metrics.count("article")
            return topics.articles, page.id.encode(), codec.encode(record)
        metrics.count("duplicate", record.kind)
        return topics.duplicates, page.id.encode(), codec.encode(record)

    async def _stage(event: faust.EventT, decide: Any) -> Send:
        """Decode an internal record and decide, inside the error boundary."""
        origin = source_of(event)
        try:
            page = codec.decode_extracted(event.value)
            origin = page.origin
            send: Send = decide(page, event.value)
            return send
        except Exception as exc:
            return output.rejection(internal_failure(exc), origin, event.key, event.value)

    def stage(topic: faust.TopicT, name: str, decide: Any) -> None:
        """Register a dedup stage: one event at a time, decided against its table."""

        async def agent(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                if not output.unsettled([event]):
                    continue
                try:
                    await output.publish([_stage(event, decide)], [event])
                except Exception as exc:
                    exits.output_failed(exc)

        agent.__doc__ = decide.__doc__
        app.agent(topic, name=name)(agent)

    stage(topics.by_content, "by_content", _by_content_one)
    stage(topics.by_url, "by_url", _by_url_one)


class Output:
    """Publishes records, waits until the broker has them, then settles their input messages."""

    def __init__(
        self,
        topics: Topics,
        settings: Settings,
        consumer: Callable[[], SettlingConsumer],
        clock: ProgressClock,
    ) -> None:
        self.topics = topics
        self.settings = settings
        self.consumer = consumer
        self.clock = clock

    def unsettled(self, events: list[faust.EventT]) -> list[faust.EventT]:
        """The events still to handle: a refetch redelivers messages already settled."""
        consumer = self.consumer()
        todo = []
        for event in events:
            if consumer.is_settled(event.message):
                consumer.settle(event.message)  # this copy too, so it does not count as dropped
            else:
                todo.append(event)
        return todo

    def rejection(
        self, failure: Failure, origin: Source, key: bytes | None, value: bytes | None
    ) -> Send:
        """The send that routes a failed message to the rejected topic."""
        log.info(
            "rejected %s:%s:%s reason=%s url=%r",
            origin.topic, origin.partition, origin.offset, failure.reason.value,
            (failure.url or "")[:200],
        )  # fmt: skip
        metrics.count("rejected", failure.reason.value)
        record = pipeline.rejected(failure, origin, key, value, self.settings.rejected_payload_limit)
        return self.topics.rejected, key, codec.encode(record)

    async def publish(self, sends: Iterable[Awaitable[Send]], events: Iterable[faust.EventT]) -> None:
        """Send each record once it is ready, in input order; settle each event once acknowledged.

        Raises if a record is refused or not acknowledged within the send timeout (the caller
        exits). A record too large for the producer or the topic is replaced by a rejection.
        """
        pending: list[tuple[asyncio.Future[Any], float, Send, faust.EventT]] = []
        for send, event in zip(sends, events):
            record = await send
            deadline = time.monotonic() + self.settings.send_timeout_s
            pending.append((await self._send(record, deadline), deadline, record, event))
            while pending and pending[0][0].done():  # settle what is in already, keeping order
                await self._settle(*pending.pop(0))
        for item in pending:
            await self._settle(*item)

    async def _settle(
        self, future: asyncio.Future[Any], deadline: float, send: Send, event: faust.EventT
    ) -> None:
        """Wait for one acknowledgement (or replace a too-large record), then settle the event."""
        try:
            await _within(future, deadline)
        except Exception as exc:
            if not _too_large(exc):
                raise
            failure = Failure(Reason.OUTPUT_TOO_LARGE, f"output record of {len(send[2])} bytes refused")
            fallback = self.rejection(failure, source_of(event), event.key, event.value)
            deadline = time.monotonic() + self.settings.send_timeout_s
            await _within(await self._send(fallback, deadline), deadline)
        self.consumer().settle(event.message)
        self.clock.mark()

    async def _send(self, send: Send, deadline: float) -> asyncio.Future[Any]:
        """Start sending one record; an error raised at once is returned as a failed future."""
        topic, key, value = send
        try:
            return await _within(topic.send(key=key, value=value), deadline)
        except Exception as exc:
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed


async def _within(awaitable: Awaitable[Any], deadline: float) -> Any:
    """Await until the monotonic `deadline`; past it the broker is not delivering: TimeoutError."""
    try:
        return await asyncio.wait_for(awaitable, max(0.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        raise TimeoutError("the broker did not acknowledge the output within the send timeout") from None


def _too_large(exc: BaseException) -> bool:
    """True if a send failed because the record is over the producer's or the topic's limit."""
    return isinstance(exc, TOO_LARGE) or isinstance(exc.__cause__, TOO_LARGE)


def source_of(event: faust.EventT) -> Source:
    """The coordinates of the message behind an event."""
    message = event.message
    timestamp = message.timestamp
    return Source(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=None if timestamp is None else round(timestamp * 1000),
    )


def internal_failure(exc: BaseException) -> Failure:
    """A bug, as a rejection: the exception type and the innermost frames of its traceback."""
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
    return Failure(Reason.INTERNAL_ERROR, "".join(frames)[-1024:])
