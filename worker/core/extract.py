"""Parsing and main-text extraction: the only module that imports trafilatura.

Results are a pure function of (html, url): trafilatura's process-wide `deduplicate` cache is
never used, and trafilatura is only ever given text or our own parsed tree, never bytes (it
would decompress them without a size limit). trafilatura has no time limit of its own: the
worker runs this in child processes that are killed past INGEST_EXTRACT_TIMEOUT_S
(`runner.ProcessRunner`, reason `timeout`).

The page is parsed once (`parse`); the tree serves our metadata readers and trafilatura.
Extraction is a cascade, each step only when the previous one under-delivered:
1. precision-focused, comments off, fast (no readability/jusText comparison);
2. the same with trafilatura's comparison against readability and jusText;
3. trafilatura's balanced mode (baseline rescue and recall escalation), for short pages.
A later step's longer text never drops the earlier step's prose (`_fuller`). A text of 250+
characters that falls far short of the page's body (`_falls_short`) gets a fast balanced pass's
paragraphs that lie inside its span (`_filled`); one that still holds under a tenth of the
body's words gets step 2 as well, for the caller to keep if fuller (`compared_text`).
"""

from __future__ import annotations

from configparser import ConfigParser
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import use_config
from trafilatura.utils import load_html

from worker.errors import PageError, Reason

MAX_TREE_NODES = 200_000
"""Pages with more elements than this are refused by trafilatura (bounded work per page)."""
FULL_CASCADE_BELOW_CHARS = 500
"""A fast extraction shorter than this is retried with readability/jusText comparison."""
BALANCED_BELOW_CHARS = 250
"""A precision extraction shorter than this is retried in trafilatura's balanced mode."""
KEPT_SHARE = 0.5
"""A later cascade stage's longer text replaces the earlier one when it holds this share of the
earlier text's paragraphs; else the earlier text's long paragraphs are put first (`_fuller`)."""
LEAD_WORDS = 15
"""A paragraph this long in a `<header>` is a lead: the header is kept as text (`strip`)."""
NOSCRIPT_PARAGRAPHS = 2
"""A `<noscript>` with this many paragraphs of LEAD_WORDS+ words holds text: it is kept."""
BODY_WORDS = 100
"""An `<article>` or `itemprop="articleBody"` element with this many words outside links is an
article body: the sidebar, footer or nav that holds it is kept (`strip_chrome`)."""
SHORT_SHARE = 0.15
"""A text with fewer words than this share of the `<body>`'s words outside links, and
MISSING_HEADINGS+ of its subheadings absent, falls short of the page (`_falls_short`). Low on
purpose: the balanced pass it triggers costs about a precision pass, so it runs on few pages."""
FAR_SHORT_SHARE = 0.1
"""A text with fewer words than this share of the body's words outside links, left so by the
fast pass, gets the pass with comparison too (`compared_text`)."""
MISSING_HEADINGS = 2
"""Subheadings of the body absent from the text, for it to fall short."""


@lru_cache(maxsize=1)
def _config() -> ConfigParser:
    """trafilatura's configuration with a bound on tree size and its own timeouts off."""
    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_NODES))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def parse(html: str) -> HtmlElement:
    """Parse HTML text into a tree; raise PageError(NOT_HTML) if it does not parse."""
    tree = load_html(html)
    if tree is None and html.strip():  # a bare fragment ("<p>..</p>"): trafilatura wants a document
        tree = load_html(f"<html><body>{html}</body></html>")
    if tree is None:
        raise PageError(Reason.NOT_HTML, "the page does not parse as HTML")
    return tree


CHROME_TAGS = (
    "style", "template", "svg", "iframe", "video", "audio", "canvas", "object", "embed", "map",
    "nav", "aside", "footer", "button", "select", "option", "textarea", "input",
)  # fmt: skip
"""Navigation, sidebars, footers, controls and media: trafilatura deletes them anyway."""
SIGNAL_TAGS = ("script", "noscript", "link", "meta", "img", "picture", "source", "figure")
"""Text-free elements our metadata readers need; deleted after reading (comments and images
are off)."""


def strip_chrome(tree: HtmlElement) -> None:
    """Delete navigation, sidebars, footers, controls, media and comments, in place; a sidebar,
    footer or nav that holds the article body is kept (`keep_body_containers`)."""
    keep_body_containers(tree)
    etree.strip_elements(tree, *CHROME_TAGS, etree.Comment, with_tail=False)


