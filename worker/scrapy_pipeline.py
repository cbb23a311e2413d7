"""A Scrapy item pipeline that publishes crawled pages to the raw topic (`ingest-worker[scrapy]`).

A spider yields `page_item(response)`; `KafkaPipeline` (enabled with ITEM_PIPELINES) sends it
in the input contract (schemas/raw_page.schema.json), keyed by its URL. Every item passes on
unchanged, published or not, so other pipelines and feed exports still see it; items that are
not PageItems are left alone. Outcomes are Scrapy stats:

    ingest/sent                          acknowledged by the broker
    ingest/skipped/<reason>              refused before sending (a worker `Reason`: invalid_url,
                                         invalid_schema, undecodable, too_large), logged
    ingest/delivery_errors               not acknowledged, also counted per error class:
    ingest/delivery_errors/<ErrorName>   an aiokafka error, or FlushTimeout (still unacknowledged
                                         INGEST_SEND_TIMEOUT_S after the spider closed)

Connection settings are the worker's (KAFKA_*, INGEST_TOPIC_RAW, INGEST_MAX_MESSAGE_BYTES,
INGEST_SEND_TIMEOUT_S): a Scrapy setting of that name wins over the environment variable.
A broker or topic unreachable at start closes the spider at once (`ingest_start_failed`), and
a delivery error other than a message's own size closes it too (`ingest_delivery_failed`): the
producer has retried for INGEST_SEND_TIMEOUT_S by then, so every later page would fail alike.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import is_asyncio_available

from worker import codec
from worker.core.envelope import RECORD_OVERHEAD_BYTES, header_text, iso_utc, parse_raw_page
from worker.core.normalize import canonicalize_url
from worker.errors import PageError, Reason
from worker.security import client_options
from worker.settings import ENV, Settings

logger = logging.getLogger(__name__)

PRIVATE_HEADERS = frozenset({"set-cookie"})
"""Response headers left out of the message: session cookies do not belong on a shared topic."""
MESSAGE_ERRORS = (MessageSizeTooLargeError, RecordTooLargeError)
"""Delivery errors about one message; any other means the broker or topic is unusable."""
PRODUCER_LOGGER = "aiokafka.producer.producer"
"""Logs each message's value at DEBUG: kept at INFO unless its level is set explicitly."""
COMPRESSIONS = ("gzip", "zstd", "lz4", "snappy")
"""Values of the INGEST_COMPRESSION Scrapy setting (aiokafka's codecs; none by default)."""
START_FAILED = "ingest_start_failed"
DELIVERY_FAILED = "ingest_delivery_failed"
FLUSH_TIMEOUT = "FlushTimeout"


class PageItem(dict[str, Any]):
    """One page as a message of the input contract; its repr never shows the page itself."""

    def __repr__(self) -> str:
        """URL, status and page size: what Scrapy's "Scraped from" log line shows."""
        field = "html" if "html" in self else "body"
        size = len(self.get(field) or "")
        return f"<PageItem {self.get('url')} status={self.get('status')} {field}={size} chars>"


def page_item(
    response: Response,
    *,
    meta: Any = None,
    source: str | None = None,
    fetched_at: datetime | None = None,
) -> PageItem:
    """The page of a Scrapy response: `html` when its bytes are UTF-8, else base64 `body`.

    Bytes in another charset go as they are, so the worker's one decoder (BOM, header, <meta>,
    detection) decides; `fetched_at` is now unless given; a `source` of None is filled in with
    the spider's name by the pipeline.
    """
    item = PageItem(url=response.url, status=response.status, headers=headers_of(response))
    html = utf8_text(response.body)
    if html is None:
        item["body"] = base64.b64encode(response.body).decode("ascii")
    else:
        item["html"] = html
    item["fetched_at"] = iso_utc(fetched_at or datetime.now(UTC))
    item["source"] = source
    if meta is not None:
        item["meta"] = meta
    return item


def utf8_text(body: bytes) -> str | None:
    """The body as text if it is UTF-8 (a BOM dropped) with no NUL, which UTF-16/32 would have."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def headers_of(response: Response) -> dict[str, str]:
    """Response headers with lower-cased names, repeated values joined, private ones left out."""
    headers = {}
    for name, values in response.headers.items():
        key = name.decode("latin-1").lower()
        if key not in PRIVATE_HEADERS:
            headers[key] = ", ".join(header_text(value) for value in values)
    return headers


def message(item: PageItem, max_message_bytes: int) -> tuple[bytes, bytes]:
    """The Kafka key (the URL) and value of a page; raise PageError where the worker would."""
    page = parse_raw_page(item)
    canonicalize_url(page.url)
    key, value = page.url.encode(), codec.encode(item)
    size = len(key) + len(value) + RECORD_OVERHEAD_BYTES
    if size > max_message_bytes:
        raise PageError(Reason.TOO_LARGE, f"message is {size} bytes (max {max_message_bytes})")
    return key, value


def ingest_settings(scrapy_settings: BaseSettings) -> Settings:
    """The worker's settings from the environment, overridden by Scrapy settings of those names."""
    names = [*ENV, *(f"{var}_FILE" for var in ENV)]
    given = {
        name: str(scrapy_settings[name]) for name in names if scrapy_settings.get(name) is not None
    }
    from_scrapy = Settings.from_env(given)
    fields = {ENV[name.removesuffix("_FILE")] for name in given}
    return replace(Settings.from_env(), **{f: getattr(from_scrapy, f) for f in fields})


