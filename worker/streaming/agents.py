"""The four stages as named units, and the faust wiring that runs them.

    pages.raw -Intake-> <app>-pages.by-url -UrlStage-> articles, articles.duplicates
        |                  (by id)         | a URL without an article:
        +-> pages.rejected                 v
              <app>-pages.by-band -BandStage-> <app>-pages.verdicts -GatherStage-> the outputs
                (by band key)                    (by id)

The decisions are `core.dedup`'s pure functions; a stage decodes an event, reads and writes its
tables, and returns the records to send. Every event is handled inside an error boundary: a
bug becomes an `internal_error` rejection, never a skipped offset. An event is settled (may be
committed, see `offsets`) only after all its records are acknowledged by the broker; if the
broker refuses output, or does not acknowledge it within `INGEST_SEND_TIMEOUT_S`, the process
exits without committing (`exits`). A dedup stage's decision takes effect with its record: the
band messages that let other pages depend on it (`Outcome.after`) go out only once the record
is in, and a refused record exits the process, whose replay sends the stored decision again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import traceback
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import faust
import faust.streams as faust_streams
from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError
from aiokafka.partitioner import DefaultPartitioner
from faust.types import EventT, StreamT, TopicT

from worker import codec, logs, metrics, pipeline, refetch
from worker.core import dedup
from worker.core.envelope import iso_utc
from worker.errors import Reason
from worker.health import ProgressClock
from worker.pipeline import Failure
from worker.records import Article, Sketched, Source
from worker.runner import InlineRunner, ProcessRunner
from worker.settings import Settings
from worker.streaming import exits
from worker.streaming.expiry import DELETE, KEEP, Sweeper, Unlogged
from worker.streaming.offsets import SettlingConsumer
from worker.streaming.tables import Tables, log_round, write_unlogged
from worker.streaming.topics import Topics

log = logging.getLogger(__name__)

STAGE_BATCH = 256
"""Messages a dedup stage decides before it outputs them together (events it takes at once)."""
STAGE_BATCH_WAIT_S = 0.05
"""How long a dedup stage gathers events for a round (unless `STAGE_BATCH` come first): each
round pays three broker round trips, a sweep and a record per partition it sends to, so fuller
rounds cost less per page (at 5 ms, rounds held a few messages: 27 Kafka records a page with
two worker processes, 20 with 50 ms); a page crosses about six rounds, so up to 0.3 s later."""
PARTITIONER = DefaultPartitioner()
"""The producer's: which partition of a topic keyed by article id an id is in."""
BUNDLE_BYTES = 64 * 1024
"""Band messages and verdicts for one partition sent together travel as one Kafka record of
at most this size (one message alone may be larger), a message per line: a page asks about a
dozen partitions, and a record each made the broker, the producer and the consumer handle a
dozen times more records than pages."""
HEADERS_ALLOWANCE = 8192
"""Bytes of a rejection's Kafka record kept for its headers (the detail: up to 1,024 characters
of UTF-8) and the record's framing."""
TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError)


@dataclass(frozen=True, slots=True)
class Send:
    """One record to produce."""

    topic: TopicT
    key: bytes | None
    value: bytes
    partition: int | None = None
    latency: metrics.Latency | None = None
    """Set on an output record (article, duplicate, rejection): timed once acknowledged."""
    headers: list[tuple[str, bytes]] | None = None


@dataclass(slots=True)
class Outcome:
    """What handling one event produced: records to send, messages to send once those are
    acknowledged, and what to do once everything is in."""

    sends: list[Send] = field(default_factory=list)
    after: list[Send] = field(default_factory=list)
    """Band messages that make other pages depend on the decisions in `sends` (an index of a
    published text, a settle naming its article): never out before the records are."""
    done: Callable[[], None] | None = None
    fetched_at: str | None = None
    """The fetch time of the page the event is about: its partition's clock for expiry."""


class Stage(Protocol):
    """A dedup stage: decides one event against its tables (synchronously, on the loop), and
    names the tables it expires (in the partitions of its events)."""

    def handle(self, event: EventT) -> Outcome: ...

    def flush(self) -> None:
        """Write the table entries the round's events held back (before they are output)."""

    def sweepers(self) -> list[Sweeper]: ...


