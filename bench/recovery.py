"""Time to ready of a worker restarted with a large dedup state: from changelogs, from its volume.

    .venv/bin/python -m bench.recovery [--pages N] [--partitions P]

Starts a broker of its own (`deploy/local/kafka`, fresh state in a temporary directory),
builds the dedup state of N synthetic pages without Kafka (`bench.state`: the three stages
over dict tables), and writes every table entry to its changelog topic as faust would have
(JSON key and value, in the partition of the event that wrote it). Then a worker starts on
an empty volume and restores the tables from the changelogs (a); it is killed with SIGKILL
and a second one starts on the same volume, restoring from its RocksDB files (b). Both have
the same group instance id, as a StatefulSet's pod keeps its name (deploy/k8s): the second
takes the first one's place in the group at once instead of waiting for its session to
time out.

Prints the records produced per table and the produce rate, then for (a) and (b): seconds
from process start to the first /readyz 200, the seconds of those until the group was joined
(from the worker's log), the changelog records read (faust's logged highwaters minus its
start offsets) and their rate; the volume's size on disk. First line: date, machine, N, P.

The changelogs hold one record per live key, as after a full compaction: a worker's own
changelogs also hold every earlier write of a key until the log cleaner gets to it, so (a)
is a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from bench.state import TABLES, Stages, pages
from worker import kafka_tools, topology
from worker.core.dedup import home_of
from worker.settings import Settings
from worker.streaming.agents import PARTITIONER
from worker.streaming.tables import JOURNAL_MARK, Tables, journal_partition

REPO = Path(__file__).resolve().parents[1]
KAFKA = REPO / "deploy" / "local" / "kafka"
BATCH = 20_000
"""Records in flight at once while producing."""
READY_TIMEOUT_S = 1800.0
Record = tuple[str, int, bytes, bytes]
"""(topic, partition, key, value)."""


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kafka(command: str, state: Path, ports: tuple[int, int]) -> str:
    """Run `deploy/local/kafka <command>` on this run's broker; its last line of stdout."""
    env = {**os.environ, "KAFKA_STATE_DIR": str(state), "KAFKA_LIBS": str(REPO / ".kafka/libs"),
           "KAFKA_PORT": str(ports[0]), "KAFKA_CONTROLLER_PORT": str(ports[1]),
           "KAFKA_FRESH": "1" if command == "start" else "0"}  # fmt: skip
    done = subprocess.run([KAFKA, command], env=env, check=True, capture_output=True, text=True)
    return (done.stdout.strip().splitlines() or [""])[-1]


def state(count: int, partitions: int) -> Tables:
    """The tables after `count` synthetic pages through the stages."""
    backing: dict[str, Any] = {name: {} for name in TABLES}  # bench.state's memory store
    tables = Tables(**backing)
    stages = Stages(tables, partitions)
    for page in pages(count):
        stages.add(page)
    assert stages.decided == count, (stages.decided, count)
    left = {name: len(getattr(tables, name)) for name in ('pending', 'replies', 'waits')}
    assert not any(left.values()), left
    return tables


def records(tables: Tables, settings: Settings) -> Iterator[Record]:
    """Every table entry as its changelog record, in the partition of the event that wrote it."""
    every = list(range(settings.partitions))
    by_table = {
        topology.TABLE_URLS: (tables.urls, lambda key: PARTITIONER(key.encode(), every, every)),
        topology.TABLE_BANDS: (tables.bands, journal_partition),
        topology.TABLE_MEMBERS: (tables.members, home_of),
    }
    for name, (table, partition) in by_table.items():
        topic = topology.changelog(settings, name)
        for key, value in table.items():
            if name == topology.TABLE_BANDS and not key.startswith(JOURNAL_MARK):
                continue  # a band list: not logged, rebuilt from the journal
            yield topic, partition(key), orjson.dumps(key), orjson.dumps(value)


