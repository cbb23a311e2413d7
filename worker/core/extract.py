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
LEAD_WORDS = 15
"""A paragraph this long in a `<header>` is a lead: the header is kept as text (`strip`)."""


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
    """Delete navigation, sidebars, footers, controls, media and comments, in place."""
    etree.strip_elements(tree, *CHROME_TAGS, etree.Comment, with_tail=False)


def strip(tree: HtmlElement) -> None:
    """Delete every element trafilatura would delete or ignore anyway (shorter tree walks), and
    open the headers that hold a lead paragraph (`open_lead_headers`)."""
    etree.strip_elements(tree, *CHROME_TAGS, *SIGNAL_TAGS, etree.Comment, with_tail=False)
    open_lead_headers(tree)


def open_lead_headers(tree: HtmlElement) -> None:
    """Turn each `<header>` holding a paragraph of LEAD_WORDS+ words into a `<div>`, in place.

    trafilatura's precision mode deletes every `<header>`, and with it the lead (standfirst,
    summary) many templates put there next to the headline; the headline, kicker and byline
    it keeps too are removed by `boilerplate.clean`."""
    for header in list(tree.iter("header")):
        if any(len(p.text_content().split()) >= LEAD_WORDS for p in header.iter("p")):
            header.tag = "div"


def main_text(tree: HtmlElement, url: str) -> str:
    """The page's main text, one paragraph a line ('' if there is none); leaves the tree as is."""
    text = _extract(tree, url, fast=True, precision=True)
    if len(text) < FULL_CASCADE_BELOW_CHARS:
        text = max(text, _extract(tree, url, fast=False, precision=True), key=len)
    if len(text) < BALANCED_BELOW_CHARS:
        text = max(text, _extract(tree, url, fast=False, precision=False), key=len)
    return text


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
