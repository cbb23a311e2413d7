"""`Output.decide`: the changelog writes first, then a dedup stage's record; the band messages only once it is in."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaError

from worker.health import ProgressClock
from worker.settings import Settings
from worker.streaming.agents import BUNDLE_BYTES, PARTITIONER, Outcome, Output, Send, _messages


class Topic:
    """A topic whose sends are recorded and acknowledged at once (or refused), or, when `held`,
    only once the test calls `release`."""

    def __init__(self, name: str, log: list[str], refuse: bool = False, held: bool = False) -> None:
        self.name, self.log, self.refuse, self.held = name, log, refuse, held
        self.unacked: list[asyncio.Future[Any]] = []

    async def send(
        self, key: bytes | None, value: bytes, partition: int | None, headers: Any = None
    ) -> asyncio.Future[Any]:
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
    """Records the names of the messages settled; an offset settled once is settled."""

    def __init__(self) -> None:
        self.settled: list[str] = []
        self.offsets: set[int] = set()

    def settle(self, message: Any) -> None:
        self.settled.append(message.name)
        self.offsets.add(message.offset)

    def is_settled(self, message: Any) -> bool:
        return message.offset in self.offsets


def message(name: str, offset: int | None = None) -> Any:
    """A Kafka message of partition 0 (at an offset of its own unless told)."""
    return SimpleNamespace(name=name, topic="raw", partition=0, offset=hash(name) if offset is None else offset)


TOPICS = SimpleNamespace(by_band=None, verdicts=None)
"""No topic of these tests is bundled (see the bundle tests)."""


def output(consumer: Consumer, topics: Any = TOPICS) -> Output:
    return Output(topics, Settings(send_timeout_s=5, partitions=4), lambda: consumer, ProgressClock())


async def test_the_band_messages_follow_the_acknowledged_record() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message=message("m"))
    articles, bands = Topic("articles", log), Topic("by_band", log)
    outcome = Outcome([Send(articles, b"k", b"record")], [Send(bands, None, b"index", 1)])  # type: ignore[arg-type]
    await output(consumer).decide([(outcome, event)])  # type: ignore[arg-type]
    assert log == ["articles:record", "by_band:index"] and consumer.settled == ["m"]


async def test_a_refused_record_sends_nothing_that_depends_on_it_and_settles_nothing() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message=message("m"))
    articles, bands = Topic("articles", log, refuse=True), Topic("by_band", log)
    outcome = Outcome([Send(articles, b"k", b"record")], [Send(bands, None, b"index", 1)])  # type: ignore[arg-type]
    with pytest.raises(KafkaError):
        await output(consumer).decide([(outcome, event)])  # type: ignore[arg-type]
    assert log == ["articles:record"] and consumer.settled == []


async def test_no_record_goes_out_before_the_table_writes_that_decided_it_are_in_the_changelog() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message=message("m"))
    changelog: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    written = [[changelog], []]
    out = Output(TOPICS, Settings(send_timeout_s=5), lambda: consumer, ProgressClock(), lambda: written.pop(0))  # type: ignore[arg-type]
    outcome = Outcome([Send(Topic("articles", log), b"k", b"record")])  # type: ignore[arg-type]
    deciding = asyncio.ensure_future(out.decide([(outcome, event)]))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert log == [] and not deciding.done()
    changelog.set_result(None)
    await deciding
    assert log == ["articles:record"] and consumer.settled == ["m"]


async def test_a_changelog_write_the_broker_refuses_sends_no_record() -> None:
    log: list[str] = []
    consumer, event = Consumer(), SimpleNamespace(message=message("m"))
    changelog: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    changelog.set_exception(KafkaError("refused"))
    out = Output(TOPICS, Settings(send_timeout_s=5), lambda: consumer, ProgressClock(), lambda: [changelog])  # type: ignore[arg-type]
    with pytest.raises(KafkaError):
        await out.decide([(Outcome([Send(Topic("articles", log), b"k", b"record")]), event)])  # type: ignore[arg-type]
    assert log == [] and consumer.settled == []


async def test_every_record_of_a_batch_goes_out_before_the_messages_that_depend_on_them() -> None:
    log: list[str] = []
    consumer = Consumer()
    articles, bands = Topic("articles", log, held=True), Topic("by_band", log)
    first, second, third = (SimpleNamespace(message=message(m)) for m in "abc")
    batch = [
        (Outcome([Send(articles, b"k", b"a")]), first),  # type: ignore[arg-type]
        (Outcome([Send(articles, b"k", b"b")], [Send(bands, None, b"index-b", 1)]), second),  # type: ignore[arg-type]
        (Outcome([Send(articles, b"k", b"c")]), third),  # type: ignore[arg-type]
    ]
    deciding = asyncio.ensure_future(output(consumer).decide(batch))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    # The records are out at once; the index waits for them all.
    assert log == ["articles:a", "articles:b", "articles:c"] and not deciding.done()
    articles.release()
    await deciding
    assert log == ["articles:a", "articles:b", "articles:c", "by_band:index-b"]
    assert consumer.settled == ["a", "b", "c"]


async def test_a_copy_of_a_message_being_handled_is_not_handled_again_and_settles_with_it() -> None:
    """faust delivers a message again when it seeks the partition (after a recovery): handled
    beside the first, the copy would publish its records twice."""
    consumer, log = Consumer(), []
    out = output(consumer)
    first, copy, other = (SimpleNamespace(message=message(n, o)) for n, o in [("first", 7), ("copy", 7), ("other", 8)])
    assert out.unsettled([first]) == [first]
    assert out.unsettled([copy, other]) == [other]  # the copy waits for the first
    await out.publish(asyncio.sleep(0, [Send(Topic("articles", log), b"k", b"record")]), first)  # type: ignore[arg-type]
    assert log == ["articles:record"] and consumer.settled == ["first", "copy"]
    assert out.unsettled([SimpleNamespace(message=message("later copy", 7))]) == []  # settled
    assert consumer.settled == ["first", "copy", "later copy"]


async def test_copies_in_one_round_are_decided_once() -> None:
    consumer, log = Consumer(), []
    out = output(consumer)
    first, copy = SimpleNamespace(message=message("first", 3)), SimpleNamespace(message=message("copy", 3))
    taken = out.unsettled([first, copy])
    assert taken == [first]
    await out.decide([(Outcome([Send(Topic("articles", log), b"k", b"record")]), first)])  # type: ignore[arg-type]
    assert log == ["articles:record"] and consumer.settled == ["first", "copy"]


def test_a_message_whose_handling_stopped_is_taken_again_when_delivered_again() -> None:
    consumer = Consumer()
    out = output(consumer)
    first, copy = SimpleNamespace(message=message("first", 5)), SimpleNamespace(message=message("copy", 5))
    assert out.unsettled([first]) == [first]
    out.release(first.message)  # e.g. cancelled: nothing settled
    assert out.unsettled([copy]) == [copy] and consumer.settled == []


def test_band_messages_and_verdicts_for_one_partition_travel_as_one_record_in_order() -> None:
    log: list[str] = []
    bands, verdicts, articles = Topic("by_band", log), Topic("verdicts", log), Topic("articles", log)
    out = output(Consumer(), SimpleNamespace(by_band=bands, verdicts=verdicts))
    sends = [
        Send(bands, None, b'{"q":1}', 1),  # type: ignore[arg-type]
        Send(articles, b"k", b"record"),  # type: ignore[arg-type]
        Send(bands, None, b'{"q":2}', 3),  # type: ignore[arg-type]
        Send(bands, None, b'{"q":3}', 1),  # type: ignore[arg-type]
        Send(verdicts, b"id-1", b'{"r":1}'),  # type: ignore[arg-type]
        Send(verdicts, b"id-1", b'{"r":2}'),  # type: ignore[arg-type]
    ]
    bundled = out.bundle(sends)
    assert [(s.topic.name, s.key, s.value, s.partition) for s in bundled] == [
        ("by_band", None, b'{"q":1}\n{"q":3}', 1),
        ("articles", b"k", b"record", None),
        ("by_band", None, b'{"q":2}', 3),
        ("verdicts", None, b'{"r":1}\n{"r":2}', PARTITIONER(b"id-1", [0, 1, 2, 3], [0, 1, 2, 3])),
    ]
    [event] = [SimpleNamespace(value=bundled[0].value, key=None, message="m")]
    assert [(m.value, m.message) for m in _messages(event)] == [(b'{"q":1}', "m"), (b'{"q":3}', "m")]  # type: ignore[arg-type]


def test_a_bundle_stays_under_its_size_and_a_larger_message_goes_alone() -> None:
    log: list[str] = []
    bands = Topic("by_band", log)
    out = output(Consumer(), SimpleNamespace(by_band=bands, verdicts=None))
    third = BUNDLE_BYTES // 3
    values = [b"a" * third, b"b" * third, b"c" * third, b"d" * (2 * BUNDLE_BYTES), b"e"]
    bundled = out.bundle([Send(bands, None, v, 0) for v in values])  # type: ignore[arg-type]
    assert [s.value.split(b"\n") for s in bundled] == [values[:2], values[2:3], values[3:4], values[4:]]
    assert all(len(s.value) < BUNDLE_BYTES for s in bundled if b"\n" in s.value)
