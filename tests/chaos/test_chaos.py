"""Chaos: 5,000 pages through 2-3 worker processes while workers are SIGKILLed, the broker is
restarted and a third worker joins. A verifier then reads all three output topics.

Passes when every input has an outcome, no unique article is missing or dropped as a duplicate,
every group of copies (exact and near) has one article that all its duplicates point at, every
update is its URL's revision 2, no page got two different decisions (kind, revision, target,
similarity, stale), and hostile pages carry their expected reason. Repeated outputs
(at-least-once replays) are counted and reported, not failed.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Broker, Collector, Names, Workers, create_topics, wait_for_group

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

SEED = int(os.environ.get("CHAOS_SEED", "20261125"))
SINGLES, GROUPS, UPDATES, HOSTILE = 2200, 500, 100, 100  # 2,200 + 5 x 500 + 2 x 100 + 100 = 5,000
CHUNK = 100
PARTITIONS = 4
WORKER_ENV = {"INGEST_STALL_TIMEOUT_S": "40"}  # a stalled worker exits; the supervisor restarts it
SPA = "<html><body><div id='app'></div>" + "<script src='/a.js'></script>" * 3 + "</body></html>"
BOMB = base64.b64encode(gzip.compress(b" " * 50_000_000)).decode()
HOSTILE_KINDS: list[tuple[str, Any]] = [
    ("not_json", lambda i: f"not json #{i}".encode()),
    ("invalid_schema", lambda i: orjson.dumps({"html": f"<p>no url {i}</p>"})),
    ("invalid_url", lambda i: orjson.dumps({"url": f"ftp://files.example.com/{i}", "html": "<p>x</p>"})),
    ("not_html", lambda i: orjson.dumps({"url": f"https://img.example.com/{i}.png",
                                         "body": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()})),
    ("needs_javascript", lambda i: orjson.dumps({"url": f"https://app.example.com/{i}", "html": SPA})),
    ("decompressed_too_large", lambda i: orjson.dumps({"url": f"https://bomb.example.com/{i}", "body": BOMB})),
]  # fmt: skip


def progress(line: str) -> None:
    """Progress on the real stderr, past pytest's capture (this test runs for minutes)."""
    print(f"chaos: {line}", file=sys.__stderr__, flush=True)


@dataclass
class Input:
    """One seeded message and what it must become."""

    value: bytes
    group: int | None = None  # content group, for originals with duplicates
    update: tuple[int, int] | None = None  # (story, version 1 or 2): a URL updated later
    unique: bool = False  # a page nobody else duplicates: must be an article
    reason: str | None = None  # expected rejection reason


@dataclass
class Plan:
    """The seeded messages in send order, chunked."""

    chunks: list[list[Input]] = field(default_factory=list)

    @property
    def inputs(self) -> Iterator[Input]:
        return (i for chunk in self.chunks for i in chunk)


def make_plan(rng: random.Random) -> Plan:
    """Singles, groups (original, re-fetch, URL variant, syndicated copy, near-copy), updates
    (a page and, later, its substantially new text at the same URL) and hostile messages.

    Each group's duplicates and each update go out a few chunks after the first page.
    """
    n_chunks = (SINGLES + 5 * GROUPS + 2 * UPDATES + HOSTILE) // CHUNK
    slots: list[list[Input]] = [[] for _ in range(n_chunks)]
    for i in range(SINGLES):
        url = f"https://single.example.com/{i}"
        slots[rng.randrange(n_chunks)].append(Input(orjson.dumps(message(url, article_html(10_000 + i))), unique=True))
    for g in range(GROUPS):
        html, url = article_html(50_000 + g), f"https://group.example.com/story/{g}"
        first = rng.randrange(n_chunks - 8)
        slots[first].append(Input(orjson.dumps(message(url, html, meta={"g": g})), group=g))
        for variant in (url, f"{url}/?utm_source=feed#top", f"https://mirror.example.net/copy/{g}"):
            later = first + rng.randint(2, 7)
            slots[later].append(Input(orjson.dumps(message(variant, html, meta={"g": g})), group=g))
        near = article_html(50_000 + g, note=f"Editor's note: copy {g} of this story adds a line of its own.")
        later = first + rng.randint(2, 7)
        slots[later].append(Input(orjson.dumps(message(f"https://near.example.org/{g}", near)), group=g))
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    for u in range(UPDATES):  # fetched within the dedup window (older pages: README, rule 6)
        url, first = f"https://updated.example.com/{u}", rng.randrange(n_chunks - 8)
        for version, slot in ((1, first), (2, first + rng.randint(2, 7))):
            fetched_at = f"{yesterday}T0{version}:00:00Z"
            page = message(url, article_html(70_000 + 2 * u + version), fetched_at=fetched_at)
            slots[slot].append(Input(orjson.dumps(page), update=(u, version)))
    for i in range(HOSTILE):
        reason, make = HOSTILE_KINDS[i % len(HOSTILE_KINDS)]
        slots[rng.randrange(n_chunks)].append(Input(make(i), reason=reason))
    return Plan(slots)


