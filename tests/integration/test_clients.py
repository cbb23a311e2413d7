"""Scrapers produce with other clients: every compression codec, unknown headers, no key,
transactions."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Collector, Names, create_topics, kafka_libs, wait_for_group

CODECS = ["gzip", "zstd", "lz4", "snappy"]
JAVA_PRODUCER = Path(__file__).parent / "clients" / "JavaProducer.java"


def pages(prefix: str, seed: int) -> list[bytes]:
    """Two distinct article messages."""
    return [
        orjson.dumps(message(f"https://{prefix}.example.com/story-{n}", article_html(seed + n)))
        for n in range(2)
    ]


async def test_java_and_python_producers_with_every_codec(
    broker: Any, names: Names, workers: Any, collector: Collector, tmp_path: Path
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 2)
    workers.start(2)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    expected_urls = set()

    # The official Java client: one producer per codec, records with headers and no key.
    java_args = []
    for i, codec in enumerate(CODECS):
        lines = pages(f"java-{codec}", 1000 + 10 * i)
        (tmp_path / codec).write_bytes(b"\n".join(lines) + b"\n")
        java_args.append(f"{codec}={tmp_path / codec}")
        expected_urls |= {orjson.loads(v)["url"] for v in lines}
    done = subprocess.run(
        ["java", "-cp", f"{kafka_libs()}/*", str(JAVA_PRODUCER), broker.bootstrap, names.raw, *java_args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 3 * 2 * len(CODECS), done.stdout

    # aiokafka (cramjam behind zstd, lz4 and snappy), one producer per codec.
    for i, codec in enumerate(CODECS):
        lines = pages(f"py-{codec}", 2000 + 10 * i)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, compression_type=codec)
        await producer.start()
        try:
            for line in lines:
                await producer.send_and_wait(names.raw, line, headers=[("x-trace", b"\x00\xff")])
        finally:
            await producer.stop()
        expected_urls |= {orjson.loads(v)["url"] for v in lines}

    records = await collector.until(len(expected_urls))
    assert {r.topic for r in records} == {names.articles}, [r.value for r in records]
    assert {r.value["url"] for r in records} == expected_urls  # repeats (at-least-once) aside


async def test_transactional_producer_commit_markers_are_committed_past(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    """A transactional scraper leaves a commit marker after each transaction: an offset with
    no record. The worker must commit across markers, also one sitting exactly at its committed
    offset when it starts (phase 2), instead of waiting for it forever."""
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 1)
    last = -1
    for phase in range(2):
        workers.start(1, INGEST_STALL_TIMEOUT_S="600")
        await wait_for_group(broker.bootstrap, names.app_id, 1)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id=f"{names.app_id}-{phase}")
        await producer.start()
        try:
            for n in range(3):
                async with producer.transaction():
                    for line in pages(f"txn-{phase}-{n}", 3000 + 10 * (3 * phase + n)):
                        last = (await producer.send_and_wait(names.raw, line)).offset
        finally:
            await producer.stop()
        await collector.until(6 * (phase + 1), settle_s=0)
        await _until_committed(broker.bootstrap, names.app_id, TopicPartition(names.raw, 0), last + 1)
        assert workers.stop_all() == [0]
    assert {r.topic for r in collector.records} == {names.articles}


async def _until_committed(bootstrap: str, group: str, tp: TopicPartition, offset: int) -> None:
    """Wait until the group's committed offset for `tp` is at least `offset`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    committed = None
    try:
        for _ in range(120):
            found = await admin.list_consumer_group_offsets(group, partitions=[tp])
            committed = found[tp].offset if tp in found else None
            if committed is not None and committed >= offset:
                return
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    raise AssertionError(f"committed offset of {tp} is {committed}, not past {offset - 1}")
