"""One parsed page to one article: text, metadata, language, page type and quality figures.

The steps, in order: read the page's signals; extract the main text; decide the metadata;
remove the chrome trafilatura left (boilerplate, captions, the repeated headline); take the
page's declared article body instead when the markup gave far less of it; classify the page
and refuse non-articles; identify the language; date the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from worker.core import authors, boilerplate, continuation, dates, extract, metadata, pagetype
from worker.core.language import detect_language
from worker.core.normalize import canonicalize_url, normalize_text, word_key
from worker.core.signals import Signals, read_signals
from worker.errors import PageError, Reason
from worker.records import Cleaned

REASONS = {
    "listing": Reason.NOT_ARTICLE_LISTING,
    "homepage": Reason.NOT_ARTICLE_HOMEPAGE,
    "error": Reason.NOT_ARTICLE_ERROR,
    "paywall": Reason.NOT_ARTICLE_PAYWALL,
    "other": Reason.NOT_ARTICLE_OTHER,
}


def clean_html(
    html: str, url: str, status: int | None, fetched: datetime, rules: pagetype.PageRules
) -> tuple[Cleaned, datetime | None]:
    """Clean one page; raise PageError for a page that is not a publishable article. With
    the page, the moment from which the same HTML fetched later may clean differently (a
    date it gives stops being in the future: `dates.next_change`; None: never). Nothing
    else in the cleaning depends on the fetch time."""
    _page_caches_cleared()
    tree = extract.parse(html)
    extract.strip_chrome(tree)
    signals = read_signals(tree)
    extract.strip(tree)
    paragraphs = _paragraphs(tree, url)
    meta = _metadata(signals, url)
    context = _context(signals, meta)
    kept = boilerplate.clean(paragraphs, context)
    declared = metadata.declared_body(signals)
    if metadata.far_fuller(declared, kept):
        kept = boilerplate.clean(declared, context)
    verdict = pagetype.classify(signals, url, status, kept, rules)
    _refuse_non_articles(verdict, kept, signals, rules)
    text = "\n\n".join(kept)
    language, confidence = detect_language(text, signals.lang)
    published = dates.published(signals, url, text, fetched)
    cleaned = Cleaned(
        canonical_url=metadata.canonical_url(signals, url, canonicalize_url),
        date_published=published,
        date_modified=dates.modified(signals, published, fetched),
        language=language,
        text=text,
        page_type=verdict.page_type,
        quality=_quality(html, paragraphs, text, confidence, signals),
        **meta,
    )
    return cleaned, dates.next_change(signals, url, text, fetched)


def _page_caches_cleared() -> None:
    """Empty the caches that serve one page's repeated keys and dates (`normalize.word_key`,
    `dates.parse_date`): a page never gains from the pages before it, and they stay small."""
    word_key.cache_clear()
    dates.parse_date.cache_clear()


def _paragraphs(tree: Any, url: str) -> list[str]:
    """The extracted main text as normalized paragraphs, split body blocks put back; a text
    that falls far short of the page gets a second extraction, kept if it comes out fuller."""
    text = extract.main_text(tree, url)
    paragraphs = _restored(tree, text)
    compared = extract.compared_text(tree, url, text)
    if compared is not None and compared != text:
        other = _restored(tree, compared)
        if sum(len(p.split()) for p in other) > sum(len(p.split()) for p in paragraphs):
            return other
    return paragraphs


def _restored(tree: Any, text: str) -> list[str]:
    """A main text as normalized paragraphs, split body blocks put back."""
    extracted = normalize_text(text)
    return continuation.restore(tree, [p for p in extracted.split("\n\n") if p])


def _refuse_non_articles(
    verdict: pagetype.Verdict, kept: list[str], signals: Signals, rules: pagetype.PageRules
) -> None:
    """Raise PageError for a rejected page type, an app shell or a page without text."""
    if verdict.page_type in rules.reject:
        raise PageError(REASONS[verdict.page_type], verdict.why)
    if not kept and pagetype.needs_javascript(signals):
        raise PageError(Reason.NEEDS_JAVASCRIPT, "an app shell: its text is rendered by JavaScript")
    if not kept:
        raise PageError(Reason.EMPTY_EXTRACTION, "no main text found in the page")


def _metadata(signals: Signals, url: str) -> dict[str, Any]:
    """The fields that come from markup alone."""
    site = metadata.site_name(signals, url)
    sections = metadata.categories(signals)
    return {
        "title": metadata.title(signals, site, url),
        "author": authors.authors(signals, site, sections),
        "site_name": site,
        "description": metadata.description(signals),
        "categories": sections,
        "tags": metadata.tags(signals),
        "image": metadata.lead_image(signals, url),
        "images": metadata.images(signals, url),
    }


def _context(signals: Signals, meta: dict[str, Any]) -> boilerplate.Context:
    """What the boilerplate filter needs to know the page's own headline, labels and captions."""
    titles = metadata.title_variants(signals, meta["title"])
    labels = {n for n in (meta["site_name"], *meta["categories"], *meta["author"]) if n}
    captions = set(signals.captions)
    for _src, alt, caption in signals.figures:
        captions.update(t for t in (alt, caption) if t)
    return boilerplate.context(titles, labels, captions)


def _quality(
    html: str, paragraphs: list[str], text: str, confidence: float, signals: Signals
) -> dict[str, Any]:
    """Figures consumers can filter on without re-parsing the page."""
    extracted = sum(len(p) + 2 for p in paragraphs) - 2
    return {
        "text_to_markup": round(len(text) / max(len(html), 1), 4),
        "boilerplate_removed": round(min(1.0, max(0.0, 1 - len(text) / max(extracted, 1))), 4),
        "language_confidence": confidence,
        "paragraphs": text.count("\n\n") + 1,
        "link_share": round(pagetype.link_share(text.split("\n\n"), signals.link_texts), 4),
    }
