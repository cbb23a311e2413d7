"""Dedup state: six changelog-backed tables, co-partitioned with the internal topics.

`urls`, `pending` and `replies` are read and written by events of the by-url and verdicts
topics (both keyed by article id); `bands`, `members` and `waits` by events of the by-band topic
(partitioned by band key; a member's record and the waits for it at its home partition).
Values are plain JSON objects (`codec` turns them into `core.dedup` records).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import faust
from faust.stores.memory import Store as MemoryStore
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP, CodecArg, EventT, FutureMessage, StoreT, TableT
from rocksdict import (
    BlockBasedIndexType,
    BlockBasedOptions,
    Cache,
    DBCompressionType,
    Options,
    WriteBufferManager,
)

from worker import codec
from worker.core import dedup
from worker.settings import Settings
from worker.topology import (
    TABLE_BANDS,
    TABLE_MEMBERS,
    TABLE_PENDING,
    TABLE_REPLIES,
    TABLE_URLS,
    TABLE_WAITS,
)

Table = TableT[str, Any]

ROCKSDB_OPTIONS = {"write_buffer_size": 4 * 2**20, "max_write_buffer_number": 2}
"""Per RocksDB database (one per table and partition, standbys included); their memory
altogether is bounded by `StoreMemory`."""

ARENA_BLOCK_BYTES = 64 * 2**10
"""A memtable grows by blocks of this size (RocksDB's default, write_buffer_size / 8, would
reserve 512 KiB in each of the dozens of databases a worker opens before any write)."""


@dataclass(frozen=True)
class StoreMemory:
    """The one bound on the memory of every table database of a process: one block cache
    (data, index and filter blocks) that memtables are charged to as well, so RocksDB stays
    within `capacity` bytes however many tables and partitions are open (faust gives each
    database its own cache and memtables: 72 databases at 12 partitions)."""

    cache: Cache
    buffers: WriteBufferManager

    @classmethod
    def of(cls, capacity: int) -> StoreMemory:
        """A cache of `capacity` bytes, at most half of it memtables: a write that would pass
        that waits for a flush (milliseconds; RocksDB's soft limit overshoots by the open
        databases' memtables: 14 MiB for 4 at 8 databases in `tests/unit/streaming`)."""
        cache = Cache(capacity)
        buffers = WriteBufferManager.new_write_buffer_manager_with_cache(capacity // 2, True, cache)
        return cls(cache, buffers)


class CompressedOptions(RocksDBOptions):
    """faust's RocksDB options with zstd compression instead of RocksDB's default snappy
    (faust passes no compression setting to rocksdict; band keys and member references are
    hex and digits, which snappy barely shrinks: zstd takes a third off the state on disk,
    BENCHMARKS.md, "State of the dedup stages", for no measurable CPU) and the process's
    `StoreMemory` (given as the `memory` option) instead of a cache per database."""

    def as_options(self) -> Options:
        memory: StoreMemory = self.extra_options["memory"]
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_max_open_files(self.max_open_files or -1)
        options.set_write_buffer_size(self.write_buffer_size)
        options.set_max_write_buffer_number(self.max_write_buffer_number)
        options.set_arena_block_size(ARENA_BLOCK_BYTES)
        options.set_target_file_size_base(self.target_file_size_base)
        options.set_compression_type(DBCompressionType.zstd())
        options.set_write_buffer_manager(memory.buffers)
        table = BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(memory.cache)
        table.set_cache_index_and_filter_blocks(True)
        table.set_index_type(BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        return options


def rocksdb_options(memory: StoreMemory) -> Options:
    """The options every table database is opened with (`bench/state.py` uses them too)."""
    return CompressedOptions(**ROCKSDB_OPTIONS, memory=memory, use_rocksdict=True).as_options()


class DurableTable(faust.Table):
    """A faust table that keeps the futures of its changelog records until `Tables.written`
    takes them. faust buffers changelog records and sends them whenever its buffer task runs:
    an output sent meanwhile could be acknowledged first, and a process killed in between
    would leave a record whose decision the changelog never got, so a replay by a worker
    restoring from it would decide the page again (maybe otherwise)."""

    def send_changelog(
        self,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: CodecArg | None = None,
        value_serializer: CodecArg | None = None,
    ) -> FutureMessage:
        sent: FutureMessage = super().send_changelog(
            partition, key, value, key_serializer, value_serializer
        )
        self.__dict__.setdefault("unacked", []).append(sent)
        return sent

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        """Count the restores (after each rebalance): what they wrote to the store went around
        the stages, so what the stages keep in memory of a table is read again
        (`agents.PendingPages.undecided`)."""
        await super().on_recovery_completed(active_tps, standby_tps)
        self.__dict__["recoveries"] = self.__dict__.get("recoveries", 0) + 1

    def _new_store_by_url(self, url: Any) -> StoreT:
        store = super()._new_store_by_url(url)
        if isinstance(store, RocksDBStore):
            store.rocksdb_options = CompressedOptions(**(store.options or {}), use_rocksdict=True)
        return store


JOURNAL_MARK = "@"
"""Journal entries of `band-lists` are keyed '@partition:offset'; band keys are hex."""
JOURNAL_KEY_START = b'"' + JOURNAL_MARK.encode()
"""How a journal entry's key starts in the changelog (JSON)."""


def journal_key(partition: int, offset: int) -> str:
    """The key of a band partition's journal entry for the round starting at `offset`."""
    return f"{JOURNAL_MARK}{partition}:{offset}"


def journal_partition(key: str) -> int:
    """The band partition a journal entry's key names."""
    return int(key[len(JOURNAL_MARK) :].split(":", 1)[0])


class BandLists(DurableTable):
    """`band-lists`: band key -> member references in arrival order, and the journal they are
    rebuilt from. Only the journal goes to the changelog: one entry per band partition and
    round ('@partition:offset of the round's first event there' -> {reference: the band keys
    it is listed under}), where each band key's list was a changelog record of its own (32 per
    page). The lists are stored beside the journal, in the partition's store, without changelog
    (`write_unlogged`); when faust restores a partition (a fresh volume, a standby, a worker
    taking it over), each journal record it applies appends its references to the lists again,
    in the journal's order, so they come out as the stage left them. A list record written
    before the journal existed restores as a list, as it always did."""

    def apply_changelog_batch(self, batch: Iterable[EventT]) -> None:
        """Restore the journal records, and the lists they name: an entry's references are
        appended, a deleted entry's (its tombstone) taken out."""
        events = list(batch)
        entries: dict[tuple[int, bytes], dict[str, list[str]]] = {}
        for event in events:
            message, key = event.message, event.message.key or b""
            if not key.startswith(JOURNAL_KEY_START):
                continue
            at = (message.partition, key)
            if message.value is not None:
                entries[at] = entry = codec.decode(message.value)
                self._relist(message.partition, entry, dedup.relisted)
            else:
                entry = entries.pop(at, None) or _get_unlogged(
                    self.data, message.partition, codec.decode(key)
                )
                if entry:
                    self._relist(message.partition, entry, dedup.unlisted)
        super().apply_changelog_batch(events)

    def _relist(
        self,
        partition: int,
        entry: dict[str, list[str]],
        change: Callable[[Mapping[str, list[str]], Mapping[str, list[str]]], dict[str, list[str]]],
    ) -> None:
        keys = {key for keys in entry.values() for key in keys}
        lists = {key: _get_unlogged(self.data, partition, key) for key in keys}
        for key, refs in change(lists, entry).items():
            _put_unlogged(self.data, partition, key, refs or None)


def write_unlogged(table: Table, partition: int, key: str, value: Any) -> None:
    """Store a value (None: delete the key) without changelog: in a faust table's store, or in a
    plain mapping (the tests' and benches' tables)."""
    store = getattr(table, "data", None)
    if isinstance(store, RocksDBStore | MemoryStore):
        _put_unlogged(store, partition, key, value)
    elif value is not None:
        table[key] = value
    else:
        table.pop(key, None)


def log_round(bands: Table, partition: int, offset: int, indexed: dict[str, list[str]]) -> None:
    """Log what a round listed in a band partition (inside an event of it); a round replayed
    from the same offset adds to the entry instead of replacing it."""
    key = journal_key(partition, offset)
    known = bands.get(key) or {}
    merged = dedup.indexed_together([known, indexed])
    if merged != known:
        bands[key] = merged


def _put_unlogged(store: object, partition: int, key: str, value: Any) -> None:
    """Write (None: delete) a key of a partition's store (a table's `data`) directly: no
    changelog record."""
    if isinstance(store, RocksDBStore):
        db = store._db_for_partition(partition)
        raw = store._encode_key(key)
        if value is None:
            db.delete(raw)
        else:
            db.put(raw, store._encode_value(value))
    elif not isinstance(store, MemoryStore):
        raise TypeError(f"not a faust store: {store!r}")
    elif value is None:
        store.data.pop(key, None)
    else:  # one dict for every partition, the partition noted so a revocation drops it
        store.data[key] = value
        store._key_partition[key] = partition


def _get_unlogged(store: object, partition: int, key: str) -> Any:
    """Read a key of a partition's store directly (outside any event)."""
    if isinstance(store, RocksDBStore):
        raw = store._db_for_partition(partition).get(store._encode_key(key))
        return None if raw is None else store._decode_value(raw)
    if not isinstance(store, MemoryStore):
        raise TypeError(f"not a faust store: {store!r}")
    return store.data.get(key)


@dataclass(frozen=True)
class Tables:
    """The dedup tables (see `core.dedup` for what each value means)."""

    urls: Table
    """article id -> UrlState: current revision and every decision, by raw coordinates."""
    pending: Table
    """origin key -> a page waiting for its band partitions' hits and home answers (or queued
    behind another page of its id) and since when: written once."""
    replies: Table
    """origin key -> the band partitions and homes that page asked and their answers so far:
    rewritten at each answer, so an answer does not rewrite the page (`core.dedup.Pending` is
    the two)."""
    bands: Table
    """band key -> references of its members ('home:hour:partition:offset'), arrival order,
    rebuilt from its journal (`BandLists`)."""
    members: Table
    """member reference -> Member: an indexed page's record, at its home partition only."""
    waits: Table
    """member reference -> lookups waiting for it to settle (or to arrive), at its home."""

    def written(self) -> list[asyncio.Future[Any]]:
        """The changelog records written since the last call, as futures acknowledged by the
        broker (none for tables that are not `DurableTable`s)."""
        taken: list[asyncio.Future[Any]] = []
        for f in fields(self):
            unacked = getattr(getattr(self, f.name), "__dict__", {}).get("unacked")
            if unacked:
                taken += unacked
                unacked.clear()
        return taken


def declare(app: faust.App, settings: Settings) -> Tables:
    """Declare the tables (keys and values use the app's default json serializer); their
    RocksDB databases share `INGEST_STORE_MEMORY_BYTES` of memory."""

    options = None
    if settings.store_url.startswith("rocksdb:"):
        options = {**ROCKSDB_OPTIONS, "memory": StoreMemory.of(settings.store_memory_bytes)}

    def table(name: str, help_: str) -> Table:
        declared: Table = app.Table(
            name, default=None, partitions=settings.partitions, help=help_, options=options
        )
        return declared

    bands = BandLists(
        app,
        name=TABLE_BANDS,
        default=None,
        beacon=app.tables.beacon,
        partitions=settings.partitions,
        help="band key -> members in arrival order (and their journal)",
        options=options,
    )
    app.tables.add(bands)  # as app.Table does, with this table's class

    return Tables(
        urls=table(TABLE_URLS, "article id -> current revision and decisions"),
        pending=table(TABLE_PENDING, "origin -> page waiting for band answers"),
        replies=table(TABLE_REPLIES, "origin -> band partitions asked and their answers"),
        bands=bands,
        members=table(TABLE_MEMBERS, "partition:origin -> indexed page"),
        waits=table(TABLE_WAITS, "partition:origin -> queries waiting for it"),
    )
