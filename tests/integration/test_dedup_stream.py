"""The labelled dedup stream end to end: 2 workers on 4 partitions, unkeyed and keyed by URL,
scored against the labels and against the same stream decided in one process without Kafka.

A smaller stream than the benchmark's by default (`DEDUP_STREAM_SIZE`, 2000 for the full run
whose figures are in BENCHMARKS.md). Targets (issue 8): nothing missing or conflicting, no page
wrongly dropped, pairwise precision >= 0.99, recall >= 0.95 overall and >= 0.9 for every case,
and the same clusters as in one process.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from bench import dedup as bench
from bench.dedup_score import Score, clusters, format_score, same_clusters, score
from bench.dedup_stream import Labelled, generate
from tests.integration.harness import Collector, Names, create_topics, wait_for_group

SIZE = int(os.environ.get("DEDUP_STREAM_SIZE", "400"))
PARTITIONS = 4


@pytest.fixture(scope="module")
def stream() -> list[Labelled]:
    return generate(size=SIZE)


@pytest.fixture(scope="module")
def in_process(stream: list[Labelled]) -> list[dict[str, Any]]:
    records, _ = bench.decide(bench.clean(stream))
    return records


def meets_targets(result: Score) -> None:
    assert (result.missing, result.conflicting, result.unlabelled) == (0, 0, 0), format_score(result)
    assert result.wrongly_dropped == 0, format_score(result)
    assert result.precision >= 0.99 and result.recall >= 0.95, format_score(result)
    shares = {**result.case_recall, **result.case_apart}
    assert all(share >= 0.9 for share in shares.values()), format_score(result)
    assert result.clusters_split == result.clusters_unpublished == 0, format_score(result)


def test_in_one_process_the_stream_meets_the_targets(stream: list[Labelled], in_process: list[dict[str, Any]]) -> None:
    result = score(stream, in_process)
    print(f"\nin one process:\n{format_score(result)}")
    meets_targets(result)


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed-by-url"])
async def test_through_the_broker_the_stream_gets_the_same_clusters(
    keyed: bool,
    stream: list[Labelled],
    in_process: list[dict[str, Any]],
    broker: Any,
    names: Names,
    workers: Any,
    collector: Collector,
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], PARTITIONS)
    for _ in range(2):  # started at the same moment on a fresh app id
        workers.start(PARTITIONS)
    await wait_for_group(broker.bootstrap, names.app_id, 2)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True,
                                max_request_size=10 * 1024 * 1024)  # fmt: skip
    await producer.start()
    try:  # in stream order, as fast as the producer goes: many copies are in flight together
        sends = [
            await producer.send(names.raw, orjson.dumps(item.value),
                                key=item.value["url"].encode() if keyed else None)  # fmt: skip
            for item in stream
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    records = await collector.until(len(stream), timeout_s=600)
    result = score(stream, [r.value for r in records])
    print(f"\nthrough the broker ({'keyed' if keyed else 'unkeyed'}):\n{format_score(result)}")
    meets_targets(result)
    assert same_clusters(clusters(r.value for r in records), clusters(in_process))
