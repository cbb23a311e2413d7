"""What kind of page this is: article, listing, homepage, error, paywall or other.

The rules look at the URL, the HTTP status, what the page declares (JSON-LD types, og:type,
paywall markers) and the shape of the extracted text (how much of it is link titles, how much
is the page's own text). A URL is evidence only for home pages: for a listing a tag, category
or topic segment is a hint that lowers the evidence needed from the page, never enough alone.
Which types are rejected instead of published is configurable (`PageRules`, from settings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from worker.core.signals import Signals, link_key, types_of

PAGE_TYPES = ("article", "listing", "homepage", "error", "paywall", "other")
LISTING_TYPES = frozenset({"collectionpage", "searchresultspage", "itemlist", "profilepage"})
LISTING_SEGMENTS = frozenset(
    """
    tag tags category categories topic topics section sections author authors archive archives
    search label labels page kategori kategorie kategorien rubrik rubriken categoria categorias
    tema temas etiqueta etiquetas rubrique rubriques schlagwort schlagworte thema themen tagged
    """.split()
)  # fmt: skip
"""URL segments of tag, category, topic, author, archive and search pages: a hint, not evidence."""
MIN_LISTING_PARAGRAPHS = 5
"""A text of fewer paragraphs is never a listing by its shape."""
MIN_TEASER_LINKS = 5
"""Under a listing URL segment, the link-title paragraphs a listing needs at least."""
OTHER_OG_TYPES = ("video", "music", "product", "profile", "book", "place", "restaurant")
ERROR_TITLE = re.compile(
    r"\b(?:404|410|page not found|not found|error 404|page (?:does not|doesn't) exist|"
    r"seite nicht gefunden|página no encontrada|página não encontrada|page introuvable|"
    r"pagina non trovata|halaman tidak ditemukan|страница не найдена|ページが見つかりません|"
    r"페이지를 찾을 수 없습니다|页面不存在|找不到页面|sayfa bulunamadı|nie znaleziono strony)",
    re.IGNORECASE,
)
PAYWALL_TEXT = re.compile(
    r"subscribe to (?:continue|read)|subscribers only|for subscribers|already a subscriber|"
    r"to continue reading|sign in to (?:continue|read)|become a (?:member|subscriber) to|"
    r"jetzt weiterlesen|abonnieren sie|assine para|suscríbete para|abonnez-vous pour|"
    r"per continuare a leggere|подпишитесь,? чтобы|berlangganan untuk",
    re.IGNORECASE,
)
HOME_PATH = re.compile(r"^/(?:index\.\w+|default\.\w+|home|[a-z]{2}(?:[-_][a-z]{2})?)?/?$", re.I)


@dataclass(frozen=True, slots=True)
class PageRules:
    """Which page types are rejected, and the thresholds of the shape rules."""

    reject: frozenset[str] = frozenset({"listing", "homepage", "error"})
    listing_link_share: float = 0.5
    """A text whose paragraphs are mostly link titles (at least this share) is a listing."""
    short_text_words: int = 300
    """Error and paywall pages are recognized only when their text is shorter than this."""
    article_body_words: int = 150
    """A run of consecutive paragraphs that are no link titles, of at least this many words, is
    an article body: the link titles beside it are a related-links block, not a listing."""

    @classmethod
    def parse(cls, reject: str, listing_link_share: float, short_text_words: int) -> PageRules:
        """Rules from settings values; `reject` is a comma-separated list of page types."""
        types = frozenset(t.strip().lower() for t in reject.split(",") if t.strip())
        unknown = types - set(PAGE_TYPES) - {"article"}
        if unknown or "article" in types:
            raise ValueError(f"cannot reject page types {sorted(unknown or {'article'})}")
        return cls(types, listing_link_share, short_text_words)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A page type and the evidence for it, in words."""

    page_type: str
    why: str


@dataclass(frozen=True, slots=True)
class _Page:
    """What the rules look at: the page's signals, URL, HTTP status and extracted text."""

    signals: Signals
    url: str
    status: int | None
    paragraphs: list[str]
    words: int


def classify(
    signals: Signals, url: str, status: int | None, paragraphs: list[str], rules: PageRules
) -> Verdict:
    """The page type the first matching rule gives (error, homepage, listing...), else article."""
    words = sum(len(p.split()) for p in paragraphs)
    page = _Page(signals, url, status, paragraphs, words)
    for rule in (_error, _homepage, _listing, _paywall, _other):
        verdict = rule(page, rules)
        if verdict is not None:
            return verdict
    return Verdict("article", "")


def _error(page: _Page, rules: PageRules) -> Verdict | None:
    """HTTP error status, or a soft 404: an error title and little text."""
    if page.status is not None and page.status >= 400:
        return Verdict("error", f"HTTP status {page.status}")
    title = " ".join(t for t in (page.signals.title_tag, *page.signals.h1[:1]) if t)
    if page.words < rules.short_text_words and ERROR_TITLE.search(title):
        return Verdict("error", f"error title {title[:80]!r} and {page.words} words of text")
    return None


