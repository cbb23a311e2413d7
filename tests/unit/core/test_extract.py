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


def test_text_after_an_empty_anchor_element_is_kept() -> None:
    """Precision mode deletes empty inline elements with the text that follows them: a
    subheading whose anchor comes first (`<h2><span id=..></span>Question?</h2>`, as
    table-of-contents plugins write them) lost its text; an element that holds text stays."""
    body = "".join(f"<p>Body paragraph {i} with enough words to be text of the article itself.</p>" for i in range(6))
    html = (
        f"<html><body><article>{body}<h2><span class='toc-section' id='q'></span>Is there an age limit?"
        f"<span class='toc-end'></span></h2><p><b></b>The law is not clear on it, the lawyer says. "
        f"<em>Really</em> not.</p>{body}</article></body></html>"
    )
    tree = extract.parse(html)
    extract.strip(tree)
    text = extract.main_text(tree, "https://news.example/a")
    assert "Is there an age limit?" in text and "The law is not clear on it, the lawyer says. Really not." in text
    assert [e.tag for e in tree.iter("span", "b", "em")] == ["span", "em"]  # the last anchor: no text after it


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


BODY = "".join(
    f"<p>Paragraph {i} of the story says in plain words what happened and who was there, and why it matters.</p>"
    for i in range(6)
)


@pytest.mark.parametrize("container", ["aside", "footer", "nav"])
def test_a_chrome_container_holding_the_article_body_is_kept(container: str) -> None:
    """A sidebar, footer or nav is deleted, unless it holds an article body: an <article> or an
    itemprop="articleBody" element with BODY_WORDS+ words outside links. Teaser cards (short,
    or mostly links) in the same kind of container are still deleted."""
    for body in (f"<article>{BODY}</article>", f"<div itemprop='text articleBody'>{BODY}</div>"):
        tree = extract.parse(f"<html><body><{container} class='c'>{body}</{container}></body></html>")
        extract.strip_chrome(tree)
        assert "Paragraph 5 of the story" in tree.text_content()
    teasers = "".join(f"<article><a href='/{i}'>Teaser {i}</a><p>A short summary of it.</p></article>" for i in range(9))
    linked = f"<article><a href='/x'>{BODY}</a></article>"
    for chrome in (teasers, linked):
        tree = extract.parse(f"<html><body><{container}>{chrome}</{container}><p>Text</p></body></html>")
        extract.strip_chrome(tree)
        assert [e.tag for e in tree.iter()] == ["html", "body", "p"]


def test_a_noscript_holding_paragraphs_is_kept() -> None:
    """Blogger-like pages put the post body in a <noscript>: one with NOSCRIPT_PARAGRAPHS+
    paragraphs of LEAD_WORDS+ words is kept as text; tracking pixels, images and short notices
    in a noscript are deleted."""
    html = (
        "<html><body><noscript><img src='https://t.example/pixel.gif'></noscript>"
        "<noscript><p>Please enable JavaScript to view the comments and everything else on this site.</p></noscript>"
        f"<div class='post'><noscript>{BODY}</noscript></div></body></html>"
    )
    tree = extract.parse(html)
    extract.strip(tree)
    assert [e.tag for e in tree.iter("noscript", "img")] == []
    assert "enable JavaScript" not in tree.text_content()
    assert "Paragraph 5 of the story" in extract.main_text(tree, "https://blog.example/2020/05/post.html")


def test_a_table_in_a_figure_is_text_and_its_caption_is_not() -> None:
    """Figures are deleted after their image and caption are read as metadata; a <table> in a
    <figure> is kept as text (tables are on), without the figure's caption."""
    table = "<table><tr><th>Year</th><th>Rate</th></tr><tr><td>2019</td><td>3.5 percent</td></tr></table>"
    html = (
        f"<html><body><article>{BODY}<figure><figcaption>Rates by year</figcaption>{table}</figure>"
        "<figure><img src='a.jpg'><figcaption>A photo</figcaption></figure></article></body></html>"
    )
    tree = extract.parse(html)
    extract.strip(tree)
    assert [e.tag for e in tree.iter("figure", "figcaption", "img")] == []
    text = extract.main_text(tree, "https://news.example/a")
    assert "3.5 percent" in text
    assert "Rates by year" not in text and "A photo" not in text


