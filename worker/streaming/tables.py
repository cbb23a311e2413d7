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
from rocksdict import DBCompressionType, Options

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

ROCKSDB_OPTIONS = {
    "write_buffer_size": 4 * 2**20,
    "max_write_buffer_number": 2,
    "block_cache_size": 8 * 2**20,
}
"""Per RocksDB database (one per table and partition, standbys included): at most 16 MiB of
memory each (memtables and block cache; faust's defaults allow 2.7 GiB each)."""


class CompressedOptions(RocksDBOptions):
    """faust's RocksDB options with zstd compression instead of RocksDB's default snappy
    (faust passes no compression setting to rocksdict). Band keys and member references are
    hex and digits, which snappy barely shrinks: zstd takes a third off the state on disk
    (BENCHMARKS.md, "State of the dedup stages") for no measurable CPU."""

    def as_options(self) -> Options:
        options: Options = super().as_options()
        options.set_compression_type(DBCompressionType.zstd())
        return options


def rocksdb_options() -> Options:
    """The options every table database is opened with (`bench/state.py` uses them too)."""
    return CompressedOptions(**ROCKSDB_OPTIONS, use_rocksdict=True).as_options()


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
    """Declare the tables (keys and values use the app's default json serializer)."""

    options = ROCKSDB_OPTIONS if settings.store_url.startswith("rocksdb:") else None

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
