"""Test harness for broker tests: the real local broker, worker processes, produce and collect.

Nothing here is a mock: the broker is `deploy/local/kafka`, workers are `python -m worker run`
processes, and records are read back from the broker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    CoordinatorNotAvailableError,
    GroupCoordinatorNotAvailableError,
    NodeNotReadyError,
)

from tests.processes import assert_gone, descendants

REPO = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO / "deploy" / "local" / "kafka"


def kafka_libs() -> Path:
    """The broker's jar directory, resolved like deploy/local/kafka does."""
    if os.environ.get("KAFKA_HOME"):
        return Path(os.environ["KAFKA_HOME"]) / "libs"
    return Path(os.environ.get("KAFKA_LIBS", REPO / ".kafka" / "libs"))


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """A single-node broker run by the project's own script, in its own state directory."""

    state_dir: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The running broker's JVM pid (for SIGSTOP / SIGCONT)."""
        return int((self.state_dir / "pid").read_text().strip())

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run `deploy/local/kafka COMMAND` for this broker; raise if it fails."""
        env = {
            **os.environ,
            "KAFKA_STATE_DIR": str(self.state_dir),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            **self.env,
        }
        done = subprocess.run(
            [str(KAFKA_SCRIPT), command], env=env, capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0:
            raise RuntimeError(f"kafka {command} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self) -> subprocess.CompletedProcess[str]:
        """Start the broker and wait until it serves requests (its bootstrap printed last)."""
        done = self.run("start")
        lines = done.stdout.strip().splitlines()
        assert lines and lines[-1] == self.bootstrap, done.stdout
        return done

    def stop(self) -> None:
        """Stop the broker by PID."""
        self.run("stop")


@dataclass
class Names:
    """Unique app id and topic names, so tests never see each other's data."""

    app_id: str = field(default_factory=lambda: f"it-{uuid.uuid4().hex[:8]}")

    @property
    def raw(self) -> str:
        return f"{self.app_id}.pages.raw"

    @property
    def articles(self) -> str:
        return f"{self.app_id}.articles"

    @property
    def duplicates(self) -> str:
        return f"{self.app_id}.articles.duplicates"

    @property
    def rejected(self) -> str:
        return f"{self.app_id}.pages.rejected"

    @property
    def outputs(self) -> list[str]:
        return [self.articles, self.duplicates, self.rejected]

    def env(self, bootstrap: str, partitions: int, data_dir: Path) -> dict[str, str]:
        """The worker environment for these names."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "INGEST_APP_ID": self.app_id,
            "INGEST_TOPIC_RAW": self.raw,
            "INGEST_TOPIC_ARTICLES": self.articles,
            "INGEST_TOPIC_DUPLICATES": self.duplicates,
            "INGEST_TOPIC_REJECTED": self.rejected,
            "INGEST_PARTITIONS": str(partitions),
            "INGEST_DATA_DIR": str(data_dir),
            "INGEST_EXTRACT_WORKERS": "1",
            "INGEST_EXTRACT_TIMEOUT_S": "20",
            "INGEST_SESSION_TIMEOUT_S": "10",
            "INGEST_HEARTBEAT_INTERVAL_S": "1",
            "INGEST_COMMIT_INTERVAL_S": "0.5",
            "INGEST_LOG_LEVEL": "info",
            "INGEST_LOG_FORMAT": "text",  # tests read faust's log tables (test_state)
            "INGEST_WEB_PORT": str(free_port()),
            "INGEST_HEALTH_INTERVAL_S": "1",
        }


class WorkerProcess:
    """One `python -m worker run` process with its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.web_port = int(env["INGEST_WEB_PORT"])
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker", "run"],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM, then wait; return the exit code. No process of its outlives it."""
        family = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        finally:
            self._log.close()
            assert_gone(family)

    def kill(self) -> None:
        """SIGKILL, no goodbye. No process of its (extraction children) outlives it."""
        family = descendants(self.process.pid)
        self.process.kill()
        self.process.wait()
        self._log.close()
        assert_gone(family)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str) -> tuple[int, bytes]:
        """GET a path of the worker's web server: (status, body); status 0 if nothing listens."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}", timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except urllib.error.URLError:
            return 0, b""  # nothing listening (yet)


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int) -> None:
    """Create the topics that do not exist yet."""
    from aiokafka.admin import NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        config = {"max.message.bytes": str(10 * 1024 * 1024)}
        existing = set(await admin.list_topics())
        new = [NewTopic(n, partitions, 1, topic_configs=config) for n in names if n not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


async def wait_for_group(bootstrap: str, group: str, members: int, timeout_s: float = 90) -> None:
    """Wait until a consumer group is Stable with this many members."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            while time.monotonic() < deadline:
                try:
                    described = await admin.describe_consumer_groups([group])
                except (GroupCoordinatorNotAvailableError, CoordinatorNotAvailableError):
                    described = []  # the offsets topic is still being created
                groups = described[0].to_object()["groups"] if described else []
                for g in groups:
                    if g["state"] == "Stable" and len(g["members"]) == members:
                        return
                await asyncio.sleep(0.5)
        except NodeNotReadyError:
            # The metadata listed no broker: a KRaft broker is left out while fenced, as a
            # thawed one is until its controller hears from it again. A new client asks again.
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise TimeoutError(f"group {group} not stable with {members} members in {timeout_s}s")