LEAD = "The lead says in one sentence of many words what the whole story below is about and why."


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        (f"{LEAD}\nLead two.", f"{LEAD}\nLead two.\nSection three.", f"{LEAD}\nLead two.\nSection three."),
        (f"{LEAD}\nLead two.", f"{LEAD}\nSection three, longer.", f"{LEAD}\nSection three, longer."),
        (f"{LEAD}\nLead two.", "Section three.\n" + "Section four. " * 20, f"{LEAD}\nSection three.\n" + "Section four. " * 20),
        ("Menu\nCopyright", "Section three.\nSection four.", "Section three.\nSection four."),
        (f"{LEAD}\nLead two.", LEAD, f"{LEAD}\nLead two."),
        ("", "Anything.", "Anything."),
    ],
)
def test_a_later_stage_never_drops_the_prose_the_first_found(earlier: str, later: str, expected: str) -> None:
    """A later cascade stage's longer text replaces the earlier one when it holds KEPT_SHARE+
    of its paragraphs; when it leaves most of them out, the stages found different parts of
    the page: the earlier paragraphs of LEAD_WORDS+ words it lacks come first (short lines
    such as a menu or a copyright notice are not put back), then the later text."""
    assert extract._fuller(earlier, later) == expected


SECTION = "Each section of the story has a paragraph long enough to count as the article's text. "


def test_a_text_falls_short_of_a_body_whose_sections_it_lacks() -> None:
    """A text falls short of the page's body when it has fewer words than SHORT_SHARE of the
    body's words outside links and lacks MISSING_HEADINGS+ of its subheadings; a text that holds
    the sections, or a body whose extra words are links, does not."""
    sections = "".join(f"<h2>Part {n}</h2><p>{SECTION * 3}</p>" for n in range(8))
    body = extract.parse(f"<html><body>{sections}</body></html>").find("body")
    assert extract._falls_short(SECTION * 3, body)
    whole = "\n".join(f"Part {n}\n{SECTION * 3}" for n in range(8))
    assert not extract._falls_short(whole, body)
    links = "".join(f"<h2>Part {n}</h2><a href='/{n}'>{SECTION * 3}</a>" for n in range(8))
    linked = extract.parse(f"<html><body><p>{SECTION * 3}</p>{links}</body></html>").find("body")
    assert not extract._falls_short(SECTION * 3, linked)


def test_a_short_text_gets_the_later_paragraphs_inside_its_span_only() -> None:
    """The later stage's paragraphs go in after the shared paragraph before them, only between
    the first and last paragraph both texts hold; none that is a link's whole text or already
    in the text."""
    text = "First kept.\nLast kept."
    later = "Teaser.\nFirst kept.\nA subheading\nRelated link\nFirst kept.\nLast kept.\nAfter."
    assert extract._filled(text, later, {"Related link"}) == "First kept.\nA subheading\nLast kept."
    assert extract._filled(text, "Nothing shared.", set()) == text


def test_a_text_far_short_of_the_page_gets_the_compared_pass() -> None:
    """The fast pass can take a form or a teaser for the body: a text with fewer words than
    FAR_SHORT_SHARE of the body's words outside links gets trafilatura's pass with comparison,
    the fuller of the two kept; a text that holds the page, or was compared already, gets none."""
    prose = "".join(f"<p>Sentence {i} of a long story that the page tells at length, word after word.</p>" for i in range(120))
    tree = extract.parse(f"<html><body><div>{prose}</div></body></html>")
    extract.strip(tree)
    url = "https://news.example/a"
    short = "One line of a newsletter form that the fast pass took for the article body. " * 7
    compared = extract.compared_text(tree, url, short)
    assert compared is not None and "Sentence 30 of a long story" in compared
    whole = extract.main_text(tree, url)
    assert extract.compared_text(tree, url, whole) is None
    assert extract.compared_text(tree, url, "Too short.") is None  # compared in main_text already