def _homepage(page: _Page, rules: PageRules) -> Verdict | None:
    """The site's root (or a language root) without a query."""
    parts = urlsplit(page.url)
    if not parts.query and HOME_PATH.match(parts.path or "/"):
        return Verdict("homepage", f"URL path {parts.path or '/'!r}")
    return None


def _listing(page: _Page, rules: PageRules) -> Verdict | None:
    """A declared collection without article markup, or a text of link titles; under a
    listing URL segment and without article markup, half the share of link titles is enough
    (at least MIN_TEASER_LINKS of them). A text with an article body (a run of own text of
    `article_body_words`) is no listing, whatever the page declares; a URL segment alone is
    no listing."""
    article = has_article_markup(page.signals)
    declared = sorted(declared_types(page.signals) & LISTING_TYPES)
    shape = _TextShape.of(page.paragraphs, page.signals.link_texts)
    if shape.own_run >= rules.article_body_words:
        return None
    if declared and not article:
        return Verdict("listing", f"JSON-LD type {declared[0]} and no article markup")
    if len(page.paragraphs) < MIN_LISTING_PARAGRAPHS:
        return None
    evidence = shape.describe(len(page.paragraphs))
    if shape.share >= rules.listing_link_share:
        return Verdict("listing", evidence + (" (the page declares an article)" if article else ""))
    segment = listing_segment(page.url)
    teasers = shape.links >= MIN_TEASER_LINKS and shape.share >= rules.listing_link_share / 2
    if segment is not None and teasers and not article:
        return Verdict("listing", f"URL segment {segment!r}, no article markup, {evidence}")
    return None


@dataclass(frozen=True, slots=True)
class _TextShape:
    """How much of a text is link titles, and its longest run of the page's own text."""

    links: int
    """Paragraphs that are exactly the text of a link on the page."""
    share: float
    own_run: int
    """Words in the longest run of consecutive paragraphs that are no link title."""

    @classmethod
    def of(cls, paragraphs: list[str], link_texts: set[str]) -> _TextShape:
        """The shape of the extracted paragraphs, given the page's link texts."""
        run = longest = links = 0
        for paragraph in paragraphs:
            linked = link_key(paragraph) in link_texts
            links += linked
            run = 0 if linked else run + len(paragraph.split())
            longest = max(longest, run)
        return cls(links, links / len(paragraphs) if paragraphs else 0.0, longest)

    def describe(self, paragraphs: int) -> str:
        """The evidence in words, for a rejection's detail."""
        words = "word" if self.own_run == 1 else "words"
        return (
            f"{self.share:.0%} of {paragraphs} paragraphs are link titles and at most "
            f"{self.own_run} {words} of own text in a row"
        )


def _paywall(page: _Page, rules: PageRules) -> Verdict | None:
    """A short text on a page declared not free, or ending in a subscription prompt."""
    words = page.words
    if words >= rules.short_text_words:
        return None
    if any(str(o.get("isAccessibleForFree")).lower() == "false" for o in page.signals.jsonld):
        return Verdict("paywall", f"isAccessibleForFree false and {words} words of text")
    if page.paragraphs and PAYWALL_TEXT.search(" ".join(page.paragraphs[-2:])):
        return Verdict("paywall", f"subscription prompt and {words} words of text")
    return None


def _other(page: _Page, rules: PageRules) -> Verdict | None:
    """A page declaring a non-article og:type (video, product...) and no article markup."""
    og_type = (page.signals.first_meta("og:type") or "").lower()
    if og_type.startswith(OTHER_OG_TYPES) and not page.signals.articles():
        return Verdict("other", f"og:type {og_type!r}")
    return None


def has_article_markup(signals: Signals) -> bool:
    """True if the page declares itself an article (JSON-LD, og:type or a publication time)."""
    og_type = (signals.first_meta("og:type") or "").lower()
    published = signals.first_meta("article:published_time")
    return bool(signals.articles()) or og_type == "article" or published is not None


def declared_types(signals: Signals) -> set[str]:
    """The lower-cased JSON-LD @type names the page declares."""
    return set().union(*(types_of(o) for o in signals.jsonld)) if signals.jsonld else set()


def listing_segment(url: str) -> str | None:
    """The first (alphabetically) tag/category/topic-like segment of a URL's path, if any."""
    segments = {s.lower() for s in urlsplit(url).path.split("/") if s}
    found = sorted(segments & LISTING_SEGMENTS)
    return found[0] if found else None


def link_share(paragraphs: list[str], link_texts: set[str]) -> float:
    """Share of paragraphs that are exactly the text of a link on the page."""
    if not paragraphs:
        return 0.0
    return sum(link_key(p) in link_texts for p in paragraphs) / len(paragraphs)


def needs_javascript(signals: Signals) -> bool:
    """True for an app shell: an empty app root element, or a `<noscript>` asking for JavaScript."""
    return signals.app_shell