class KafkaPipeline:
    """Publishes PageItems to the raw topic keyed by URL without waiting for each ack."""

    def __init__(
        self, crawler: Crawler, settings: Settings, compression: str | None = None
    ) -> None:
        self.crawler = crawler
        self.settings = settings
        self.options: dict[str, Any] = {
            **client_options(settings),
            "acks": "all",
            "enable_idempotence": True,
            "max_request_size": settings.max_message_bytes,
            "request_timeout_ms": int(settings.send_timeout_s * 1000),
            "compression_type": compression,
        }
        self.producer: AIOKafkaProducer | None = None
        self.pending: dict[asyncio.Future[Any], str] = {}
        """Sent, not yet acknowledged: future -> URL."""
        self.closing = False
        self.close_request: asyncio.Task[None] | None = None
        """The engine's spider close this pipeline asked for, after a delivery error."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KafkaPipeline:
        """Build the pipeline from the crawler's settings (and the environment)."""
        if not is_asyncio_available():
            raise RuntimeError("KafkaPipeline needs Scrapy's asyncio reactor (TWISTED_REACTOR)")
        compression = crawler.settings.get("INGEST_COMPRESSION") or None
        if compression not in (None, *COMPRESSIONS):
            raise ValueError(f"INGEST_COMPRESSION={compression!r}: not one of {COMPRESSIONS}")
        producer_log = logging.getLogger(PRODUCER_LOGGER)
        if producer_log.level == logging.NOTSET:  # Scrapy logs at DEBUG by default
            producer_log.setLevel(logging.INFO)
        return cls(crawler, ingest_settings(crawler.settings), compression)

    async def open_spider(self) -> None:
        """Connect, and check the topic is there; close the spider at once if not."""
        producer = AIOKafkaProducer(**self.options)
        try:
            await producer.start()
            await producer.partitions_for(self.settings.topic_raw)
        except KafkaError as exc:
            await producer.stop()
            self._count_error(type(exc).__name__)
            logger.error(
                "cannot publish to %s at %s: %r",
                self.settings.topic_raw,
                self.settings.bootstrap_servers,
                exc,
            )
            raise CloseSpider(START_FAILED) from exc
        self.producer = producer

    async def process_item(self, item: Any) -> Any:
        """Send a PageItem (waiting only while the producer's buffer is full); pass items on."""
        if not isinstance(item, PageItem):
            return item
        assert self.producer is not None, "open_spider has not run"
        if item.get("source") is None and self.crawler.spider is not None:
            item["source"] = self.crawler.spider.name
        url = str(item.get("url"))
        try:
            key, value = message(item, self.settings.max_message_bytes)
        except PageError as exc:
            self._inc(f"ingest/skipped/{exc.reason.value}")
            logger.warning("not published to %s: %s: %s", self.settings.topic_raw, url, exc)
            return item
        try:
            future = await self.producer.send(self.settings.topic_raw, value=value, key=key)
        except KafkaError as exc:
            self._failed(url, exc)
            return item
        self.pending[future] = url
        future.add_done_callback(self._delivered)
        return item

    async def close_spider(self) -> None:
        """Wait up to INGEST_SEND_TIMEOUT_S for acks, count what is left, then disconnect."""
        self.closing = True
        if self.producer is None:
            return
        timeout_s = self.settings.send_timeout_s
        if self.pending:
            await asyncio.wait(list(self.pending), timeout=timeout_s)
        if self.pending:
            logger.error("%d messages unacknowledged after %.0f s", len(self.pending), timeout_s)
            for _ in range(len(self.pending)):
                self._count_error(FLUSH_TIMEOUT)
            self.pending.clear()
        try:
            await asyncio.wait_for(self.producer.stop(), timeout_s)
        except TimeoutError:
            logger.error("the Kafka producer did not stop within %.0f s", timeout_s)

    def _delivered(self, future: asyncio.Future[Any]) -> None:
        """Count one acknowledgement or delivery error (unless already counted at close)."""
        url = self.pending.pop(future, None)
        if url is None:
            return
        error = asyncio.CancelledError() if future.cancelled() else future.exception()
        if error is None:
            self._inc("ingest/sent")
        else:
            self._failed(url, error)

    def _failed(self, url: str, error: BaseException) -> None:
        """Count and log a delivery error; close the spider unless it concerns this message only."""
        self._count_error(type(error).__name__)
        logger.error("not delivered to %s: %s: %r", self.settings.topic_raw, url, error)
        if not isinstance(error, MESSAGE_ERRORS) and not self.closing and self.crawler.engine:
            self.closing = True
            closing = self.crawler.engine.close_spider_async(reason=DELIVERY_FAILED)
            self.close_request = asyncio.ensure_future(closing)

    def _count_error(self, name: str) -> None:
        """One delivery error, in total and under its name."""
        self._inc("ingest/delivery_errors")
        self._inc(f"ingest/delivery_errors/{name}")

    def _inc(self, key: str) -> None:
        """Increment a Scrapy stat."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)
