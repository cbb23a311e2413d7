"""SIGTERM while pages are in flight: exit 0, and nothing lost once a new worker takes over.

Pages in flight at the stop may be published but not committed, so a repeat (the same
decision again) is allowed and reported; a missing page is not. This is the test that caught
faust committing past messages it dropped (see worker/streaming/offsets.py). Should a worker
exit on a stall, the test starts a new one, as Kubernetes would.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import orjson

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Collector, Names, create_topics, produce, wait_for_group

PAGES = 300
ENV = {"INGEST_BATCH_SIZE": "16", "INGEST_STALL_TIMEOUT_S": "10"}


async def test_sigterm_mid_stream_loses_nothing(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 2)
    workers.start(2, **ENV)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    values = [orjson.dumps(message(f"https://term.example.com/{n}", article_html(700 + n))) for n in range(PAGES)]
    sent = {(s.partition, s.offset) for s in await produce(broker.bootstrap, names.raw, values)}
    await collector.until(20, settle_s=0)  # some pages are done, most are still to come
    [code] = workers.stop_all()
    assert code == 0
    assert len(collector.records) < PAGES, "stop came too late to test anything"

    workers.start(2, **ENV)
    restarts, deadline = 0, time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            await collector.until(PAGES, timeout_s=15, settle_s=3)
        except TimeoutError:
            pass
        if {(r.value["origin"]["partition"], r.value["origin"]["offset"]) for r in collector.records} >= sent:
            break
        if workers.running[0].process.poll() is not None:  # exited on a stall: replace it
            workers.running.clear()
            workers.start(2, **ENV)
            restarts += 1
    origins = Counter((r.value["origin"]["partition"], r.value["origin"]["offset"]) for r in collector.records)
    assert set(origins) == sent, f"missing {sorted(sent - set(origins))}"
    assert {r.topic for r in collector.records} == {names.articles}
    print(f"repeats after SIGTERM: {sum(n - 1 for n in origins.values())}; restarts after a stall: {restarts}")