def register(
    app: faust.App,
    topics: Topics,
    tables: Tables,
    runner: ProcessRunner | InlineRunner,
    settings: Settings,
    clock: ProgressClock,
) -> None:
    """Attach the intake and the three dedup stages to the app."""
    output = Output(
        topics, settings, lambda: cast(SettlingConsumer, app.consumer), clock, tables.written
    )
    intake = Intake(topics, settings, runner, output, clock)
    band = BandStage(topics, tables, settings, output)
    pending = PendingPages(tables, settings.partitions)
    stages: list[tuple[TopicT, str, Stage]] = [
        (topics.by_url, "by_url", UrlStage(topics, tables, settings, output, pending)),
        (topics.by_band, "by_band", band),
        (topics.verdicts, "gather", GatherStage(topics, tables, settings, output, pending)),
    ]

    @app.agent(topics.raw, name="intake")
    async def run_intake(stream: StreamT[bytes]) -> None:
        """Clean raw pages in child processes, up to `INGEST_BATCH_SIZE` in flight; publish
        each once cleaned (after the earlier pages in flight with the same key)."""
        flights = Flights(settings.batch_size)
        try:  # noack: faust's compiled stream iterator would commit each event once the next
            # is taken, bypassing `SettlingConsumer.ack`, while its page is still in flight
            async for event in cast(faust.Stream[bytes], stream).noack().events():
                if output.unsettled([event]):
                    await flights.start(event.key, functools.partial(intake.publish, event))
        finally:  # the agent stops: its pages in flight are not settled, hence replayed
            flights.cancel()

    for topic, name, stage in stages:
        app.agent(topic, name=name)(functools.partial(_run_stage, output, stage))

    state_size = metrics.StateSize(app.conf.tabledir)

    @app.timer(interval=min(max(1.0, settings.dedup_wait_s / 4), settings.health_interval_s))
    async def release_waits() -> None:
        """Ask this process's band partitions to answer the queries waiting too long; count
        the pages of its article ids still undecided (for /healthz); measure the tables."""
        state_size.update(time.monotonic())
        actives = app.assignor.assigned_actives()
        for send in band.overdue(_partitions_of(topics.by_band, actives)):
            await send.topic.send(key=send.key, value=send.value, partition=send.partition)
        pages, oldest = pending.undecided(_partitions_of(topics.by_url, actives), time.time())
        clock.undecided, clock.oldest_undecided_s = pages, oldest
        metrics.DEDUP_UNDECIDED.set(pages)
        metrics.DEDUP_OLDEST_UNDECIDED_S.set(oldest)


def _partitions_of(topic: TopicT, actives: Iterable[Any]) -> set[int]:
    name = topic.get_topic_name()
    return {tp.partition for tp in actives if tp.topic == name}


async def _run_stage(output: Output, stage: Stage, stream: StreamT[bytes]) -> None:
    """Run a dedup stage on the events as they come, in order, deciding each message (an event,
    or each message of a bundle) against the tables as the messages before it left them. The
    messages decided together (up to the event where they reach `STAGE_BATCH`) are then output
    together (`Output.decide`): three broker round trips per round, not per message. Each round
    also expires a few entries per message in the partitions it handled (`expiry`)."""
    sweepers = stage.sweepers()
    async for batch in cast(faust.Stream[bytes], stream).take_events(
        STAGE_BATCH, within=STAGE_BATCH_WAIT_S
    ):
        decided: list[tuple[Outcome, EventT]] = []
        clocks = Clocks()
        for event in output.unsettled(batch):
            with _current(event):
                for message in _messages(event):
                    outcome = _guarded(stage, message, output)
                    decided.append((outcome, event))
                    clocks.saw(event, outcome.fetched_at)
            if len(decided) >= STAGE_BATCH:  # (an event is settled with all its messages)
                clocks.sweep(sweepers)
                await _output(output, stage, decided)
                decided, clocks = [], Clocks()
        clocks.sweep(sweepers)
        await _output(output, stage, decided)


class Clocks:
    """Per partition of a round: its last event, its latest fetch time and its messages."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[EventT, str | None, int]] = {}

    def saw(self, event: EventT, fetched_at: str | None) -> None:
        part = event.message.partition
        _, latest, messages = self.seen.get(part, (event, None, 0))
        if fetched_at is not None and (latest is None or fetched_at > latest):
            latest = fetched_at
        self.seen[part] = (event, latest, messages + 1)

    def sweep(self, sweepers: Sequence[Sweeper]) -> None:
        """Expire entries of each partition, inside its last event (a sweep never fails a page:
        what it did not look at is looked at later)."""
        now = _now()
        for part, (event, latest, messages) in self.seen.items():
            with _current(event):
                try:
                    for sweeper in sweepers:
                        sweeper.step(part, latest, now, messages)
                except Exception:
                    log.exception("expiry sweep failed in partition %s", part)


async def _output(output: Output, stage: Stage, decided: list[tuple[Outcome, EventT]]) -> None:
    """Output a round of decided messages, then run what each does once delivered."""
    stage.flush()
    try:
        await output.decide(decided)
    except Exception as exc:
        exits.output_failed(exc)
    for outcome, event in decided:
        if outcome.done is not None:
            with _current(event):
                outcome.done()


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Bundled:
    """One message of a bundle (`Output.bundle`), handled as an event of its own."""

    value: bytes
    key: bytes | None
    message: Any
    """The Kafka message of the bundle."""


def _messages(event: EventT) -> list[EventT]:
    """The messages an event carries: itself, or each message of a bundle (one per line; JSON
    as the worker writes it has no line break)."""
    value = event.value
    if not isinstance(value, bytes) or b"\n" not in value:
        return [event]
    return [cast(EventT, Bundled(v, event.key, event.message)) for v in value.split(b"\n")]


@contextlib.contextmanager
def _current(event: EventT) -> Iterator[None]:
    """Make `event` faust's current event: a table write goes to the store and the changelog
    of the current event's partition, and a batch from `take_events` leaves only its last
    event current."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


def _guarded(stage: Stage, event: EventT, output: Output) -> Outcome:
    """The error boundary of a dedup stage: a bug rejects the message, nothing is skipped."""
    try:
        return stage.handle(event)
    except Exception as exc:
        origin = source_of(event)
        return Outcome([output.rejection(internal_failure(exc), origin, event.key, event.value)])


def _now() -> str:
    return iso_utc(datetime.now(UTC))


