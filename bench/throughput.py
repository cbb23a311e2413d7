"""Throughput of the worker end to end through Kafka: pages/s, CPU per page, latency, memory.

    .venv/bin/python -m bench.throughput [--messages N] [--partitions P] [--workers W]
        [--only A,B,...] [--bootstrap HOST:PORT [--kafka-data DIR]] [--corpus DIR]

Input: the development corpus (`../shared/corpus`, 88 pages) made unique to N messages by
`bench/copies.py`: copy c of a page has its own URL (`/copy-c/` after the host, also in its
rel=canonical and og:url) and the suffix `q<c>` on every word of its text, so no dedup rule
joins two copies. Messages follow the raw-page contract (url, html, status, headers,
fetched_at), keyed by URL, produced with acks=all as fast as the producer goes (a backlog),
each with its Kafka timestamp set by the producer. They are written to a spool file before the
workers start, so making them is not measured.

Scenarios, each with an app id and topics of its own; its workers are started and ready
(/readyz 200 on each, the group stable) before the first message is produced, and stopped
with SIGTERM afterwards:
- A: `trafilatura.extract` alone in this process, with the settings `core/extract.py` gives
  trafilatura for its first, precision-focused pass, and metadata: the library's own cost.
- B: one worker process with one extraction process per core.
- C: W worker processes (`--workers`, default: cores) with one extraction process each.
- D: B on a stream where 40% of the messages re-fetch an earlier one (same URL and HTML, a
  later fetched_at): they must come out as `url` duplicates.
- E: B where 1 page in 100 (copies 0, 100, 200...) takes 5 s more to clean: a
  `sitecustomize.py` on the worker's PYTHONPATH wraps `pipeline.process_reusable` to sleep
  for messages whose URL carries a marker (the extraction processes are forked from a
  forkserver started with the worker's environment; the marked pages' latencies show
  whether the wrapper ran there).
- F: the dedup stages alone: the corpus pages cleaned here once, made unique the same way and
  sent as intake sends them (`Sketched`, keyed by article id) to the worker's by-url topic;
  with, for comparison, `bench.state.measure` (the stages in one process over RocksDB,
  synthetic pages, no Kafka).

Measured for B-F: pages/s from the first message produced to the last output (that output's
Kafka timestamp, set by the worker); CPU seconds of the worker processes and all their
descendants (psutil, every 0.5 s and at both ends; a process that ends is counted by its
parent once reaped, else by its last sample) per page; latency from each message's timestamp
to its output's (p50, p99); peak RSS of a worker process alone and of all of them with their
children (summed: pages shared after a fork count once per process). Outputs are read from
the beginning until every message has one (by the origin coordinates each output carries; a
replayed repeat counts once). Not in the CPU figures: the broker and this process (producer,
consumer, sampling), which share the machine; their CPU per page over the same time is printed
below the table (the broker's when it is ours). The extraction processes start with the first
page (the runner starts them on demand), so their start is in the measure.

Prints a first line (date, machine, N, P, the commit the worker is at), one table, then per
scenario: the outcomes (articles, duplicates by kind, rejected by reason; whether all copies of
each corpus page came out alike), CPU per page by process, the records written to Kafka per
input message by topic (end offsets), and the bytes: the broker's log segment files
(replication factor 1), so it needs the broker's data directory (ours, or `--kafka-data`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import psutil
import trafilatura
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorNotAvailableError, GroupCoordinatorNotAvailableError

from bench import state
from bench.copies import SLOW_MARKER, Note, Template, cleaned, raw_stream, sketched_copies, template
from bench.extraction import DEFAULT_CORPUS, Page, load_corpus
from bench.recovery import REPO, Worker, free_port, kafka, machine
from worker import codec, kafka_tools, topology
from worker.core import extract
from worker.records import Sketched, Source
from worker.settings import Settings

SLOW_S, SLOW_EVERY = 5.0, 100
REFETCH_SHARE = 0.4
SAMPLE_S = 0.5
IDLE_S = 300.0
"""Longest wait for a new output before a scenario fails."""
GROUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 90.0
FETCH_BYTES = 16 * 2**20
HOOK = '''"""bench/throughput.py, scenario E: a page whose message has the marker sleeps first."""
import functools
import time

import worker.pipeline

_clean = worker.pipeline.process_reusable


@functools.wraps(_clean)
def process_reusable(value, *args, **kwargs):
    if value and {marker!r} in value:
        time.sleep({seconds!r})
    return _clean(value, *args, **kwargs)


worker.pipeline.process_reusable = process_reusable
'''
Origin = tuple[str, int, int]
"""(topic, partition, offset) of the raw message an output is about."""


# The messages.


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce."""

    key: bytes
    value: Callable[[int], bytes]
    """Its value, given its Kafka timestamp (ms)."""
    origin: Origin | None = None
    """The raw message its output will name, if not itself (F)."""


