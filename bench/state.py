"""State of the dedup stages with RocksDB and with memory tables, without Kafka or extraction.

    .venv/bin/python -m bench.state [--pages N] [--partitions P] [--checkpoints K] [--store S]
    .venv/bin/python -m bench.state --expiry [--pages N] [--partitions P]

Synthetic cleaned pages go through the three dedup stages of `streaming.agents` (UrlStage,
BandStage, GatherStage) in one process, every message between the stages delivered in order,
over the six tables kept either in dicts (`memory`) or in RocksDB (`rocksdb`: one rocksdict
database per table, keys and values JSON bytes, as faust's RocksDB store keeps them). The
pages: random MinHash signatures; 25% near-copies of an earlier page (a fifth of the
signature redrawn, about 0.8 similar) and 15% re-fetches of an earlier URL with its text; each
carries a cleaned text of 4,600 characters (the dev corpus's mean).

Prints, per store: the stages' pages/s (CPU of this process, no extraction), how long one
event's handling holds the event loop (p50, p99, max: table reads that miss RocksDB's cache
included), RSS at each
checkpoint with its slope over the second half of the run, and the bytes per page by table
(memory: JSON keys and values; RocksDB: the files on disk after a full compaction).

With `--expiry` (RocksDB, a window of one hour, each event sweeping its tables as the worker's
do): N pages fetched at one moment, then N/5 fetched two hours later (a third re-fetches of
the first pages' URLs with their text, a third copies of their texts at new URLs, a third new).
Prints the state before and after, and the later pages' decisions against what the README
documents: a re-fetch of a URL that published is a `url` duplicate of its marker (same id), of
one that did not is decided as new; no later page is a copy of an expired one.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
from rocksdict import Rdict

from worker import codec
from worker.core import minhash
from worker.core.envelope import iso_utc
from worker.records import Extracted, Sketched, Source
from worker.settings import Settings
from worker.streaming.agents import BandStage, Bundled, GatherStage, Send, UrlStage
from worker.streaming.expiry import Sweeper
from worker.streaming.tables import StoreMemory, Tables, rocksdb_options
from worker.streaming.topics import Topics

TABLES = ("urls", "pending", "replies", "bands", "members", "waits")
RECENT = 10_000
"""Earlier pages a near-copy or a re-fetch is drawn from."""
SAMPLE = 100_000
"""Event durations kept for the percentiles."""
NEAR_SHARE, REFETCH_SHARE, REDRAWN = 0.25, 0.15, 0.2
TEXT = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 90)[:4_600]
"""Every page's cleaned text: as long as the dev corpus's mean main text (4,600 characters),
since the pending tables carry it."""


class RocksTable(MutableMapping[str, Any]):
    """A table in one RocksDB database: JSON keys and values, like faust's RocksDB store."""

    def __init__(self, path: Path, memory: StoreMemory) -> None:
        self.path = path
        self.name = path.name
        self.db = Rdict(str(path), rocksdb_options(memory))
        self.cursor: bytes | None = None

    def __getitem__(self, key: str) -> Any:
        value = self.db.get(orjson.dumps(key))
        if value is None:
            raise KeyError(key)
        return orjson.loads(value)

    def __setitem__(self, key: str, value: Any) -> None:
        self.db[orjson.dumps(key)] = orjson.dumps(value)

    def __delitem__(self, key: str) -> None:
        raw = orjson.dumps(key)
        if self.db.get(raw) is None:
            raise KeyError(key)
        del self.db[raw]

    def __iter__(self) -> Iterator[str]:
        return map(orjson.loads, self.db.keys())

    def __len__(self) -> int:
        return sum(1 for _ in iter(self))

    def next_entries(self, partition: int, limit: int) -> list[tuple[str, Any]]:
        """The sweep's next entries (`expiry.Scan`; one database for all partitions here)."""
        raw = [
            (k, v)
            for k, v in islice(self.db.items(from_key=self.cursor), limit + 1)
            if k != self.cursor
        ]
        self.cursor = raw[limit - 1][0] if len(raw) >= limit else None
        return [(orjson.loads(k), orjson.loads(v)) for k, v in raw[:limit]]

    def disk_bytes(self) -> int:
        """Bytes of the database's files once flushed and fully compacted."""
        self.db.flush()
        self.db.compact_range(None, None)
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def close(self) -> None:
        self.db.close()


