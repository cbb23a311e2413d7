"""Offset bookkeeping we can trust: commit only what the agents settled, skip only what never existed.

faust-streaming 0.15 moves committed offsets past messages nobody processed, in several ways
(each seen losing pages on a real broker, in tests/integration/test_shutdown.py and tests/chaos):

- its streams acknowledge events on their own: in `finally` blocks when an agent is cancelled
  or its `take` buffer is closed, and for messages fetched before a rebalance that they skip;
- when fetched offsets jump it records the missing ones as a "gap" (meant for compacted topics
  and transaction markers) and commits past them, but the jump is usually its own doing: it
  drops fetched messages when flow stops for a rebalance (faust-streaming #606);
- it drops redelivered messages whose offset is below its "read offset", which is not reset
  consistently across a seek;
- before a partition's first commit, it commits any run of acknowledged offsets, wherever it
  starts, and aiokafka does not seek such a partition back on a rebalance.

`SettlingConsumer` replaces those rules with two: an offset is committable once the agents
`settle` its message (every output acknowledged by the broker), or when aiokafka fetched past
it without returning it (the broker has no record there); a commit moves only across a
contiguous run of such offsets from the committed position (the log start if none). A message
faust dropped therefore holds the commit back until a rebalance seeks back to it or, if that
never comes, the stall check (`worker.health`) restarts the worker, which replays it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)

Gap = tuple[int, int]  # offsets [start, end) that the broker skipped
REFETCH_RETRY_S = 5.0  # a refetched offset still unsettled after this is fetched again


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
        end = next((gap_end for gap_start, gap_end in ordered if gap_start <= offset < gap_end), None)
        if end is None:
            break
        offset = end
    return offset if offset > start else None


class _Unread(dict):  # type: ignore[type-arg]
    """faust's per-partition "read offset", always unknown, so it never drops a redelivery."""

    def __getitem__(self, key: Any) -> None:
        return None


class SettlingConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer, committing only settled or nonexistent offsets (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _Unread()
        self._gap = defaultdict(list)  # TP -> [Gap], from the fetched batches only
        self._start: dict[TP, int] = {}  # where each assigned partition's consumption started
        # aiokafka's fetch position per partition, while we are sure no fetched record went
        # unseen since the last seek (absent: unsure, so no jump there can be called a gap)
        self._fetched_next: dict[TP, int] = {}
        self._seeks = 0  # seeks started, so a fetch can tell it overlapped one
        self._seeking = 0  # perform_seek calls in progress
        self._fetching = 0  # fetches in progress
        self._fetched_while_seeking = False
        self._dropped: dict[TP, int] = {}  # highest offset faust dropped, per partition
        self._refetched: dict[TP, tuple[int, float]] = {}  # last refetch: offset, monotonic time

    def ack(self, message: Any) -> bool:
        """faust's own acknowledgement of a message we did not settle: it was dropped.

        (Streams skip messages around a rebalance, and release the events of a cancelled agent.)
        """
        self._unacked_messages.discard(message)
        if not message.acked:
            self._dropped[message.tp] = max(message.offset, self._dropped.get(message.tp, -1))
        return False

    def settle(self, message: Any) -> None:
        """Every output of this message is acknowledged by the broker: it may be committed."""
        super().ack(message)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """faust's guess that offsets it did not deliver do not exist: ignored."""

    async def _wait_next_records(self, timeout: float) -> Any:
        seeks = self._seeks
        self._fetching += 1
        try:
            records, active_partitions = await super()._wait_next_records(timeout)
        finally:
            self._fetching -= 1
        unsure = seeks != self._seeks or self._seeking > 0  # overlapped a seek: which position?
        if self._seeking:
            self._fetched_while_seeking = True
        for tp, batch in (records or {}).items():
            if not self.app.topics.acks_enabled_for(tp.topic):
                continue  # changelogs: never committed by offset
            if unsure:
                self._fetched_next.pop(tp, None)
                continue
            gaps, next_offset = fetch_gaps(self._fetched_next.get(tp), (r.offset for r in batch))
            if gaps:
                log.info("offsets %s of %s do not exist (compaction or transaction markers)", gaps, tp)
                self._gap[tp].extend(gaps)
            if next_offset is not None:
                self._fetched_next[tp] = next_offset
        return records, active_partitions

    async def seek(self, partition: TP, offset: int) -> None:
        """Seek, forgetting the fetch position until a batch shows it again."""
        self._seeks += 1
        self._fetched_next.pop(partition, None)
        await super().seek(partition, offset)

    async def perform_seek(self) -> None:
        """Seek to the committed offsets; a partition without one goes back to its log start.

        aiokafka leaves such a partition where it was, past the messages faust dropped.
        """
        self._seeks += 1
        self._seeking += 1
        self._fetched_while_seeking = False
        self._fetched_next.clear()
        try:
            await super().perform_seek()
            assigned = self.assignment()
            fresh = [tp for tp in assigned if not self._committed_offset.get(tp)]
            log_starts: Mapping[TP, int] = await self.earliest_offsets(*fresh) if fresh else {}
            for tp, offset in log_starts.items():
                await self.seek(tp, offset)
            self._start = {tp: self._committed_offset.get(tp) or log_starts.get(tp, 0) for tp in assigned}
            for tp in assigned:
                self._gap[tp] = []
            if not (self._fetching or self._fetched_while_seeking):
                self._fetched_next = dict(self._start)  # nothing fetched since: exactly there
        finally:
            self._seeking -= 1

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Forget where revoked partitions started; faust forgets the rest."""
        for tp in revoked:
            self._start.pop(tp, None)
            self._fetched_next.pop(tp, None)
            self._refetched.pop(tp, None)
            self._dropped.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_offset(self, tp: TP) -> int | None:
        """The offset to commit for `tp` (None: none), called by faust's periodic commit."""
        start = self._committed_offset.get(tp) or self._start.get(tp)
        if start is None:
            return None
        settled = self._acked_index[tp]
        offset = next_commit(start, settled, self._gap[tp])
        if offset is None:
            if self._dropped.get(tp, -1) >= start or (settled and max(settled) > start):
                self._refetch(tp, start)
            return None
        self._acked[tp] = [o for o in self._acked[tp] if o >= offset]
        self._acked_index[tp] = set(self._acked[tp])
        self._gap[tp] = [(begin, end) for begin, end in self._gap[tp] if end > offset]
        return offset

    def _refetch(self, tp: TP, offset: int) -> None:
        """Fetch again from `offset`, which faust dropped: the commit waits for it.

        Known dropped when faust released it or one after it without our settling them, or
        when a later offset is settled: each agent settles a partition's messages in order.
        """
        if self.should_stop or self.app.should_stop:
            return  # stopping: whoever takes the partition over replays from the commit
        now = time.monotonic()
        last = self._refetched.get(tp)
        if last is not None and last[0] == offset and now - last[1] < REFETCH_RETRY_S:
            return
        self._refetched[tp] = (offset, now)
        self._dropped.pop(tp, None)  # those drops are fetched again now
        log.warning("offset %s of %s was dropped before processing; fetching again from there", offset, tp)
        self._seeks += 1
        self._fetched_next.pop(tp, None)
        try:
            self._thread.seek(tp, offset)
        except Exception as exc:  # no longer assigned: the next owner starts from the commit
            log.info("refetch of %s from %s not possible: %r", tp, offset, exc)
