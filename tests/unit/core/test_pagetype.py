"""Page types and which are rejected (worker/core/pagetype.py)."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from worker.core.pagetype import PageRules, classify, link_share
from worker.core.signals import Signals, read_signals

RULES = PageRules()
ARTICLE_HEAD = '<meta property="og:type" content="article">'
TEXT = ["A real paragraph of the story with enough words to read as text. " * 3] * 4


def page(head: str = "", body: str = "") -> Signals:
    return read_signals(lxml_html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>"))


def kind(signals: Signals, url: str, paragraphs: list[str], status: int | None = None) -> str:
    return classify(signals, url, status, paragraphs, RULES).page_type


def test_an_article() -> None:
    assert kind(page(ARTICLE_HEAD), "https://news.example/world/2025/04/26/kursk", TEXT) == "article"


@pytest.mark.parametrize("url", ["https://news.example/", "https://news.example", "https://news.example/en/",
                                 "https://news.example/index.html", "https://news.example/home"])  # fmt: skip
def test_homepages(url: str) -> None:
    assert kind(page(), url, TEXT) == "homepage"


def test_a_root_url_with_a_query_is_not_a_homepage() -> None:
    assert kind(page(ARTICLE_HEAD), "https://blog.example/?p=123", TEXT) == "article"


@pytest.mark.parametrize(
    "url",
    ["https://news.example/tag/kursk", "https://news.example/category/world/", "https://news.example/author/ana",
     "https://blog.example/search/label/Politics", "https://news.example/kategori/internasional"],
)  # fmt: skip
def test_listing_urls_without_article_markup(url: str) -> None:
    assert kind(page(), url, TEXT) == "listing"


def test_a_listing_url_segment_with_article_markup_is_an_article() -> None:
    assert kind(page(ARTICLE_HEAD), "https://news.example/category/world/story-1", TEXT) == "article"


def test_declared_collection_page_is_a_listing() -> None:
    head = f'<script type="application/ld+json">{json.dumps({"@type": "CollectionPage"})}</script>'
    assert kind(page(head), "https://news.example/world", TEXT) == "listing"


def test_text_made_of_link_titles_is_a_listing() -> None:
    titles = [f"Teaser headline number {i}" for i in range(8)]
    body = "".join(f'<a href="/s/{i}">{t}</a>' for i, t in enumerate(titles))
    assert link_share(titles, page(body=body).link_texts) == 1.0
    assert kind(page(body=body), "https://news.example/world", titles) == "listing"
    assert kind(page(body=body), "https://news.example/world", titles[:3] + TEXT) == "article"


@pytest.mark.parametrize("title", ["Page not found", "404 - Example News", "Seite nicht gefunden",
                                   "Halaman tidak ditemukan", "Страница не найдена"])  # fmt: skip
def test_soft_404(title: str) -> None:
    assert kind(page(f"<title>{title}</title>"), "https://news.example/x", ["Sorry, nothing here."]) == "error"


def test_an_article_about_error_404_is_not_an_error_page() -> None:
    long_text = ["Why the error 404 page matters for shops, explained in many words. " * 10] * 5
    assert kind(page("<title>Error 404 explained</title>"), "https://news.example/x", long_text) == "article"


def test_http_error_status() -> None:
    assert kind(page(), "https://news.example/x", TEXT, status=410) == "error"


def test_paywall_declared_or_prompted() -> None:
    head = f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "isAccessibleForFree": False})}</script>'
    assert kind(page(head), "https://news.example/x", ["The first lines of the story."]) == "paywall"
    teaser = ["The first lines of the story.", "Subscribe to continue reading."]
    assert kind(page(ARTICLE_HEAD), "https://news.example/x", teaser) == "paywall"
    assert kind(page(head), "https://news.example/x", TEXT * 10) == "article"  # metered, full text there


def test_other_og_types() -> None:
    assert kind(page('<meta property="og:type" content="video.other">'), "https://v.example/watch/1", TEXT) == "other"


def test_rules_parse_and_refuse_unknown_types() -> None:
    rules = PageRules.parse(" listing, paywall ,", 0.6, 200)
    assert rules == PageRules(frozenset({"listing", "paywall"}), 0.6, 200)
    with pytest.raises(ValueError):
        PageRules.parse("listing,article", 0.5, 300)
    with pytest.raises(ValueError):
        PageRules.parse("blog", 0.5, 300)
