"""Dedup state: six changelog-backed tables, co-partitioned with the internal topics.

`urls`, `pending` and `replies` are read and written by events of the by-url and verdicts
topics (both keyed by article id); `bands`, `members` and `waits` by events of the by-band topic
(partitioned by band key; a member's record and the waits for it at its home partition).
Values are plain JSON objects (`codec` turns them into `core.dedup` records).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from typing import Any

import faust
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import CodecArg, FutureMessage, StoreT, TableT
from rocksdict import (
    BlockBasedIndexType,
    BlockBasedOptions,
    Cache,
    DBCompressionType,
    Options,
    WriteBufferManager,
)

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

    def _new_store_by_url(self, url: Any) -> StoreT:
        store = super()._new_store_by_url(url)
        if isinstance(store, RocksDBStore):
            store.rocksdb_options = CompressedOptions(**(store.options or {}), use_rocksdict=True)
        return store


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
    """band key -> references of its members ('home:hour:partition:offset'), arrival order."""
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

    return Tables(
        urls=table(TABLE_URLS, "article id -> current revision and decisions"),
        pending=table(TABLE_PENDING, "origin -> page waiting for band answers"),
        replies=table(TABLE_REPLIES, "origin -> band partitions asked and their answers"),
        bands=table(TABLE_BANDS, "band key -> members in arrival order"),
        members=table(TABLE_MEMBERS, "partition:origin -> indexed page"),
        waits=table(TABLE_WAITS, "partition:origin -> queries waiting for it"),
    )
