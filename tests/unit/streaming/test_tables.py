"""`Tables.written`: the changelog futures of every durable table, taken once."""

from __future__ import annotations

from types import SimpleNamespace

from worker.streaming.tables import Tables


def test_written_takes_each_tables_unacknowledged_changelog_records_once() -> None:
    urls, members = SimpleNamespace(unacked=["u1", "u2"]), SimpleNamespace(unacked=["m1"])
    tables = Tables(urls=urls, pending={}, replies={}, bands={}, members=members, waits={})  # type: ignore[arg-type]
    assert tables.written() == ["u1", "u2", "m1"]
    assert tables.written() == [] and urls.unacked == []
