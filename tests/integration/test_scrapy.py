"""The Scrapy example spider, as a real `scrapy runspider` process, against a site this test
serves on loopback and the real broker.

- Every page it fetches is on the raw topic keyed by its URL, each field as served (UTF-8 pages
  as `html`, a windows-1252 one as base64 `body`, a 404 with its status); an oversized page is
  skipped and counted; the crawl's stats say so.
- A broker that is not there closes the spider at once, the error counted.
- A broker that stops answering mid-crawl: the crawl still ends within the send timeout's bound
  and every page it fetched is counted as sent or as a delivery error.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.crawler import Crawler

from tests.integration.harness import REPO, Broker, Collector, Names, create_topics, free_port

SPIDER = REPO / "examples" / "scrapy" / "spider.py"
CRAWL_TIMEOUT_S = 120.0
MAX_MESSAGE_BYTES = 64 * 1024

INDEX = b"""<!doctype html><html><head><meta charset="utf-8"><title>Index</title></head><body>
<p>Start here.</p><a href="/a.html">A</a> <a href="latin1.html">Latin</a>
<a href="/missing.html">gone</a> <a href="/big.html">big</a>
<a href="http://elsewhere.invalid/x.html">elsewhere</a> <a href="http://127.0.0.1:1/">other port</a>
</body></html>"""
PAGE_A = """<!doctype html><html><head><title>Ünïcödé</title></head><body>
<p>Crème brûlée, 日本語のテキスト, ελληνικά.</p><a href="/">home</a></body></html>""".encode()
LATIN1 = """<html><head><title>Café</title></head><body><p>Crème brûlée à la carte,
déjà vu — naïve façade.</p><a href="/">home</a></body></html>""".encode("windows-1252")
BIG = b"<html><body>" + b"<p>filler text</p>" * (MAX_MESSAGE_BYTES // 16) + b"</body></html>"
NOT_FOUND = b"<html><body><p>Not found</p></body></html>"
SITE: dict[str, tuple[str, bytes]] = {
    "/": ("text/html; charset=utf-8", INDEX),
    "/a.html": ("text/html; charset=utf-8", PAGE_A),
    "/latin1.html": ("text/html; charset=windows-1252", LATIN1),
    "/big.html": ("text/html", BIG),
}
PUBLISHED = {"/": 0, "/a.html": 1, "/latin1.html": 1, "/missing.html": 1}
"""Path -> crawl depth of every page that must reach the topic (big.html is too large)."""


@dataclass
class Served:
    """One response the site sent: status, headers in order, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Site:
    """A small site on a free loopback port, recording every response it sends."""

    on_request: Callable[[str], None] = lambda path: None
    served: dict[str, Served] = field(default_factory=dict)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """A request handler serving SITE (404 for anything else) into `served`."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.on_request(self.path)
                content_type, body = SITE.get(self.path, ("text/html", NOT_FOUND))
                status = 200 if self.path in SITE else 404
                self.sent: list[tuple[str, str]] = []
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Served-By", "test-site")
                self.send_header("Set-Cookie", "session=secret")
                self.end_headers()
                self.wfile.write(body)
                site.served[self.path] = Served(status, self.sent, body)

            def send_header(self, keyword: str, value: str) -> None:
                self.sent.append((keyword, value))
                super().send_header(keyword, value)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    @classmethod
    @contextmanager
    def serving(cls, on_request: Callable[[str], None] = lambda path: None) -> Iterator[Site]:
        """Serve in a thread for the `with` block."""
        site = cls(on_request)
        server = ThreadingHTTPServer(("127.0.0.1", site.port), site.handler())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield site
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


@pytest.fixture
def site() -> Iterator[Site]:
    """The test site, served for one test."""
    with Site.serving() as site:
        yield site


class StatsFile:
    """Scrapy extension for these tests: the stats and close reason as JSON in STATS_FILE."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.write, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        return cls(crawler)

    def write(self, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = {**self.crawler.stats.get_stats(), "reason": reason}
        Path(self.crawler.settings["STATS_FILE"]).write_text(json.dumps(stats, default=str))


@dataclass
class Crawl:
    """A finished `scrapy runspider` of the example spider."""

    returncode: int
    log: str
    stats: dict[str, Any]
    seconds: float


def crawl(start_url: str, tmp_path: Path, env: dict[str, str], *settings: str) -> Crawl:
    """Run the example spider in a process with only these KAFKA_/INGEST_ variables."""
    stats_file = tmp_path / "stats.json"
    extension = json.dumps({f"{__name__}.StatsFile": 0})
    args = ["-s", f"STATS_FILE={stats_file}", "-s", f"EXTENSIONS={extension}"]
    for setting in settings:
        args += ["-s", setting]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "INGEST_"))}
    started = time.monotonic()
    spider = ["runspider", str(SPIDER), "-a", f"start_url={start_url}"]
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", *spider, *args],
        env={**clean, "PYTHONPATH": str(REPO), **env}, cwd=REPO, capture_output=True, text=True,
        timeout=CRAWL_TIMEOUT_S,
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert stats_file.exists(), done.stderr[-5000:]
    return Crawl(done.returncode, done.stderr, json.loads(stats_file.read_text()), seconds)