class Spool:
    """Raw messages written to a file before the workers start, read back while producing."""

    HEADER = struct.Struct(">II")

    def __init__(self, path: Path, messages: Iterable[tuple[str, bytes, Note]]) -> None:
        self.path = path
        self.notes: list[Note] = []
        with path.open("wb") as out:
            for url, value, note in messages:
                key = url.encode()
                out.write(self.HEADER.pack(len(key), len(value)) + key + value)
                self.notes.append(note)

    def __iter__(self) -> Iterator[Outgoing]:
        with self.path.open("rb") as spool:
            while header := spool.read(self.HEADER.size):
                keys, values = self.HEADER.unpack(header)
                key, value = spool.read(keys), spool.read(values)
                yield Outgoing(key, _constant(value))


def _constant(value: bytes) -> Callable[[int], bytes]:
    """A message value that does not depend on its timestamp."""
    return lambda _: value


def by_url_messages(pages: Sequence[Sketched], count: int, settings: Settings
                    ) -> list[Outgoing]:  # fmt: skip
    """F: copies of cleaned pages, keyed by article id, their origin stamped when sent."""
    copies = sketched_copies(pages, count, settings.topic_raw, settings.partitions)
    return [Outgoing(r.page.id.encode(), _stamped(r), _origin(r.page.origin)) for r in copies]


def _origin(source: Source) -> Origin:
    return source.topic, source.partition, source.offset


def _stamped(record: Sketched) -> Callable[[int], bytes]:
    """The record's encoding, its origin's timestamp set to the produce time."""

    def encode(timestamp_ms: int) -> bytes:
        origin = replace(record.page.origin, timestamp_ms=timestamp_ms)
        return codec.encode(replace(record, page=replace(record.page, origin=origin)))

    return encode


# CPU and memory of the worker processes.


