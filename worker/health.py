"""Liveness as progress, over the whole consumer group: pages waiting anywhere count.

Pure bookkeeping (no Kafka, no faust). The streaming layer feeds it, every probe, what its own
clients read of the group: log-end and committed offsets of every partition of every topic the
app consumes (raw and internal), which partitions some member holds and which this process
holds; and when this process last made progress (settled a message or finished a page).

A partition is stuck when it has lag and nothing moved it for `stall_timeout_s`: its committed
offset did not change and, if this process holds messages of it in flight or is recovering its
tables, this process made no progress either (a page waiting behind slow pages is not stuck,
nor is a partition whose tables are being restored while the restore advances). A stuck
partition this process holds, or that no member holds (a topic the group's assignment left
out: its pages wait forever otherwise), makes the worker unhealthy; a partition another member
holds is that member's to judge, so one member's long recovery does not make the others exit.
A consumed topic that does not exist, or a group that cannot be read, for `stall_timeout_s` is
unhealthy too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Partition(NamedTuple):
    """A topic partition (hashable, ordered, printable)."""

    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Observation:
    """One probe of the group."""

    end: Mapping[Partition, int]
    """Log-end offset of every partition of every consumed topic that exists."""
    committed: Mapping[Partition, int]
    """The group's committed offsets (a partition without one starts at `start`)."""
    start: Mapping[Partition, int] = field(default_factory=dict)
    """Log-start offsets, for partitions without a committed offset."""
    held: Set[Partition] = frozenset()
    """Partitions some member of the group holds."""
    busy: Set[Partition] = frozenset()
    """Partitions whose messages this process has in flight."""
    mine: Set[Partition] = frozenset()
    """Partitions this process holds."""
    recovering: bool = False
    """This process is restoring its tables (its partitions wait for that, not for a page)."""
    missing: Sequence[str] = ()
    """Consumed topics that do not exist."""


@dataclass(frozen=True, slots=True)
class Status:
    """What /healthz reports."""

    healthy: bool
    lag: int
    seconds_without_progress: float
    detail: str
    stalled_topics: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "stalled",
            "lag": self.lag,
            "seconds_without_progress": round(self.seconds_without_progress, 1),
            "detail": self.detail,
            "stalled_topics": list(self.stalled_topics),
        }


@dataclass
class ProgressTracker:
    """Remembers, per partition, when it last moved; judges each observation."""

    stall_timeout_s: float
    lags: dict[Partition, int] = field(default_factory=dict)
    """The lag of each partition at the last observation that read them."""
    _committed: dict[Partition, int] = field(default_factory=dict)
    _moved_at: dict[Partition, float] = field(default_factory=dict)
    _missing_since: dict[str, float] = field(default_factory=dict)
    _read_at: float | None = None

    def observe(self, now: float, seen: Observation, progressed_at: float | None = None) -> Status:
        """Judge one probe; `progressed_at` is when this process last made progress."""
        self._read_at = now
        since = {name: self._missing_since.get(name, now) for name in seen.missing}
        self._missing_since = since
        gone = sorted(name for name in since if now - since[name] > self.stall_timeout_s)
        if gone:
            detail = f"topic {', '.join(gone)} does not exist"
            return Status(False, 0, now - min(since.values()), detail, tuple(gone))
        lags: dict[Partition, int] = {}
        for tp, end in seen.end.items():
            position = seen.committed.get(tp, seen.start.get(tp, 0))
            lags[tp] = max(0, end - position)
            moved = self._committed.get(tp) != position
            if tp not in self._moved_at or moved or not lags[tp]:
                self._moved_at[tp] = now
            waits_for_me = tp in seen.busy or (seen.recovering and tp in seen.mine)
            if waits_for_me and progressed_at is not None:
                self._moved_at[tp] = max(self._moved_at[tp], min(progressed_at, now))
            self._committed[tp] = position
        self.lags = lags
        self._moved_at = {tp: self._moved_at[tp] for tp in seen.end}
        self._committed = {tp: self._committed[tp] for tp in seen.end}
        judged = [tp for tp in seen.end if tp in seen.mine or tp not in seen.held]
        idle = {tp: now - self._moved_at[tp] for tp in judged if lags[tp]}
        longest = max(idle.values(), default=0.0)
        lag = sum(lags.values())
        stuck = sorted(tp for tp, seconds in idle.items() if seconds > self.stall_timeout_s)
        if stuck:
            topics = tuple(sorted({tp.topic for tp in stuck}))
            detail = f"no progress for {longest:.0f} s: {describe(stuck, seen.held)}"
            return Status(False, lag, longest, detail, topics)
        return Status(True, lag, longest, "progressing" if lag else "caught up")

    def unreadable(self, now: float, previous: Status, error: str) -> Status:
        """The group could not be read: stalled once that lasted `stall_timeout_s`."""
        if self._read_at is None:
            self._read_at = now
        blind = now - self._read_at
        if blind > self.stall_timeout_s:
            detail = f"offsets unreadable for {blind:.0f} s: {error}"[:300]
            return Status(False, previous.lag, blind, detail)
        return previous


def describe(stuck: Sequence[Partition], held: Set[Partition]) -> str:
    """Stuck partitions by topic, saying which no member of the group holds."""
    parts = []
    for topic in sorted({tp.topic for tp in stuck}):
        numbers = [tp.partition for tp in stuck if tp.topic == topic]
        orphans = [n for n in numbers if Partition(topic, n) not in held]
        line = f"lag on {topic} {numbers}"
        if orphans:
            line += f" (partitions {orphans} held by no member of the group)"
        parts.append(line)
    return "; ".join(parts)[:600]


def with_undecided(status: Status, pages: int, oldest_s: float, limit_s: float) -> Status:
    """The status, stalled if a page has been undecided in this process's dedup stages for over
    `limit_s`: its raw message is committed, so lag 0 does not mean that nothing waits."""
    if not status.healthy or oldest_s <= limit_s:
        return status
    detail = f"{pages} pages undecided in the dedup stages, the oldest for {oldest_s:.0f} s"
    return Status(False, status.lag, oldest_s, detail)


@dataclass
class ProgressClock:
    """When this process last made progress: a message settled or a page finished (monotonic s);
    and what its dedup stages hold undecided, as last counted."""

    last: float | None = None
    undecided: int = 0
    oldest_undecided_s: float = 0.0

    def mark(self) -> None:
        self.last = time.monotonic()