@dataclass
class Run:
    """What one store measured."""

    store: str
    pages: int
    cpu_s: float
    rss: list[tuple[int, int]]
    """(pages, RSS bytes) at each checkpoint."""
    bytes_by_table: dict[str, int]
    event_ms: tuple[float, float, float]
    """p50, p99 and max milliseconds of one event's handling (the event loop's longest stalls)."""


class Stages:
    """The three stages over one set of tables, messages delivered in order; with a window,
    each event also sweeps its stage's tables (RocksDB tables only)."""

    def __init__(self, tables: Tables, partitions: int, window_s: float = 0.0) -> None:
        names = ("raw", "by_url", "by_band", "verdicts", "articles", "duplicates", "rejected")
        topics = Topics(*names)  # type: ignore[arg-type]  # a Send only carries its topic along
        settings = Settings(partitions=partitions, dedup_window_s=window_s)
        self.handlers = {
            "by_url": UrlStage(topics, tables, settings, None),  # type: ignore[arg-type]
            "by_band": BandStage(topics, tables, settings, None),  # type: ignore[arg-type]
            "verdicts": GatherStage(topics, tables, settings, None),  # type: ignore[arg-type]
        }
        self.sweepers: dict[str, list[Sweeper]] = {
            topic: [Sweeper(s.table, s.check, window_s, s.table, s.per_message, s.added)
                    for s in stage.sweepers()]
            if window_s > 0
            else []
            for topic, stage in self.handlers.items()
        }
        self.decided = 0
        self.offset = 0
        self.event_s: list[float] = []
        """How long events' handling took (a uniform sample of `SAMPLE`): how long each held the
        event loop. Bounded, so that the run's RSS is the stages'."""
        self.longest_s = 0.0
        self.events = 0
        self.sampler = random.Random(7)

    def sample(self, seconds: float) -> None:
        """Keep one event's duration in the sample (reservoir sampling) and the longest."""
        self.events += 1
        self.longest_s = max(self.longest_s, seconds)
        if len(self.event_s) < SAMPLE:
            self.event_s.append(seconds)
        elif (slot := self.sampler.randrange(self.events)) < SAMPLE:
            self.event_s[slot] = seconds

    def add(self, page: Sketched) -> dict[str, Any]:
        """One page through the stages, until every message it caused is handled; returns its
        record."""
        queue = [Send("by_url", page.page.id.encode(), codec.encode(page))]  # type: ignore[arg-type]
        record: dict[str, Any] = {}
        while queue:
            send = queue.pop(0)
            self.offset += 1  # (one count for every partition)
            message = SimpleNamespace(partition=send.partition, offset=self.offset)
            event = Bundled(send.value, send.key, message)  # a message handled as an event
            started = time.perf_counter()
            handler = self.handlers[send.topic]  # type: ignore[index]
            outcome = handler.handle(event)  # type: ignore[arg-type]
            handled = time.perf_counter() - started
            for sweeper in self.sweepers[send.topic]:  # type: ignore[index]  # as a round ends
                sweeper.step(send.partition or 0, outcome.fetched_at, iso_utc(datetime.now(UTC)))
            started = time.perf_counter()
            handler.flush()  # each message its own round
            self.sample(handled + time.perf_counter() - started)
            for out in [*outcome.sends, *outcome.after]:
                if out.topic in ("articles", "duplicates"):
                    self.decided += 1
                    record = orjson.loads(out.value)
                else:
                    queue.append(out)
            if outcome.done is not None:
                outcome.done()
        return record


