"""Publication and modification dates (worker/core/dates.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from lxml import html as lxml_html

from worker.core.dates import modified, not_after, parse_date, published
from worker.core.signals import Signals, read_signals

FETCHED = datetime(2025, 4, 27, 12, 0, tzinfo=timezone.utc)
URL = "https://news.example/world/kursk"


def page(head: str = "", body: str = "") -> Signals:
    return read_signals(lxml_html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>"))


def ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-11-18T21:30:00-05:00", date(2019, 11, 18)),
        ("2019-11-19T02:30:00Z", date(2019, 11, 19)),
        ("2019/11/18", date(2019, 11, 18)),
        ("20191118", date(2019, 11, 18)),
        ("November 18, 2019 11:03 PM", date(2019, 11, 18)),
        ("Nov. 18, 2019 7:04 pm ET", date(2019, 11, 18)),
        ("18 NOV 2019", date(2019, 11, 18)),
        ("publiziert am 25. September 2018", date(2018, 9, 25)),
        ("sexta-feira, 22 de outubro de 2010 às 20:13", date(2010, 10, 22)),
        ("Sabtu, 26 April 2025", date(2025, 4, 26)),
        ("24 сентября 2018", date(2018, 9, 24)),
        ("2018년 8월 25일", date(2018, 8, 25)),
        ("2019年11月18日", date(2019, 11, 18)),
        ("18.11.2019", date(2019, 11, 18)),
    ],
)
def test_parse_date_in_many_forms(text: str, expected: date) -> None:
    found = parse_date(text)
    assert found is not None and found[0] == expected


@pytest.mark.parametrize("text", ["", "no date here", "0001-01-01", "2019-13-45", "1990-01-01"])
def test_parse_date_refuses(text: str) -> None:
    assert parse_date(text) is None


def test_a_date_after_the_fetch_is_wrong() -> None:
    assert not_after((date(2025, 4, 27), None), FETCHED)
    assert not not_after((date(2025, 4, 29), None), FETCHED)
    moment = datetime(2025, 4, 27, 13, 0, tzinfo=timezone.utc)
    assert not not_after((date(2025, 4, 27), moment), FETCHED)


def test_source_order_jsonld_first() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2025-04-20T10:00:00Z"})
    head += '<meta property="article:published_time" content="2025-04-19T10:00:00Z">'
    assert published(page(head), URL, "", FETCHED) == "2025-04-20"


def test_a_future_date_falls_to_the_next_source() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2031-01-01"})
    head += '<meta property="article:published_time" content="2025-04-19T10:00:00Z">'
    assert published(page(head), URL, "", FETCHED) == "2025-04-19"


def test_the_shown_local_day_beats_a_utc_timestamp_a_day_later() -> None:
    head = '<meta property="article:published_time" content="2019-11-19T02:30:00Z">'
    body = "<time>Nov. 18, 2019 9:30 pm ET</time>"
    assert published(page(head, body), URL, "", FETCHED) == "2019-11-18"


def test_a_shown_date_far_from_the_declared_one_is_ignored() -> None:
    head = '<meta property="article:published_time" content="2019-11-19T02:30:00Z">'
    body = '<div class="date">Wednesday, November 27, 2019</div>'
    assert published(page(head, body), URL, "", FETCHED) == "2019-11-19"


def test_a_shown_modified_date_does_not_replace_publication() -> None:
    head = ld({"@type": "NewsArticle", "datePublished": "2018-09-15", "dateModified": "2018-09-16"})
    assert published(page(head, '<span class="date">16 September 2018</span>'), URL, "", FETCHED) == "2018-09-15"


def test_time_element_url_header_then_text() -> None:
    assert published(page(body='<time datetime="2025-03-02">2 March</time>'), URL, "", FETCHED) == "2025-03-02"
    assert published(page(), "https://news.example/2025/03/04/story", "", FETCHED) == "2025-03-04"
    header = '<div><p class="about">publiziert am 25. September 2018</p><h1>Die Patientenakte</h1></div>'
    assert published(page(body=header), URL, "", FETCHED) == "2018-09-25"
    assert published(page(), URL, "JAKARTA, Sabtu 26 April 2025 - Text.", FETCHED) == "2025-04-26"
    assert published(page(), URL, "No dates at all.", FETCHED) is None


def test_modified_not_before_published_nor_after_fetch() -> None:
    head = '<meta property="article:modified_time" content="2025-04-21T08:00:00Z">'
    assert modified(page(head), "2025-04-20", FETCHED) == "2025-04-21"
    assert modified(page(head), "2025-04-22", FETCHED) is None
    late = '<meta property="article:modified_time" content="2026-01-01T08:00:00Z">'
    assert modified(page(late), "2025-04-20", FETCHED) is None