class Intake:
    """Raw page -> cleaned and sketched page keyed by article id, or a rejection."""

    def __init__(
        self,
        topics: Topics,
        settings: Settings,
        runner: ProcessRunner | InlineRunner,
        output: Output,
        clock: ProgressClock,
    ) -> None:
        self.topics = topics
        self.runner = runner
        self.output = output
        self.clock = clock
        self.process = functools.partial(
            pipeline.process_reusable,
            max_page_bytes=settings.max_page_bytes,
            rules=pipeline.rules_from(settings),
        )
        self.refetches = refetch.Cache(settings.refetch_cache_bytes, settings.max_page_bytes)
        self.cleaning: dict[refetch.Key, asyncio.Future[pipeline.Reusable | Failure]] = {}
        """Inputs being cleaned in a child process now, by `refetch.key`."""

    async def publish(self, event: EventT, before: asyncio.Future[None] | None) -> None:
        """Clean one page, then, once the earlier page `before` is out, publish it."""
        metrics.CONSUMED.labels(event.message.topic).inc()
        cleaned = asyncio.ensure_future(self.handle(event))
        try:
            if before is not None:
                await asyncio.wait([before])
            await self.output.publish(cleaned, event)
        finally:
            self.output.release(event.message)

    async def handle(self, event: EventT) -> list[Send]:
        """Clean one page in a child process (the boundary: a bug rejects only this page)."""
        origin = source_of(event)
        try:
            result = await self._sketched(event.value, origin)
        except Exception as exc:
            result = internal_failure(exc)
        self.clock.mark()  # a page finished (even by timing out): progress, nothing settled yet
        if isinstance(result, Failure):
            return [self.output.rejection(result, origin, event.key, event.value)]
        return [Send(self.topics.by_url, result.page.id.encode(), codec.encode(result))]

    async def _sketched(self, value: bytes | None, origin: Source) -> Sketched | Failure:
        """An unchanged re-fetch of a page this process cleaned (or refused) as cleaning would
        give it (`refetch`), or the page cleaned in a child process."""
        found, again = self.refetches.lookup(value, origin)
        earlier = None if found is None else self.cleaning.get(found)
        if earlier is not None:  # the same input is being cleaned here: its page may do
            await asyncio.wait([earlier])
            found, again = self.refetches.lookup(value, origin)
        if again is not None:
            return again
        cleaning = asyncio.ensure_future(self.runner.run(self.process, value, origin))
        if found is not None:
            self.cleaning[found] = cleaning
        try:
            result = await cleaning
        finally:
            if found is not None and self.cleaning.get(found) is cleaning:
                del self.cleaning[found]
        if found is not None:
            self.refetches.keep(found, result)
        return result if isinstance(result, Failure) else result.sketched


class Flights:
    """Pages in flight through intake, at most `limit` at once: each cleaned as soon as a child
    process is free, and published once cleaned, after the earlier pages with the same Kafka
    key (what Kafka orders), never after a slow page of another key."""

    def __init__(self, limit: int) -> None:
        self.free = asyncio.Semaphore(limit)
        self.flying: set[asyncio.Future[None]] = set()
        self.last: dict[bytes, asyncio.Future[None]] = {}
        """Per key, the latest page in flight."""

    async def start(self, key: bytes | None, publish: Publish) -> None:
        """Wait for a free place, then start one page's flight."""
        await self.free.acquire()
        before = self.last.get(key) if key is not None else None
        flight = asyncio.ensure_future(self._fly(publish, before))
        self.flying.add(flight)
        flight.add_done_callback(self.flying.discard)
        if key is not None:
            self.last[key] = flight
            flight.add_done_callback(functools.partial(self._landed, key))

    def cancel(self) -> None:
        """Stop every page in flight."""
        for flight in list(self.flying):
            flight.cancel()

    async def _fly(self, publish: Publish, before: asyncio.Future[None] | None) -> None:
        try:
            await publish(before)
        except Exception as exc:  # faust would ack the event anyway: never let it
            exits.output_failed(exc)
        finally:
            self.free.release()

    def _landed(self, key: bytes, flight: asyncio.Future[None]) -> None:
        if self.last.get(key) is flight:
            del self.last[key]


Publish = Callable[[asyncio.Future[None] | None], Awaitable[None]]
"""Clean and publish one page, publishing only once the given earlier flight has landed."""