BODY_CONTAINER_TAGS = ("aside", "footer", "nav")
"""The chrome elements that can hold an article body."""
_BODIES = etree.XPath(".//article | .//*[@itemprop]")


def keep_body_containers(tree: HtmlElement) -> None:
    """Turn each sidebar, footer or nav around an article body into a `<div>`, in place.

    An article body is an `<article>` or an element whose itemprop holds `articleBody`, with
    BODY_WORDS+ words outside links (a teaser card in a sidebar has fewer). Some templates put
    the whole story in an `<aside>`; deleting it would leave the page without its text."""
    for container in list(tree.iter(*BODY_CONTAINER_TAGS)):
        if any(_is_body(e) and _words_outside_links(e) >= BODY_WORDS for e in _BODIES(container)):
            container.tag = "div"


def _is_body(element: HtmlElement) -> bool:
    """An `<article>` or an element whose itemprop tokens hold `articleBody`."""
    return element.tag == "article" or "articleBody" in (element.get("itemprop") or "").split()


def _words_outside_links(element: HtmlElement) -> int:
    """Words of an element's text that are not inside its links."""
    linked = sum(len(a.text_content().split()) for a in element.iter("a"))
    return len(element.text_content().split()) - linked


def strip(tree: HtmlElement) -> None:
    """Delete every element trafilatura would delete or ignore anyway (shorter tree walks),
    keeping the text some of them hold (`open_text_blocks`, `unwrap_empty_inline`)."""
    open_text_blocks(tree)
    etree.strip_elements(tree, *CHROME_TAGS, *SIGNAL_TAGS, etree.Comment, with_tail=False)
    unwrap_empty_inline(tree)


EMPTY_INLINE_TAGS = ("span", "b", "strong", "i", "em", "q")
"""Inline elements that trafilatura's precision mode deletes when empty, with the text after
them (`prune_html` keeps no tail in that mode)."""


def unwrap_empty_inline(tree: HtmlElement) -> None:
    """Remove the empty inline elements that text follows, keeping that text, in place.

    An anchor before a subheading's or a paragraph's text (`<h2><span id="faq"></span>Is
    there an age limit?</h2>`, as table-of-contents plugins write them) would otherwise cost
    the text after it in precision mode."""
    for element in list(tree.iter(*EMPTY_INLINE_TAGS)):
        if element.text is None and len(element) == 0 and element.tail and element.tail.strip():
            element.drop_tag()


def open_text_blocks(tree: HtmlElement) -> None:
    """Turn the elements that hold text trafilatura or `strip` would delete into `<div>`s, in
    place (one walk for the three kinds):
    - a `<header>` holding a paragraph of LEAD_WORDS+ words: precision mode deletes every
      `<header>`, and with it the lead (standfirst, summary) many templates put there next to
      the headline; the headline, kicker and byline that stay are removed by `boilerplate.clean`;
    - a `<noscript>` holding NOSCRIPT_PARAGRAPHS+ paragraphs of LEAD_WORDS+ words: some
      platforms (Blogger) put the post body there for readers without JavaScript; the usual
      noscript (tracking pixels, images, "enable JavaScript") is deleted;
    - a `<figure>` holding a `<table>`, with only its tables: a figure's image and caption are
      metadata (captions stay out of the text), a table in it is text."""
    for element in list(tree.iter("header", "noscript", "figure")):
        if element.tag == "figure":
            _keep_tables_only(element)
            continue
        long = sum(1 for p in element.iter("p") if len(p.text_content().split()) >= LEAD_WORDS)
        if long >= (1 if element.tag == "header" else NOSCRIPT_PARAGRAPHS):
            element.tag = "div"


def _keep_tables_only(figure: HtmlElement) -> None:
    """A figure holding a table becomes a `<div>` with only the children that hold tables."""
    if next(figure.iter("table"), None) is None:
        return
    for child in list(figure):
        if next(child.iter("table"), None) is None:
            figure.remove(child)
        else:
            child.tail = None
    figure.text = None
    figure.tag = "div"