@dataclass
class Verdict:
    """The verifier's figures."""

    inputs: int = 0
    articles: int = 0
    duplicates: int = 0
    rejected: int = 0
    missing: int = 0
    wrongly_dropped: int = 0
    conflicting: int = 0
    wrong_reason: int = 0
    wrong_revision: int = 0
    repeated: int = 0
    stray: int = 0
    examples: list[str] = field(default_factory=list)
    """A few of the wrong decisions, for the failure message."""

    def line(self) -> str:
        figures = " ".join(f"{k.replace('_', '-')}={v}" for k, v in self.__dict__.items() if k != "examples")
        return "\n".join([figures, *self.examples[:10]])


def decision(topic: str, value: dict[str, Any], names: Names) -> tuple[Any, ...]:
    """What was decided for a page (kind, target, revision...), ignoring when it was decided."""
    if topic == names.articles:
        return ("article", value["id"], value["content_hash"], value["revision"])
    if topic == names.duplicates:
        return ("duplicate", value["duplicate_of"], value["kind"], value["similarity"], value["stale"])
    return ("rejected", value["reason"])


def verify(sent: dict[tuple[int, int], Input], records: list[Any], names: Names) -> Verdict:
    """Account for every input; see the module docstring for what counts as what."""
    v = Verdict(inputs=len(sent))
    by_origin: dict[tuple[int, int], list[tuple[str, ...]]] = defaultdict(list)
    internal = 0  # records about an internal message (a stage's error boundary), not a page
    for r in records:
        o = r.value["origin"]
        if o["topic"] != names.raw:
            internal += 1
            v.examples.append(f"record about internal message {o}: {decision(r.topic, r.value, names)}")
            continue
        by_origin[(o["partition"], o["offset"])].append(decision(r.topic, r.value, names))
    v.stray = len(set(by_origin) - set(sent)) + internal
    group_articles: dict[int, set[str]] = defaultdict(set)
    group_dup_targets: dict[int, set[str]] = defaultdict(set)
    updates: dict[int, dict[int, tuple[Any, ...]]] = defaultdict(dict)
    group_decisions: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for coords, item in sent.items():
        decisions = by_origin.get(coords, [])
        if not decisions:
            v.missing += 1
            continue
        v.repeated += len(decisions) - 1
        if len(set(decisions)) > 1:
            v.conflicting += 1
            v.examples.append(f"{coords} decided differently: {sorted(set(decisions))} (group {item.group}, update {item.update})")
        kind = decisions[0][0]
        v.articles += kind == "article"
        v.duplicates += kind == "duplicate"
        v.rejected += kind == "rejected"
        if item.unique and kind != "article":
            v.wrongly_dropped += 1
            v.examples.append(f"unique page {coords} decided {decisions[0]}")
        if item.reason is not None and decisions[0] != ("rejected", item.reason):
            v.wrong_reason += 1
        if item.group is not None:
            target = group_articles if kind == "article" else group_dup_targets
            target[item.group].add(decisions[0][1])
            group_decisions[item.group].append((coords, *decisions[0]))
        if item.update is not None:
            updates[item.update[0]][item.update[1]] = decisions[0]
    for g in range(GROUPS):
        # A group keeps exactly one article id, and every duplicate points at it.
        if len(group_articles[g]) != 1 or not group_dup_targets[g] <= group_articles[g]:
            v.wrongly_dropped += 1
            v.examples.append(f"group {g}: {sorted(group_decisions[g])}")
    v.wrong_revision = sum(not _updated(pair) for pair in updates.values() if len(pair) == 2)
    return v


def _updated(pair: dict[int, tuple[Any, ...]]) -> bool:
    """Version 1 then 2 of one URL: revisions 1 and 2 of one id; or, if version 2 was decided
    first (both in flight during a restart), version 2 as revision 1 and version 1 a stale
    url duplicate of it. Never version 1 published over version 2."""
    one, two = pair[1], pair[2]
    if one[0] == two[0] == "article":
        return one[1] == two[1] and (one[3], two[3]) == (1, 2)
    return two[0] == "article" and two[3] == 1 and one[:3] == ("duplicate", two[1], "url") and one[4]