class PendingPages:
    """The pages undecided in the dedup stages, in two tables: `pending` keeps the page (written
    once), `replies` the band partitions and homes it asked and their answers so far (rewritten
    at each answer: a few hundred bytes, not the page's few kilobytes). One instance serves the
    url and gather stages: it also keeps, in memory, when each pending page came and in which
    by-url partition, so counting them for /healthz reads no page (`undecided`)."""

    def __init__(self, tables: Tables, partitions: int) -> None:
        self.pages, self.progress = tables.pending, tables.replies
        self.every = list(range(partitions))
        """The by-url partitions (the partitioner's arguments)."""
        self.since: dict[str, tuple[int, float]] = {}
        """origin key -> the by-url partition of its article id, since when (epoch seconds)."""
        self.recoveries: int | None = None
        """How many restores of `pending` `since` has read (None: not read yet)."""

    def __contains__(self, key: str) -> bool:
        return key in self.progress

    def put(self, key: str, pending: dedup.Pending) -> None:
        page, progress = codec.pending_entries(pending)
        self.pages[key], self.progress[key] = page, progress
        self._index(key, page)

    def get(self, key: str) -> dedup.Pending | None:
        progress = self.progress.get(key)
        page = None if progress is None else self.pages.get(key)
        return None if progress is None or page is None else codec.pending(page, progress)

    def pop(self, key: str) -> None:
        """Forget a delivered page: its page entry first, so a process killed in between
        leaves only a progress entry, which nothing counts as undecided (`orphan`)."""
        self.pages.pop(key, None)
        self.since.pop(key, None)
        self.progress.pop(key, None)

    def orphan(self, key: str) -> bool:
        """True (and the progress entry dropped) if a page's progress outlived its page."""
        if key in self.pages:
            return False
        self.progress.pop(key, None)
        return True

    def undecided(self, held: set[int], now: float) -> tuple[int, float]:
        """How many pending pages of article ids in these by-url partitions, and the age in
        seconds of the oldest (the table may still hold pages of partitions given away). The
        pages themselves are read only after a restore (which writes the store, not through
        here): at the first count and after each rebalance, never every count (decoding every
        pending page took seconds of the event loop with a backlog of pages)."""
        recoveries = getattr(self.pages, "__dict__", {}).get("recoveries", 0)
        if recoveries != self.recoveries:
            self.recoveries, self.since = recoveries, {}
            for key, stored in list(self.pages.items()):
                self._index(key, stored)
        count, oldest = 0, now
        for partition, since in self.since.values():
            if partition in held:
                count, oldest = count + 1, min(oldest, since)
        return count, now - oldest

    def _index(self, key: str, stored: dict[str, Any]) -> None:
        if not stored.get("since"):  # (written before pages had it: not counted)
            return
        page = stored["page"]
        article = (page.get("article") or page["page"]["id"]).encode()
        since = datetime.fromisoformat(stored["since"]).timestamp()
        self.since[key] = (PARTITIONER(article, self.every, self.every), since)


class UrlStage:
    """Stage 1, by article id: replay, compare with the URL's article, or ask the bands."""

    def __init__(
        self,
        topics: Topics,
        tables: Tables,
        settings: Settings,
        output: Output,
        pending: PendingPages | None = None,
    ) -> None:
        self.topics = topics
        self.tables = tables
        self.pending = PendingPages(tables, settings.partitions) if pending is None else pending
        """Shared with the gather stage (which decides and forgets the pages stored here)."""
        self.partitions = settings.partitions
        self.window_s = settings.dedup_window_s
        self.output = output

    def handle(self, event: EventT) -> Outcome:
        """Decide now, or store the page as pending: asking the bands, or queued behind an
        undecided page of the same id."""
        page, now = codec.sketched(event.value), _now()
        fetched_at = page.page.fetched_at
        article_id = dedup.deciding_id(page)
        state = codec.url_state(self.tables.urls.get(article_id))
        expired = dedup.expire(state, dedup.horizon(fetched_at, now, self.window_s))
        step = dedup.url_step(expired or state, page, now, self.partitions)
        if isinstance(step, dedup.Forward):
            return Outcome([_forward(self.topics, step)], fetched_at=fetched_at)
        if isinstance(step, dedup.Decided):
            return Outcome(*_apply(step, page, self.tables, self.topics), fetched_at=fetched_at)
        key = dedup.origin_key(page.page.origin)
        if key not in self.pending:  # a replay keeps the answers it has
            self.pending.put(key, step.pending)
        self.tables.urls[article_id] = codec.plain(step.state)
        if isinstance(step, dedup.Queued):
            return Outcome(fetched_at=fetched_at)
        return Outcome(_band_sends(self.topics, step.queries), fetched_at=fetched_at)

    def flush(self) -> None:
        """Nothing held back: every write is made as the event is handled."""

    def sweepers(self) -> list[Sweeper]:
        """`url-state` (shared with the gather stage, co-partitioned: swept here only), four
        entries per message (a message adds at most one id)."""
        return [Sweeper(self.tables.urls, _expire_url_state, self.window_s, per_message=4)]


def _expire_url_state(part: int, key: str, stored: Any, horizon: str) -> Any:
    """An id out of the window: its marker, or deleted if it never published."""
    kept = dedup.expire(codec.url_state(stored), horizon)
    if kept is None:
        return KEEP
    return DELETE if kept == dedup.UrlState() else codec.plain(kept)


