"""`band-lists` as a journal (`tables.BandLists`): what the band stage leaves in its lists
comes back from the journal's changelog records alone, in the same order, on RocksDB and in
memory; a deleted entry takes its references out; the sweep shrinks lists without changelog."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import orjson
import pytest
from faust.types import TP

from tests.unit.core.test_dedup import page, story
from worker import codec
from worker.core import dedup
from worker.settings import Settings
from worker.streaming.agents import BandStage
from worker.streaming.expiry import DELETE, KEEP, Sweeper, Unlogged
from worker.streaming.tables import JOURNAL_MARK, Tables, _get_unlogged, declare, journal_partition
from worker.streaming.topics import Topics

PARTITIONS = 3


class Event:
    """An event as a stage reads it (weak references allowed: the stage holds one per round)."""

    def __init__(self, value: Any, key: Any, message: Any) -> None:
        self.value, self.key, self.message = value, key, message


class Logged(dict[str, Any]):
    """A plain table that keeps its journal writes as the changelog would carry them."""

    name = "band-lists"

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, Any]] = []

    def __setitem__(self, key: str, value: Any) -> None:
        if key.startswith(JOURNAL_MARK):
            self.log.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        if key.startswith(JOURNAL_MARK):
            self.log.append((key, None))
        super().__delitem__(key)


def band_stage(bands: Logged) -> BandStage:
    tables = Tables(urls={}, pending={}, replies={}, bands=bands, members={}, waits={})  # type: ignore[arg-type]
    topics = Topics(*"raw by_url by_band verdicts articles duplicates rejected".split())  # type: ignore[arg-type]
    return BandStage(topics, tables, Settings(partitions=PARTITIONS), None)  # type: ignore[arg-type]


def query_events(seed: int) -> list[Event]:
    """Band queries of pages (new texts and near-copies) as by-band events, some repeated (a
    replay), at increasing offsets per partition."""
    rng, texts, events, offsets = random.Random(seed), [], [], [0] * PARTITIONS
    for n in range(40):
        if texts and rng.random() < 0.4:
            text = [*rng.choice(texts)[:-1], *story(1000 + n, 1)]  # a near-copy
        else:
            text = story(n)
            texts.append(text)
        queries = dedup.band_queries(page(f"https://s{n % 7}.example/{n}", text, n), PARTITIONS)
        repeats = 2 if rng.random() < 0.1 else 1
        for part, query in [*queries.items()] * repeats:
            offsets[part] += 1
            message = SimpleNamespace(partition=part, offset=offsets[part])
            events.append(Event(codec.band_message(query), None, message))
    return events


def run_rounds(stage: BandStage, events: list[Event], size: int) -> None:
    for start in range(0, len(events), size):
        for event in events[start : start + size]:
            stage.handle(event)  # type: ignore[arg-type]
        stage.flush()


def changelog(log: list[tuple[str, Any]], topic: str) -> list[SimpleNamespace]:
    """Journal writes as the changelog events a restore applies."""
    events = []
    for offset, (key, value) in enumerate(log):
        part = journal_partition(key)
        raw = None if value is None else orjson.dumps(value)
        message = SimpleNamespace(partition=part, key=orjson.dumps(key), value=raw, tp=TP(topic, part), offset=offset)
        events.append(SimpleNamespace(key=key, value=value, message=message))  # (only applied)
    return events


def restored_table(store: str, tmp_path: Path) -> Any:
    app = faust.App("band-lists-test", broker="kafka://127.0.0.1:1", store=store, datadir=str(tmp_path))
    return declare(app, Settings(partitions=PARTITIONS, store_url=store)).bands


def lists_of(bands: Any, keys: set[str]) -> dict[str, Any]:
    return {key: _get_unlogged(bands.data, dedup.band_partition(key, PARTITIONS), key) for key in keys}


@pytest.mark.parametrize("store", ["rocksdb://", "memory://"])
def test_the_journal_alone_restores_every_band_list_in_order(store: str, tmp_path: Path) -> None:
    live = Logged()
    run_rounds(band_stage(live), query_events(seed=3), size=17)
    lists = {k: v for k, v in live.items() if not k.startswith(JOURNAL_MARK)}
    assert any(len(v) > 1 for v in lists.values()), "near-copies share band keys"
    journal = [k for k, _ in live.log]
    assert len(journal) < sum(len(v) for v in lists.values()) / 4, "a record per partition and round"
    bands = restored_table(store, tmp_path)
    events = changelog(live.log, "band-lists-test-band-lists-changelog")
    bands.apply_changelog_batch(events[:7])  # (faust restores in batches)
    bands.apply_changelog_batch(events[7:])
    assert lists_of(bands, set(lists)) == lists


def test_a_replayed_round_adds_to_its_entry_and_changes_no_list() -> None:
    live = Logged()
    stage = band_stage(live)
    events = query_events(seed=5)
    run_rounds(stage, events, size=10)
    before = dict(live)
    run_rounds(stage, events[:25], size=25)  # replayed from the start in bigger rounds
    lists = {k: v for k, v in live.items() if not k.startswith(JOURNAL_MARK)}
    assert lists == {k: v for k, v in before.items() if not k.startswith(JOURNAL_MARK)}
    logged = dedup.indexed_together(v for k, v in before.items() if k.startswith(JOURNAL_MARK))
    for key, entry in live.items():
        if key.startswith(JOURNAL_MARK):  # the same references under the same keys, maybe twice
            assert all(set(keys) == set(logged[ref]) & set(keys) for ref, keys in entry.items())
            assert set(entry) >= set(before.get(key, {}))


def test_a_deleted_entry_takes_its_references_out_of_its_lists(tmp_path: Path) -> None:
    live = Logged()
    run_rounds(band_stage(live), query_events(seed=7), size=17)
    first = next(k for k, _ in live.log)
    deleted: dict[str, list[str]] = live[first]
    log = [*live.log, (first, None)]
    bands = restored_table("rocksdb://", tmp_path)
    bands.apply_changelog_batch(changelog(log, "band-lists-test-band-lists-changelog"))
    keys = {k for k in live if not k.startswith(JOURNAL_MARK)}
    expected = {k: list(live[k]) for k in keys}
    for ref, listed_under in deleted.items():
        for key in listed_under:
            expected[key].remove(ref)
    assert lists_of(bands, keys) == {k: refs or None for k, refs in expected.items()}


def test_the_sweep_shrinks_lists_unlogged_and_deletes_entries_whose_references_all_left() -> None:
    from worker.streaming.agents import _expire_list

    old, new = "0:100:0:1", "0:999999:0:2"  # fetched in hour 100 and much later
    horizon = "2000-01-01T00:00:00+00:00"
    assert _expire_list(0, "ab" * 8, [old, new], horizon) == Unlogged([new])
    assert _expire_list(0, "ab" * 8, [old], horizon) == Unlogged(None)
    assert _expire_list(0, "ab" * 8, [new], horizon) is KEEP
    assert _expire_list(0, "@0:1", {old: ["ab" * 8]}, horizon) is DELETE
    assert _expire_list(0, "@0:2", {old: ["ab" * 8], new: ["ab" * 8]}, horizon) is KEEP

    class Scan:
        def next_entries(self, partition: int, limit: int) -> list[tuple[Any, Any]]:
            return list(table.items())

    table = Logged()
    dict.update(table, {"ab" * 8: [old, new], "cd" * 8: [old], "@0:1": {old: ["ab" * 8, "cd" * 8]}})
    sweeper = Sweeper(table, _expire_list, 3600.0, Scan())  # type: ignore[arg-type]
    sweeper.step(0, horizon, horizon)
    assert dict(table) == {"ab" * 8: [new]}
    assert table.log == [("@0:1", None)], "only the journal entry is logged"
