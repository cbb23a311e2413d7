"""The worker end to end on the real broker: every input accounted for once, every record exact.

Phases keep "first seen" deterministic whatever the partitioning: originals first, then copies,
variants and bad messages, then a changed revision; then the workers restart (state must
survive) and more duplicates arrive.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from tests.contract.schemas import validate
from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Collector, Names, Output, Sent, create_topics, produce, wait_for_group
from worker import codec
from worker.core import dedup
from worker.core.envelope import parse_raw_page
from worker.pipeline import clean
from worker.records import Source

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
A = "https://news.example.com/world/story-1"
C = "https://news.example.com/world/story-2"
D = "https://blog.example.net/posts/7?utm_source=feed&id=7"
SPA = '<html><body><div id="root"></div><script src="/app.js"></script></body></html>'


@dataclass(frozen=True)
class Expect:
    """What one input must produce: topic suffix and a function of the actual record."""

    topic: str
    value: dict[str, Any] | None = None
    reason: str | None = None


class Scenario:
    """Sends inputs phase by phase and records what each must become."""

    def __init__(self, broker: Any, names: Names) -> None:
        self.bootstrap, self.names = broker.bootstrap, names
        self.expected: dict[tuple[int, int], tuple[Expect, bytes | None]] = {}
        self.extracted: dict[str, Any] = {}

    async def send(self, value: bytes | None, expect: Any, key: bytes | None = None) -> Sent:
        """Produce one input; `expect(origin)` gives its Expect once its coordinates are known."""
        [sent] = await produce(self.bootstrap, self.names.raw, [value], key=key)
        self.expected[(sent.partition, sent.offset)] = (expect(self._origin(sent)), value)
        return sent

    def _origin(self, sent: Sent) -> Source:
        return Source(self.names.raw, sent.partition, sent.offset, sent.timestamp_ms)

    async def page(self, url: str, html: str, name: str, *, revision: int = 0, dup: tuple[str, str] | None = None, **fields: Any) -> None:
        """Send a valid page: an article at `revision`, or a duplicate (kind, of page name)."""
        msg = message(url, html, **fields)
        value = orjson.dumps(msg)

        def expect(origin: Source) -> Expect:
            extracted = clean(parse_raw_page(msg), origin, 8 * 1024 * 1024)
            if dup is None:
                self.extracted[name] = extracted
                return Expect(self.names.articles, _json(dedup.article(extracted, revision, "")))
            kind, of = dup
            return Expect(self.names.duplicates, _json(dedup.duplicate(extracted, kind, self.extracted[of].id)))

        await self.send(value, expect, key=url.encode())

    async def bad(self, value: bytes | None, reason: str, key: bytes | None = None) -> None:
        """Send a message that must be rejected with `reason`."""
        await self.send(value, lambda origin: Expect(self.names.rejected, reason=reason), key=key)

    def check(self, records: list[Output]) -> None:
        """Every input has one decision, equal to its expectation; no stray outputs.

        Under at-least-once delivery a rebalance may replay a page: its repeat must be the same
        record (bar processed_at) under the same key; repeats are counted in `self.repeats`.
        """
        by_origin: dict[tuple[int, int], list[Output]] = {}
        for record in records:
            origin = record.value["origin"]
            assert origin["topic"] == self.names.raw
            by_origin.setdefault((origin["partition"], origin["offset"]), []).append(record)
        assert set(by_origin) == set(self.expected), "outputs without input or inputs without output"
        kinds = {self.names.articles: "article", self.names.duplicates: "duplicate", self.names.rejected: "rejected"}
        for coords, (expect, value) in self.expected.items():
            record, *repeats = by_origin[coords]
            for repeat in repeats:  # at-least-once: a rebalance may replay, never re-decide
                assert _decided(repeat) == _decided(record), (coords, record.value, repeat.value)
            assert record.topic == expect.topic, (coords, record.value)
            validate(kinds[record.topic], record.value)
            if expect.reason is not None:
                _check_rejected(record, expect.reason, value)
            else:
                actual = dict(record.value)
                assert actual.pop("processed_at", "") is not None
                wanted = dict(expect.value or {})
                wanted.pop("processed_at", None)
                assert actual == wanted
                assert record.key == wanted["id"].encode()
        self.repeats = sum(len(v) - 1 for v in by_origin.values())

    @property
    def count(self) -> int:
        return len(self.expected)


def _decided(record: Output) -> tuple[str, bytes | None, dict[str, Any]]:
    """A record without its decision time: what must be identical between repeats."""
    value = {k: v for k, v in record.value.items() if k != "processed_at"}
    return record.topic, record.key, value


def _json(record: Any) -> dict[str, Any]:
    return dict(orjson.loads(codec.encode(record)))


def _check_rejected(record: Output, reason: str, value: bytes | None) -> None:
    got = record.value
    assert got["reason"] == reason, got
    assert got["detail"]
    assert got["payload_bytes"] == len(value or b"")
    if value is None:
        assert got["payload"] is None or got["payload"] == ""
    elif got["payload"] is not None:
        assert got["payload"].encode() == value
    else:
        assert base64.b64decode(got["payload_base64"]) == value


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
                 fetched_at="2025-05-01T10:00:00+02:00", status=200)
    await s.page(C, article_html(2), "c", revision=1, headers={"Content-Type": "text/html; charset=utf-8"})
    await s.page(D, article_html(3), "d", revision=1, as_body=True)
    s.check(await collector.until(s.count))

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
    s.check(await collector.until(s.count))

    # Phase 3: a changed revision at a known URL, a re-fetch of another.
    await s.page(A, article_html(4), "a2", revision=2)
    await s.page(C, article_html(2), "c-refetch", dup=("url", "c"))
    s.check(await collector.until(s.count))

    # Restart: dedup state must come back from the changelog.
    assert workers.stop_all() == [0] * processes
    for _ in range(processes):
        workers.start(partitions)
    await wait_for_group(broker.bootstrap, names.app_id, processes)
    await s.page(A, article_html(4), "a2-refetch", dup=("url", "a"))
    await s.page("https://other.example.com/syndicated/story-2", article_html(2), "c-copy", dup=("content", "c"))
    await s.page("https://blog.example.net/posts/7?id=7", article_html(3), "d-variant", dup=("url", "d"), as_body=True)
    s.check(await collector.until(s.count))
    assert not any(c in workers.logs() for c in "\x00\x1b"), "control characters echoed raw into a log"
