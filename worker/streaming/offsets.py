"""Offsets we can trust: commit only what the agents settled, skip only what never existed.

faust-streaming 0.15 moves committed offsets past messages nobody processed, in several ways
(each seen losing pages on a real broker, in tests/integration/test_shutdown.py and tests/chaos):

- its streams acknowledge events on their own: in `finally` blocks when an agent is cancelled
  or its `take` buffer is closed, and for messages fetched before a rebalance that they skip;
  its compiled stream iterator (`faust._cython.streams`) acknowledges each event once the
  agent takes the next, inlining `Consumer.ack` so that no override sees it: an agent that
  hands events on before they are settled iterates a `noack()` stream (`agents.run_intake`);
- when fetched offsets jump it records the missing ones as a "gap" (meant for compacted topics
  and transaction markers) and commits past them, but the jump is usually its own doing: it
  drops fetched messages when flow stops for a rebalance (faust-streaming #606);
- it drops redelivered messages whose offset is below its "read offset", which is not reset
  consistently across a seek;
- its getmany drops the rest of a fetched batch without a word when the group generation
  changes or flow stops mid-batch, and a message it did deliver can still vanish when the
  delivery is cancelled as flow is suspended for a rebalance (pages produced during a
  rebalance sat there until the stall exit);
- before a partition's first commit, it commits any run of acknowledged offsets, wherever it
  starts, and aiokafka does not seek such a partition back on a rebalance.

`SettlingConsumer` replaces those rules. An offset is committable once the agents `settle` its
message (every output acknowledged by the broker), or when aiokafka's fetches jumped over it
from a position known exactly (`FetchTracker`: the broker has no record there, a compaction
hole or a transaction marker). A commit moves only across a contiguous run of such offsets
from the committed offset (the log start, sought explicitly, if there is none). An offset
faust dropped holds the commit back and is fetched again from there: known dropped when faust
acked it, or when aiokafka returned it and faust holds no message for it any more (`lost`:
never delivered, or delivered and let go). Should that never succeed, the stall check
(`worker.health`) restarts the worker, which replays it.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping, Set
from typing import Any, Generic, TypeVar

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)

Gap = tuple[int, int]  # offsets [start, end) that the broker skipped
REFETCH_RETRY_S = 5.0  # a refetched offset still unsettled after this is fetched again
K = TypeVar("K", bound=Hashable)  # a partition: faust's TP (tests use any hashable key)


def fetch_gaps(expected: int | None, offsets: Iterable[int]) -> tuple[list[Gap], int | None]:
    """The offsets skipped by one fetched batch, and the offset expected after it.

    `expected` is where the partition's fetch position was before the batch (None: unknown, so
    nothing before the first offset can be called skipped).
    """
    gaps: list[Gap] = []
    for offset in offsets:
        if expected is not None and offset > expected:
            gaps.append((expected, offset))
        expected = offset + 1
    return gaps, expected


def next_commit(start: int, settled: Set[int], gaps: Iterable[Gap]) -> int | None:
    """The offset to commit: the end of the run of settled or skipped offsets from `start`.

    None if `start` itself is neither settled nor skipped (nothing to commit yet).
    """
    ordered = sorted(gaps)
    offset = start
    while True:
        if offset in settled:
            offset += 1
            continue
        end = next((stop for begin, stop in ordered if begin <= offset < stop), None)
        if end is None:
            break
        offset = end
    return offset if offset > start else None


def lost(start: int, fetched_upto: int | None, held_by_faust: bool) -> bool:
    """True if `start` (holding the commit back, unsettled) was fetched and faust let it go.

    faust holds a fetched message from getmany to the agents (a batch being delivered, channel
    queues, the agents' events) and drops its last reference when it loses it: getmany stops
    mid-batch when the generation changes or flow stops, a delivery is cancelled when flow is
    suspended for a rebalance. A message that is queued, however long, is held.
    """
    return fetched_upto is not None and fetched_upto >= start and not held_by_faust


class FetchTracker(Generic[K]):
    """Where aiokafka's fetch position is known to be, per partition, so a jump is a real gap.

    The position is known after a seek until a fetch overlaps another seek: a batch fetched
    across a seek may come from the old position or the new one, and faust may drop it, so
    it is trusted only if it starts exactly where the partition was sought to. Unknown means
    no jump there can be called a gap: the commit then waits rather than skip.
    """

    def __init__(self) -> None:
        self.next: dict[K, int] = {}  # the offset the next batch must start at
        self._sought: dict[K, int] = {}
        self._unknown: set[K] = set()  # fetched during a seek of every partition
        self.seeks = 0  # seeks begun; a fetch compares it before and after
        self._seeking = 0

    def seek(self, tp: K, offset: int) -> None:
        """One partition is sought to `offset`."""
        self.seeks += 1
        self._sought[tp] = self.next[tp] = offset
        self._unknown.discard(tp)

    def begin_seek_all(self) -> None:
        """Every partition is about to be sought (faust's `perform_seek`)."""
        self.seeks += 1
        self._seeking += 1
        self.next.clear()
        self._sought.clear()
        self._unknown.clear()

    def end_seek_all(self, positions: Mapping[K, int]) -> None:
        """The seek of every partition is done: they are at `positions`."""
        self._seeking -= 1
        for tp, offset in positions.items():
            self._sought[tp] = offset
            if tp not in self._unknown:  # nothing fetched for it while seeking
                self.next[tp] = offset

    def forget(self, tp: K) -> None:
        """The partition is no longer ours."""
        self.next.pop(tp, None)
        self._sought.pop(tp, None)

    def fetched(self, seeks_before: int, batches: Mapping[K, list[int]]) -> dict[K, list[Gap]]:
        """Record a fetch that began when `seeks` was `seeks_before`; return its gaps."""
        overlapped = seeks_before != self.seeks or self._seeking > 0
        found: dict[K, list[Gap]] = {}
        for tp, offsets in batches.items():
            expected = self.next.get(tp)
            if overlapped:
                expected = self._sought.get(tp)
                if expected is None or not offsets or offsets[0] != expected:
                    self.next.pop(tp, None)
                    self._unknown.add(tp)
                    continue
            gaps, after = fetch_gaps(expected, offsets)
            if gaps:
                found[tp] = gaps
            if after is not None:
                self.next[tp] = after
        return found


class _Unread(dict[TP, int | None]):
    """faust's per-partition "read offset", always unknown, so it never drops a redelivery."""

    def __getitem__(self, key: TP) -> None:
        return None


class SettlingConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer, committing only settled or nonexistent offsets (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _Unread()
        self._gap = defaultdict(list)  # TP -> [Gap], from the fetched batches only
        self._start: dict[TP, int] = {}  # where each assigned partition's consumption started
        self._fetches: FetchTracker[TP] = FetchTracker()
        self._dropped: dict[TP, int] = {}  # highest offset faust dropped, per partition
        self._fetched_upto: dict[TP, int] = {}  # highest offset aiokafka returned since a seek
        self._batch: dict[TP, set[int]] = {}  # offsets of the batch getmany is delivering
        self._held: weakref.WeakValueDictionary[tuple[TP, int], Any] = weakref.WeakValueDictionary()
        self._refetched: dict[TP, tuple[int, float]] = {}  # last refetch: offset, monotonic time

    def ack(self, message: Any) -> bool:
        """faust's own acknowledgement of a message we did not settle: it was dropped.

        (Streams skip messages around a rebalance, and release the events of a cancelled agent.)
        """
        self._unacked_messages.discard(message)
        if not message.acked:
            self._drop(message.tp, message.offset)
        return False

    def _drop(self, tp: TP, offset: int) -> None:
        """faust dropped `offset` of `tp` (and maybe more before it): fetch it again if it holds
        the commit back (the fetch put `tp` in faust's commit round, see `_wait_next_records`)."""
        if tp not in self.assignment():
            return  # revoked meanwhile: the next owner starts from the commit
        self._dropped[tp] = max(offset, self._dropped.get(tp, -1))

    # getmany and _wait_next_records override faust's methods: `timeout` is faust's name
    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:  # noqa: ASYNC109
        """faust's getmany, keeping a weak reference to every message it delivers (see `lost`)."""
        try:
            async for tp, message in super().getmany(timeout):
                self._held[(tp, message.offset)] = message
                self._batch.get(tp, set()).discard(message.offset)
                yield tp, message
        finally:
            self._batch = {}

    def settle(self, message: Any) -> None:
        """Every output of this message is acknowledged by the broker: it may be committed."""
        super().ack(message)

    def in_flight(self) -> set[TP]:
        """Partitions with messages handed to the agents and not yet settled (or dropped)."""
        return {message.tp for message in list(self._unacked_messages)}

    def is_settled(self, message: Any) -> bool:
        """True if this offset is committed or settled already (a redelivery)."""
        committed = self._committed_offset.get(message.tp)
        if committed is not None and message.offset < committed:
            return True
        return message.offset in self._acked_index.get(message.tp, ())

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """faust's guess that offsets it did not deliver do not exist: ignored."""

    async def _wait_next_records(self, timeout: float) -> Any:  # noqa: ASYNC109
        seeks = self._fetches.seeks
        records, active_partitions = await super()._wait_next_records(timeout)
        offsets = {
            tp: [record.offset for record in batch]
            for tp, batch in (records or {}).items()
            if self.app.topics.acks_enabled_for(tp.topic)  # not changelogs
        }
        self._batch = {tp: set(fetched) for tp, fetched in offsets.items()}
        for tp, fetched in offsets.items():
            if fetched:
                self._fetched_upto[tp] = max(fetched[-1], self._fetched_upto.get(tp, -1))
                # a defaultdict: reading the entry creates it, and faust's commit visits
                # every partition in _acked
                self._acked[tp]
        for tp, gaps in self._fetches.fetched(seeks, offsets).items():
            log.info("offsets %s of %s do not exist (compaction or transaction markers)", gaps, tp)
            self._gap[tp].extend(gaps)
        return records, active_partitions

    async def seek(self, partition: TP, offset: int) -> None:
        """Seek one partition."""
        self._fetches.seek(partition, offset)
        self._fetched_upto.pop(partition, None)
        await super().seek(partition, offset)

    async def perform_seek(self) -> None:
        """Seek to the committed offsets; a partition without one goes back to its log start.

        aiokafka leaves such a partition where it was, past the messages faust dropped.
        """
        self._fetches.begin_seek_all()
        self._fetched_upto.clear()
        positions: dict[TP, int] = {}
        try:
            await super().perform_seek()
            assigned = self.assignment()
            fresh = [tp for tp in assigned if not self._committed_offset.get(tp)]
            log_starts: Mapping[TP, int] = await self.earliest_offsets(*fresh) if fresh else {}
            for tp, offset in log_starts.items():
                await super().seek(tp, offset)
            positions = {
                tp: self._committed_offset.get(tp) or log_starts.get(tp, 0) for tp in assigned
            }
            self._start = dict(positions)
            for tp in assigned:
                self._gap[tp] = []
        finally:
            self._fetches.end_seek_all(positions)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Forget what we know of revoked partitions; faust forgets the rest."""
        for tp in revoked:
            self._start.pop(tp, None)
            self._fetches.forget(tp)
            self._refetched.pop(tp, None)
            self._dropped.pop(tp, None)
            self._fetched_upto.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_offset(self, tp: TP) -> int | None:
        """The offset to commit for `tp` (None: none), called by faust's periodic commit."""
        start = self._committed_offset.get(tp) or self._start.get(tp)
        if start is None:
            return None
        settled = self._acked_index[tp]
        offset = next_commit(start, settled, self._gap[tp])
        if offset is None:
            held = self._held_by_faust(tp, start)
            if self._dropped.get(tp, -1) >= start:
                self._refetch(tp, start, "faust dropped it")
            elif settled and max(settled) > start and not held:
                self._refetch(tp, start, "a later offset is settled")
            elif lost(start, self._fetched_upto.get(tp), held):
                self._refetch(tp, start, "fetched, then let go by faust")
            return None
        self._acked[tp] = [o for o in self._acked[tp] if o >= offset]
        self._acked_index[tp] = set(self._acked[tp])
        self._gap[tp] = [(begin, end) for begin, end in self._gap[tp] if end > offset]
        return offset

    def _held_by_faust(self, tp: TP, offset: int) -> bool:
        """True while faust still has the fetched message (being delivered, queued, in an agent)."""
        return (tp, offset) in self._held or offset in self._batch.get(tp, ())

    def _refetch(self, tp: TP, offset: int, why: str) -> None:
        """Fetch again from `offset`, which faust dropped (or a marker not yet known as one).

        Known dropped when faust released it or one after it without our settling them, when
        a later offset is settled while nothing holds this one any more (the dedup stages
        settle a partition's messages in order; intake settles a slow page after later ones,
        but holds it meanwhile), or when faust let the fetched message go without either
        (`lost`).
        After the seek the tracker knows the position, so a marker there shows as a gap.
        """
        if self.should_stop or self.app.should_stop:
            return  # stopping: whoever takes the partition over replays from the commit
        now = time.monotonic()
        last = self._refetched.get(tp)
        if last is not None and last[0] == offset and now - last[1] < REFETCH_RETRY_S:
            return
        self._refetched[tp] = (offset, now)
        self._dropped.pop(tp, None)  # those drops are fetched again now
        log.warning(
            "offset %s of %s holds the commit back (%s); fetching again from it", offset, tp, why
        )
        self._fetches.seek(tp, offset)
        self._fetched_upto.pop(tp, None)
        try:
            self._thread.seek(tp, offset)
        except Exception as exc:  # no longer assigned: the next owner starts from the commit
            log.info("refetch of %s from %s not possible: %r", tp, offset, exc)