async def produce(settings: Settings, entries: Iterator[Record]) -> Counter[str]:
    """Send the records in big batches; how many went to each topic."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks=1,
                                linger_ms=100, max_batch_size=1 << 20)  # fmt: skip
    await producer.start()
    sent: Counter[str] = Counter()
    try:
        batch = []
        for topic, partition, key, value in entries:
            batch.append(await producer.send(topic, value, key=key, partition=partition))
            sent[topic] += 1
            if len(batch) >= BATCH:
                await asyncio.gather(*batch)
                batch = []
        await asyncio.gather(*batch)
    finally:
        await producer.stop()
    return sent


class Worker:
    """One `python -m worker run` in a process group of its own, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port, self.log_path = int(env["INGEST_WEB_PORT"]), log
        self.started = time.monotonic()
        self.wall = time.time()
        with log.open("ab") as out:
            command = [sys.executable, "-m", "worker", "run"]
            self.process = subprocess.Popen(
                command, cwd=REPO, env={**os.environ, **env}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def ready_after(self) -> float:
        """Seconds from process start to the first /readyz 200 (polled every 0.2 s)."""
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() - self.started > READY_TIMEOUT_S:
                raise RuntimeError(f"worker not ready:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        return time.monotonic() - self.started

    def _ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/readyz"
            with urllib.request.urlopen(url, timeout=5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def joined_after(self) -> float | None:
        """Seconds from process start to the last group join the log shows (aiokafka's)."""
        joins = [line for line in self.log().splitlines() if "Joined group" in line]
        if not joins:
            return None
        stamp = joins[-1].split("]", 1)[0].lstrip("[")  # faust: "[2026-12-02 10:00:00,123] ..."
        return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp() - self.wall

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the whole group (the extraction children too)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, then wait; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def logged(log: str, title: str) -> dict[tuple[str, int], int]:
    """Offsets faust's recovery logged last under `title`, by (changelog, partition) (empty if
    it logged none; tests/integration/test_state.py reads the worker's logs with it too)."""
    sections = log.split(title)
    offsets, topic = {}, ""
    for line in sections[-1].splitlines()[1:] if len(sections) > 1 else []:
        if line.startswith("["):
            break
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5 and cells[2].isdigit() and cells[3].lstrip("-").isdigit():
            topic = topic if cells[1] == "\u3003" else cells[1]  # a ditto mark repeats the topic
            offsets[(topic, int(cells[2]))] = int(cells[3])
    return offsets


def records_read(log: str) -> int | None:
    """Changelog records the last recovery read: highwater minus start offset, summed."""
    start = logged(log, "active offsets at start of reading:")
    end = logged(log, "Highwater for active changelog partitions:")
    return sum(end[tp] - start.get(tp, -1) for tp in end) if end else None


def recovery(label: str, worker: Worker) -> str:
    """Wait for the worker to be ready; its figures."""
    seconds = worker.ready_after()
    joined, read = worker.joined_after(), records_read(worker.log())
    rate = f", {read / seconds:,.0f} records/s" if read else ""
    group = f" (group joined at {joined:.1f} s, +{seconds - joined:.1f} s)" if joined else ""
    return f"{label}: ready after {seconds:.1f} s{group}; changelog records read {read}{rate}"


def disk_bytes(folder: Path) -> int:
    """Bytes the folder's files take on disk (like du)."""
    return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file())


def machine() -> str:
    """nproc and CPU model."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    return f"{os.cpu_count()} CPUs, {models[0] if models else platform.processor()}"


def run(count: int, partitions: int, folder: Path, bootstrap: str) -> Iterator[str]:
    """The whole measurement, a line of figures at a time."""
    app_id = f"bench-recovery-{os.getpid()}-{int(time.time())}"
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "INGEST_APP_ID": app_id,
           "INGEST_PARTITIONS": str(partitions), "INGEST_DATA_DIR": str(folder / "volume"),
           "INGEST_WEB_PORT": str(free_port()), "INGEST_EXTRACT_WORKERS": "1",
           "INGEST_LOG_LEVEL": "info", "INGEST_GROUP_INSTANCE_ID": f"{app_id}-0",
           "INGEST_LOG_FORMAT": "text"}  # fmt: skip  (`logged` reads faust's text tables)
    for topic in ("raw", "articles", "duplicates", "rejected"):  # this run's own
        env[f"INGEST_TOPIC_{topic.upper()}"] = f"{app_id}.{topic}"
    settings = Settings.from_env(env)
    asyncio.run(kafka_tools.ensure_topics(settings))
    started = time.monotonic()
    tables = state(count, partitions)
    yield f"state of {count} pages built in {time.monotonic() - started:.1f} s"
    started = time.monotonic()
    sent = asyncio.run(produce(settings, records(tables, settings)))
    seconds, total = time.monotonic() - started, sum(sent.values())
    yield from (f"  {topic.removeprefix(app_id + '-')}: {n:,} records" for topic, n in sent.items())
    yield f"produced {total:,} records in {seconds:.1f} s, {total / seconds:,.0f} records/s"
    del tables
    first = Worker(env, folder / "first.log")
    try:
        yield recovery("a: changelog, fresh volume", first)
    finally:
        first.kill()
    volume = disk_bytes(Path(env["INGEST_DATA_DIR"]))
    yield f"volume {volume / 2**20:,.1f} MiB on disk, {volume / count:,.0f} bytes per page"
    second = Worker(env, folder / "second.log")
    try:
        yield recovery("b: local volume after SIGKILL", second)
    finally:
        code = second.stop()
    yield f"second worker exited {code} on SIGTERM"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    ports = (free_port(), free_port())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}; {machine()}; N={args.pages} pages, P={args.partitions} partitions", flush=True)
    try:
        bootstrap = kafka("start", folder / "kafka", ports)
        for line in run(args.pages, args.partitions, folder, bootstrap):
            print(line, flush=True)
    except BaseException:
        print(f"failed: logs in {folder}", file=sys.stderr)
        raise
    finally:
        kafka("stop", folder / "kafka", ports)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