@dataclass(frozen=True)
class Sent:
    """Where a produced message landed."""

    partition: int
    offset: int
    timestamp_ms: int


async def produce(
    bootstrap: str, topic: str, values: Iterable[bytes | None], key: bytes | None = None
) -> list[Sent]:
    """Produce values in order (each awaited) and return their coordinates."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
        max_request_size=10 * 1024 * 1024,
    )  # fmt: skip
    await producer.start()
    try:
        sent = []
        for value in values:
            meta = await producer.send_and_wait(topic, value=value, key=key)
            sent.append(Sent(meta.partition, meta.offset, meta.timestamp))
        return sent
    finally:
        await producer.stop()


def encode(obj: Any) -> bytes:
    return orjson.dumps(obj)


@dataclass(frozen=True)
class Output:
    """One record read back from an output topic."""

    topic: str
    key: bytes | None
    value: dict[str, Any]
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int = -1
    offset: int = -1


class Collector:
    """Reads the output topics from the beginning, accumulating records across calls."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.records: list[Output] = []
        self._consumer: AIOKafkaConsumer | None = None

    async def _start(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap, group_id=f"collector-{uuid.uuid4().hex[:8]}",
                enable_auto_commit=False, auto_offset_reset="earliest",
                max_partition_fetch_bytes=10 * 1024 * 1024, fetch_max_bytes=20 * 1024 * 1024,
            )  # fmt: skip
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def _poll(self) -> None:
        """Append what one fetch returns."""
        consumer = await self._start()
        batches = await consumer.getmany(timeout_ms=200)
        for batch in batches.values():
            for r in batch:
                self.records.append(Output(r.topic, r.key, orjson.loads(r.value), tuple(r.headers), r.partition, r.offset))

    async def until(self, count: int, timeout_s: float = 120, settle_s: float = 2.0) -> list[Output]:
        """Read until at least `count` records in all, then `settle_s` more; return all records."""
        deadline = time.monotonic() + timeout_s
        settle_end: float | None = None
        while time.monotonic() < deadline:
            await self._poll()
            if len(self.records) >= count:
                settle_end = settle_end or time.monotonic() + settle_s
                if time.monotonic() >= settle_end:
                    return self.records
        raise TimeoutError(f"only {len(self.records)} of {count} output records in {timeout_s}s")

    async def until_origins(
        self, origins: set[tuple[int, int]], timeout_s: float = 120, settle_s: float = 2.0
    ) -> list[Output]:
        """Read until every input (partition, offset) has an output, then `settle_s` more.

        Counting records is not enough: an at-least-once repeat can stand in for a missing one.
        """
        deadline = time.monotonic() + timeout_s
        settle_end: float | None = None
        missing = set(origins)
        while time.monotonic() < deadline:
            await self._poll()
            seen = {(r.value["origin"]["partition"], r.value["origin"]["offset"]) for r in self.records}
            missing = origins - seen
            if not missing:
                settle_end = settle_end or time.monotonic() + settle_s
                if time.monotonic() >= settle_end:
                    return self.records
        raise TimeoutError(f"no output for inputs {sorted(missing)} in {timeout_s}s")

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


class Workers:
    """Starts and stops worker processes for one test, and shows their logs on failure."""

    def __init__(self, broker: Broker, names: Names, tmp_path: Path) -> None:
        self.broker, self.names, self.tmp_path = broker, names, tmp_path
        self.running: list[WorkerProcess] = []
        self.started = 0

    def start(self, partitions: int, data_dir: Path | None = None, **extra_env: str) -> WorkerProcess:
        """Start one more worker process with its log and its own data directory (or `data_dir`,
        to reuse the local tables of a worker that stopped)."""
        self.started += 1
        data_dir = data_dir or self.tmp_path / f"data-{self.started}"
        env = {**self.names.env(self.broker.bootstrap, partitions, data_dir), **extra_env}
        worker = WorkerProcess(env, self.tmp_path / f"worker-{self.started}.log")
        self.running.append(worker)
        return worker

    def stop_all(self) -> list[int]:
        """SIGTERM every running worker; return their exit codes."""
        codes = [w.stop() for w in self.running]
        self.running.clear()
        return codes

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.tmp_path.glob("worker-*.log"))
        )