def ingest(stats: dict[str, Any]) -> dict[str, int]:
    """The pipeline's stats."""
    return {k: v for k, v in stats.items() if k.startswith("ingest/")}


async def test_every_crawled_page_is_on_the_raw_topic_as_served(
    broker: Broker, names: Names, site: Site, tmp_path: Path
) -> None:
    await create_topics(broker.bootstrap, [names.raw], 2)
    before = datetime.now().astimezone()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "INGEST_TOPIC_RAW": "no-such-topic",  # the Scrapy setting below wins
        "INGEST_SEND_TIMEOUT_S": "20",
    }
    done = await asyncio.to_thread(
        crawl, f"{site.url}/", tmp_path, env,
        f"INGEST_TOPIC_RAW={names.raw}", f"INGEST_MAX_MESSAGE_BYTES={MAX_MESSAGE_BYTES}",
        "INGEST_COMPRESSION=zstd", "LOG_LEVEL=DEBUG",
    )  # fmt: skip
    after = datetime.now().astimezone()
    assert done.returncode == 0, done.log[-5000:]
    assert done.stats["reason"] == "finished", done.log[-5000:]
    assert ingest(done.stats) == {"ingest/sent": 4, "ingest/skipped/too_large": 1}, done.log[-5000:]
    assert done.stats["item_scraped_count"] == 5  # every page passes on, published or not
    assert set(site.served) == {"/robots.txt", *PUBLISHED, "/big.html"}  # nothing off-site
    assert "big.html" in done.log and "too_large" in done.log
    assert "<PageItem" in done.log  # Scrapy's "Scraped from" lines, at DEBUG
    assert "Crème" not in done.log and "filler text" not in done.log  # never a page body

    collector = Collector(broker.bootstrap, [names.raw])
    try:
        records = await collector.until(len(PUBLISHED))
    finally:
        await collector.close()
    by_url = {r.value["url"]: r for r in records}
    assert len(records) == len(by_url) == len(PUBLISHED)
    for path, depth in PUBLISHED.items():
        url, served = f"{site.url}{path}", site.served[path]
        record = by_url[url]
        value = record.value
        assert record.key == url.encode()
        assert value["status"] == served.status
        headers = {name.lower(): text for name, text in served.headers}
        del headers["set-cookie"]
        assert value["headers"] == headers, path
        fetched = datetime.fromisoformat(value["fetched_at"])
        assert value["fetched_at"].endswith("Z") and before <= fetched <= after
        assert value["source"] == "same-site"
        assert value["meta"] == {"depth": depth}
        if path == "/latin1.html":
            assert "html" not in value and base64.b64decode(value["body"]) == served.body
        else:
            assert "body" not in value and value["html"] == served.body.decode()
        text = "html" if "html" in value else "body"
        assert set(value) == {"url", "status", "headers", text, "fetched_at", "source", "meta"}


async def test_a_broker_that_is_not_there_closes_the_spider_at_once(
    site: Site, tmp_path: Path
) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}", "INGEST_SEND_TIMEOUT_S": "10"}
    done = await asyncio.to_thread(crawl, f"{site.url}/", tmp_path, env)
    assert done.stats["reason"] == "ingest_start_failed", done.log[-5000:]
    assert ingest(done.stats) == {
        "ingest/delivery_errors": 1,
        "ingest/delivery_errors/KafkaConnectionError": 1,
    }
    assert "/" not in site.served  # no page fetched for nothing
    assert done.seconds < 30, done.log[-5000:]


@pytest.mark.timeout(600)
async def test_a_broker_frozen_mid_crawl_ends_the_crawl_within_the_send_timeout(
    own_broker: Broker, tmp_path: Path
) -> None:
    names = Names()
    await create_topics(own_broker.bootstrap, [names.raw], 1)

    def freeze(path: str) -> None:
        if path == "/":  # robots.txt came first: the producer is connected by now
            os.kill(own_broker.pid, signal.SIGSTOP)

    env = {
        "KAFKA_BOOTSTRAP_SERVERS": own_broker.bootstrap,
        "INGEST_TOPIC_RAW": names.raw,
        "INGEST_SEND_TIMEOUT_S": "5",
    }
    with Site.serving(freeze) as site:
        try:
            done = await asyncio.to_thread(crawl, f"{site.url}/", tmp_path, env)
        finally:
            os.kill(own_broker.pid, signal.SIGCONT)
    stats = ingest(done.stats)
    assert "ingest/sent" not in stats, done.log[-5000:]
    assert stats["ingest/delivery_errors"] == done.stats["item_scraped_count"] == 5  # all counted
    assert done.stats["reason"] in ("finished", "ingest_delivery_failed")
    assert done.seconds < 30, (done.seconds, done.log[-5000:])  # ~3 x 5 s: expiry, flush, stop
