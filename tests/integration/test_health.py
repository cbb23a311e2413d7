"""The web endpoints: liveness as progress, readiness, Prometheus metrics; slow pages time out."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Collector, Names, create_topics, produce, wait_for_group


async def wait_for(worker: Any, path: str, status: int, timeout_s: float = 60) -> bytes:
    for _ in range(int(timeout_s * 2)):
        code, body = worker.get(path)
        if code == status:
            return body
        await asyncio.sleep(0.5)
    raise AssertionError(f"{path} never answered {status}: last {code} {body[:200]!r}")


async def test_health_ready_and_metrics_while_pages_flow(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 2)
    worker = workers.start(2)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    await wait_for(worker, "/readyz", 200)
    pages = [orjson.dumps(message(f"https://h.example.com/{n}", article_html(300 + n))) for n in range(5)]
    await produce(broker.bootstrap, names.raw, [*pages, b"not json"])
    await collector.until(6)

    health = orjson.loads(await wait_for(worker, "/healthz", 200))
    assert health["status"] == "ok"
    metrics = (await wait_for(worker, "/metrics", 200)).decode()
    assert 'ingest_outcomes_total{outcome="article",reason=""} 5.0' in metrics
    assert 'ingest_outcomes_total{outcome="rejected",reason="not_json"} 1.0' in metrics
    assert "ingest_lag_messages" in metrics
    assert f'ingest_partition_lag_messages{{partition="0",topic="{names.raw}"}}' in metrics
    assert "process_resident_memory_bytes" in metrics and "ingest_cleaning_seconds_bucket" in metrics
    for path in ("/", "/table", "/table/url-state", "/router", "/graph", "/stats"):
        assert worker.get(path)[0] == 404, path  # faust's own pages (tables!) are not served


async def test_a_page_over_the_time_limit_is_rejected_and_the_worker_goes_on(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 1)
    # A limit no real extraction meets: every page times out, its child is killed and replaced.
    workers.start(1, INGEST_EXTRACT_TIMEOUT_S="0.001")
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    pages = [orjson.dumps(message(f"https://slow.example.com/{n}", article_html(400 + n))) for n in range(3)]
    await produce(broker.bootstrap, names.raw, pages)
    records = await collector.until(3)
    assert [r.value["reason"] for r in records] == ["timeout"] * 3
    metrics = workers.running[0].get("/metrics")[1].decode()
    assert "ingest_extractor_recycled_total 3.0" in metrics
