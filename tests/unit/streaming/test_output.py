"""`Output.decide`: the changelog writes first, then a dedup stage's record; the band messages only once it is in."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaError

from worker.health import ProgressClock
from worker.settings import Settings
from worker.streaming.agents import Outcome, Output, Send


class Topic:
    """A topic whose sends are recorded and acknowledged at once (or refused), or, when `held`,
    only once the test calls `release`."""

    def __init__(self, name: str, log: list[str], refuse: bool = False, held: bool = False) -> None:
        self.name, self.log, self.refuse, self.held = name, log, refuse, held
        self.unacked: list[asyncio.Future[Any]] = []

    async def send(self, key: bytes | None, value: bytes, partition: int | None) -> asyncio.Future[Any]:
        self.log.append(f"{self.name}:{value.decode()}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.refuse:
            future.set_exception(KafkaError("refused"))
        elif self.held:
            self.unacked.append(future)
        else:
            future.set_result(None)
        return future

    def release(self) -> None:
        for future in self.unacked:
            future.set_result(None)
        self.unacked.clear()


class Consumer:
    def __init__(self) -> None:
        self.settled: list[Any] = []

    def settle(self, message: Any) -> None:
        self.settled.append(message)


def output(consumer: Consumer) -> Output:
    return Output(None, Settings(send_timeout_s=5), lambda: consumer, ProgressClock())  # type: ignore[arg-type]


async def test_the_band_messages_follow_the_acknowledged_record() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message="m")
    articles, bands = Topic("articles", log), Topic("by_band", log)
    outcome = Outcome([Send(articles, b"k", b"record")], [Send(bands, None, b"index", 1)])  # type: ignore[arg-type]
    await output(consumer).decide([(outcome, event)])  # type: ignore[arg-type]
    assert log == ["articles:record", "by_band:index"] and consumer.settled == ["m"]


async def test_a_refused_record_sends_nothing_that_depends_on_it_and_settles_nothing() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message="m")
    articles, bands = Topic("articles", log, refuse=True), Topic("by_band", log)
    outcome = Outcome([Send(articles, b"k", b"record")], [Send(bands, None, b"index", 1)])  # type: ignore[arg-type]
    with pytest.raises(KafkaError):
        await output(consumer).decide([(outcome, event)])  # type: ignore[arg-type]
    assert log == ["articles:record"] and consumer.settled == []


async def test_no_record_goes_out_before_the_table_writes_that_decided_it_are_in_the_changelog() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message="m")
    changelog: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    written = [[changelog], []]
    out = Output(None, Settings(send_timeout_s=5), lambda: consumer, ProgressClock(), lambda: written.pop(0))  # type: ignore[arg-type]
    outcome = Outcome([Send(Topic("articles", log), b"k", b"record")])  # type: ignore[arg-type]
    deciding = asyncio.ensure_future(out.decide([(outcome, event)]))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert log == [] and not deciding.done()
    changelog.set_result(None)
    await deciding
    assert log == ["articles:record"] and consumer.settled == ["m"]


async def test_a_changelog_write_the_broker_refuses_sends_no_record() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message="m")
    changelog: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    changelog.set_exception(KafkaError("refused"))
    out = Output(None, Settings(send_timeout_s=5), lambda: consumer, ProgressClock(), lambda: [changelog])  # type: ignore[arg-type]
    with pytest.raises(KafkaError):
        await out.decide([(Outcome([Send(Topic("articles", log), b"k", b"record")]), event)])  # type: ignore[arg-type]
    assert log == [] and consumer.settled == []


async def test_records_of_consecutive_events_go_out_together_in_the_order_of_their_events() -> None:
    log: list[str] = []
    consumer = Consumer()
    articles, bands = Topic("articles", log, held=True), Topic("by_band", log)
    first, second, third = (SimpleNamespace(message=m) for m in "abc")
    batch = [
        (Outcome([Send(articles, b"k", b"a")]), first),  # type: ignore[arg-type]
        (Outcome([Send(articles, b"k", b"b")], [Send(bands, None, b"index-b", 1)]), second),  # type: ignore[arg-type]
        (Outcome([Send(articles, b"k", b"c")]), third),  # type: ignore[arg-type]
    ]
    deciding = asyncio.ensure_future(output(consumer).decide(batch))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    # Both records before the index are out at once; the index waits for them, "c" for it.
    assert log == ["articles:a", "articles:b"] and not deciding.done()
    articles.release()
    await asyncio.sleep(0.05)
    assert log == ["articles:a", "articles:b", "by_band:index-b", "articles:c"]
    articles.release()
    await deciding
    assert consumer.settled == ["a", "b", "c"]