class BandStage:
    """Stage 2, by band key: index a page under its band keys and reply with the members that
    came before it; at a page's home partition, keep its record and answer lookups about it.

    A lookup about an undecided near-copy that came first at the pivot band (or one whose
    query has not reached its home yet) is answered once that member settles or arrives (it
    waits in the `waits` table), or once the wait passes `INGEST_DEDUP_WAIT_S`.
    """

    def __init__(self, topics: Topics, tables: Tables, settings: Settings, output: Output) -> None:
        self.topics = topics
        self.tables = tables
        self.wait_s = settings.dedup_wait_s
        self.window_s = settings.dedup_window_s
        self.output = output
        self.listed: dict[int, tuple[EventT, dict[str, list[str]]]] = {}
        """band partition -> the round's first event there and what the round listed there
        (reference -> band keys): the journal entry to write at the end of the round."""

    def handle(self, event: EventT) -> Outcome:
        """A query is indexed (and, unless a published text, replied to); a lookup answered or
        held; a settle updates a member and resumes who waited for it; a release answers the
        waits that are overdue."""
        message = codec.decode_band_message(event.value)
        if isinstance(message, dedup.BandSettle):
            known = codec.member(self.tables.members.get(message.member))
            settled = dedup.settle_member(known, message)
            if settled is not None:
                self.tables.members[message.member] = codec.plain(settled)
            return Outcome(self._resume(message.member, release=False))
        if isinstance(message, dedup.BandRelease):
            return Outcome(self._resume(message.member, release=True))
        if isinstance(message, dedup.Lookup):
            sends = self._answer(event.message.partition, message, time.time(), release=False)
            return Outcome(sends, fetched_at=message.probe.fetched_at)
        return Outcome(self._index(event, message), fetched_at=message.fetched_at)

    def flush(self) -> None:
        """Log what the round listed: one journal entry per band partition."""
        for part, (event, indexed) in self.listed.items():
            with _current(event):
                log_round(self.tables.bands, part, event.message.offset, indexed)
        self.listed.clear()

    def sweepers(self) -> list[Sweeper]:
        """`band-members`, four entries per message (a message adds at most one member: a
        query at its page's home, one of a page's dozen messages at 12 partitions), and
        `band-lists`, 16 per message and at least twice what the round listed (a query adds
        its band keys of the partition, all 32 at one partition; each round a journal
        entry). Waits are released by the timer, not expired."""
        return [
            Sweeper(self.tables.members, _expire_member, self.window_s, per_message=4),
            Sweeper(self.tables.bands, _expire_list, self.window_s, added=self._listed),
        ]

    def _listed(self, part: int) -> int:
        """Band-list entries the round added in a partition: its band keys and journal entry."""
        if part not in self.listed:
            return 0
        return 1 + sum(len(keys) for keys in self.listed[part][1].values())

    def overdue(self, partitions: set[int]) -> list[Send]:
        """Releases for the waits older than the limit in these (this process's) partitions;
        updates the gauges of waiting pages."""
        now = time.time()
        sends, count, oldest = [], 0, now
        for member, waiting in list(self.tables.waits.items()):
            home = dedup.home_of(member)
            if home not in partitions:
                continue
            since = min(w["since"] for w in waiting)
            count, oldest = count + len(waiting), min(oldest, since)
            if since <= now - self.wait_s:
                release = codec.band_message(dedup.BandRelease(member))
                sends.append(Send(self.topics.by_band, None, release, home))
        metrics.DEDUP_WAITING.set(count)
        metrics.DEDUP_OLDEST_WAIT_S.set(now - oldest)
        return sends

    def _index(self, event: EventT, query: dedup.BandQuery) -> list[Send]:
        """Add a page to its band lists (and its record at its home); the reply, unless it is a
        published text being indexed; the lookups that waited for its record, resumed."""
        part = event.message.partition
        lists = {key: self.tables.bands.get(key) or [] for _, key in query.bands}
        horizon = dedup.horizon(query.fetched_at, _now(), self.window_s)
        step = dedup.band_step(lists, query, horizon)
        for key, listed in step.lists.items():
            write_unlogged(self.tables.bands, part, key, listed or None)
        if step.indexed:  # (again on a replay: the journal may have missed it)
            self.listed.setdefault(part, (event, {}))[1][query.ref] = step.indexed
        sends = []
        known = self.tables.members.get(query.ref)
        member = dedup.home_member(codec.member(known), query)
        if member is not None:  # arrived, or settled by its index: who waited goes on
            self.tables.members[query.ref] = codec.plain(member)
            sends += self._resume(query.ref, release=False)
        if query.root is None:
            reply = dedup.BandReply(query.member, part, step.hits)
            sends.append(Send(self.topics.verdicts, query.id.encode(), codec.verdict(reply)))
        return sends

    def _answer(self, part: int, lookup: dedup.Lookup, since: float, release: bool) -> list[Send]:
        """The answer to a lookup, or none while it waits for a member."""
        try:
            now = _now()
            horizon = dedup.horizon(lookup.probe.fetched_at, now, self.window_s)
            swept = dedup.horizon(now, now, self.window_s)

            def member_of(ref: str) -> dedup.Member | None:
                return codec.member(self.tables.members.get(ref))

            step = dedup.lookup_step(member_of, lookup, horizon, release, swept)
            candidates, awaits = step.candidates, step.awaits
        except Exception:  # answer anyway: a page waiting for no answer would never be decided
            asking = logs.page(_origin(lookup.member), None, article=lookup.id)
            log.exception("lookup failed: answering with no candidates", extra=asking)
            candidates, awaits = [], []
        if awaits:
            waiting = self.tables.waits.get(awaits[0]) or []
            if all(w["lookup"]["member"] != lookup.member for w in waiting):
                entry = {"since": since, "lookup": codec.plain(lookup)}
                self.tables.waits[awaits[0]] = [*waiting, entry]
            return []
        answer = dedup.LookupAnswer(lookup.member, part, candidates)
        return [Send(self.topics.verdicts, lookup.id.encode(), codec.verdict(answer))]

    def _resume(self, member: str, release: bool) -> list[Send]:
        """Answer the lookups that waited for a member (or let them wait for the next one)."""
        waiting = self.tables.waits.pop(member, None) or []
        limit = time.time() - self.wait_s
        sends = []
        for entry in waiting:
            overdue = release and entry["since"] <= limit
            if overdue:
                metrics.DEDUP_RELEASED.inc()
                asking = _origin(entry["lookup"]["member"])  # (its URL is not known here)
                log.warning(
                    "waited over %.0f s for %s: answered without it",
                    self.wait_s,
                    member,
                    extra=logs.page(asking, None, article=entry["lookup"]["id"]),
                )
            lookup = codec.lookup(entry["lookup"])
            sends += self._answer(dedup.home_of(member), lookup, entry["since"], overdue)
        return sends