def pages(count: int, seed: int = 20261202) -> Iterator[Sketched]:
    """Synthetic sketched pages: new texts, near-copies and re-fetches (see the module doc)."""
    rng = np.random.default_rng(seed)
    signatures: deque[bytes] = deque(maxlen=RECENT)  # bounded: the run's RSS is the stages'
    urls: deque[str] = deque(maxlen=RECENT)
    for n in range(count):
        roll = rng.random()
        if signatures and roll < REFETCH_SHARE:
            which = int(rng.integers(len(urls)))
            url, signature = urls[which], signatures[which]
        else:
            if signatures and roll < REFETCH_SHARE + NEAR_SHARE:
                values = np.frombuffer(signatures[int(rng.integers(len(signatures)))], "<u4").copy()
                redraw = rng.random(minhash.PERMUTATIONS) < REDRAWN
                values[redraw] = rng.integers(0, 2**32, int(redraw.sum()), dtype=np.uint32)
            else:
                values = rng.integers(0, 2**32, minhash.PERMUTATIONS, dtype=np.uint32)
            url, signature = f"https://site-{n % 997}.example/story/{n}", values.tobytes()
            urls.append(url)
            signatures.append(signature)
        yield _page(url, signature, n)


def _page(url: str, signature: bytes, offset: int, fetched_at: str | None = None) -> Sketched:
    digest = signature[:16].hex()
    extracted = Extracted(
        canonical_url=url, title="T", author=[], date_published=None, date_modified=None,
        language="en", site_name=None, description=None, categories=[], tags=[], image=None,
        images=[], text=TEXT, page_type="article", quality={}, id=_id(url), url=url,
        word_count=600, content_hash=digest * 2, source=None,
        fetched_at=fetched_at or f"2026-11-30T00:00:{offset % 60:02d}.000Z", meta={},
        origin=Source("pages.raw", offset % 12, offset, None),
    )  # fmt: skip
    return Sketched(extracted, minhash.Sketch(signature, 500).encode(), 500)


def _id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def measure(store: str, count: int, partitions: int, checkpoints: int) -> Run:
    """Run `count` pages through the stages on one store."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-state-{store}-"))
    if store == "rocksdb":
        memory = StoreMemory.of(Settings().store_memory_bytes)
        backing: dict[str, Any] = {name: RocksTable(folder / name, memory) for name in TABLES}
    else:
        backing = {name: {} for name in TABLES}
    try:
        stages = Stages(Tables(**backing), partitions)
        every = max(1, count // checkpoints)
        rss = [(0, rss_bytes())]
        started = time.process_time()
        for n, page in enumerate(pages(count), 1):
            stages.add(page)
            if n % every == 0:
                rss.append((n, rss_bytes()))
        cpu = time.process_time() - started
        assert stages.decided == count, (stages.decided, count)
        p50, p99 = np.percentile(stages.event_s, [50, 99]) * 1000
        most = stages.longest_s * 1000
        return Run(store, count, cpu, rss, _bytes(backing), (p50, p99, most))
    finally:
        for table in backing.values():
            if isinstance(table, RocksTable):
                table.close()
        shutil.rmtree(folder, ignore_errors=True)


def _bytes(backing: dict[str, Any]) -> dict[str, int]:
    sizes = {}
    for name, table in backing.items():
        if isinstance(table, RocksTable):
            sizes[name] = table.disk_bytes()
        else:
            sizes[name] = sum(len(orjson.dumps(k)) + len(orjson.dumps(v)) for k, v in table.items())
    return sizes


LATER = "2026-11-30T02:00:00.000Z"
"""The second pages' fetch time: two hours after the first ones, for a window of one hour."""


