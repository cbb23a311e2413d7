"""Fixtures for broker tests: one real broker per test session, started by deploy/local/kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.harness import Broker, Collector, Names, WorkerProcess

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration is marked `integration`."""
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real single-node Kafka broker for the whole session (never skipped: a failure fails)."""
    broker = Broker(state_dir=tmp_path_factory.mktemp("kafka"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def names() -> Names:
    """Fresh app id and topic names for one test."""
    return Names()


class Workers:
    """Starts and stops worker processes for one test, and shows their logs on failure."""

    def __init__(self, broker: Broker, names: Names, tmp_path: Path) -> None:
        self.broker, self.names, self.tmp_path = broker, names, tmp_path
        self.running: list[WorkerProcess] = []
        self.started = 0

    def start(self, partitions: int, **extra_env: str) -> WorkerProcess:
        """Start one more worker process with its own data directory and log."""
        self.started += 1
        data_dir = self.tmp_path / f"data-{self.started}"
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


@pytest.fixture
def workers(broker: Broker, names: Names, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Workers]:
    """Worker processes, stopped after the test; their logs are printed if it failed."""
    pool = Workers(broker, names, tmp_path)
    yield pool
    for worker in pool.running:
        worker.kill()
    print(pool.logs())


@pytest.fixture
async def collector(broker: Broker, names: Names) -> AsyncIterator[Collector]:
    """Reads this test's output topics."""
    c = Collector(broker.bootstrap, names.outputs)
    yield c
    await c.close()
