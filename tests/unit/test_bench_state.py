"""bench/state.py on a few hundred pages: every page decided, the tables measured on both stores."""

from __future__ import annotations

import pytest

from bench import state
from worker.streaming.tables import StoreMemory


@pytest.mark.parametrize("store", ["rocksdb", "memory"])
def test_every_page_is_decided_and_every_table_measured(store: str) -> None:
    run = state.measure(store, 300, partitions=4, checkpoints=3)
    assert run.pages == 300 and [p for p, _ in run.rss] == [0, 100, 200, 300]
    assert run.bytes_by_table["urls"] > 0 and run.bytes_by_table["members"] > 0
    assert "pages/s" in state.report([run])


def test_a_rocksdb_table_reads_back_what_it_wrote(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = state.RocksTable(tmp_path / "t", StoreMemory.of(8 * 2**20))
    table["a"] = {"x": [1, 2]}
    table["b"] = None
    assert table.get("a") == {"x": [1, 2]} and table.get("c") is None and "b" in table
    assert table.pop("a") == {"x": [1, 2]} and sorted(table) == ["b"] and len(table) == 1
    assert table.disk_bytes() > 0
    table.close()


def test_the_expiry_run_shrinks_the_state_and_decides_as_documented() -> None:
    printed = state.expiry(500, partitions=4)
    assert "NOT as documented" not in printed and "re-fetch of a published URL: as documented" in printed
    first, later = (float(line.split(": ")[1].split(" MiB")[0]) for line in printed.splitlines()[1:3])
    assert later < 0.7 * first, printed


def test_a_rocksdb_table_is_swept_from_where_it_stopped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = state.RocksTable(tmp_path / "t", StoreMemory.of(8 * 2**20))
    for key in "abcde":
        table[key] = 1
    assert table.next_entries(0, 2) == [("a", 1), ("b", 1)] and table.next_entries(0, 2) == [("c", 1), ("d", 1)]
    assert table.next_entries(0, 2) == [("e", 1)] and table.next_entries(0, 2) == [("a", 1), ("b", 1)]
    table.close()
