"""From page bytes to HTML text (worker/core/decode.py)."""

from __future__ import annotations

import codecs
import gzip
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from worker.core.decode import check_content_type, check_markup, decode_body
from worker.errors import PageError, Reason

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
HTML = (
    "<!DOCTYPE html><html><head><title>T</title></head>"
    "<body><p>Caf\u00e9 \u201cquoted\u201d \u20ac5</p></body></html>"
)


def reason_of(call: Callable[..., Any], *args: Any) -> Reason:
    with pytest.raises(PageError) as info:
        call(*args)
    return info.value.reason


# --- decode_body: charsets --------------------------------------------------------------------


def test_utf8() -> None:
    assert decode_body(HTML.encode("utf-8"), {}) == HTML


def test_utf8_bom_stripped() -> None:
    assert decode_body(codecs.BOM_UTF8 + HTML.encode("utf-8"), {}) == HTML


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(encoding: str) -> None:
    data = HTML.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # these codecs write no BOM: add the right one
        data = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + data
    assert decode_body(data, {}) == HTML


def test_cp1252_with_meta_charset() -> None:
    text = (
        '<html><head><meta charset="windows-1252"></head>'
        "<body><p>Caf\u00e9 \u201cquoted\u201d \u20ac5</p></body></html>"
    )
    decoded = decode_body(text.encode("cp1252"), {})
    assert decoded == text
    assert "\ufffd" not in decoded


def test_cp1252_with_http_equiv_meta() -> None:
    text = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "</head><body><p>\u201cOl\u00e9\u201d</p></body></html>"
    )
    assert decode_body(text.encode("cp1252"), {}) == text


def test_fixture_page_in_cp1252() -> None:
    text = decode_body((PAGES / "news-id-latin1.html").read_bytes(), {})
    assert "Andr\u00e9 Setiawan" in text
    assert "\u201cKami tidak menyangka" in text
    assert "Caf\u00e9 Lembang Asri" in text
    assert "\ufffd" not in text


def test_header_charset_beats_meta() -> None:
    body = b'<html><head><meta charset="koi8-r"></head><body><p>caf\xe9</p></body></html>'
    assert "<p>caf\u0418</p>" in decode_body(body, {})  # meta alone: koi8-r
    headers = {"content-type": "text/html; charset=ISO-8859-1"}
    assert "<p>caf\u00e9</p>" in decode_body(body, headers)


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/html; charset=iso-8859-1"},
        {},
        {"content-type": 'text/html; charset="latin1"'},
    ],
)
def test_valid_utf8_beats_declared_latin1(headers: dict[str, str]) -> None:
    text = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\u00e9 \u00fcber</p>'
    assert decode_body(text.encode("utf-8"), headers) == text


def test_unknown_declared_charset_falls_through_to_detection() -> None:
    body = '<meta charset="x-no-such-charset"><p>Caf\u00e9</p>'.encode("cp1252")
    decoded = decode_body(body, {})
    assert decoded.startswith('<meta charset="x-no-such-charset"><p>Caf')


def test_undeclared_cp1252_page_is_detected() -> None:
    """charset_normalizer calls these bytes cp850 (Andr\u00e9 -> Andr\u00da): windows-1252 wins."""
    page = (PAGES / "news-id-latin1.html").read_bytes()
    body = page.replace(b'<meta charset="windows-1252">', b"")
    text = decode_body(body, {})
    assert "Andr\u00e9 Setiawan" in text
    assert "\u201cKami" in text


def test_bomless_utf16_declared_in_header() -> None:
    text = "<html><body><p>Hallo Welt</p></body></html>"
    decoded = decode_body(text.encode("utf-16-le"), {"content-type": "text/html; charset=utf-16le"})
    check_markup(decoded)
    assert decoded == text


def test_meta_utf16_on_ascii_compatible_bytes_is_ignored() -> None:
    text = '<html><head><meta charset="utf-16"></head><body><p>Caf\u00e9</p></body></html>'
    body = text.encode("cp1252")
    assert decode_body(body, {}).startswith("<html><head>")


# --- decode_body: binary ----------------------------------------------------------------------

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


@pytest.mark.parametrize(
    "body",
    [
        PNG,
        PDF,
        gzip.compress(HTML.encode()),
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        b"PK\x03\x04\x14\x00\x00\x00",
        b"GIF89a\x01\x00\x01\x00",
        b"\x00\x00\x00\x18ftypmp42",
    ],
    ids=["png", "pdf", "gzip", "jpeg", "zip", "gif", "mp4"],
)
def test_binary_magic_is_not_html(body: bytes) -> None:
    assert reason_of(decode_body, body, {}) is Reason.NOT_HTML


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_bytes_are_refused(seed: int) -> None:
    body = random.Random(seed).randbytes(4096)
    with pytest.raises(PageError) as info:
        check_markup(decode_body(body, {}))
    assert info.value.reason in (Reason.NOT_HTML, Reason.UNDECODABLE)


# --- check_content_type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/pdf", "image/png", "application/octet-stream", "application/json", "video/mp4"],
)
def test_non_html_content_type_refused(content_type: str) -> None:
    assert reason_of(check_content_type, {"content-type": content_type}) is Reason.NOT_HTML


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"content-type": ""},
        {"content-type": "text/html"},
        {"content-type": "text/html; charset=utf-8"},
        {"content-type": "TEXT/HTML; Charset=UTF-8"},
        {"content-type": "application/xhtml+xml"},
        {"content-type": "text/plain"},
        {"x-other": "image/png"},
    ],
)
def test_html_or_missing_content_type_accepted(headers: dict[str, str]) -> None:
    check_content_type(headers)


# --- check_markup -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "Just some plain text, with no markup at all, like a robots.txt file.",
        "<p>looks like html</p>" + "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e" * 10,
    ],
    ids=["empty", "whitespace", "plain-text", "control-chars"],
)
def test_check_markup_refuses(text: str) -> None:
    assert reason_of(check_markup, text) is Reason.NOT_HTML


@pytest.mark.parametrize(
    "text",
    [
        "<p>Hello</p>",
        "<!DOCTYPE html><html></html>",
        "  \n<html>",
        "<p>tabs\tand\r\nnewlines\x0c are fine</p>",
        "<p>a few stray controls \x01\x02 are tolerated</p>",
    ],
)
def test_check_markup_accepts(text: str) -> None:
    check_markup(text)
