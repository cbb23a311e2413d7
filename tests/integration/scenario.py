"""Inputs with the exact record each must become, and the check that compares every field.

`Scenario` produces pages one at a time (their coordinates are then known) and computes each
expected record with the same pure functions the worker uses; `check` requires exactly one
decision per input, equal field by field, with at-least-once repeats identical.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from tests.contract.schemas import validate
from tests.fixtures.synthetic import message
from tests.integration.harness import Collector, Names, Output, Sent, produce
from worker import codec
from worker.core import dedup, minhash
from worker.core.envelope import parse_raw_page
from worker.pipeline import clean
from worker.records import Extracted, Source

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
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

    async def page(self, url: str, html: str, name: str, *, revision: int = 0, dup: tuple[str, str] | None = None,
                   stale: bool = False, keyed: bool = True, article: str | None = None, **fields: Any) -> None:
        """Send a valid page (keyed by its URL, or with no key): an article at `revision`, or a
        duplicate (kind, of page name: the page whose text it is compared with); `article`
        names the page whose id the article is (when the page's URL follows another's)."""
        msg = message(url, html, **fields)
        value = orjson.dumps(msg)

        def expect(origin: Source) -> Expect:
            extracted = clean(parse_raw_page(msg), origin, 8 * 1024 * 1024)
            article_id = None if article is None else self.extracted[article].id
            if dup is None:
                self.extracted[name] = extracted
                record = dedup.article(extracted, revision, "", article_id)
                return Expect(self.names.articles, _json(record))
            kind, of = dup
            target = self.extracted[of]
            similarity = similarity_of(extracted, target)
            record = dedup.duplicate(extracted, kind, article_id or target.id, similarity, stale)
            return Expect(self.names.duplicates, _json(record))

        await self.send(value, expect, key=url.encode() if keyed else None)

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
                assert actual == wanted, {k: (actual.get(k), wanted.get(k)) for k in {*actual, *wanted}
                                          if actual.get(k) != wanted.get(k)}
                assert record.key == wanted["id"].encode()
        self.repeats = sum(len(v) - 1 for v in by_origin.values())

    @property
    def count(self) -> int:
        return len(self.expected)

    async def outputs(self, collector: Collector, timeout_s: float = 120) -> list[Output]:
        """The output records once every input sent so far has one (see `Collector.until_origins`)."""
        return await collector.until_origins(set(self.expected), timeout_s=timeout_s)


def similarity_of(page: Extracted, other: Extracted) -> float:
    """The similarity the worker reports between two cleaned pages."""
    if page.content_hash == other.content_hash:
        return 1.0
    return round(minhash.jaccard(minhash.sketch(page.text), minhash.sketch(other.text)), 4)


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