class Chaos:
    """Seeds chunks while SIGKILLing workers, restarting the broker and adding a worker."""

    def __init__(self, broker: Broker, names: Names, workers: Workers, rng: random.Random) -> None:
        self.broker, self.names, self.workers, self.rng = broker, names, workers, rng
        self.events: list[str] = []
        self.unexpected_exits = 0

    def supervise(self) -> None:
        """Restart any worker that exited on its own, as Kubernetes would."""
        for w in list(self.workers.running):
            if w.process.poll() is not None:
                self.unexpected_exits += 1
                self.events.append(f"worker exited by itself with {w.process.returncode}; restarted")
                progress(self.events[-1])
                self.workers.running.remove(w)
                self.workers.start(PARTITIONS, **WORKER_ENV)

    async def kill_one(self) -> None:
        victim = self.rng.choice(self.workers.running)
        victim.kill()
        self.workers.running.remove(victim)
        self.events.append(f"SIGKILL worker pid {victim.process.pid}")
        await asyncio.sleep(self.rng.uniform(0.5, 3.0))
        self.workers.start(PARTITIONS, **WORKER_ENV)

    async def restart_broker(self) -> None:
        self.broker.stop()
        self.events.append("broker stopped")
        await asyncio.sleep(3)
        self.broker.start()
        self.events.append("broker started")

    async def add_worker(self) -> None:
        self.workers.start(PARTITIONS, **WORKER_ENV)
        self.events.append("third worker added (rebalance)")


async def send_chunk(producer: AIOKafkaProducer, topic: str, chunk: list[Input]) -> list[tuple[int, int]]:
    futures = [await producer.send(topic, item.value) for item in chunk]
    return [(m.partition, m.offset) for m in await asyncio.gather(*futures)]


@pytest.fixture(scope="module")
def chaos_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker of its own (this test restarts it), quick to accept a restarted broker."""
    broker = Broker(
        state_dir=tmp_path_factory.mktemp("chaos-kafka"),
        env={"KAFKA_EXTRA_PROPERTIES": "broker.session.timeout.ms=3000\nbroker.heartbeat.interval.ms=500"},
    )
    broker.start()
    yield broker
    broker.stop()


@pytest.mark.timeout(1800)
async def test_nothing_lost_under_kills_broker_restart_and_rebalance(
    chaos_broker: Broker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    names = Names()
    workers = Workers(chaos_broker, names, tmp_path)
    plan = make_plan(rng)
    await create_topics(chaos_broker.bootstrap, [names.raw, *names.outputs], PARTITIONS)
    workers.start(PARTITIONS, **WORKER_ENV)
    workers.start(PARTITIONS, **WORKER_ENV)
    await wait_for_group(chaos_broker.bootstrap, names.app_id, 2)
    chaos = Chaos(chaos_broker, names, workers, rng)
    n = len(plan.chunks)
    schedule = {
        **{c: chaos.kill_one for c in rng.sample(range(3, n - 3), 3)},
        rng.randrange(n // 3, 2 * n // 3): chaos.restart_broker,
        rng.randrange(5, n - 5): chaos.add_worker,
    }
    sent: dict[tuple[int, int], Input] = {}
    started = time.monotonic()
    producer = AIOKafkaProducer(bootstrap_servers=chaos_broker.bootstrap, acks="all", enable_idempotence=True,
                                request_timeout_ms=120_000, max_request_size=10 * 1024 * 1024)  # fmt: skip
    await producer.start()
    try:
        for index, chunk in enumerate(plan.chunks):
            chaos.supervise()
            if index in schedule:
                await schedule[index]()
                progress(f"chunk {index}: {chaos.events[-1]} at {time.monotonic() - started:.0f}s")
            sent.update(zip(await send_chunk(producer, names.raw, chunk), chunk))
            await asyncio.sleep(0.5)
    finally:
        await producer.stop()

    collector = Collector(chaos_broker.bootstrap, names.outputs)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            chaos.supervise()
            try:
                records = await collector.until(len(sent), timeout_s=30, settle_s=5)
            except TimeoutError:
                records = collector.records
            verdict = verify(sent, records, names)
            progress(f"{time.monotonic() - started:.0f}s: {verdict.line()}")
            if verdict.missing == 0:
                break
    finally:
        await collector.close()
        for w in workers.running:
            w.kill()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nchaos seed={SEED} elapsed={elapsed:.0f}s events: {'; '.join(chaos.events)}")
        print(f"chaos figures: {verdict.line()} unexpected-worker-exits={chaos.unexpected_exits}")
    assert len(sent) == 5000
    assert verdict.missing == 0, verdict.line()
    assert verdict.wrongly_dropped == 0, verdict.line()
    assert verdict.conflicting == 0, verdict.line()
    assert verdict.wrong_reason == 0, verdict.line()
    assert verdict.wrong_revision == 0, verdict.line()
    assert verdict.stray == 0, verdict.line()
    assert verdict.articles + verdict.duplicates + verdict.rejected == verdict.inputs
    assert verdict.rejected >= HOSTILE