def _expire_member(part: int, key: str, stored: dict[str, Any], horizon: str) -> Any:
    """A member out of the window is deleted (lists drop its reference by its fetch hour)."""
    return DELETE if stored.get("fetched_at", "") < horizon else KEEP


def _expire_list(part: int, key: str, stored: Any, horizon: str) -> Any:
    """A band list without its references out of the window (deleted once none is left; lists
    are not logged); a journal entry deleted once all its references are out."""
    if isinstance(stored, dict):
        return DELETE if dedup.expired_entry(stored, horizon) else KEEP
    kept = dedup.expired_list(stored, horizon)
    if kept is None:
        return KEEP
    return Unlogged(kept or None)


class GatherStage:
    """Stage 3, by article id: collect the band partitions' hits, ask the hits' home partitions
    for their records, then decide.

    A page's progress that only gained a reply or an answer is held back until the end of the
    round (`flush`): a page's dozen replies arrive in a few rounds, and each written at once
    made a changelog record each."""

    def __init__(
        self,
        topics: Topics,
        tables: Tables,
        settings: Settings,
        output: Output,
        pending: PendingPages | None = None,
    ) -> None:
        self.topics = topics
        self.tables = tables
        self.pending = PendingPages(tables, settings.partitions) if pending is None else pending
        """Shared with the url stage."""
        self.partitions = settings.partitions
        self.output = output
        self.held: dict[str, tuple[dict[str, Any], EventT]] = {}
        """origin key -> progress to write at the end of the round, and the event (whose
        partition's changelog it goes to)."""

    def handle(self, event: EventT) -> Outcome:
        """Add a reply or an answer; with every reply in, look the hits up at their homes;
        with every answer in, decide (the pending page goes once delivered)."""
        message = codec.decode_verdict(event.value)
        held = self.held.pop(message.member, None)
        progress = held[0] if held is not None else self.pending.progress.get(message.member)
        if progress is None:  # decided and delivered before this repeated message came
            return Outcome()
        progress = codec.with_verdict(progress, message)
        answer = isinstance(message, dedup.LookupAnswer)
        if not codec.replied(progress) or (answer and not codec.answered(progress)):
            self.held[message.member] = (progress, event)  # the page is not read
            return Outcome()
        if self.pending.orphan(message.member):  # decided and delivered, forgotten half-way
            return Outcome()
        pending = codec.pending(self.pending.pages[message.member], progress)
        if not answer and not pending.complete:  # every reply in (again after a crash: a replay)
            asks = dedup.lookups(pending, self.partitions)
            pending = replace(pending, homes=sorted(asks))
            unanswered = {h: ask for h, ask in asks.items() if h not in pending.answers}
            if unanswered:
                self.pending.progress[message.member] = codec.progress_entry(pending)
                return Outcome(_band_sends(self.topics, unanswered))
        if not pending.complete:
            self.pending.progress[message.member] = codec.progress_entry(pending)
            return Outcome()
        return self._decide(message.member, pending)

    def _decide(self, member: str, pending: dedup.Pending) -> Outcome:
        """Decide a page with every answer in, then the pages of its id queued behind it."""
        page, now = pending.page, _now()
        state = codec.url_state(self.tables.urls.get(dedup.deciding_id(page)))
        step = dedup.gather_step(state, pending, now, self.partitions)
        sends, after = _apply(step, page, self.tables, self.topics)
        decided = [member]
        state = step.state if step.state is not None else state  # what _apply stored
        following = dedup.next_in_line(state, member, self.pending.get, now, self.partitions)
        for queued, next_step in following:
            key = dedup.origin_key(queued.page.origin)
            if isinstance(next_step, dedup.Scatter):
                self.pending.put(key, next_step.pending)
                self.tables.urls[dedup.deciding_id(queued)] = codec.plain(next_step.state)
                after += _band_sends(self.topics, next_step.queries)
            elif isinstance(next_step, dedup.Forward):
                if next_step.state is not None:
                    self.tables.urls[queued.page.id] = codec.plain(next_step.state)
                sends.append(_forward(self.topics, next_step))
                decided.append(key)
            else:
                records, band = _apply(next_step, queued, self.tables, self.topics)
                sends, after = sends + records, after + band
                decided.append(key)
        done = functools.partial(self._forget, dedup.deciding_id(page), decided)
        return Outcome(sends, after, done)

    def flush(self) -> None:
        """Write the progress held back this round, each page's once."""
        for member, (progress, event) in self.held.items():
            with _current(event):
                self.pending.progress[member] = progress
        self.held.clear()

    def sweepers(self) -> list[Sweeper]:
        """None: its tables are the url stage's (`url-state`) or transient (`pending`,
        `replies`)."""
        return []

    def _forget(self, article_id: str, keys: list[str]) -> None:
        """Once the decided pages' records are delivered: drop their pending entries and take
        them out of their id's waiting list (until then a replay delivers them again)."""
        state = codec.url_state(self.tables.urls.get(article_id))
        self.tables.urls[article_id] = codec.plain(dedup.delivered(state, keys))
        for key in keys:
            self.pending.pop(key)


