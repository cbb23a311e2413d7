"""One raw message to a page or a failure (worker/pipeline.py), end to end from bytes."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import cramjam
import pytest

from worker import codec, pipeline
from worker.core.fingerprint import article_id, content_hash
from worker.core.normalize import word_count
from worker.errors import Reason
from worker.records import SCHEMA_VERSION, Extracted, Source

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
CANONICAL = "https://www.harborcityledger.example/local/2024/03/14/council-approves-tidal-barrier"
URL = CANONICAL + "?utm_source=feed"
ORIGIN = Source(topic="pages.raw", partition=2, offset=17, timestamp_ms=1_710_405_000_000)
RECORD = 1_000_000
"""Bytes a rejection record may take in these tests."""
MAX_PAGE_BYTES = 1024 * 1024


def page_text(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def encode(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def run(value: bytes | None, max_page_bytes: int = MAX_PAGE_BYTES) -> Extracted | pipeline.Failure:
    return pipeline.process(value, ORIGIN, max_page_bytes)


def failure(value: bytes | None, max_page_bytes: int = MAX_PAGE_BYTES) -> pipeline.Failure:
    result = run(value, max_page_bytes)
    assert isinstance(result, pipeline.Failure), result
    return result


# --- process: good pages ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def news_en() -> Extracted:
    message = {
        "url": URL,
        "html": page_text("news-en.html"),
        "status": 200,
        "headers": {"Content-Type": "text/html; charset=utf-8"},
        "fetched_at": "2024-03-14T10:31:02+01:00",
        "source": "crawler-eu-1",
        "meta": {"job": {"id": 7, "seeds": ["a"]}},
    }
    result = pipeline.process(encode(message), ORIGIN, MAX_PAGE_BYTES)
    assert isinstance(result, Extracted), result
    return result


def test_good_html_message(news_en: Extracted) -> None:
    assert news_en.url == URL
    assert news_en.canonical_url == CANONICAL
    assert news_en.id == article_id(CANONICAL)
    assert news_en.content_hash == content_hash(news_en.text)
    assert news_en.word_count == word_count(news_en.text) > 300
    assert news_en.language == "en"
    assert news_en.fetched_at == "2024-03-14T09:31:02.000Z"
    assert news_en.title == "Council approves tidal barrier for the old harbour"
    assert news_en.author == ["Maria Okafor"]
    assert news_en.date_published == "2024-03-14"
    assert news_en.site_name == "Harbor City Ledger"
    assert "nine to four on Wednesday night" in news_en.text
    assert news_en.source == "crawler-eu-1"
    assert news_en.meta == {"job": {"id": 7, "seeds": ["a"]}}
    assert news_en.origin == ORIGIN


def test_main_text_leaves_the_chrome_out(news_en: Extracted) -> None:
    chrome = ["We use cookies", "Related articles", "Morning Briefing", "All rights", "Share this"]
    for snippet in chrome:
        assert snippet not in news_en.text


def test_fetched_at_defaults_to_the_kafka_timestamp() -> None:
    result = run(encode({"url": URL, "html": page_text("news-en.html")}))
    assert isinstance(result, Extracted), result
    assert result.fetched_at == "2024-03-14T08:30:00.000Z"  # ORIGIN.timestamp_ms


def test_base64_cp1252_body() -> None:
    body = base64.b64encode((PAGES / "news-id-latin1.html").read_bytes()).decode("ascii")
    url = "https://kabarpriangan.example/berita/festival-kopi"
    result = run(encode({"url": url, "body": body}))
    assert isinstance(result, Extracted), result
    assert result.language == "id"
    assert "Andr\u00e9 Setiawan" in result.text
    assert "\u201cKami tidak menyangka" in result.text
    assert "\ufffd" not in result.text


# --- process: every failure, from bytes -------------------------------------------------------


@pytest.mark.parametrize("value", [b"", None])
def test_empty_message(value: bytes | None) -> None:
    assert failure(value).reason is Reason.EMPTY_MESSAGE


@pytest.mark.parametrize("value", [b"{not json", b"<html></html>", b"\xff\xfe\x00", b'{"url": "x"'])
def test_not_json(value: bytes) -> None:
    assert failure(value).reason is Reason.NOT_JSON


@pytest.mark.parametrize("value", [b"[]", b"42", b'"a string"', b"null", b'{"html": "<p>x</p>"}'])
def test_invalid_schema(value: bytes) -> None:
    result = failure(value)
    assert result.reason is Reason.INVALID_SCHEMA
    assert result.url is None


def test_invalid_url_carries_the_url_and_source() -> None:
    result = failure(encode({"url": "ftp://example.com/a", "html": "<p>x</p>", "source": "s1"}))
    assert result.reason is Reason.INVALID_URL
    assert result.url == "ftp://example.com/a"
    assert result.source == "s1"


def test_png_body_is_not_html() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    result = failure(encode({"url": URL, "body": base64.b64encode(png).decode()}))
    assert result.reason is Reason.NOT_HTML
    assert result.url == URL


def test_declared_pdf_is_not_html() -> None:
    message = {"url": URL, "html": "<p>x</p>", "headers": {"Content-Type": "application/pdf"}}
    assert failure(encode(message)).reason is Reason.NOT_HTML


def test_bad_base64_body_is_undecodable() -> None:
    assert failure(encode({"url": URL, "body": "%%%"})).reason is Reason.UNDECODABLE


def test_spa_shell_needs_javascript() -> None:
    message = {"url": "https://app.tidepool.example/app/inbox", "html": page_text("spa-shell.html")}
    result = failure(encode(message))
    assert result.reason is Reason.NEEDS_JAVASCRIPT
    assert result.url == "https://app.tidepool.example/app/inbox"


def test_message_over_max_page_bytes_is_too_large() -> None:
    max_page_bytes = 1000
    html = "<p>" + "x" * 70_000 + "</p>"
    result = failure(encode({"url": URL, "html": html}), max_page_bytes)
    assert result.reason is Reason.TOO_LARGE
    assert result.url is None  # refused before parsing


def test_page_over_max_page_bytes_is_too_large() -> None:
    max_page_bytes = 1000
    html = "<p>" + "x" * 1_200 + "</p>"  # the message fits, the page does not
    result = failure(encode({"url": URL, "html": html}), max_page_bytes)
    assert result.reason is Reason.TOO_LARGE
    assert result.url == URL


# --- rejected ---------------------------------------------------------------------------------


def test_rejected_keeps_utf8_payload_as_text() -> None:
    value = encode({"url": "ftp://x/", "html": "Caf\u00e9"})
    failed = pipeline.Failure(Reason.INVALID_URL, "bad", "ftp://x/", "s")
    record = pipeline.rejected(failed, ORIGIN, b"k1", value, RECORD)
    assert record.schema_version == SCHEMA_VERSION
    assert record.reason == "invalid_url"
    assert record.detail == "bad"
    assert record.origin == ORIGIN
    assert record.url == "ftp://x/" and record.source == "s" and record.key == "k1"
    assert record.payload == value.decode("utf-8")
    assert record.payload_base64 is None
    assert record.payload_bytes == len(value)
    assert record.payload_truncated is False


def test_rejected_keeps_binary_payload_as_base64() -> None:
    value = b"\x89PNG\r\n\x1a\n\xff\xfe"
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "x"), ORIGIN, None, value, RECORD)
    assert record.payload is None
    assert record.payload_base64 == base64.b64encode(value).decode("ascii")
    assert record.payload_bytes == len(value)
    assert record.payload_truncated is False
    assert record.key is None and record.url is None


def test_rejected_truncates_text_payload() -> None:
    value = b"a" * 100
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "x"), ORIGIN, None, value, RECORD, 10)
    assert record.payload == "a" * 10
    assert record.payload_bytes == 100
    assert record.payload_truncated is True


def test_rejected_truncates_binary_payload() -> None:
    value = b"\xff" * 100
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "x"), ORIGIN, None, value, RECORD, 10)
    assert record.payload is None
    assert base64.b64decode(record.payload_base64 or "") == b"\xff" * 10
    assert record.payload_bytes == 100
    assert record.payload_truncated is True


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 7])
def test_rejected_truncation_mid_character_is_valid_text(limit: int) -> None:
    value = "\u00e9\u20ac\U0001f600".encode("utf-8")  # 2 + 3 + 4 bytes
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "x"), ORIGIN, None, value, RECORD, limit)
    assert record.payload is not None and record.payload_base64 is None
    assert "\ufffd" not in record.payload
    assert value.startswith(record.payload.encode("utf-8"))
    assert len(record.payload.encode("utf-8")) <= limit
    assert record.payload_truncated is True
    assert record.payload_bytes == 9


def test_rejected_at_exact_limit_is_not_truncated() -> None:
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "x"), ORIGIN, None, b"abcd", RECORD, 4)
    assert record.payload == "abcd" and record.payload_truncated is False


def test_rejected_caps_detail_url_and_key() -> None:
    long_url = "https://example.com/" + "a" * 10_000
    failed = pipeline.Failure(Reason.INVALID_URL, "d" * 5000, long_url)
    record = pipeline.rejected(failed, ORIGIN, b"\xffkey" * 3000, b"x", RECORD, 10)
    assert record.detail == "d" * 1024
    assert record.url == long_url[: pipeline.MAX_ECHO_CHARS]
    assert record.key is not None and len(record.key) == pipeline.MAX_ECHO_CHARS
    assert record.key.startswith("\ufffdkey")


def test_rejected_from_a_process_failure() -> None:
    value = b"{not json"
    result = failure(value)
    record = pipeline.rejected(result, ORIGIN, b"key", value, 1024)
    assert record.reason == "not_json"
    assert record.payload == "{not json"
    assert record.url is None


def original(record: Any) -> bytes:
    """The original message a rejection holds (as `ingest-worker replay` reads it)."""
    if record.payload is not None:
        return bytes(record.payload.encode("utf-8"))
    data = base64.b64decode(record.payload_base64 or "")
    return bytes(cramjam.zstd.decompress(data)) if record.payload_compression == "zstd" else data


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (b'{"url": "https://e.com/", "html": "' + b"<p>caf\xc3\xa9</p>" * 20_000 + b'"}', "text"),
        (b"\x01" * 100_000, "base64"),  # UTF-8, but six bytes of JSON a character as text
        (b"\xff<p>latin-1 page</p>" * 30_000, "zstd"),  # too big even as base64: compressed
    ],
)
def test_rejected_keeps_the_whole_payload_in_the_form_that_fits(value: bytes, form: str) -> None:
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "x"), ORIGIN, None, value, 600_000)
    assert original(record) == value and record.payload_truncated is False
    assert record.payload_bytes == len(value)
    got = "text" if record.payload is not None else record.payload_compression or "base64"
    assert got == form
    assert len(codec.encode(record)) <= 600_000


def test_rejected_payload_that_fits_no_way_is_cut_to_the_record_size() -> None:
    value = os.urandom(300_000)  # does not compress
    record = pipeline.rejected(pipeline.Failure(Reason.TOO_LARGE, "x"), ORIGIN, b"k", value, 200_000)
    assert record.payload_truncated is True and record.payload_compression is None
    kept = original(record)
    assert value.startswith(kept) and 140_000 < len(kept) < 150_000
    assert len(codec.encode(record)) <= 200_000


def test_rejected_with_nothing_kept_reports_the_size_only() -> None:
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_HTML, "x"), ORIGIN, None, b"abc", RECORD, 0)
    assert (record.payload, record.payload_base64, record.payload_bytes) == ("", None, 3)
    assert record.payload_truncated is True


def test_rejection_headers_carry_reason_and_coordinates() -> None:
    record = pipeline.rejected(pipeline.Failure(Reason.NOT_JSON, "not JSON: x"), ORIGIN, None, b"{", RECORD)
    assert codec.rejection_headers(record) == [
        ("ingest.error.reason", b"not_json"),
        ("ingest.error.detail", b"not JSON: x"),
        ("ingest.origin.topic", b"pages.raw"),
        ("ingest.origin.partition", b"2"),
        ("ingest.origin.offset", b"17"),
        ("ingest.origin.timestamp", b"1710405000000"),
    ]


# --- purity and page rules --------------------------------------------------------------------


def test_process_is_a_pure_function_of_the_message() -> None:
    """The same page gives the same record after other pages (no trafilatura dedup cache)."""
    message = encode({"url": URL, "html": page_text("news-en.html"), "fetched_at": "2024-03-15T00:00:00Z"})
    first = run(message)
    for name in ["blog-de.html", "news-en.html", "aggregator-id.html", "listing.html"]:
        run(encode({"url": f"https://other.example/{name}", "html": page_text(name)}))
    assert run(message) == first


def test_rules_from_settings() -> None:
    from worker.settings import Settings

    rules = pipeline.rules_from(Settings(reject_page_types="listing", listing_link_share=0.7, short_text_words=100))
    assert rules.reject == frozenset({"listing"}) and rules.listing_link_share == 0.7
    with pytest.raises(ValueError):
        pipeline.rules_from(Settings(reject_page_types="articles"))


def test_a_listing_message_is_rejected_or_published_by_rule() -> None:
    message = encode({"url": "https://news.example.com/category/world", "html": page_text("listing.html")})
    assert failure(message).reason is Reason.NOT_ARTICLE_LISTING
    result = pipeline.process(message, ORIGIN, MAX_PAGE_BYTES, pipeline.PageRules(reject=frozenset()))
    assert isinstance(result, Extracted) and result.page_type == "listing"