class Usage:
    """CPU seconds and RSS of worker processes and all their descendants, sampled."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.roots = [psutil.Process(pid) for pid in pids]
        self.alive: dict[int, tuple[float, int]] = {}
        """pid -> (CPU seconds, own and of reaped children; parent pid) at the last sample."""
        self.ended = 0.0
        self.peak_all = 0
        self.worker_rss: list[tuple[float, int]] = []
        """(monotonic seconds, RSS of the largest worker process) at each sample."""
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="usage", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopping.wait(SAMPLE_S):
            self.sample()

    def sample(self) -> tuple[float, float]:
        """CPU seconds used so far by all the processes (those that ended included), and by
        the worker processes themselves (their main threads' event loops and helpers)."""
        with self.lock:
            seen: dict[int, tuple[float, int]] = {}
            total_rss, main, largest = 0, 0.0, 0
            for root in self.roots:
                for process in [root, *_descendants(root)]:
                    try:
                        with process.oneshot():
                            cpu, rss = process.cpu_times(), process.memory_info().rss
                            seen[process.pid] = (float(sum(cpu[:4])), process.ppid())
                    except psutil.NoSuchProcess:
                        continue
                    total_rss += rss
                    if process is root:
                        main += cpu.user + cpu.system
                        largest = max(largest, rss)
            for pid, (cpu_s, parent) in self.alive.items():
                if pid not in seen and parent not in seen:  # no parent left to count it
                    self.ended += cpu_s
            self.alive, self.peak_all = seen, max(self.peak_all, total_rss)
            self.worker_rss.append((time.monotonic(), largest))
            return self.ended + sum(cpu_s for cpu_s, _ in seen.values()), main

    @property
    def peak_worker(self) -> int:
        """The largest RSS of a worker process at any sample."""
        return max((rss for _, rss in self.worker_rss), default=0)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def cpu_s(pid: int | None) -> float:
    """CPU seconds a process has used so far (0 without one)."""
    return 0.0 if pid is None else float(sum(psutil.Process(pid).cpu_times()[:2]))


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return list(process.children(recursive=True))
    except psutil.NoSuchProcess:
        return []


# Running a scenario through the broker.


@dataclass
class Run:
    """What one scenario through the worker measured."""

    settings: Settings
    sent: list[tuple[Origin, int]]
    """Origin and timestamp (ms) of each input message, in produce order."""
    outputs: dict[Origin, tuple[str, int]]
    """Origin -> (outcome, the output's timestamp in ms), the first output of each."""
    started_ms: int = 0
    cpu_s: float = 0.0
    main_s: float = 0.0
    """Of `cpu_s`, the worker processes' own (not their extraction processes')."""
    others_s: tuple[float | None, float] = (None, 0.0)
    """CPU seconds over the same time of the broker (when it is ours) and of this process."""
    rss: tuple[int, int] = (0, 0)
    rss_series: list[tuple[float, int]] = field(default_factory=list)
    """(seconds, RSS of the largest worker process) over the run (`Usage.worker_rss`)."""
    exits: list[int] = field(default_factory=list)
    topic_bytes: dict[str, int] = field(default_factory=dict)
    topic_records: dict[str, int] = field(default_factory=dict)

    def outcome(self, index: int) -> str:
        return self.outputs[self.sent[index][0]][0]

    def latencies_s(self, indexes: Iterable[int] | None = None) -> list[float]:
        chosen = range(len(self.sent)) if indexes is None else indexes
        return [(self.outputs[self.sent[i][0]][1] - self.sent[i][1]) / 1000 for i in chosen]

    @property
    def wall_s(self) -> float:
        return (max(ts for _, ts in self.outputs.values()) - self.started_ms) / 1000


@dataclass(frozen=True)
class Plan:
    """The run's settings, shared by every scenario."""

    count: int
    partitions: int
    workers: int
    folder: Path
    bootstrap: str
    kafka_data: Path | None
    broker_pid: int | None = None

    def env(self, scenario: str) -> dict[str, str]:
        """Environment of a scenario's workers (without the per-process variables)."""
        app_id = f"bench-throughput-{scenario.lower()}-{os.getpid()}-{int(time.time())}"
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "INGEST_APP_ID": app_id,
               "INGEST_PARTITIONS": str(self.partitions), "INGEST_LOG_LEVEL": "info"}  # fmt: skip
        for topic in ("raw", "articles", "duplicates", "rejected"):
            env[f"INGEST_TOPIC_{topic.upper()}"] = f"{app_id}.{topic}"
        return env


