"""The worker end to end on the real broker: every input accounted for once, every record exact.

Phases keep "first seen" deterministic whatever the partitioning: originals first, then copies,
variants and bad messages, then a changed revision; then the workers restart (state must
survive) and more duplicates arrive.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from tests.fixtures.synthetic import article_html
from tests.integration.harness import Collector, Names, create_topics, wait_for_group
from tests.integration.scenario import PNG, SPA, Scenario

A = "https://news.example.com/world/story-1"
C = "https://news.example.com/world/story-2"
D = "https://blog.example.net/posts/7?utm_source=feed&id=7"


def yesterday_in_berlin() -> str:
    """A fetch time with a UTC offset, inside the dedup window of pages fetched now."""
    moment = datetime.now(UTC) - timedelta(days=1)
    return moment.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds")


@pytest.mark.parametrize("processes", [1, 2], ids=["1-worker", "2-workers"])
async def test_every_page_accounted_for_once(
    processes: int, broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    partitions = 4
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], partitions)
    for _ in range(processes):
        workers.start(partitions)
    await wait_for_group(broker.bootstrap, names.app_id, processes)
    s = Scenario(broker, names)

    # Phase 1: originals.
    await s.page(A, article_html(1), "a", revision=1, source="scraper-a", meta={"crawl": [1, {"x": None}]},
                 fetched_at=yesterday_in_berlin(), status=200)
    await s.page(C, article_html(2), "c", revision=1, headers={"Content-Type": "text/html; charset=utf-8"})
    await s.page(D, article_html(3), "d", revision=1, as_body=True)
    s.check(await s.outputs(collector))

    # Phase 2: re-fetches, URL variants, a syndicated copy, malformed messages.
    await s.page(A, article_html(1), "a-refetch", dup=("url", "a"), source="scraper-b")
    await s.page("HTTPS://News.Example.com:443/world/story-1/?utm_campaign=x&fbclid=y#comments",
                 article_html(1), "a-variant", dup=("url", "a"))
    await s.page("https://mirror.example.org/copy/story-1", article_html(1), "a-copy", dup=("content", "a"),
                 meta={"mirror": True})
    await s.bad(b"this is not json", "not_json")
    await s.bad(b'{"url": "https://x.example/", "html": "<p>unterminated', "not_json")
    await s.bad(b"[1, 2, 3]", "invalid_schema")
    await s.bad(orjson.dumps({"html": "<p>no url</p>"}), "invalid_schema")
    await s.bad(orjson.dumps({"url": A, "html": 12}), "invalid_schema")
    await s.bad(orjson.dumps({"url": "ftp://files.example.com/a", "html": "<p>x</p>"}), "invalid_url")
    await s.bad(orjson.dumps({"url": A, "body": base64.b64encode(PNG).decode()}), "not_html")
    await s.bad(orjson.dumps({"url": "https://app.example.com/inbox", "html": SPA}), "needs_javascript")
    await s.bad(None, "empty_message", key=b"tombstone")
    await s.bad(b"\xff\xfe\x00garbage\x00", "not_json")
    await s.bad(orjson.dumps({"url": "https://e.example.com/\x1b[2J\x00", "html": "<p>x</p>"}), "invalid_url")
    s.check(await s.outputs(collector))

    # Phase 3: a changed revision at a known URL, a re-fetch of another.
    await s.page(A, article_html(4), "a2", revision=2)
    await s.page(C, article_html(2), "c-refetch", dup=("url", "c"))
    s.check(await s.outputs(collector))

    # Restart: dedup state must come back from the changelog.
    assert workers.stop_all() == [0] * processes
    for _ in range(processes):
        workers.start(partitions)
    await wait_for_group(broker.bootstrap, names.app_id, processes)
    await s.page(A, article_html(4), "a2-refetch", dup=("url", "a2"))
    await s.page("https://other.example.com/syndicated/story-2", article_html(2), "c-copy", dup=("content", "c"))
    await s.page("https://blog.example.net/posts/7?id=7", article_html(3), "d-variant", dup=("url", "d"), as_body=True)
    s.check(await s.outputs(collector))
    assert not any(c in workers.logs() for c in "\x00\x1b"), "control characters echoed raw into a log"


async def test_json_logs_are_one_object_a_line_with_a_page_s_coordinates(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    """Production logs (INGEST_LOG_FORMAT=json): every line the worker writes, faust's and
    aiokafka's included, is one JSON object; a rejection carries the raw message's coordinates
    and its URL as fields, control characters escaped, the page's body nowhere."""
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 1)
    worker = workers.start(1, INGEST_LOG_FORMAT="json")
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    s = Scenario(broker, names)
    url = "https://app.example.com/inbox\x1b[2J\nforged"
    await s.bad(orjson.dumps({"url": url, "html": SPA}), "invalid_url")
    s.check(await s.outputs(collector))
    assert worker.stop() == 0
    lines = worker.log().splitlines()
    records = [orjson.loads(line) for line in lines]  # a line that is not JSON fails here
    assert {"faust", "aiokafka"} <= {r["logger"].split(".")[0] for r in records}
    [rejected] = [r for r in records if r["message"] == "rejected"]
    assert (rejected["topic"], rejected["partition"], rejected["offset"]) == (names.raw, 0, 0)
    assert rejected["url"] == url and rejected["reason"] == "invalid_url"
    assert "app.js" not in worker.log() and all(line.isprintable() for line in lines)