def main_text(tree: HtmlElement, url: str) -> str:
    """The page's main text, one paragraph a line ('' if there is none); leaves the tree as is."""
    text = _extract(tree, url, fast=True, precision=True)
    if len(text) < FULL_CASCADE_BELOW_CHARS:
        text = _fuller(text, _extract(tree, url, fast=False, precision=True))
    if len(text) < BALANCED_BELOW_CHARS:
        return _fuller(text, _extract(tree, url, fast=False, precision=False))
    body = tree.find("body")
    if body is not None and _falls_short(text, body):
        links = {" ".join(a.text_content().split()) for a in body.iter("a")}
        text = _filled(text, _extract(tree, url, fast=True, precision=False), links)
    return text


_LENGTH = etree.XPath("string-length(.)")
"""An element's text length, counted without building the string in Python."""


def compared_text(tree: HtmlElement, url: str, text: str) -> str | None:
    """For a `main_text` that falls far short of the page (fewer words than FAR_SHORT_SHARE of
    the body's words outside links): the fuller of it and trafilatura's pass with
    readability/jusText comparison, which finds the body where the fast pass took a form or a
    teaser for it. None if the text does not fall that short, or had that pass already (a
    short text)."""
    body = tree.find("body")
    if body is None or len(text) < FULL_CASCADE_BELOW_CHARS:
        return None
    if len(text) >= FAR_SHORT_SHARE * _LENGTH(body):  # a cheap pre-filter on characters
        return None
    if len(text.split()) >= FAR_SHORT_SHARE * _words_outside_links(body):
        return None
    return _fuller(text, _extract(tree, url, fast=False, precision=True))


def _falls_short(text: str, body: HtmlElement) -> bool:
    """Whether a text has fewer words than SHORT_SHARE of the body's words outside links and
    lacks MISSING_HEADINGS+ of the body's subheadings (precision mode left sections out)."""
    if len(text) >= SHORT_SHARE * _LENGTH(body):  # a cheap pre-filter on characters
        return False
    joined = " ".join(text.split())
    headings = (" ".join(h.text_content().split()) for h in body.iter("h2", "h3", "h4"))
    if sum(1 for h in headings if h and h not in joined) < MISSING_HEADINGS:
        return False
    return len(joined.split()) < SHORT_SHARE * _words_outside_links(body)


def _filled(text: str, later: str, links: set[str]) -> str:
    """The text with the later stage's paragraphs that lie between its first and last paragraph
    shared with the text, each after the shared paragraph before it; none that the text holds
    or that is a link's whole text (teasers, menus)."""
    lines = [p for p in text.splitlines() if p.strip()]
    position = {" ".join(p.split()): i for i, p in enumerate(lines)}
    later_lines = [" ".join(p.split()) for p in later.splitlines() if p.strip()]
    shared = [i for i, p in enumerate(later_lines) if p in position]
    if not shared:
        return text
    joined = " ".join(position)
    after: dict[int, list[str]] = {}
    anchor = -1
    for paragraph in later_lines[shared[0] : shared[-1] + 1]:
        if paragraph in position:
            anchor = position[paragraph]
        elif paragraph not in joined and paragraph not in links:
            after.setdefault(anchor, []).append(paragraph)
            joined += " " + paragraph
    return "\n".join(p for i, line in enumerate(lines) for p in (line, *after.get(i, [])))


def _fuller(text: str, later: str) -> str:
    """The longer of an earlier and a later stage's text; when the later is longer but holds
    less than KEPT_SHARE of the earlier text's paragraphs, the stages found different parts of
    the page: the earlier text's paragraphs of LEAD_WORDS+ words the later lacks (a lead or
    section it left out; short lines there are often chrome) come first, then the later text."""
    if len(later) <= len(text):
        return text
    paragraphs = [" ".join(p.split()) for p in text.splitlines() if p.strip()]
    joined = " ".join(later.split())
    missing = [p for p in paragraphs if p not in joined]
    if len(paragraphs) - len(missing) >= KEPT_SHARE * len(paragraphs):
        return later
    return "\n".join([*(p for p in missing if len(p.split()) >= LEAD_WORDS), later])


def _extract(tree: HtmlElement, url: str, fast: bool, precision: bool) -> str:
    """One trafilatura run on a copy of the tree (trafilatura copies a tree it is given)."""
    document = bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=precision,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        with_metadata=False,
        config=_config(),
    )
    return (getattr(document, "text", None) or "") if document is not None else ""
