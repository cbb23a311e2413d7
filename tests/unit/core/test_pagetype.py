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


def kind(
    signals: Signals, url: str, paragraphs: list[str], status: int | None = None, rules: PageRules = RULES
) -> str:
    return classify(signals, url, status, paragraphs, rules).page_type


def test_an_article() -> None:
    assert kind(page(ARTICLE_HEAD), "https://news.example/world/2025/04/26/kursk", TEXT) == "article"


@pytest.mark.parametrize("url", ["https://news.example/", "https://news.example", "https://news.example/en/",
                                 "https://news.example/index.html", "https://news.example/home"])  # fmt: skip
def test_homepages(url: str) -> None:
    assert kind(page(), url, TEXT) == "homepage"


def test_a_root_url_with_a_query_is_not_a_homepage() -> None:
    assert kind(page(ARTICLE_HEAD), "https://blog.example/?p=123", TEXT) == "article"


LISTING_URLS = ["https://news.example/tag/kursk", "https://news.example/category/world/", "https://news.example/author/ana",
                "https://blog.example/search/label/Politics", "https://news.example/kategori/internasional",
                "https://agency.example/themen/energie/wasserstoff-fuer-die-industrie", "https://blog.example/page/2/"]  # fmt: skip
TEASER = ["Mar 14", "Two lines of teaser text under the headline."]


def teasers(count: int, own: list[str] | None = None, head: str = "") -> tuple[Signals, list[str]]:
    """A page of `count` teaser links, and its text: each link title followed by `own` paragraphs."""
    titles = [f"Teaser headline number {i} about the news" for i in range(count)]
    body = "".join(f'<h2><a href="/s/{i}">{t}</a></h2>' for i, t in enumerate(titles))
    return page(head, body), [p for t in titles for p in [t, *(own or [])]]


@pytest.mark.parametrize("url", LISTING_URLS)
def test_a_listing_url_segment_alone_is_no_listing(url: str) -> None:
    assert kind(page(), url, TEXT) == "article"
    assert kind(page(), url, ["About us.", "A short page of our own, without links to anything."] * 3) == "article"


@pytest.mark.parametrize("url", LISTING_URLS)
def test_under_a_listing_segment_many_teaser_links_and_little_own_text_are_a_listing(url: str) -> None:
    signals, text = teasers(40, TEASER)  # a third of the paragraphs are link titles
    assert kind(signals, url, text) == "listing"
    assert kind(signals, "https://agency.example/energie/wasserstoff", text) == "article"  # no hint: not enough


def test_under_a_listing_segment_article_markup_or_few_teaser_links_make_an_article() -> None:
    signals, text = teasers(40, TEASER, head=ARTICLE_HEAD)
    assert kind(signals, "https://news.example/themen/energie", text) == "article"
    few, short = teasers(4, TEASER)
    assert kind(few, "https://news.example/themen/energie", short) == "article"


def test_a_listing_url_segment_with_article_markup_is_an_article() -> None:
    assert kind(page(ARTICLE_HEAD), "https://news.example/category/world/story-1", TEXT) == "article"


def test_a_declared_collection_page_is_a_listing_unless_it_declares_an_article_or_has_a_body() -> None:
    head = f'<script type="application/ld+json">{json.dumps({"@type": "CollectionPage"})}</script>'
    intro = TEXT[:3]  # 117 words of own text in a row: an introduction, not an article body
    assert kind(page(head), "https://news.example/world", intro) == "listing"
    assert kind(page(head + ARTICLE_HEAD), "https://news.example/world", intro) == "article"
    assert kind(page(head), "https://shop.example/category/yoghurt", TEXT) == "article"  # 156 words


def test_text_made_of_link_titles_is_a_listing() -> None:
    titles = [f"Teaser headline number {i}" for i in range(8)]
    body = "".join(f'<a href="/s/{i}">{t}</a>' for i, t in enumerate(titles))
    assert link_share(titles, page(body=body).link_texts) == 1.0
    assert kind(page(body=body), "https://news.example/world", titles) == "listing"
    assert kind(page(body=body), "https://news.example/world", titles[:3] + TEXT) == "article"


def test_link_titles_and_little_own_text_are_a_listing_even_on_a_page_declaring_an_article() -> None:
    signals, text = teasers(12, head=ARTICLE_HEAD)
    verdict = classify(signals, "https://news.example/2025/04/26/story", None, [*text, "Share"], RULES)
    assert verdict.page_type == "listing" and verdict.why.endswith("(the page declares an article)")


def test_link_titles_beside_an_article_body_are_a_related_links_block() -> None:
    signals, links = teasers(10)
    assert kind(signals, "https://news.example/world", TEXT + links) == "article"  # 10 of 14 paragraphs are links
    assert kind(signals, "https://news.example/tag/world", links + TEXT) == "article"
    own = TEXT[:3]  # 117 words in a row: less than an article body
    assert kind(signals, "https://news.example/world", own + links) == "listing"
    assert kind(signals, "https://news.example/world", own + links, rules=PageRules(article_body_words=100)) == "article"


def test_a_listing_detail_names_its_evidence() -> None:
    signals, text = teasers(40, TEASER)
    why = classify(signals, "https://news.example/themen/energie", None, text, RULES).why
    assert why == ("URL segment 'themen', no article markup, 33% of 120 paragraphs are link titles "
                   "and at most 10 words of own text in a row")  # fmt: skip


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
