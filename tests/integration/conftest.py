"""Fixtures for broker tests: one real broker per test session, started by deploy/local/kafka."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.harness import Broker, Collector, Names, Workers

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


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker of the test module's own, for tests that freeze it (SIGSTOP): the session's
    broker stays untouched. Left running (SIGCONT) before it is stopped."""
    broker = Broker(state_dir=tmp_path_factory.mktemp("own-kafka"))
    broker.start()
    yield broker
    os.kill(broker.pid, signal.SIGCONT)
    broker.stop()


@pytest.fixture
def names() -> Names:
    """Fresh app id and topic names for one test."""
    return Names()


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
