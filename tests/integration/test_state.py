"""The RocksDB store through the real broker: a worker killed with SIGKILL and started again on
its volume restores its tables from its local files (reading only the changelog records it
lacks), and decides as if it had never stopped."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rocksdict import AccessType, Rdict

from bench import recovery as recovery_log
from tests.integration.harness import Collector, Names, WorkerProcess, create_topics, wait_for_group
from tests.integration.scenario import Scenario
from tests.integration.test_dedup import html, paragraphs
from worker.streaming.tables import Tables

PARTITIONS = 4


def logged(log: str, title: str) -> dict[tuple[str, int], int]:
    """A table of offsets faust's recovery logged last under `title`, by (changelog, partition)."""
    assert title in log, f"{title!r} not logged"
    return recovery_log.logged(log, title)


def restored_from(log: str) -> dict[tuple[str, int], int]:
    """Where the last recovery started reading each changelog partition (-1: the beginning)."""
    return logged(log, "active offsets at start of reading:")


def highwaters(log: str) -> dict[tuple[str, int], int]:
    """The last offset of each changelog partition at that recovery (-1: empty)."""
    return logged(log, "Highwater for active changelog partitions:")


async def ready(worker: WorkerProcess, timeout_s: float = 90) -> None:
    """Until /readyz answers 200 (the tables restored)."""
    deadline = time.monotonic() + timeout_s
    while worker.get("/readyz")[0] != 200:
        assert worker.process.poll() is None, worker.log()[-3000:]
        assert time.monotonic() < deadline, worker.log()[-3000:]
        await asyncio.sleep(0.5)


async def test_a_killed_worker_restores_its_tables_from_its_volume(
    broker: Any, names: Names, workers: Any, collector: Collector, tmp_path: Any
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], PARTITIONS)
    volume = tmp_path / "volume"
    first = workers.start(PARTITIONS, data_dir=volume)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    await ready(first)
    fresh = restored_from(first.log())
    tables = len(fields(Tables))
    assert len(fresh) == tables * PARTITIONS and set(fresh.values()) == {-1}, fresh  # nothing local
    s = Scenario(broker, names)
    stories = {n: paragraphs(10 + n) for n in range(12)}
    for n, text in stories.items():
        await s.page(f"https://publisher.example.com/{n}", html(f"Story {n}", text), f"v{n}", revision=1,
                     fetched_at="2026-11-01T08:00:00Z")  # fmt: skip
    s.check(await s.outputs(collector))
    first.kill()

    second = workers.start(PARTITIONS, data_dir=volume)
    await ready(second)
    # Every table partition restored from the volume up to its changelog's end: nothing read.
    local, written = restored_from(second.log()), highwaters(second.log())
    assert local == written and max(local.values()) > 0, (local, written)
    # The restored tables decide: re-fetches are duplicates of the articles, an update is
    # revision 2, a copy on another site points at the publisher's article.
    for n, text in stories.items():
        await s.page(f"https://publisher.example.com/{n}", html(f"Story {n}", text), f"again {n}",
                     dup=("url", f"v{n}"), fetched_at="2026-11-02T08:00:00Z")  # fmt: skip
    update = stories[0][:3] + paragraphs(99)[:6]
    await s.page("https://publisher.example.com/0", html("Story 0", update), "update", revision=2,
                 fetched_at="2026-11-03T08:00:00Z")  # fmt: skip
    await s.page("https://copies.example.net/5", html("Copy", stories[5]), "copy", dup=("content", "v5"),
                 fetched_at="2026-11-03T08:00:00Z")  # fmt: skip
    s.check(await s.outputs(collector))
    databases = list((volume / names.app_id).rglob("*.db"))
    assert "url-state" in " ".join(p.name for p in databases)
    # Every table database is compressed with zstd (faust would leave RocksDB's snappy).
    compressions = {line.strip() for db in databases for options in db.glob("OPTIONS-*")
                    for line in options.read_text().splitlines() if line.strip().startswith("compression=")}  # fmt: skip
    assert compressions == {"compression=kZSTD"}, compressions


def generations(log: str) -> list[int]:
    """The group generations the worker joined, in order (aiokafka logs each join)."""
    return [int(g) for g in re.findall(r"Joined group '[^']+' \(generation (\d+)\)", log)]


async def test_a_static_member_killed_and_restarted_keeps_its_partitions_without_a_rebalance(
    broker: Any, names: Names, workers: Any, collector: Collector, tmp_path: Any
) -> None:
    """With INGEST_GROUP_INSTANCE_ID (the pod name), a worker back within the session timeout
    rejoins the generation it left: the group does not rebalance, and it goes on deciding."""
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], PARTITIONS)
    volume, member = tmp_path / "volume", {"INGEST_GROUP_INSTANCE_ID": "ingest-worker-0"}
    first = workers.start(PARTITIONS, data_dir=volume, INGEST_SESSION_TIMEOUT_S="30", **member)
    await ready(first)
    s = Scenario(broker, names)
    await s.page("https://publisher.example.com/static", html("Static", paragraphs(7)), "v1", revision=1,
                 fetched_at="2026-11-01T08:00:00Z")  # fmt: skip
    s.check(await s.outputs(collector))
    [joined] = generations(first.log())
    first.kill()
    # As a pod of the StatefulSet: the same name, volume and web address (faust keeps the
    # worker's web URL in its assignment and refuses one handed back under another).
    member["INGEST_WEB_PORT"] = str(first.web_port)
    second = workers.start(PARTITIONS, data_dir=volume, INGEST_SESSION_TIMEOUT_S="30", **member)
    await ready(second)
    assert generations(second.log()) == [joined], second.log()[-3000:]
    await s.page("https://publisher.example.com/static", html("Static", paragraphs(7)), "again",
                 dup=("url", "v1"), fetched_at="2026-11-02T08:00:00Z")  # fmt: skip
    s.check(await s.outputs(collector))


