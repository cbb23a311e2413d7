"""Parsing and main-text extraction (worker/core/extract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.core import extract
from worker.errors import PageError, Reason

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"


def text_of(name: str, url: str = "https://news.example/a") -> str:
    tree = extract.parse((PAGES / name).read_text(encoding="utf-8", errors="replace"))
    extract.strip(tree)
    return extract.main_text(tree, url)


def test_results_are_a_pure_function_of_the_page() -> None:
    """No process-wide state (trafilatura's deduplicate cache is off): the same page gives the
    same text before and after other pages, even pages that share its paragraphs."""
    first = text_of("news-en.html")
    for name in ["blog-de.html", "aggregator-id.html", "news-en.html", "listing.html", "news-en.html"]:
        text_of(name, url=f"https://other.example/{name}")
    assert text_of("news-en.html") == first
    assert "tidal barrier" in first


def test_main_text_does_not_change_the_tree() -> None:
    tree = extract.parse((PAGES / "news-en.html").read_text(encoding="utf-8"))
    before = len(list(tree.iter()))
    extract.main_text(tree, "https://news.example/a")
    assert len(list(tree.iter())) == before


def test_strip_removes_text_free_elements() -> None:
    tree = extract.parse("<html><head><script>x()</script></head><body><nav>Menu</nav><p>Text</p><!-- c --></body></html>")
    extract.strip(tree)
    assert [e.tag for e in tree.iter()] == ["html", "head", "body", "p"]


def test_a_lead_paragraph_in_a_header_is_kept() -> None:
    """Precision mode deletes every <header>: a header that holds a paragraph of LEAD_WORDS+
    words (a standfirst) is opened into a div first, so the lead stays; a header with only a
    headline and a short byline is left alone."""
    lead = "The lead says in one sentence of many words what the whole story below is about and why."
    body = "".join(f"<p>Body paragraph {i} with enough words to be text of the article itself.</p>" for i in range(8))
    html = (
        "<html><body><article><header><h1>Headline</h1><p>By Someone</p>"
        f"<p class='lead'>{lead}</p></header>{body}</article></body></html>"
    )
    tree = extract.parse(html)
    extract.strip(tree)
    assert [e.tag for e in tree.iter("header")] == []
    assert lead in extract.main_text(tree, "https://news.example/a")
    short = extract.parse("<html><body><header><h1>Headline</h1><p>By Someone</p></header></body></html>")
    extract.strip(short)
    assert [e.tag for e in short.iter("header")] == ["header"]


def test_a_short_page_gets_the_fuller_cascade() -> None:
    html = "<html><body><div><span>Short note.</span> <span>Only a few words here, in spans.</span></div></body></html>"
    assert "Only a few words" in extract.main_text(extract.parse(html), "https://news.example/n")


def test_the_spa_shell_has_no_text() -> None:
    assert text_of("spa-shell.html") == ""


def test_unparseable_text_is_not_html() -> None:
    with pytest.raises(PageError) as info:
        extract.parse("")
    assert info.value.reason is Reason.NOT_HTML
