"""SIGTERM while pages are in flight: exit 0, nothing lost, nothing repeated after the restart."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Collector, Names, create_topics, produce, wait_for_group

PAGES = 300


async def test_sigterm_mid_stream_loses_and_repeats_nothing(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 2)
    workers.start(2, INGEST_BATCH_SIZE="16")
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    values = [orjson.dumps(message(f"https://term.example.com/{n}", article_html(700 + n))) for n in range(PAGES)]
    sent = await produce(broker.bootstrap, names.raw, values)
    await collector.until(20, settle_s=0)  # some pages are done, most are still to come
    [code] = workers.stop_all()
    assert code == 0
    done_before = len(collector.records)
    assert done_before < PAGES, "stop came too late to test anything"

    workers.start(2, INGEST_BATCH_SIZE="16")
    records = await collector.until(PAGES, settle_s=3)
    origins = Counter((r.value["origin"]["partition"], r.value["origin"]["offset"]) for r in records)
    assert set(origins) == {(s.partition, s.offset) for s in sent}
    assert max(origins.values()) == 1, "a graceful stop must not leave pages to be processed twice"
    assert {r.topic for r in records} == {names.articles}