def _apply(
    step: dedup.Decided, page: Sketched, tables: Tables, topics: Topics
) -> tuple[list[Send], list[Send]]:
    """Store a decision; the record to publish, and the band messages to send once it is in."""
    if step.state is not None:
        tables.urls[dedup.deciding_id(page)] = codec.plain(step.state)
    record, fetched_at, origin = step.record, page.page.fetched_at, page.page.origin
    if isinstance(record, Article):
        metrics.count("article")
        latency = _latency("article", fetched_at, origin)
        first = Send(topics.articles, record.id.encode(), codec.encode(record), latency=latency)
    else:
        metrics.count("duplicate", record.kind)
        latency = _latency("duplicate", fetched_at, origin)
        first = Send(topics.duplicates, record.id.encode(), codec.encode(record), latency=latency)
    band: dict[int, dedup.BandQuery | dedup.BandSettle] = {**step.settle, **step.index}
    return [first], _band_sends(topics, band)


def _latency(outcome: str, fetched_at: str | None, origin: Source) -> metrics.Latency:
    """What a page's output record is timed from: its fetch time, its raw message's timestamp."""
    fetched = None if fetched_at is None else datetime.fromisoformat(fetched_at).timestamp()
    produced = None if origin.timestamp_ms is None else origin.timestamp_ms / 1000
    return metrics.Latency(outcome, fetched, produced)


def _acknowledged(sends: Iterable[Send]) -> None:
    """Time the output records among sends the broker has acknowledged."""
    now = time.time()
    for send in sends:
        if send.latency is not None:
            metrics.delivered(send.latency, now)


def _origin(key: str) -> Source:
    """The coordinates an origin key names ('topic:partition:offset', `dedup.origin_key`)."""
    topic, partition, offset = key.rsplit(":", 2)
    return Source(topic, int(partition), int(offset))


def _forward(topics: Topics, step: dedup.Forward) -> Send:
    """A page sent on to the stage-1 partition of the article its URL follows."""
    return Send(topics.by_url, dedup.deciding_id(step.page).encode(), codec.encode(step.page))


def _band_sends(topics: Topics, messages: Mapping[int, codec.BandMessage]) -> list[Send]:
    """The band-stage messages, each to the partition that owns its band keys."""
    return [
        Send(topics.by_band, None, codec.band_message(message), partition)
        for partition, message in sorted(messages.items())
    ]


