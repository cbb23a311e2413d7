"""bench/state.py on a few hundred pages: every page decided, the tables measured on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bench import state
from worker.core import minhash
from worker.core.envelope import iso_utc
from worker.streaming.tables import StoreMemory, Tables


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
    # the 100 later pages' sweeps go over about half of each table (which half: where the
    # cursors stood), every entry of the first pages out of the window, while adding their own
    assert later < 0.8 * first, printed


def test_a_rocksdb_table_is_swept_from_where_it_stopped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = state.RocksTable(tmp_path / "t", StoreMemory.of(8 * 2**20))
    for key in "abcde":
        table[key] = 1
    assert table.next_entries(0, 2) == [("a", 1), ("b", 1)] and table.next_entries(0, 2) == [("c", 1), ("d", 1)]
    assert table.next_entries(0, 2) == [("e", 1)] and table.next_entries(0, 2) == [("a", 1), ("b", 1)]
    table.close()


def test_band_lists_stay_within_two_windows_at_one_partition(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """At one partition a query lists all 32 band keys of its page in one round: the sweep
    looks at twice what a round listed, so the lists stop growing after two windows."""
    backing = {name: state.RocksTable(tmp_path / name, StoreMemory.of(8 * 2**20)) for name in state.TABLES}
    stages = state.Stages(Tables(**backing), partitions=1, window_s=3600.0)  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    start, per_window = datetime(2026, 11, 30, tzinfo=UTC), 100
    sizes = []
    for n in range(4 * per_window):  # 100 new texts an hour, for four hours
        fetched_at = iso_utc(start + timedelta(seconds=n * 3600 / per_window))
        signature = rng.integers(0, 2**32, minhash.PERMUTATIONS, dtype=np.uint32).tobytes()
        stages.add(state._page(f"https://s.example/{n}", signature, n, fetched_at))
        if (n + 1) % per_window == 0:
            sizes.append(len(backing["bands"]))
    for table in backing.values():
        table.close()
    window = sizes[0]  # 32 band lists and a journal entry per page
    assert window == 33 * per_window and max(sizes) <= 2 * window + 33, sizes  # (+ a round's)
