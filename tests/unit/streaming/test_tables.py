"""`Tables.written` (the changelog futures of every durable table, taken once) and the
databases' options (`rocksdb_options`, `StoreMemory`)."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

from rocksdict import Rdict

from worker.streaming.tables import StoreMemory, Tables, rocksdb_options


def test_written_takes_each_tables_unacknowledged_changelog_records_once() -> None:
    urls, members = SimpleNamespace(unacked=["u1", "u2"]), SimpleNamespace(unacked=["m1"])
    tables = Tables(urls=urls, pending={}, replies={}, bands={}, members=members, waits={})  # type: ignore[arg-type]
    assert tables.written() == ["u1", "u2", "m1"]
    assert tables.written() == [] and urls.unacked == []


def test_every_database_of_a_process_shares_one_bounded_memory(tmp_path: Path) -> None:
    """Memtables of all databases are charged to one cache and held to half of it: writing
    four times the capacity over eight databases flushes them (files on disk) instead of
    growing memory (without the stall, RocksDB's soft limit reached 14 MiB here)."""
    capacity = 8 * 2**20
    memory = StoreMemory.of(capacity)
    dbs = [Rdict(str(tmp_path / f"db{n}"), rocksdb_options(memory)) for n in range(8)]
    try:
        rng, most = random.Random(1), 0
        for n in range(4 * capacity // 4096):
            dbs[n % 8][rng.randbytes(16)] = rng.randbytes(4096)
            most = max(most, memory.buffers.get_usage())
        assert 0 < most <= capacity * 0.55
        assert memory.cache.get_usage() <= capacity
        assert sum(1 for _ in tmp_path.rglob("*.sst")) >= 2
    finally:
        for db in dbs:
            db.close()
    options = "\n".join(p.read_text() for p in tmp_path.rglob("OPTIONS-*"))
    assert "compression=kZSTD" in options and "cache_index_and_filter_blocks=true" in options
