"""A worker started before its broker, or while it does not answer, waits (alive, not ready), then proceeds."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import orjson

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Broker, Collector, Names, Workers, create_topics, produce, wait_for_group


async def a_page_comes_out(broker: Broker, names: Names, url: str) -> None:
    """Once the worker joined its group, a page produced comes out as an article."""
    await wait_for_group(broker.bootstrap, names.app_id, 1, timeout_s=120)
    await produce(broker.bootstrap, names.raw, [orjson.dumps(message(url, article_html(9)))])
    collector = Collector(broker.bootstrap, names.outputs)
    try:
        [record] = await collector.until(1)
    finally:
        await collector.close()
    assert record.topic == names.articles


async def test_broker_down_at_start_then_up(tmp_path: Path) -> None:
    broker = Broker(state_dir=tmp_path / "kafka")
    names = Names()
    workers = Workers(broker, names, tmp_path)
    worker = workers.start(1)
    try:
        for _ in range(40):  # waiting for Kafka: alive, not ready
            if worker.get("/healthz")[0] == 200:
                break
            await asyncio.sleep(0.25)
        assert worker.get("/healthz")[0] == 200
        assert worker.get("/readyz")[0] == 503
        await asyncio.sleep(3)
        assert worker.process.poll() is None, worker.log()

        broker.start()
        await create_topics(broker.bootstrap, [names.raw, *names.outputs], 1)
        await a_page_comes_out(broker, names, "https://late.example.com/a")
        assert "not reachable: not ready; retrying" in worker.log()
    finally:
        workers.stop_all()
        broker.stop()


async def test_a_broker_that_accepts_connections_but_does_not_answer_is_waited_for(tmp_path: Path) -> None:
    """A frozen broker (a restarting one looks the same): TCP connects, no Kafka answers."""
    broker = Broker(state_dir=tmp_path / "kafka")
    broker.start()
    names = Names()
    workers = Workers(broker, names, tmp_path)
    os.kill(broker.pid, signal.SIGSTOP)
    try:
        worker = workers.start(1)
        await asyncio.sleep(20)
        assert worker.process.poll() is None, worker.log()
        assert worker.get("/healthz")[0] == 200
        assert worker.get("/readyz")[0] == 503
        os.kill(broker.pid, signal.SIGCONT)
        await a_page_comes_out(broker, names, "https://thawed.example.com/a")
    finally:
        os.kill(broker.pid, signal.SIGCONT)
        workers.stop_all()
        broker.stop()