def expiry(count: int, partitions: int) -> str:
    """The first pages, then a fifth as many two hours later; the state after each, and how
    the second pages were decided against what is expected."""
    folder = Path(tempfile.mkdtemp(prefix="bench-state-expiry-"))
    memory = StoreMemory.of(Settings().store_memory_bytes)
    backing = {name: RocksTable(folder / name, memory) for name in TABLES}
    try:
        stages = Stages(Tables(**backing), partitions, window_s=3600.0)  # type: ignore[arg-type]
        first = [(page, stages.add(page)) for page in pages(count)]
        published = {r["id"] for _, r in first if "kind" not in r}
        before = _bytes(backing)  # type: ignore[arg-type]
        rng = np.random.default_rng(7)
        decided: Counter[str] = Counter()
        for n in range(count // 5):
            old, _ = first[int(rng.integers(len(first)))]
            signature = minhash.Sketch.decode(old.signature, old.shingles).signature
            what = ("re-fetch", "copy", "new")[n % 3]
            url = old.page.url if what == "re-fetch" else f"https://later.example/{what}/{n}"
            if what == "new":
                signature = rng.integers(0, 2**32, minhash.PERMUTATIONS, dtype=np.uint32).tobytes()
            record = stages.add(_page(url, signature, count + n, LATER))
            target = record.get("duplicate_of")
            if what == "re-fetch" and old.page.id in published:
                what += " of a published URL"
                right = record.get("kind") == "url" and target == old.page.id
            else:
                right = target not in published  # nothing points at an expired article
            decided[f"{what}: {'as documented' if right else 'NOT as documented'}"] += 1
        after = _bytes(backing)  # type: ignore[arg-type]
    finally:
        for table in backing.values():
            table.close()
        shutil.rmtree(folder, ignore_errors=True)
    return "\n".join([
        f"expiry (RocksDB, window 1 h): {count} pages, then {count // 5} two hours later",
        f"  state after the first pages: {_sizes(before)}",
        f"  state after the later pages: {_sizes(after)}",
        "  later pages: " + ", ".join(f"{k} {n}" for k, n in sorted(decided.items())),
    ])  # fmt: skip


def _sizes(sizes: dict[str, int]) -> str:
    return f"{sum(sizes.values()) / 2**20:.2f} MiB (" + ", ".join(
        f"{k} {v / 2**20:.2f}" for k, v in sizes.items()
    ) + ")"


def report(runs: Sequence[Run]) -> str:
    """The figures of every run, as text."""
    lines = []
    for run in runs:
        half = [point for point in run.rss if point[0] >= run.pages // 2]
        (p0, r0), (p1, r1) = half[0], half[-1]
        slope = (r1 - r0) / max(1, p1 - p0)
        total = sum(run.bytes_by_table.values())
        what = "on disk, compacted" if run.store == "rocksdb" else "JSON keys and values"
        lines += [
            f"{run.store}: {run.pages} pages, {run.pages / run.cpu_s:,.0f} pages/s "
            f"({run.cpu_s * 1e6 / run.pages:.0f} us CPU per page); one event holds the loop "
            "{:.2f} / {:.2f} / {:.1f} ms (p50 / p99 / max)".format(*run.event_ms),
            f"  RSS {run.rss[0][1] / 2**20:.0f} -> {run.rss[-1][1] / 2**20:.0f} MiB; "
            f"slope over the second half {slope:,.0f} bytes per page",
            f"  state {total / run.pages:,.0f} bytes per page ({what}): "
            + ", ".join(f"{k} {v / run.pages:,.0f}" for k, v in run.bytes_by_table.items()),
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--store", choices=("both", "rocksdb", "memory"), default="both")
    parser.add_argument("--expiry", action="store_true", help="measure expiry (see above)")
    args = parser.parse_args(argv)
    if args.expiry:
        print(expiry(args.pages, args.partitions), flush=True)
        return
    if args.store == "both":  # each store in a process of its own, so RSS is its alone
        for store in ("rocksdb", "memory"):
            command = [sys.executable, "-m", "bench.state", "--store", store]
            command += ["--pages", str(args.pages), "--partitions", str(args.partitions)]
            subprocess.run([*command, "--checkpoints", str(args.checkpoints)], check=True)
        return
    print(report([measure(args.store, args.pages, args.partitions, args.checkpoints)]), flush=True)


if __name__ == "__main__":
    main()
