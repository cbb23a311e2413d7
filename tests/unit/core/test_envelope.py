"""The raw-page envelope (worker/core/envelope.py): good messages and every bad one."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from worker.core.envelope import iso_utc, parse_raw_page
from worker.errors import PageError, Reason
from worker.records import RawPage

URL = "https://example.com/news/1"


def message(**fields: Any) -> dict[str, Any]:
    """A valid raw-page message with `fields` overriding or adding to it."""
    return {"url": URL, "html": "<p>Hello</p>", **fields}


def without(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in names}


def reason_of(obj: Any) -> Reason:
    with pytest.raises(PageError) as info:
        parse_raw_page(obj)
    return info.value.reason


# --- good messages ----------------------------------------------------------------------------


def test_minimal_html_message() -> None:
    page = parse_raw_page({"url": URL, "html": "<p>Hello</p>"})
    assert page == RawPage(url=URL, html="<p>Hello</p>")
    assert page.body is None and page.headers == {} and page.fetched_at is None
    assert page.status is None and page.source is None and page.meta is None


def test_full_html_message() -> None:
    page = parse_raw_page(
        message(status=200, source="crawler-eu-1", fetched_at="2024-03-14T08:30:00Z", headers={})
    )
    assert page.status == 200
    assert page.source == "crawler-eu-1"
    assert page.fetched_at == "2024-03-14T08:30:00.000Z"


def test_empty_html_string_is_accepted_here() -> None:
    assert parse_raw_page(message(html="")).html == ""


def test_base64_body() -> None:
    raw = "<p>Caf\u00e9</p>".encode("cp1252")
    page = parse_raw_page(without(message(body=base64.b64encode(raw).decode()), "html"))
    assert page.body == raw
    assert page.html is None


def test_null_html_with_body_counts_as_body_only() -> None:
    body = base64.b64encode(b"<p>x</p>").decode()
    page = parse_raw_page({"url": URL, "html": None, "body": body})
    assert page.body == b"<p>x</p>"


def test_headers_lower_cased() -> None:
    headers = {"Content-Type": "text/html; charset=UTF-8", "X-Cache": "HIT", "etag": "abc"}
    page = parse_raw_page(message(headers=headers))
    assert page.headers == {k.lower(): v for k, v in headers.items()}
    assert page.headers["content-type"] == "text/html; charset=UTF-8"


def test_null_headers_are_empty() -> None:
    assert parse_raw_page(message(headers=None)).headers == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2024-03-14T08:30:00Z", "2024-03-14T08:30:00.000Z"),
        ("2024-03-14T08:30:00+00:00", "2024-03-14T08:30:00.000Z"),
        ("2024-03-14T10:30:00+02:00", "2024-03-14T08:30:00.000Z"),
        ("2024-03-14T03:30:00-05:00", "2024-03-14T08:30:00.000Z"),
        ("2024-03-14T23:30:00-09:00", "2024-03-15T08:30:00.000Z"),
        ("2024-03-14T08:30:00", "2024-03-14T08:30:00.000Z"),  # naive: UTC
        ("2024-03-14T08:30:00.123456Z", "2024-03-14T08:30:00.123Z"),
        ("2024-03-14 08:30:00", "2024-03-14T08:30:00.000Z"),
        ("2024-03-14", "2024-03-14T00:00:00.000Z"),
    ],
)
def test_fetched_at_normalized_to_utc_z(given: str, expected: str) -> None:
    assert parse_raw_page(message(fetched_at=given)).fetched_at == expected


def test_iso_utc() -> None:
    assert iso_utc(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05.000Z"
    plus_one = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus_one)) == "2024-01-02T02:04:05.000Z"


@pytest.mark.parametrize(
    "meta",
    [
        None,
        "a string",
        42,
        [1, "two", None],
        {"crawl": {"depth": 2, "seeds": ["a", "b"], "flags": {"js": False}}, "score": 0.5},
    ],
)
def test_meta_passed_through_untouched(meta: Any) -> None:
    assert parse_raw_page(message(meta=meta)).meta == meta


def test_meta_is_the_same_object() -> None:
    meta = {"nested": {"list": [1, {"deep": True}]}}
    assert parse_raw_page(message(meta=meta)).meta is meta


def test_unknown_fields_ignored() -> None:
    assert parse_raw_page(message(extra="ignored", priority=3)).url == URL


# --- bad messages -----------------------------------------------------------------------------


@pytest.mark.parametrize("obj", [[], [message()], 1, 1.5, True, "a string", "", None])
def test_not_an_object(obj: Any) -> None:
    assert reason_of(obj) is Reason.INVALID_SCHEMA


def test_not_an_object_detail_names_the_json_type() -> None:
    with pytest.raises(PageError) as info:
        parse_raw_page([])
    assert "array" in info.value.detail


@pytest.mark.parametrize(
    "obj",
    [
        without(message(), "url"),
        message(url=""),
        message(url=None),
        message(url=42),
        message(url=["https://example.com/"]),
        message(url={"href": URL}),
    ],
)
def test_url_missing_empty_or_not_a_string(obj: dict[str, Any]) -> None:
    assert reason_of(obj) is Reason.INVALID_SCHEMA


def test_both_html_and_body() -> None:
    assert reason_of(message(body=base64.b64encode(b"<p>x</p>").decode())) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize(
    "obj", [{"url": URL}, {"url": URL, "html": None}, {"url": URL, "html": None, "body": None}]
)
def test_neither_html_nor_body(obj: dict[str, Any]) -> None:
    assert reason_of(obj) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("html", [42, ["<p>"], {"x": 1}, True])
def test_html_not_a_string(html: Any) -> None:
    assert reason_of(message(html=html)) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("body", [42, ["aGk="], {"b64": "aGk="}, True])
def test_body_not_a_string(body: Any) -> None:
    assert reason_of({"url": URL, "body": body}) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("body", ["not base64!", "aGk", "aGk=\n", "a GVsbG8=", "@@@@"])
def test_body_not_base64(body: str) -> None:
    assert reason_of({"url": URL, "body": body}) is Reason.UNDECODABLE


@pytest.mark.parametrize("status", ["200", True, False, 200.0, [200]])
def test_status_not_an_integer(status: Any) -> None:
    assert reason_of(message(status=status)) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("headers", ["content-type: text/html", ["content-type"], 1, True])
def test_headers_not_an_object(headers: Any) -> None:
    assert reason_of(message(headers=headers)) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("value", [1, None, ["text/html"], {"v": "text/html"}, True])
def test_header_value_not_a_string(value: Any) -> None:
    headers = {"Content-Type": "text/html", "X-Bad": value}
    assert reason_of(message(headers=headers)) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize(
    "fetched_at",
    ["yesterday", "2024-13-01T00:00:00Z", "14/03/2024", "", "2024-03-14T25:00", 1710405000, True],
)
def test_fetched_at_not_iso(fetched_at: Any) -> None:
    assert reason_of(message(fetched_at=fetched_at)) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("fetched_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_fetched_at_out_of_range_is_a_schema_error(fetched_at: str) -> None:
    assert reason_of(message(fetched_at=fetched_at)) is Reason.INVALID_SCHEMA


@pytest.mark.parametrize("source", [1, ["crawler"], {"name": "crawler"}, True])
def test_source_not_a_string(source: Any) -> None:
    assert reason_of(message(source=source)) is Reason.INVALID_SCHEMA
