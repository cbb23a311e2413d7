"""Records the worker builds follow schemas/, and the input schema agrees with the parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import ValidationError

from tests.contract.schemas import validate, validator
from tests.fixtures.synthetic import article_html, message
from worker import codec, pipeline
from worker.core import dedup
from worker.core.envelope import parse_raw_page
from worker.core.pagetype import PageRules
from worker.errors import PageError, Reason
from worker.pipeline import Failure, clean, rejected
from worker.records import RawPage, Sketched, Source

ORIGIN = Source("pages.raw", 3, 42, 1_746_000_000_000)
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def as_json(record: Any) -> Any:
    return orjson.loads(codec.encode(record))


def extracted(seed: int = 1) -> Any:
    return clean(parse_raw_page(message("https://example.com/a", article_html(seed))), ORIGIN, 10**7)


def test_article_and_duplicates_follow_their_schemas() -> None:
    page = extracted()
    validate("article", as_json(dedup.article(page, 1, "2025-05-01T10:00:00.000Z")))
    for kind in ("url", "content", "near"):
        validate("duplicate", as_json(dedup.duplicate(page, kind, page.id, 0.8125, kind == "url")))


@pytest.mark.parametrize("name", ["news-en.html", "blog-de.html", "news-id-latin1.html", "aggregator-id.html"])
def test_articles_from_fixture_pages_follow_the_schema(name: str) -> None:
    page = clean(RawPage(url=f"https://example.com/{name}", body=(PAGES / name).read_bytes()), ORIGIN, 10**7)
    validate("article", as_json(dedup.article(page, 3, "2025-05-01T10:00:00.000Z")))


def test_new_fields_are_in_the_article_record() -> None:
    page = clean(RawPage(url="https://portalberita.example/internasional/kursk", body=(PAGES / "aggregator-id.html").read_bytes(),
                         fetched_at="2025-04-27T00:00:00.000Z"), ORIGIN, 10**7)
    record = as_json(dedup.article(page, 1, "2025-05-01T10:00:00.000Z"))
    validate("article", record)
    assert record["page_type"] == "article" and record["date_published"] == "2025-04-26"
    assert set(record["quality"]) == {"text_to_markup", "boilerplate_removed", "language_confidence", "paragraphs", "link_share"}
    assert record["images"][0]["caption"]


def test_extracted_records_survive_the_internal_topics() -> None:
    page = clean(RawPage(url="https://portalberita.example/internasional/kursk", body=(PAGES / "aggregator-id.html").read_bytes()),
                 ORIGIN, 10**7)
    sketched = pipeline.process_sketched(
        codec.encode(message("https://example.com/a", article_html(1))), ORIGIN, 10**7
    )
    assert isinstance(sketched, Sketched)
    assert codec.sketched(codec.encode(sketched)) == sketched
    assert codec.extracted(codec.plain(page)) == page


def test_a_kept_listing_follows_the_schema() -> None:
    rules = PageRules(reject=frozenset())
    page = clean(RawPage(url="https://news.example/category/local", body=(PAGES / "listing.html").read_bytes()), ORIGIN, 10**7, rules)
    validate("article", as_json(dedup.article(page, 1, "2025-05-01T10:00:00.000Z")))
    assert page.page_type == "listing"


@pytest.mark.parametrize("reason", list(Reason))
@pytest.mark.parametrize("value", [b'{"url": "x"}', b"\xff\xfe binary", None, b"x" * 5000])
def test_rejections_follow_the_schema(reason: Reason, value: bytes | None) -> None:
    record = rejected(Failure(reason, "why", "https://e.com/", "scraper"), ORIGIN, b"k", value, 1000)
    validate("rejected", as_json(record))


def test_schema_lists_exactly_the_reasons() -> None:
    enum = validator("rejected").schema["properties"]["reason"]["enum"]
    assert sorted(enum) == sorted(r.value for r in Reason)


GOOD = [
    {"url": "https://example.com/a", "html": "<p>x</p>"},
    {"url": "http://example.com/a", "body": "PHA+eDwvcD4="},
    {"url": "https://e.com/", "html": "", "status": 200, "headers": {"Content-Type": "text/html"},
     "fetched_at": "2025-05-01T10:00:00+02:00", "source": "s", "meta": {"any": [1, None]}},
    {"url": "https://e.com/", "html": "<p>", "status": None, "headers": None, "source": None, "unknown": 1},
]
BAD = [
    [], 42, "x", None,
    {"html": "<p>x</p>"},
    {"url": "", "html": "<p>x</p>"},
    {"url": 7, "html": "<p>x</p>"},
    {"url": "https://e.com/"},
    {"url": "https://e.com/", "html": "<p>", "body": "PHA+"},
    {"url": "https://e.com/", "html": 12},
    {"url": "https://e.com/", "body": 12},
    {"url": "https://e.com/", "html": "<p>", "status": "200"},
    {"url": "https://e.com/", "html": "<p>", "headers": []},
    {"url": "https://e.com/", "html": "<p>", "headers": {"a": 1}},
    {"url": "https://e.com/", "html": "<p>", "fetched_at": "yesterday"},
    {"url": "https://e.com/", "html": "<p>", "source": 5},
]  # fmt: skip


@pytest.mark.parametrize("value", GOOD)
def test_schema_and_parser_accept_the_same_good_messages(value: Any) -> None:
    validate("raw_page", value)
    parse_raw_page(value)


@pytest.mark.parametrize("value", BAD)
def test_schema_and_parser_refuse_the_same_bad_messages(value: Any) -> None:
    with pytest.raises(ValidationError):
        validate("raw_page", value)
    with pytest.raises(PageError):
        parse_raw_page(value)
