"""worker.scrapy_pipeline's pure parts: Scrapy responses to input-contract messages, settings."""

from __future__ import annotations

import base64
import codecs
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.test import get_crawler

from tests.contract.schemas import validate
from worker.core.envelope import RECORD_OVERHEAD_BYTES, parse_raw_page
from worker.errors import PageError, Reason
from worker.scrapy_pipeline import (
    KafkaPipeline,
    PageItem,
    ingest_settings,
    message,
    page_item,
    utf8_text,
)
from worker.settings import ENV

URL = "https://news.example.com/story?id=7"
WHEN = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
LATIN1 = "<html><body><p>Crème brûlée, déjà vu.</p></body></html>".encode("windows-1252")


def html_response(
    body: bytes, content_type: str = "text/html; charset=utf-8", **headers: str
) -> HtmlResponse:
    return HtmlResponse(
        URL, status=200, body=body, headers={"Content-Type": content_type, **headers}
    )


def test_a_utf8_page_goes_as_html_with_every_field() -> None:
    page = "<html><body><p>日本語, ελληνικά, Crème</p></body></html>"
    response = html_response(page.encode(), **{"X-Custom": "yes"})
    item = page_item(response, meta={"depth": 2}, source="news", fetched_at=WHEN)
    assert item == {
        "url": URL,
        "status": 200,
        "headers": {"content-type": "text/html; charset=utf-8", "x-custom": "yes"},
        "html": page,
        "fetched_at": "2026-03-01T10:30:05.123Z",
        "source": "news",
        "meta": {"depth": 2},
    }
    validate("raw_page", item)


def test_bytes_in_another_charset_go_as_base64_body_for_the_workers_decoder() -> None:
    item = page_item(html_response(LATIN1, "text/html; charset=windows-1252"), fetched_at=WHEN)
    assert "html" not in item and base64.b64decode(item["body"]) == LATIN1
    validate("raw_page", item)
    assert parse_raw_page(item).body == LATIN1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (codecs.BOM_UTF8 + "<p>é</p>".encode(), "<p>é</p>"),  # the BOM dropped
        (b"<p>plain ascii</p>", "<p>plain ascii</p>"),
        (b"", ""),
        (codecs.BOM_UTF16_LE + "<p>é</p>".encode("utf-16-le"), None),
        ("<p>x</p>".encode("utf-16-le"), None),  # BOM-less UTF-16 is valid UTF-8, with NULs
        (LATIN1, None),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None),
    ],
)
def test_only_utf8_text_becomes_html(body: bytes, expected: str | None) -> None:
    assert utf8_text(body) == expected


def test_a_page_that_is_not_text_goes_as_body() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    response = Response(URL, status=200, body=png, headers={"Content-Type": "image/png"})
    item = page_item(response, fetched_at=WHEN)
    assert base64.b64decode(item["body"]) == png and item["headers"] == {
        "content-type": "image/png"
    }


def test_headers_are_lower_cased_and_joined_and_cookies_left_out() -> None:
    response = TextResponse(
        URL, status=404, body=b"gone", encoding="utf-8",
        headers=[("Content-Type", "text/plain"), ("Vary", "Accept"), ("Vary", "Cookie"),
                 ("Set-Cookie", "session=secret"), ("X-Name", "Café".encode("latin-1")),
                 ("X-Utf8", "Café".encode())],
    )  # fmt: skip
    item = page_item(response, fetched_at=WHEN)
    assert item["status"] == 404
    assert item["headers"] == {
        "content-type": "text/plain",
        "vary": "Accept, Cookie",
        "x-name": "Café",
        "x-utf8": "Café",
    }


def test_fetched_at_defaults_to_now_in_utc_and_meta_and_source_to_nothing() -> None:
    before = datetime.now(UTC)
    item = page_item(html_response(b"<p>x</p>"))
    fetched = datetime.fromisoformat(item["fetched_at"])
    assert item["fetched_at"].endswith("Z")
    assert before - timedelta(milliseconds=1) <= fetched <= datetime.now(UTC)
    assert item["source"] is None and "meta" not in item