def through_worker(plan: Plan, scenario: str, processes: int, extractors: int,
                   stream: Callable[[Settings], Iterable[Outgoing]], hook: bool = False,
                   to_by_url: bool = False) -> Run:  # fmt: skip
    """Start the workers, produce the stream once they are ready, read every output, stop."""
    env = plan.env(scenario)
    settings = Settings.from_env(env)
    asyncio.run(kafka_tools.ensure_topics(settings))
    outgoing = stream(settings)
    if hook:
        paths = [str(hook_dir(plan.folder)), os.environ.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    workers = [start_worker(plan, env, scenario, n, extractors) for n in range(processes)]
    try:
        for worker in workers:
            worker.ready_after()
        asyncio.run(wait_for_group(settings, processes))
        for worker in workers:
            worker.ready_after()
        usage = Usage([worker.process.pid for worker in workers])
        try:
            topic = settings.topic_by_url if to_by_url else settings.topic_raw
            run = asyncio.run(drive(settings, topic, outgoing, usage, workers, plan.broker_pid))
        finally:
            usage.stop()
        run.rss = (usage.peak_worker, usage.peak_all)
        run.rss_series = usage.worker_rss
    finally:
        run_exits = [stop(worker) for worker in workers]
        for n in range(processes):
            shutil.rmtree(plan.folder / f"{scenario}-data-{n}", ignore_errors=True)
    run.exits = run_exits
    run.topic_records = asyncio.run(topic_records(settings))
    if plan.kafka_data is not None:
        run.topic_bytes = topic_bytes(plan.kafka_data, settings)
    return run


def hook_dir(folder: Path) -> Path:
    """A directory holding the `sitecustomize.py` of scenario E."""
    path = folder / "hook"
    path.mkdir(exist_ok=True)
    source = HOOK.format(marker=SLOW_MARKER.encode(), seconds=SLOW_S)
    (path / "sitecustomize.py").write_text(source)
    return path


def start_worker(plan: Plan, env: dict[str, str], scenario: str, n: int, extractors: int
                 ) -> Worker:  # fmt: skip
    """One worker process of a scenario, with its own data directory, port and instance id."""
    own = {"INGEST_DATA_DIR": str(plan.folder / f"{scenario}-data-{n}"),
           "INGEST_WEB_PORT": str(free_port()), "INGEST_EXTRACT_WORKERS": str(extractors),
           "INGEST_GROUP_INSTANCE_ID": f"{env['INGEST_APP_ID']}-{n}"}  # fmt: skip
    return Worker({**env, **own}, plan.folder / f"{scenario}-worker-{n}.log")


def stop(worker: Worker) -> int:
    """SIGTERM and wait (SIGKILL to its process group if it takes too long); the exit code."""
    worker.process.send_signal(signal.SIGTERM)
    try:
        return worker.process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        return -signal.SIGKILL


async def wait_for_group(settings: Settings, members: int) -> None:
    """Wait until the worker group is stable with this many members."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    deadline = time.monotonic() + GROUP_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            try:
                [described] = await admin.describe_consumer_groups([settings.app_id])
                groups = described.to_object()["groups"]
            except (CoordinatorNotAvailableError, GroupCoordinatorNotAvailableError):
                groups = []
            if any(g["state"] == "Stable" and len(g["members"]) == members for g in groups):
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"group {settings.app_id} not stable with {members} members")
    finally:
        await admin.close()


async def drive(settings: Settings, topic: str, outgoing: Iterable[Outgoing], usage: Usage,
                workers: Sequence[Worker], broker: int | None) -> Run:  # fmt: skip
    """Produce everything, read outputs until every message has one; CPU between the ends
    (the workers', and the broker's and this process's)."""
    roles = {settings.topic_articles: "article", settings.topic_duplicates: "duplicate",
             settings.topic_rejected: "rejected"}  # fmt: skip
    consumer = AIOKafkaConsumer(
        *roles, bootstrap_servers=settings.bootstrap_servers, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
        max_partition_fetch_bytes=FETCH_BYTES, fetch_max_bytes=FETCH_BYTES,
    )  # fmt: skip
    await consumer.start()
    run = Run(settings, [], {})
    reading = asyncio.ensure_future(read(consumer, roles, run.outputs))
    try:
        others, cpu_start = (cpu_s(broker), time.process_time()), usage.sample()
        run.started_ms = int(time.time() * 1000)
        run.sent = await produce(settings, topic, outgoing)
        await until_every_output(run, workers, reading)
        cpu_end = usage.sample()
        run.cpu_s, run.main_s = cpu_end[0] - cpu_start[0], cpu_end[1] - cpu_start[1]
        broker_s = None if broker is None else cpu_s(broker) - others[0]
        run.others_s = (broker_s, time.process_time() - others[1])
    finally:
        reading.cancel()
        await consumer.stop()
    return run


async def produce(settings: Settings, topic: str, outgoing: Iterable[Outgoing]
                  ) -> list[tuple[Origin, int]]:  # fmt: skip
    """Send every message (acks=all, timestamps set here); their origins and timestamps."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all",
                                max_request_size=settings.max_message_bytes,
                                max_batch_size=2**20, linger_ms=5)  # fmt: skip
    await producer.start()
    try:
        pending = []
        for item in outgoing:
            now = int(time.time() * 1000)
            sent = await producer.send(topic, item.value(now), key=item.key, timestamp_ms=now)
            pending.append((item.origin, now, sent))
        done = []
        for origin, now, sent in pending:
            meta = await sent
            done.append((origin or (topic, meta.partition, meta.offset), now))
        return done
    finally:
        await producer.stop()


async def read(consumer: AIOKafkaConsumer, roles: dict[str, str],
               outputs: dict[Origin, tuple[str, int]]) -> None:  # fmt: skip
    """Keep the first output of each origin: its outcome and timestamp."""
    while True:
        for records in (await consumer.getmany(timeout_ms=500)).values():
            for record in records:
                value = orjson.loads(record.value)
                where = value["origin"]
                origin = (where["topic"], where["partition"], where["offset"])
                what = value.get("kind") or value.get("reason")
                outcome = f"{roles[record.topic]}:{what}" if what else roles[record.topic]
                outputs.setdefault(origin, (outcome, record.timestamp))


async def until_every_output(run: Run, workers: Sequence[Worker], reading: asyncio.Future[None]
                             ) -> None:  # fmt: skip
    """Wait until every sent message has an output; fail if nothing comes for `IDLE_S`."""
    wanted = {origin for origin, _ in run.sent}
    seen, since = -1, time.monotonic()
    while missing := len(wanted - run.outputs.keys()):
        if reading.done():
            reading.result()  # raises what stopped the consumer
        if len(run.outputs) != seen:
            seen, since = len(run.outputs), time.monotonic()
        dead = [w.log_path.name for w in workers if w.process.poll() is not None]
        if dead or time.monotonic() - since > IDLE_S:
            raise RuntimeError(f"{missing} of {len(wanted)} messages without output; "
                               f"workers exited: {dead or 'none'}")  # fmt: skip
        await asyncio.sleep(0.2)


def topic_bytes(data: Path, settings: Settings) -> dict[str, int]:
    """Bytes of each of the app's topics in the broker's log segment files, by short name."""
    sizes: Counter[str] = Counter()
    for folder in data.iterdir():
        topic, _, partition = folder.name.rpartition("-")
        if folder.is_dir() and partition.isdigit() and topic.startswith(settings.app_id):
            name = topic.removeprefix(settings.app_id).lstrip(".-")
            sizes[name] += sum(f.stat().st_size for f in folder.glob("*.log"))
    return dict(sizes)


async def topic_records(settings: Settings) -> dict[str, int]:
    """Records written to each of the app's topics (their end offsets: nothing is compacted or
    deleted during a run), by short name."""
    specs = topology.specs(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]
        counts: Counter[str] = Counter()
        for tp, end in (await consumer.end_offsets(partitions)).items():
            counts[tp.topic.removeprefix(settings.app_id).lstrip(".-")] += end
        return dict(counts)
    finally:
        await consumer.stop()


# The scenarios.


@dataclass
class Row:
    """One line of the table, and what is printed about the scenario below it."""

    name: str
    label: str
    pages: int
    wall_s: float
    cpu_s: float
    latency_s: tuple[float, float] | None = None
    rss: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)


def bare_extraction(templates: Sequence[Template], count: int) -> Row:
    """A: `trafilatura.extract` on the copies, one after the other, in this process (after
    one untimed call: trafilatura sets itself up on the first)."""
    config = extract._config()  # the project's trafilatura configuration

    def clean(url: str, html: str) -> str | None:
        return trafilatura.extract(
            html, url=url, fast=True, favor_precision=True, include_comments=False,
            include_tables=True, deduplicate=False, with_metadata=True, config=config,
        )  # fmt: skip

    clean(*templates[0].render(count))
    wall = cpu = 0.0
    empty = 0
    for copy in range(count):
        url, html = templates[copy % len(templates)].render(copy)
        started, cpu_started = time.perf_counter(), time.process_time()
        empty += not clean(url, html)
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    label = "trafilatura.extract alone, 1 process"
    return Row("A", label, count, wall, cpu, notes=[f"{empty} of {count} pages without text"])


def scenario_row(name: str, label: str, run: Run) -> Row:
    """The figures every scenario through the worker has."""
    p50, p99 = np.percentile(run.latencies_s(), [50, 99])
    row = Row(name, label, len(run.sent), run.wall_s, run.cpu_s, (p50, p99), run.rss)
    counts = Counter(outcome for outcome, _ in run.outputs.values())
    row.notes.append(f"{len(run.outputs)} of {len(run.sent)} messages with an output: "
                     + outcomes(counts))  # fmt: skip
    row.notes.append(cpu_line(run))
    if any(run.exits):
        row.notes.append(f"worker exit codes on SIGTERM: {run.exits}")
    if run.rss_series:
        row.notes.append(rss_line(run.rss_series))
    if run.topic_records:
        records = run.topic_records
        row.notes.append(per_message_line("Kafka records", records, run.settings, len(run.sent), 1))
    if run.topic_bytes:
        row.notes.append(per_message_line("bytes", run.topic_bytes, run.settings, len(run.sent)))
    return row


def cpu_line(run: Run) -> str:
    """CPU per page of the worker processes and their children apart, and of the others."""
    pages, (broker_s, bench_s) = len(run.sent), run.others_s
    children_s = max(0.0, run.cpu_s - run.main_s)  # none in F: rounding
    broker = "" if broker_s is None else f"the broker {broker_s * 1000 / pages:.1f}, "
    return (f"CPU ms per page: worker processes {run.main_s * 1000 / pages:.1f} (event loop: "
            f"intake, dedup stages, Kafka clients), their children {children_s * 1000 / pages:.1f}"
            f" (extraction); besides: {broker}this process (producer, consumer, sampling) "
            f"{bench_s * 1000 / pages:.1f}")  # fmt: skip


def outcomes(counts: Counter[str]) -> str:
    """Articles, duplicates by kind, rejected by reason."""
    parts = [f"{counts['article']} articles"]
    for role, label in (("duplicate", "duplicates"), ("rejected", "rejected")):
        kinds = {k.split(":", 1)[1]: n for k, n in counts.items() if k.startswith(role + ":")}
        detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        parts.append(f"{sum(kinds.values())} {label}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)


def rss_line(series: Sequence[tuple[float, int]]) -> str:
    """The worker process's RSS over the run: at its start, peak, at its end, and the slope of
    a least-squares line over the second half (after the caches and buffers filled)."""
    start = series[0][0]
    half = [(t - start, rss) for t, rss in series if t - start >= (series[-1][0] - start) / 2]
    minutes = np.array([t for t, _ in half]) / 60
    mib = np.array([rss for _, rss in half]) / 2**20
    peak, length = max(rss for _, rss in series) / 2**20, (series[-1][0] - start) / 60
    slope = (f"{float(np.polyfit(minutes, mib, 1)[0]):+.2f} MiB per minute" if length >= 1
             else "too short for a slope")  # fmt: skip
    return (f"RSS of a worker process: {series[0][1] / 2**20:,.0f} MiB at the start, peak "
            f"{peak:,.0f}, {series[-1][1] / 2**20:,.0f} at the end of {length:.1f} min; "
            f"second half: {slope}")  # fmt: skip


def per_message_line(what: str, sizes: dict[str, int], settings: Settings, messages: int,
                     digits: int = 0) -> str:  # fmt: skip
    """Records or bytes written per input message, by topic (in the order of the flow), with
    `digits` decimals."""
    names = [spec.name.removeprefix(settings.app_id) for spec in topology.specs(settings)]
    flow = [name.lstrip(".-") for name in names]
    order = [name for name in flow if name in sizes] + sorted(sizes.keys() - set(flow))
    each = ", ".join(f"{name} {sizes[name] / messages:,.{digits}f}" for name in order)
    return f"{what} per input message: {sum(sizes.values()) / messages:,.{digits}f} ({each})"


def alike(run: Run, notes: Sequence[Note]) -> str:
    """Whether every first copy of a corpus page came out the same (unique copies: yes)."""
    by_page: dict[int, set[str]] = defaultdict(set)
    for index, note in enumerate(notes):
        if note.refetch_of is None:
            by_page[note.page].add(run.outcome(index))
    mixed = sorted(page for page, seen in by_page.items() if len(seen) > 1)
    published = sum(seen == {"article"} for seen in by_page.values())
    return (f"corpus pages whose copies all came out alike: {len(by_page) - len(mixed)} of "
            f"{len(by_page)} (all articles: {published})"
            + (f"; mixed: {mixed}" if mixed else ""))  # fmt: skip


def refetch_check(run: Run, notes: Sequence[Note]) -> str:
    """D: each re-fetch should be a `url` duplicate if its first fetch published, else the
    same outcome as the first fetch."""
    decided: Counter[str] = Counter()
    for index, note in enumerate(notes):
        if note.refetch_of is not None:
            first = run.outcome(note.refetch_of)
            expected = "duplicate:url" if first == "article" else first
            decided["as expected" if run.outcome(index) == expected else "NOT as expected"] += 1
    total = sum(decided.values())
    return f"re-fetches: {total}, " + ", ".join(f"{k} {n}" for k, n in sorted(decided.items()))


def slow_check(run: Run, notes: Sequence[Note]) -> str:
    """E: the marked pages' latencies (at least 5 s each if the hook slept where they ran)."""
    marked = [index for index, note in enumerate(notes) if note.slow]
    if not marked:
        return "no marked page in this stream"
    late = run.latencies_s(marked)
    verdict = "the hook applied" if min(late) >= SLOW_S else "NOT ALL SLEPT: the hook did not apply"
    return (f"marked pages: {len(marked)}, latency {min(late):.1f} to {max(late):.1f} s: "
            + verdict)  # fmt: skip


@dataclass(frozen=True)
class Through:
    """A scenario of raw messages through the worker."""

    name: str
    label: str
    processes: int
    extractors: int
    refetches: float = 0.0
    slow_every: int = 0


def scenarios(plan: Plan, only: set[str], pages: Sequence[Page]) -> Iterator[Row]:
    """The rows of the chosen scenarios, each measured once, in order."""
    templates = [template(page) for page in pages]
    cores = os.cpu_count() or 1
    if "A" in only:
        yield bare_extraction(templates, plan.count)
    for scenario in (
        Through("B", f"worker, 1 process x {cores} extractors", 1, cores),
        Through("C", f"worker, {plan.workers} processes x 1 extractor", plan.workers, 1),
        Through("D", "B, 40% re-fetches", 1, cores, refetches=REFETCH_SHARE),
        Through("E", f"B, 1 page in {SLOW_EVERY} takes {SLOW_S:g} s", 1, cores, 0, SLOW_EVERY),
    ):
        if scenario.name in only:
            yield raw_scenario(plan, scenario, templates)
    if "F" in only:
        yield dedup_alone(plan, pages, cores)


def raw_scenario(plan: Plan, scenario: Through, templates: Sequence[Template]) -> Row:
    """B to E: copies (and re-fetches) of the corpus pages as raw messages."""
    messages = raw_stream(templates, plan.count, scenario.refetches, scenario.slow_every)
    spool = Spool(plan.folder / f"{scenario.name}.spool", messages)
    try:
        run = through_worker(plan, scenario.name, scenario.processes, scenario.extractors,
                             lambda _: spool, hook=scenario.slow_every > 0)  # fmt: skip
    finally:
        spool.path.unlink()
    row = scenario_row(scenario.name, scenario.label, run)
    row.notes.insert(1, alike(run, spool.notes))
    if scenario.refetches:
        row.notes.insert(2, refetch_check(run, spool.notes))
    if scenario.slow_every:
        row.notes.insert(2, slow_check(run, spool.notes))
    return row


def dedup_alone(plan: Plan, pages: Sequence[Page], cores: int) -> Row:
    """F: pre-cleaned pages straight to the by-url topic, one worker process."""
    clean = cleaned(pages)
    run = through_worker(plan, "F", 1, cores, lambda settings: by_url_messages(
        clean, plan.count, settings), to_by_url=True)  # fmt: skip
    row = scenario_row("F", "dedup stages alone, 1 process", run)
    alone = state.measure("rocksdb", plan.count, plan.partitions, 1)
    row.notes.insert(1, f"copies of the {len(clean)} of {len(pages)} corpus pages the pipeline "
                        f"cleans; bench.state.measure (no Kafka, RocksDB, synthetic pages): "
                        f"{alone.pages / alone.cpu_s:,.0f} pages/s")  # fmt: skip
    return row


# The report.

HEADER = (f"{'':<45}{'pages':>7}{'pages/s':>9}{'CPU ms/page':>13}{'cores':>7}"
          f"{'p50 s':>8}{'p99 s':>8}{'RSS worker MiB':>16}{'RSS all MiB':>13}")  # fmt: skip


def table_line(row: Row) -> str:
    """One row of the table."""
    latency = "".join(f"{s:>8.2f}" for s in row.latency_s) if row.latency_s else f"{'-':>8}" * 2
    rss = (
        f"{row.rss[0] / 2**20:>16,.0f}{row.rss[1] / 2**20:>13,.0f}"
        if row.rss
        else f"{'-':>16}{'-':>13}"
    )
    speed = f"{row.pages / row.wall_s:>9.1f}{row.cpu_s * 1000 / row.pages:>13.1f}"
    cores = f"{row.cpu_s / row.wall_s:>7.2f}"
    return f"{row.name + ' ' + row.label:<45}{row.pages:>7}{speed}{cores}{latency}{rss}"


def report(plan: Plan, only: set[str], corpus: Path) -> Iterator[str]:
    """The table, a row as each scenario ends, then what was seen of each."""
    yield HEADER
    rows = []
    for row in scenarios(plan, only, load_corpus(corpus)):
        rows.append(row)
        yield table_line(row)
    yield "cores = CPU seconds / wall seconds; latency from a message's timestamp to its output's"
    for row in rows:
        yield from (f"{row.name}: {note}" for note in row.notes)
    if plan.kafka_data is None:
        yield "bytes per topic not measured: the broker's data directory is unknown (--kafka-data)"


def revision() -> str:
    """The commit the worker runs at, and whether worker/ has changes not committed."""
    try:
        git = ["git", "-C", str(REPO)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        changed = subprocess.run([*git, "status", "--porcelain", "worker"], capture_output=True,
                                 text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "worker at an unknown commit"
    return f"worker at {head}" + (" with uncommitted changes" if changed else "")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="A,B,C,D,E,F", help="scenarios, e.g. B,D")
    parser.add_argument("--bootstrap", help="an existing broker (default: start one)")
    parser.add_argument("--kafka-data", type=Path, help="the existing broker's data directory")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    only = {name.strip().upper() for name in args.only.split(",")}
    folder = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    ports = (free_port(), free_port())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}; {machine()}; N={args.messages} messages, P={args.partitions} partitions; "
          f"{revision()}", flush=True)  # fmt: skip
    try:
        bootstrap = args.bootstrap or kafka("start", folder / "kafka", ports)
        data = args.kafka_data or (None if args.bootstrap else folder / "kafka" / "data")
        broker = None if args.bootstrap else int((folder / "kafka" / "pid").read_text())
        plan = Plan(args.messages, args.partitions, args.workers, folder, bootstrap, data, broker)
        for line in report(plan, only, args.corpus):
            print(line, flush=True)
    except BaseException:
        print(f"failed: logs in {folder}", file=sys.stderr)
        raise
    finally:
        if not args.bootstrap:
            kafka("stop", folder / "kafka", ports)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
