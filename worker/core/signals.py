"""What a page says about itself, read in one pass over its parsed tree.

JSON-LD objects, `<meta>` tags, links, `<title>`, headings, `<time>` elements, microdata,
bylines, captions and link texts: raw material for `metadata`, `authors`, `dates`,
`boilerplate` and `pagetype`, which decide. Works on any lxml HTML tree and never changes it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.etree import Element, _Element

from worker.core.normalize import fold, one_line

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
        "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "scholarlyarticle",
        "techarticle", "socialmediaposting", "liveblogposting", "report", "posting", "review",
    }
)  # fmt: skip
MAX_TEXT_CHARS = 400
"""Longer byline, caption or time texts are not what we are looking for."""

TAGS = frozenset({"meta", "link", "script", "title", "h1", "time", "figure", "noscript", "img"})
MIN_ALT_WORDS = 2
"""Image alt texts of at least this many words are kept as captions (to spot them in the text)."""
APP_ROOT_IDS = frozenset({"root", "app", "__next", "__nuxt", "___gatsby", "svelte"})
MAX_SHELL_ROOT_CHARS = 50
"""An app root element with less text than this has not been rendered."""
_MARKED_CLASS = re.compile("byline|author|caption|credit|date|time|publish|posted|meta")
"""Matched against a lower-cased class attribute (a quarter of the time of re.IGNORECASE, on
the ~400 classes of a page)."""
MAX_DATE_TEXT_CHARS = 100
MAX_HEADER_CHARS = 1500
_DIGIT = re.compile(r"\d")
_UPDATED = re.compile(
    r"updat|modif|aktualisiert|atualizad|actualizad|mis à jour|aggiornat|обновл|diperbarui", re.I
)
_JSON_COMMENT = re.compile(
    r"^\s*(?:<!--|/\*<!\[CDATA\[\*/|//<!\[CDATA\[)|(?:-->|/\*\]\]>\*/|//\]\]>)\s*$"
)

link_key = fold
"""The link-text key, under its old name for `pagetype`."""


@dataclass(slots=True)
class Signals:
    """Raw metadata of a page: strings as found, cleaned of surrounding whitespace only."""

    lang: str | None = None
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    """`<meta>` content by lower-cased property/name/itemprop, in page order."""
    links: dict[str, list[str]] = field(default_factory=dict)
    """`<link>` href by lower-cased rel."""
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    """Every JSON-LD object with an @type, flattened out of lists and @graph."""
    itemprops: dict[str, list[str]] = field(default_factory=dict)
    """Microdata values (content, datetime or text) by lower-cased itemprop."""
    times: list[tuple[str, str]] = field(default_factory=list)
    """(datetime attribute or text, context: 'published'/'modified'/'') of `<time>` elements."""
    bylines: list[str] = field(default_factory=list)
    header_text: str = ""
    """Text around the first `<h1>` (its parent, or grandparent if the parent holds little else)."""
    shown_dates: list[str] = field(default_factory=list)
    """Visible date texts: `<time>` texts first, then byline/publish/posted, then date/time/meta
    classed elements; texts about an update are left out."""
    captions: list[str] = field(default_factory=list)
    figures: list[tuple[str, str, str]] = field(default_factory=list)
    """(src, alt, caption) of `<figure>` images."""
    app_shell: bool = False
    """An empty app root element (id root, app, __next...) or a `<noscript>` asking for
    JavaScript."""
    link_texts: set[str] = field(default_factory=set)
    """`normalize.fold` keys of the link texts longer than 3 characters."""
    links_count: int = 0

    def first_meta(self, *names: str) -> str | None:
        """The first non-empty `<meta>` value among names, in the order of names."""
        for name in names:
            for value in self.meta.get(name, ()):
                if value:
                    return value
        return None

    def articles(self) -> list[dict[str, Any]]:
        """JSON-LD objects of an article type."""
        return [o for o in self.jsonld if types_of(o) & ARTICLE_TYPES]


def read_signals(tree: _Element) -> Signals:
    """Collect a page's signals from its parsed tree, in one pass over its elements."""
    signals = Signals(lang=_clean(tree.get("lang") or tree.get("xml:lang")))
    shown: tuple[list[str], list[str], list[str]] = ([], [], [])
    anchors = []
    for element in tree.iter(Element):
        tag = element.tag
        if tag == "a":
            anchors.append(element)
        elif tag in TAGS:
            _visit(element, signals)
        get = element.get
        if get("id") in APP_ROOT_IDS:
            signals.app_shell |= len(element.text_content().strip()) < MAX_SHELL_ROOT_CHARS
        css = get("class")
        rel = get("rel")
        marked = tag == "time" or get("itemprop") is not None or "author" in (rel or "").split()
        if marked or (css is not None and _MARKED_CLASS.search(css.lower())):
            if tag not in ("meta", "link", "script"):
                _visit_marked(element, signals)
            _visit_shown_date(element, shown)
    signals.shown_dates = [t for bucket in shown for t in bucket]
    signals.links_count = len(anchors)
    texts = (fold(a.text_content()) for a in anchors if a.get("href"))
    signals.link_texts = {t for t in texts if len(t) > 3}
    return signals


