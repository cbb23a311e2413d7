"""Hostile pages and messages: each is rejected with its own reason, in bounded time.

Run through `pipeline.process` on the raw bytes, as the worker's child processes do; the
pytest-timeout marker is the bound (these all finish in well under a second).
"""

from __future__ import annotations

import base64
import gzip
import os

import cramjam
import orjson
import pytest

from tests.fixtures.synthetic import article_html
from worker.errors import Reason
from worker.pipeline import Failure, process
from worker.records import Extracted, Source

ORIGIN = Source("pages.raw", 0, 7, 1_746_000_000_000)
MAX_PAGE = 8 * 1024 * 1024
URL = "https://news.example.com/a"


def msg(**fields: object) -> bytes:
    return orjson.dumps({"url": URL, **fields})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


CASES = {
    "invalid json": (b'{"url": "https://x', Reason.NOT_JSON),
    "utf-16 json": ('{"url": "https://x.example/"}'.encode("utf-16"), Reason.NOT_JSON),
    "deeply nested json": (b"[" * 100_000 + b"]" * 100_000, Reason.NOT_JSON),
    "NaN literal": (b'{"url": NaN}', Reason.NOT_JSON),
    "wrong shape": (b'"just a string"', Reason.INVALID_SCHEMA),
    "missing url": (orjson.dumps({"html": "<p>x</p>"}), Reason.INVALID_SCHEMA),
    "javascript url": (orjson.dumps({"url": "javascript:alert(1)", "html": "<p>x</p>"}), Reason.INVALID_URL),
    "file url": (orjson.dumps({"url": "file:///etc/passwd", "html": "<p>x</p>"}), Reason.INVALID_URL),
    "100 KB url": (orjson.dumps({"url": "https://e.com/" + "a" * 100_000, "html": "<p>x</p>"}), Reason.INVALID_URL),
    "url with control characters": (orjson.dumps({"url": "https://e.com/\x00\x1b[2J", "html": "<p>x</p>"}), Reason.INVALID_URL),
    "empty html": (msg(html=""), Reason.NOT_HTML),
    "empty body": (msg(body=""), Reason.NOT_HTML),
    "png body": (msg(body=b64(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))), Reason.NOT_HTML),
    "pdf body": (msg(body=b64(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" * 50)), Reason.NOT_HTML),
    "declared pdf": (msg(html="<p>x</p>", headers={"Content-Type": "application/pdf"}), Reason.NOT_HTML),
    "random bytes": (msg(body=b64(bytes(range(256)) * 40)), Reason.UNDECODABLE),
    "invalid base64": (msg(body="not base64 at all!"), Reason.UNDECODABLE),
    "gzip bomb": (msg(body=b64(gzip.compress(b" " * 100_000_000))), Reason.DECOMPRESSED_TOO_LARGE),
    "zstd bomb": (msg(body=b64(bytes(cramjam.zstd.compress(b"<p>a</p>" * 20_000_000)))), Reason.DECOMPRESSED_TOO_LARGE),
    "brotli bomb": (
        msg(body=b64(bytes(cramjam.brotli.compress(b"<p>a</p>" * 20_000_000))), headers={"Content-Encoding": "br"}),
        Reason.DECOMPRESSED_TOO_LARGE,
    ),
    "corrupt gzip": (msg(body=b64(b"\x1f\x8b\x08\x00" + os.urandom(500))), Reason.UNDECODABLE),
    "unknown encoding": (msg(body=b64(b"<p>x</p>"), headers={"Content-Encoding": "compress"}), Reason.UNDECODABLE),
    "50 MB page": (msg(html="<p>" + "a" * 50_000_000 + "</p>"), Reason.TOO_LARGE),
    "20 MB single line": (msg(html="<html><body><p>" + "word " * 4_000_000 + "</p></body></html>"), Reason.TOO_LARGE),
    "10,000-deep tags": (msg(html="<div>" * 10_000 + "<p>" + "word " * 300 + "</p>" + "</div>" * 10_000), Reason.EMPTY_EXTRACTION),
    "only scripts": (msg(html="<html><body>" + "<script>var a = 1;</script>" * 2000 + "</body></html>"), Reason.EMPTY_EXTRACTION),
    "NUL and control characters": (msg(html="<p>" + "a\x00b\x1b[31m " * 300 + "</p>"), Reason.NOT_HTML),
    "tombstone": (b"", Reason.EMPTY_MESSAGE),
}  # fmt: skip


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_rejected_with_its_reason(name: str) -> None:
    value, reason = CASES[name]
    result = process(value, ORIGIN, MAX_PAGE)
    assert isinstance(result, Failure), name
    assert result.reason is reason, (name, result.detail)
    assert result.detail


@pytest.mark.timeout(20)
def test_gzip_body_within_the_limit_is_cleaned() -> None:
    result = process(msg(body=b64(gzip.compress(article_html(3).encode()))), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted) and result.word_count > 300


@pytest.mark.timeout(20)
def test_wrong_declared_charset_still_decodes_the_text() -> None:
    html = article_html(4).replace("officials said", "officials saïd «ça»").encode("utf-8")
    result = process(msg(body=b64(html), headers={"Content-Type": "text/html; charset=iso-8859-1"}), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted) and "saïd «ça»" in result.text


@pytest.mark.timeout(20)
def test_mixed_encodings_never_produce_invalid_text() -> None:
    mixed = article_html(5).encode("utf-8") + "<p>café crème résumé</p>".encode("cp1252") * 3
    result = process(msg(body=b64(mixed)), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted)
    orjson.dumps(result)  # valid UTF-8 all the way (orjson refuses lone surrogates)


@pytest.mark.timeout(20)
def test_no_entity_expansion_and_no_file_access() -> None:
    doctype = '<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    result = process(msg(html=doctype + article_html(6).replace("<p>", "<p>&e;&b; ", 1)), ORIGIN, MAX_PAGE)
    text = result.text if isinstance(result, Extracted) else result.detail
    assert "root:" not in text and "aaaaaaaaaaaaaaaaaaaa" not in text


@pytest.mark.timeout(20)
def test_a_bare_html_fragment_is_cleaned_like_a_document() -> None:
    body = "".join(f"<p>{' '.join(['The council approved the harbour plan on Monday'] * 4)} {n}.</p>" for n in range(8))
    result = process(msg(html=f"<div><h1>Harbour plan approved</h1>{body}</div>"), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted) and result.word_count > 200
