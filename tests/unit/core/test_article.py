"""One page to one article record (worker/core/article.py), on small pages of its own."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from worker.core.article import clean_html
from worker.core.pagetype import PageRules
from worker.errors import PageError, Reason
from worker.records import Cleaned

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
URL = "https://portalberita.example/internasional/pasukan-ukraina-keluar-dari-wilayah-kursk?utm_source=fb"
FETCHED = datetime(2025, 4, 27, 6, 0, tzinfo=timezone.utc)
RULES = PageRules()
CHROME = [
    "Source link", "Related Articles", "Leave a Reply", "Your email address", "Back to top",
    "Baca juga", "Screenshot-2025", "Foto Alexander Kazakov", "Handout", "PortalBerita example",
]  # fmt: skip


@pytest.fixture(scope="module")
def aggregator() -> Cleaned:
    """An aggregator page republishing a wire story, like the one in the issue."""
    return clean_html((PAGES / "aggregator-id.html").read_text(encoding="utf-8"), URL, 200, FETCHED, RULES)[0]


def test_aggregator_metadata(aggregator: Cleaned) -> None:
    assert aggregator.title == "Pasukan Ukraina keluar dari wilayah Kursk, Rusia mengklaim"
    assert aggregator.author == []  # "PortalBerita example · Internasional ·" is not a name
    assert aggregator.site_name == "PortalBerita"  # the title suffix, not the host name
    assert aggregator.language == "id"  # from the text; the template says lang="en"
    assert aggregator.date_published == "2025-04-26"
    assert aggregator.canonical_url == "https://portalberita.example/internasional/pasukan-ukraina-keluar-dari-wilayah-kursk"
    assert aggregator.page_type == "article"


def test_aggregator_text_is_the_story_only(aggregator: Cleaned) -> None:
    text = aggregator.text
    assert text.startswith("Semua tentara Ukraina telah dipaksa keluar")  # no kicker, no repeated headline
    assert text.endswith("demikian laporan kantor berita tersebut.")
    for chrome in CHROME:
        assert chrome not in text, chrome
    assert "Presiden mendengarkan laporan" not in text  # the caption is in images, not in text
    assert aggregator.images[0]["caption"].startswith("Presiden mendengarkan laporan")
    assert text.count("\n\n") == 4


def test_aggregator_quality(aggregator: Cleaned) -> None:
    quality = aggregator.quality
    assert 0 < quality["text_to_markup"] < 1
    assert 0.2 < quality["boilerplate_removed"] < 0.5
    assert quality["language_confidence"] > 0.5 and quality["paragraphs"] == 5 and quality["link_share"] == 0.0


def test_a_publication_date_after_the_fetch_is_not_taken() -> None:
    html = (PAGES / "aggregator-id.html").read_text(encoding="utf-8")
    early = datetime(2025, 4, 20, tzinfo=timezone.utc)
    cleaned, same_until = clean_html(html, URL, None, early, RULES)
    assert cleaned.date_published is None
    # Fetched again once that date has come, the page cleans otherwise: the re-fetch cache knows.
    assert same_until is not None and early < same_until
    assert clean_html(html, URL, None, same_until, RULES)[0].date_published is not None


def test_listing_homepage_and_shell_are_rejected_with_their_reasons() -> None:
    listing = (PAGES / "listing.html").read_text(encoding="utf-8")
    cases = [
        (listing, "https://news.example/local/", Reason.NOT_ARTICLE_LISTING),
        ((PAGES / "news-en.html").read_text(encoding="utf-8"), "https://news.example/", Reason.NOT_ARTICLE_HOMEPAGE),
        ((PAGES / "spa-shell.html").read_text(encoding="utf-8"), "https://app.example/inbox", Reason.NEEDS_JAVASCRIPT),
        ("<html><body><div></div></body></html>", "https://news.example/empty", Reason.EMPTY_EXTRACTION),
    ]
    for html, url, reason in cases:
        with pytest.raises(PageError) as info:
            clean_html(html, url, None, FETCHED, RULES)
        assert info.value.reason is reason, url


def test_which_page_types_are_rejected_is_configurable() -> None:
    listing = (PAGES / "listing.html").read_text(encoding="utf-8")
    kept = clean_html(listing, "https://news.example/local/", None, FETCHED, PageRules(reject=frozenset()))[0]
    assert kept.page_type == "listing"
    paywalled = (
        "<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"isAccessibleForFree\": false}"
        "</script></head><body><article><h1>Budget talks</h1><p>The council met on Monday to discuss the budget "
        "for next year, officials said.</p></article></body></html>"
    )
    assert clean_html(paywalled, "https://news.example/a", None, FETCHED, RULES)[0].page_type == "paywall"
    with pytest.raises(PageError) as info:
        clean_html(paywalled, "https://news.example/a", None, FETCHED, PageRules(reject=frozenset({"paywall"})))
    assert info.value.reason is Reason.NOT_ARTICLE_PAYWALL


def test_a_split_body_is_restored_and_quality_stays_in_range() -> None:
    block = "<div class='article__body'>{}</div>"
    first = "".join(f"<p>Paragraph {i} of the first block tells the story of the harbour barrier vote in detail.</p>" for i in range(4))
    second = "".join(f"<p>Paragraph {i} of the second block continues the story after the advertisement slot.</p>" for i in range(4))
    html = (
        "<html><head><meta property='og:type' content='article'><title>Barrier vote</title></head><body><main>"
        + block.format(first) + "<div class='ad'><span>Advertisement</span></div>" + block.format(second)
        + "</main></body></html>"
    )
    cleaned, _ = clean_html(html, "https://news.example/2025/04/26/barrier", None, FETCHED, RULES)
    assert "second block continues" in cleaned.text
    assert 0.0 <= cleaned.quality["boilerplate_removed"] <= 1.0


def test_a_body_declared_as_data_replaces_a_markup_text_that_holds_far_less_of_it() -> None:
    """A page rendered by script keeps its text in JSON-LD articleBody: used when the markup
    gives under a quarter of its words; a short declared body (a teaser) never."""
    body = " ".join(f"Sentence {i} of the council's budget story tells what the vote means." for i in range(30))
    ld = '{"@type": "NewsArticle", "headline": "Budget vote", "articleBody": "%s"}'
    shell = (
        "<html><head><script type='application/ld+json'>{}</script></head><body><h1>Budget vote</h1>"
        "<figure><img src='/a.jpg'><figcaption>The council chamber. Photo: AP</figcaption></figure>{}</body></html>"
    )
    cleaned = clean_html(shell.format(ld % body, ""), "https://news.example/budget-vote", None, FETCHED, RULES)[0]
    assert cleaned.text == body
    markup = "".join(f"<p>{body[:400]} paragraph {i}.</p>" for i in range(3))  # about half of it
    kept = clean_html(shell.format(ld % body, markup), "https://news.example/budget-vote", None, FETCHED, RULES)[0]
    assert kept.text.startswith(body[:100]) and kept.text.count("\n\n") == 2
    with pytest.raises(PageError) as info:
        clean_html(shell.format(ld % body[:300], ""), "https://news.example/budget-vote", None, FETCHED, RULES)
    assert info.value.reason is Reason.EMPTY_EXTRACTION