class Output:
    """Publishes records, waits until the broker has them, then settles their input messages."""

    def __init__(
        self,
        topics: Topics,
        settings: Settings,
        consumer: Callable[[], SettlingConsumer],
        clock: ProgressClock,
        written: Callable[[], list[asyncio.Future[Any]]] = list,
    ) -> None:
        self.topics = topics
        self.settings = settings
        self.consumer = consumer
        self.clock = clock
        self.written = written
        """The table writes since the last call, as their changelog records' futures."""
        self.bundled = {topics.by_band, topics.verdicts}
        """The topics whose messages go in bundles (`bundle`)."""
        self.partitions = list(range(settings.partitions))
        self.handling: dict[Coordinates, list[Any]] = {}
        """The messages being handled, with the copies of each delivered again meanwhile."""

    def unsettled(self, events: Sequence[EventT]) -> list[EventT]:
        """The events still to handle, now taken (`settle` or `release` each). Not a message
        settled already (a refetch redelivers those), nor a copy of one being handled: faust
        delivers a message again when it seeks its partition (after a recovery, a rebalance),
        and a copy handled beside it would publish its records twice."""
        consumer = self.consumer()
        todo = []
        for event in events:
            message = event.message
            at = _coordinates(message)
            if consumer.is_settled(message):
                consumer.settle(message)  # this copy too, so it does not count as dropped
            elif at in self.handling:
                log.info("offset %s of %s-%s delivered again while handled", at[2], *at[:2])
                self.handling[at].append(message)  # settled with the message it copies
            else:
                self.handling[at] = []
                todo.append(event)
        return todo

    def settle(self, message: Any) -> None:
        """Every output of a message taken is acknowledged: settle it, and its copies."""
        consumer = self.consumer()
        consumer.settle(message)
        for copy in self.handling.pop(_coordinates(message), ()):
            consumer.settle(copy)

    def release(self, message: Any) -> None:
        """A message taken is no longer handled (settled, or its handling stopped: then it
        and its copies stay unsettled, and are fetched again)."""
        self.handling.pop(_coordinates(message), None)

    def rejection(
        self, failure: Failure, origin: Source, key: bytes | None, value: bytes | None
    ) -> Send:
        """The send that routes a failed message to the rejected topic."""
        reason = failure.reason.value
        log.info("rejected", extra=logs.page(origin, failure.url, reason=reason))
        metrics.count("rejected", reason)
        room = self.settings.max_message_bytes - len(key or b"") - HEADERS_ALLOWANCE
        record = pipeline.rejected(
            failure, origin, key, value, room, self.settings.rejected_payload_limit
        )
        latency = _latency("rejected", None, origin)
        headers = codec.rejection_headers(record)
        return Send(
            self.topics.rejected, key, codec.encode(record), latency=latency, headers=headers
        )

    async def publish(self, sends: Awaitable[list[Send]], event: EventT) -> None:
        """Send an event's records once ready; settle the event once all are acknowledged.

        Raises if a record is refused or not acknowledged within the send timeout (the caller
        exits). A record too large for the producer or the topic is replaced by a rejection.
        """
        records = await sends
        deadline = time.monotonic() + self.settings.send_timeout_s
        futures = [await self._send(send, deadline) for send in records]
        await self._settle(futures, deadline, records, event)

    async def decide(self, decided: Sequence[tuple[Outcome, EventT]]) -> None:
        """Dedup stage outcomes: once the table writes that decided them are in the changelog,
        their records, then, once those are acknowledged, the messages that make other pages
        depend on them; the events are settled once all are in. (So a record is never out
        while its decision could still be lost with the process: a replay, on any worker,
        finds it.) Three broker round trips, however many events; messages for one partition
        leave in the order of their events.

        Raises if anything is refused or not acknowledged in time; the caller exits, and the
        replay sends the stored decision again. (A record too large cannot be replaced by a
        rejection here, since its decision is stored: the page fitted the by-url topic, which
        carries more than any record it becomes, and the start-up check refuses output topics
        that take less.)
        """
        deadline = time.monotonic() + self.settings.send_timeout_s
        for written in self.written():
            await _within(written, deadline)
        records = [send for outcome, _ in decided for send in outcome.sends]
        await self._deliver(records)
        _acknowledged(records)
        await self._deliver([send for outcome, _ in decided for send in outcome.after])
        for _, event in decided:
            self.settle(event.message)
        if decided:
            self.clock.mark()

    def bundle(self, sends: Sequence[Send]) -> list[Send]:
        """The sends with the band messages and verdicts for one partition joined into records
        of up to `BUNDLE_BYTES`, one message per line, in order (`_messages` splits them)."""
        out: list[Send | tuple[list[Send], int]] = []
        open_: dict[tuple[TopicT, int], tuple[list[Send], int]] = {}
        for send in sends:
            if send.topic not in self.bundled:
                out.append(send)
                continue
            part = send.partition
            if part is None:
                part = PARTITIONER(send.key, self.partitions, self.partitions)
            group, size = open_.get((send.topic, part), ([], BUNDLE_BYTES))
            if size + len(send.value) >= BUNDLE_BYTES:
                group, size = [], 0
                out.append((group, part))
            group.append(send)
            open_[(send.topic, part)] = (group, size + len(send.value) + 1)
        return [_joined(*s) if isinstance(s, tuple) else s for s in out]

    async def _deliver(self, sends: Sequence[Send]) -> None:
        """Send records together (bundled) and wait until the broker has them all."""
        deadline = time.monotonic() + self.settings.send_timeout_s
        futures = [await self._send(send, deadline) for send in self.bundle(sends)]
        for future in futures:
            await _within(future, deadline)

    async def _settle(
        self, futures: list[asyncio.Future[Any]], deadline: float, sends: list[Send], event: EventT
    ) -> None:
        """Wait for an event's acknowledgements (replacing a too-large record), then settle it."""
        for future, send in zip(futures, sends, strict=True):
            try:
                await _within(future, deadline)
            except Exception as exc:
                if not _too_large(exc):
                    raise
                detail = f"output record of {len(send.value)} bytes refused"
                failure = Failure(Reason.OUTPUT_TOO_LARGE, detail)
                fallback = self.rejection(failure, source_of(event), event.key, event.value)
                retry = time.monotonic() + self.settings.send_timeout_s
                await _within(await self._send(fallback, retry), retry)
                _acknowledged([fallback])
            else:
                _acknowledged([send])
        self.settle(event.message)
        self.clock.mark()

    async def _send(self, send: Send, deadline: float) -> asyncio.Future[Any]:
        """Start sending one record; an error raised at once is returned as a failed future."""
        try:
            started = send.topic.send(
                key=send.key, value=send.value, partition=send.partition, headers=send.headers
            )
            future: asyncio.Future[Any] = await _within(started, deadline)
            return future
        except Exception as exc:
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed


Coordinates = tuple[str, int, int]
"""A Kafka message's topic, partition and offset."""


def _coordinates(message: Any) -> Coordinates:
    return message.topic, message.partition, message.offset


def _joined(group: list[Send], partition: int) -> Send:
    """One record for sends to one partition: the send itself if alone, else a bundle."""
    first = group[0]
    if len(group) == 1:
        return first
    return Send(first.topic, None, b"\n".join(s.value for s in group), partition)


async def _within(awaitable: Awaitable[Any], deadline: float) -> Any:
    """Await until the monotonic `deadline`; past it the broker is not delivering: TimeoutError."""
    try:
        return await asyncio.wait_for(awaitable, max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise TimeoutError(
            "the broker did not acknowledge the output within the send timeout"
        ) from None


def _too_large(exc: BaseException) -> bool:
    """True if a send failed because the record is over the producer's or the topic's limit."""
    return isinstance(exc, TOO_LARGE) or isinstance(exc.__cause__, TOO_LARGE)


def source_of(event: EventT) -> Source:
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