def _visit(element: _Element, signals: Signals) -> None:
    """Record what one element says, by tag."""
    tag = element.tag
    if tag == "meta":
        _visit_meta(element, signals)
    elif tag == "link":
        for rel in (element.get("rel") or "").lower().split():
            _append(signals.links, rel, element.get("href"))
    elif tag == "script" and "ld+json" in (element.get("type") or "").lower():
        signals.jsonld.extend(_jsonld_objects(element.text or ""))
    elif tag == "title" and signals.title_tag is None:
        signals.title_tag = _clean(element.text_content())
    elif tag == "h1":
        if not signals.h1:
            signals.header_text = _header_text(element)
        _add_text(signals.h1, element)
    elif tag == "time":
        _visit_time(element, signals)
    elif tag == "figure":
        _visit_figure(element, signals)
    elif tag == "img":
        alt = _clean(element.get("alt"))
        if alt and len(alt.split()) >= MIN_ALT_WORDS and len(alt) <= MAX_TEXT_CHARS:
            signals.captions.append(alt)
    elif tag == "noscript":
        signals.app_shell |= "javascript" in element.text_content().lower()


def _visit_shown_date(element: _Element, shown: tuple[list[str], list[str], list[str]]) -> None:
    """A short visible text with a digit in a `<time>` or a date-like classed element."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("meta", "link", "script", "title"):
        return
    classes = (element.get("class") or "").lower()
    bucket = 0 if tag == "time" else 1 if re.search("byline|publish|posted|author", classes) else 2
    if bucket == 2 and not re.search("date|time|meta", classes):
        return
    text = _clean(element.text_content())
    if not text or len(text) > MAX_DATE_TEXT_CHARS or text in shown[bucket]:
        return
    if _DIGIT.search(text) and not _UPDATED.search(text):
        shown[bucket].append(text)


def _header_text(heading: _Element) -> str:
    """The text of the block around a heading, at most MAX_HEADER_CHARS."""
    own = len(heading.text_content())
    block = heading.getparent()
    for _level in range(2):
        if block is None:
            return ""
        text = _clean(block.text_content()) or ""
        if len(text) > own + 20:
            return text[:MAX_HEADER_CHARS]
        block = block.getparent()
    return ""


def _visit_meta(element: _Element, signals: Signals) -> None:
    """A `<meta>`: its content under each of its names."""
    content = _clean(element.get("content"))
    for attribute in ("property", "name", "itemprop", "http-equiv"):
        value = (element.get(attribute) or "").strip().lower()
        names = value.split() if attribute == "itemprop" else [value]  # itemprop: tokens
        for name in filter(None, names):
            _append(signals.meta, name, content)


def _visit_time(element: _Element, signals: Signals) -> None:
    """A `<time>`: its datetime (or text) and whether it is marked published or modified."""
    value = _clean(element.get("datetime")) or _clean(element.text_content())
    if not value or len(value) > 80:
        return
    marks = " ".join(element.get(a) or "" for a in ("itemprop", "class", "id")).lower()
    context = "modified" if re.search("modif|updat", marks) else ""
    if not context and ("publish" in marks or element.get("pubdate") is not None):
        context = "published"
    signals.times.append((value, context))


def _visit_figure(element: _Element, signals: Signals) -> None:
    """A `<figure>`: its first image with alt text and caption."""
    image = next(element.iter("img"), None)
    caption = next(element.iter("figcaption"), None)
    caption_text = _clean(caption.text_content()) if caption is not None else None
    if caption_text:
        signals.captions.append(caption_text)
    if image is not None:
        src = image.get("src") or image.get("data-src") or image.get("data-lazy-src") or ""
        signals.figures.append((src.strip(), _clean(image.get("alt")) or "", caption_text or ""))


def _visit_marked(element: _Element, signals: Signals) -> None:
    """Microdata values, author links, bylines and captions."""
    names = (element.get("itemprop") or "").lower().split()  # a list of tokens: "author creator"
    if names:
        value = element.get("content") or element.get("datetime")
        if (value is None and len(element) == 0) or {"author", "name"} & set(names):
            value = value or element.text_content()
        if value is not None and len(value) <= MAX_TEXT_CHARS:
            for name in names:
                _append(signals.itemprops, name, value)
    classes = (element.get("class") or "").lower()
    rels = (element.get("rel") or "").lower().split()
    if "author" in rels or "byline" in classes or "author" in classes:
        _add_text(signals.bylines, element)
    if "caption" in classes or "credit" in classes:
        _add_text(signals.captions, element)


def _jsonld_objects(text: str) -> Iterator[dict[str, Any]]:
    """Typed objects of one JSON-LD script; nothing when it does not parse."""
    try:
        data = json.loads(_JSON_COMMENT.sub("", text.strip()).rstrip(";"), strict=False)
    except ValueError:
        return iter(())
    return _typed(data, depth=0)


def _typed(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    """Objects with an @type, from lists and @graph, outermost first."""
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _typed(item, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        if "@graph" in data:
            yield from _typed(data["@graph"], depth + 1)


def types_of(obj: dict[str, Any]) -> set[str]:
    """The lower-cased @type names of a JSON-LD object."""
    value = obj.get("@type")
    names = value if isinstance(value, list) else [value]
    return {n.rsplit("/", 1)[-1].lower() for n in names if isinstance(n, str)}


def _add_text(target: list[str], element: _Element) -> None:
    """Append an element's text if it is short and new."""
    text = _clean(element.text_content())
    if text and len(text) <= MAX_TEXT_CHARS and text not in target:
        target.append(text)


def _append(target: dict[str, list[str]], key: str, value: str | None) -> None:
    """Append a non-empty value under a key."""
    value = _clean(value)
    if value:
        target.setdefault(key, []).append(value)


def _clean(value: str | None) -> str | None:
    """Decode left-over character references ('&#8216;'), collapse whitespace; empty is None."""
    value = value or ""
    if "&" in value:
        value = html.unescape(value)
    return one_line(value) or None
