"""Expiry of the dedup tables by event time, a few entries per event.

faust writes a table's changelog to the partition of the event being handled, so entries can
only be deleted inside an event of their partition: at the end of each round, a dedup stage
looks at the next few entries per message it handled in a partition (`per_message`), in that
partition's RocksDB database (a cursor that wraps around, read once per round), and deletes or
shrinks those out of the window. A deletion is a changelog tombstone, so a
recovery never brings an expired entry back (band lists, which have no changelog of their own,
are shrunk and deleted in the store; their journal entries are tombstoned once all theirs are
out). The clock is the partition's event time: the
latest fetch time seen in its events (never later than now), minus `INGEST_DEDUP_WINDOW_S`.

With `memory://` tables (the demo) nothing is swept: faust's memory store does not say which
partition a key belongs to. Decisions do not depend on the sweep: a stage ignores expired
state it reads (`core.dedup.horizon`); the sweep only gives the space back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from faust.stores.rocksdb import Store as RocksDBStore

from worker import codec, metrics
from worker.core import dedup
from worker.streaming.tables import Table, write_unlogged

PER_MESSAGE = 16
"""Entries looked at per message, by default: several times what a message adds (one id, a few
band keys), so a whole partition is gone over a few times per window."""

Check = Callable[[int, Any, Any, str], Any]
"""(partition, key, stored value, horizon) -> KEEP, DELETE, the value to store instead, or that
value as `Unlogged`."""
KEEP = object()
DELETE = object()


@dataclass(frozen=True, slots=True)
class Unlogged:
    """The value to store instead (None: delete) for an entry kept without changelog (a band
    list, rebuilt from its journal: `tables.BandLists`)."""

    value: Any


class Scan(Protocol):
    """Where a sweep goes on: the next entries (key, stored value) of a partition, from where
    it stopped."""

    def next_entries(self, partition: int, limit: int) -> list[tuple[Any, Any]]: ...


class Sweeper:
    """Goes over one table's entries, partition by partition, as that partition's events come."""

    def __init__(
        self,
        table: Table,
        check: Check,
        window_s: float,
        scan: Scan | None = None,
        per_message: int = PER_MESSAGE,
        added: Callable[[int], int] | None = None,
    ) -> None:
        self.table = table
        self.check = check
        self.window_s = window_s
        self.per_message = per_message
        """Entries looked at per message: a table holding E entries a window, to which each
        message adds at most one, holds at most E x n / (n - 1) with n per message."""
        self.added = added
        """Entries the round being ended added to a partition, for a table to which a message
        adds many (a band query: its band keys there): at least twice as many are looked at, so
        the table holds at most twice a window's entries."""
        self.scan = scan if scan is not None else RocksDBScan(table)
        self.clocks: dict[int, str] = {}
        self.deleted = metrics.DEDUP_EXPIRED.labels(table=table.name, action="deleted")
        self.shrunk = metrics.DEDUP_EXPIRED.labels(table=table.name, action="shrunk")

    def step(self, partition: int, fetched_at: str | None, now: str, messages: int = 1) -> None:
        """Advance the partition's clock to `fetched_at`, then sweep the next entries for this
        many messages (called inside an event of that partition: what it changes goes to its
        changelog partition)."""
        if fetched_at is not None:
            self.clocks[partition] = max(self.clocks.get(partition, ""), min(fetched_at, now))
        clock = self.clocks.get(partition)
        if clock is None or self.window_s <= 0:
            return
        horizon = dedup.horizon(clock, now, self.window_s)
        limit = self.per_message * messages
        if self.added is not None:
            limit = max(limit, 2 * self.added(partition))
        for key, stored in self.scan.next_entries(partition, limit):
            if stored is None:
                continue
            verdict = self.check(partition, key, stored, horizon)
            if isinstance(verdict, Unlogged):
                write_unlogged(self.table, partition, key, verdict.value)
                (self.shrunk if verdict.value else self.deleted).inc()
            elif verdict is DELETE:
                del self.table[key]
                self.deleted.inc()
            elif verdict is not KEEP:
                self.table[key] = verdict
                self.shrunk.inc()


class RocksDBScan:
    """The entries of a faust table's RocksDB database of a partition, in key order, wrapping
    around at its end (nothing for a memory table). Read in one pass over the database and
    decoded here: through the table, each entry would be looked up and decoded again."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.cursors: dict[int, bytes | None] = {}

    def next_entries(self, partition: int, limit: int) -> list[tuple[Any, Any]]:
        store = self.table.data
        if not isinstance(store, RocksDBStore):
            return []
        cursor = self.cursors.get(partition)
        db = store._db_for_partition(partition)
        raw = [
            (k, v)
            for k, v in islice(db.items(from_key=cursor), limit + 1)
            if k != cursor and k != store.offset_key
        ][:limit]
        if len(raw) < limit and cursor is not None:  # the end: on from the first key, up to
            # where this call began (a round sweeps once per partition, so waiting for the next
            # call to wrap around left the keys before the cursor unswept in short runs)
            first = islice(db.items(), limit - len(raw) + 1)
            raw += [(k, v) for k, v in first if k <= cursor and k != store.offset_key]
            raw = raw[:limit]
        self.cursors[partition] = raw[-1][0] if raw else None
        return [(codec.decode(k), codec.decode(v)) for k, v in raw]