T0, T2 = "2026-11-01T08:00:00Z", "2026-11-01T10:00:00Z"
"""Fetch times two hours apart, for a window of one hour."""


async def changelog(bootstrap: str, topic: str) -> dict[bytes, bytes | None]:
    """The latest value of every key of a changelog topic (None: a tombstone)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends, latest = await consumer.end_offsets(parts), {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                latest.update((r.key, r.value) for r in batch)
        return latest
    finally:
        await consumer.stop()


def local(volume: Path, table: str) -> dict[str, Any]:
    """Every entry of a table in a stopped worker's RocksDB files (all partitions)."""
    entries: dict[str, Any] = {}
    for path in (volume).rglob(f"{table}-*.db"):
        db = Rdict(str(path), access_type=AccessType.read_only())
        try:
            entries.update((orjson.loads(k), orjson.loads(v)) for k, v in db.items() if not k.startswith(b"__faust"))
        finally:
            db.close()
    return entries


def check_expired(urls: dict[str, Any], members: dict[str, Any], lists: dict[str, Any], old: set[str]) -> None:
    """Nothing fetched at T0 is left but the markers of the ids that only had T0 pages."""
    assert members and all(m["fetched_at"] >= "2026-11-01T09:00" for m in members.values()), members
    listed = {ref for refs in lists.values() for ref in refs}
    assert listed and set(members) >= listed
    for id_ in old:
        state = urls[id_]
        assert state["current"]["signature"] == "" and not state["decisions"], state


async def test_state_out_of_the_window_is_deleted_locally_in_the_changelog_and_after_recovery(
    broker: Any, names: Names, workers: Any, collector: Collector, tmp_path: Any
) -> None:
    """With a one-hour window, pages fetched two hours after a first batch: the first batch's
    band entries are deleted (tombstones in the changelog), its URLs keep only a marker of their
    last revision, which the URL seen again continues; a worker recovering from the changelog
    on a fresh volume brings none of it back and decides the same way."""
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], PARTITIONS)
    window = {"INGEST_DEDUP_WINDOW_S": "3600"}
    first_volume, second_volume = tmp_path / "first", tmp_path / "second"
    first = workers.start(PARTITIONS, data_dir=first_volume, **window)
    await ready(first)
    s = Scenario(broker, names)
    stories = {n: paragraphs(30 + n) for n in range(6)}
    for n, text in stories.items():
        await s.page(f"https://publisher.example.com/{n}", html(f"Story {n}", text), f"v{n}", revision=1,
                     fetched_at=T0)  # fmt: skip
    s.check(await s.outputs(collector))
    # Two hours later: the same text again is a duplicate of the marker's revision, a new text
    # its next revision, and a copy of an expired story is an article of its own (its original
    # is out of the window). Fresh stories move every partition's clock and sweep.
    await s.page("https://publisher.example.com/0", html("Story 0", stories[0]), "again 0",
                 dup=("url", "v0"), fetched_at=T2)  # fmt: skip
    await s.page("https://publisher.example.com/1", html("Story 1", paragraphs(90)), "v1 update", revision=2,
                 fetched_at=T2)  # fmt: skip
    await s.page("https://copies.example.net/2", html("Copy", stories[2]), "copy 2", revision=1, fetched_at=T2)
    for n in range(20):
        await s.page(f"https://fresh.example.org/{n}", html(f"Fresh {n}", paragraphs(60 + n)), f"f{n}",
                     revision=1, fetched_at=T2)  # fmt: skip
    s.check(await s.outputs(collector))
    assert first.stop() == 0

    old = {s.extracted[f"v{n}"].id for n in (2, 3, 4, 5)}
    tables = {t: local(first_volume, t) for t in ("url-state", "band-members", "band-lists")}
    check_expired(tables["url-state"], tables["band-members"], tables["band-lists"], old)
    # In the changelogs: the members of T0 are tombstones, their ids' latest value a marker.
    logged = {t: await changelog(broker.bootstrap, f"{names.app_id}-{t}-changelog")
              for t in ("url-state", "band-members", "band-lists")}  # fmt: skip
    tombstones = [k for k, v in logged["band-members"].items() if v is None]
    assert len(tombstones) >= len(stories), logged["band-members"]  # one record per page
    live = {t: {orjson.loads(k): orjson.loads(v) for k, v in entries.items() if v is not None}
            for t, entries in logged.items()}  # fmt: skip
    check_expired(live["url-state"], live["band-members"], live["band-lists"], old)

    # A worker on a fresh volume recovers from the changelogs: nothing expired comes back,
    # and the markers still decide.
    second = workers.start(PARTITIONS, data_dir=second_volume, **window)
    await ready(second)
    await s.page("https://publisher.example.com/3", html("Story 3", stories[3]), "again 3",
                 dup=("url", "v3"), fetched_at=T2)  # fmt: skip
    await s.page("https://publisher.example.com/4", html("Story 4", paragraphs(91)), "v4 update", revision=2,
                 fetched_at=T2)  # fmt: skip
    s.check(await s.outputs(collector))
    assert second.stop() == 0
    restored = {t: local(second_volume, t) for t in ("url-state", "band-members", "band-lists")}
    check_expired(restored["url-state"], restored["band-members"], restored["band-lists"], old - {s.extracted["v3"].id, s.extracted["v4"].id})