def test_the_repr_of_a_page_never_shows_the_page() -> None:
    item = page_item(html_response(b"<p>secret text</p>"), fetched_at=WHEN)
    assert repr(item) == f"<PageItem {URL} status=200 html=18 chars>"
    assert str(item) == repr(item)  # what Scrapy's "Scraped from" line prints


def test_the_message_is_the_item_keyed_by_its_url() -> None:
    item = page_item(html_response(b"<p>x</p>"), source="news", fetched_at=WHEN)
    key, value = message(item, 10_000)
    assert key == URL.encode() and orjson.loads(value) == item


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"url": "ftp://example.com/a", "html": "x"}, Reason.INVALID_URL),
        ({"url": "/relative/path", "html": "x"}, Reason.INVALID_URL),
        ({"url": "https://exa mple.com/", "html": "x"}, Reason.INVALID_URL),
        ({"url": URL}, Reason.INVALID_SCHEMA),
        ({"url": URL, "html": "x", "body": "eA=="}, Reason.INVALID_SCHEMA),
        ({"url": URL, "body": "not base64!"}, Reason.UNDECODABLE),
        ({"url": URL, "html": "x", "fetched_at": "yesterday"}, Reason.INVALID_SCHEMA),
    ],
)
def test_what_the_worker_would_refuse_is_refused_before_sending(
    fields: dict[str, str], reason: Reason
) -> None:
    with pytest.raises(PageError) as refused:
        message(PageItem(fields), 10_000)
    assert refused.value.reason == reason


def test_a_message_larger_than_the_limit_is_refused_at_the_byte() -> None:
    item = PageItem(url=URL, html="x" * 1000)
    size = len(URL) + len(orjson.dumps(item)) + RECORD_OVERHEAD_BYTES
    assert message(item, size)
    with pytest.raises(PageError) as refused:
        message(item, size - 1)
    assert refused.value.reason == Reason.TOO_LARGE


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No KAFKA_/INGEST_ variable of the test runner's reaches the settings."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(f"{var}_FILE", raising=False)
    return monkeypatch


def test_scrapy_settings_win_over_the_environment_which_fills_the_rest(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "env-broker:9092")
    clean_env.setenv("INGEST_TOPIC_RAW", "env.raw")
    clean_env.setenv("INGEST_SEND_TIMEOUT_S", "7")
    (tmp_path / "password").write_text("from-a-file\n")
    scrapy = ScrapySettings(
        {
            "INGEST_TOPIC_RAW": "scrapy.raw",
            "INGEST_MAX_MESSAGE_BYTES": 2048,
            "KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "password"),
            "KAFKA_SSL_CHECK_HOSTNAME": False,
        }
    )
    settings = ingest_settings(scrapy)
    assert settings.bootstrap_servers == "env-broker:9092"
    assert settings.topic_raw == "scrapy.raw"
    assert settings.max_message_bytes == 2048
    assert settings.send_timeout_s == 7.0
    assert settings.sasl_password == "from-a-file"
    assert settings.ssl_check_hostname is False


def test_a_bad_scrapy_setting_is_named(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="INGEST_MAX_MESSAGE_BYTES='lots'"):
        ingest_settings(ScrapySettings({"INGEST_MAX_MESSAGE_BYTES": "lots"}))


async def test_the_pipeline_produces_with_acks_from_all_replicas_within_the_send_timeout(
    clean_env: pytest.MonkeyPatch,
) -> None:
    crawler = get_crawler(settings_dict={"INGEST_SEND_TIMEOUT_S": 4, "INGEST_COMPRESSION": "zstd"})
    pipeline = KafkaPipeline.from_crawler(crawler)
    assert pipeline.options["bootstrap_servers"] == "127.0.0.1:9092"
    assert pipeline.options["request_timeout_ms"] == 4000
    assert pipeline.options["compression_type"] == "zstd"
    assert pipeline.options["acks"] == "all" and pipeline.options["enable_idempotence"]


async def test_an_unknown_compression_is_refused_before_the_crawl(
    clean_env: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match="INGEST_COMPRESSION='brotli'"):
        KafkaPipeline.from_crawler(get_crawler(settings_dict={"INGEST_COMPRESSION": "brotli"}))
