"""Title, site name, description, categories, tags, images and canonical URL from a page's signals.

Structured data first (JSON-LD, then Open Graph and other `<meta>`), visible markup after
(`<title>`, `<h1>`, `<figure>`), the URL last. Pure functions of `Signals` and the page URL.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from publicsuffixlist import PublicSuffixList

from worker.core.normalize import fold, letters_key, normalize_text, one_line, word_key
from worker.core.signals import Signals, types_of
from worker.errors import PageError

MAX_SITE_NAME_CHARS = 80
MAX_IMAGES = 30
IMAGE_SUFFIXES = (".svg", ".gif", ".ico")
SITE_TYPES = frozenset({"website", "organization", "newsmediaorganization", "corporation"})

_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—:·•»/~]\s+|\s*[|·•»]\s*")
_THE = re.compile(r"^the ")
_WORD4 = re.compile(r"[^\W\d_]{4,}")
_PSL = PublicSuffixList()
"""The bundled public suffix list, private section included (github.io, blogspot.com are
suffixes): read once per process, never fetched."""


def jsonld_text(value: Any) -> str | None:
    """A JSON-LD value as one string: a string, an object's name/@id/url, or a list's first."""
    if isinstance(value, list):
        return next((t for t in map(jsonld_text, value) if t), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id") or value.get("url")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return one_line(str(value)) or None
    return None


def jsonld_texts(value: Any) -> list[str]:
    """A JSON-LD value as a list of strings (a comma-separated string is split)."""
    if isinstance(value, list):
        return [t for item in value for t in jsonld_texts(item)]
    text = jsonld_text(value)
    return [p.strip() for p in text.split(",") if p.strip()] if text else []


def article_field(signals: Signals, key: str) -> Any:
    """The first value of a key among the page's JSON-LD articles."""
    return next((a[key] for a in signals.articles() if a.get(key)), None)


DECLARED_BODY_SHARE = 4
"""The declared article body replaces an extracted text with under 1/DECLARED_BODY_SHARE of its
words."""
DECLARED_BODY_WORDS = 150
"""A declared body shorter than this may be a teaser: never used."""
_BLOCK_BREAK = re.compile(r"<(?:/(?:p|div|li|h[1-6]|blockquote|tr)|br\s*/?)\s*>", re.IGNORECASE)
_MARKUP = re.compile(r"<[^>]*>")


def declared_body(signals: Signals) -> list[str]:
    """The article text the page declares (JSON-LD articleBody) as paragraphs (its line
    breaks and block tags; other tags dropped), if it is long enough to be more than a teaser."""
    body = article_field(signals, "articleBody")
    if not isinstance(body, str) or len(body.split()) < DECLARED_BODY_WORDS:
        return []
    text = normalize_text(html.unescape(_MARKUP.sub("", _BLOCK_BREAK.sub("\n", body))))
    return text.split("\n\n") if text else []


def far_fuller(declared: list[str], paragraphs: list[str]) -> bool:
    """True when the extracted paragraphs hold under 1/DECLARED_BODY_SHARE of the declared
    body's words (a body rendered by script, kept in the markup only as data)."""
    words = sum(len(p.split()) for p in paragraphs)
    return words * DECLARED_BODY_SHARE < sum(len(p.split()) for p in declared)


def site_name(signals: Signals, url: str) -> str | None:
    """The name most sources agree on (JSON-LD WebSite, og:site_name, JSON-LD publisher and
    Organization, the `<title>` affix), a name matching the host winning ties; else the host's
    registrable label."""
    candidates = _site_candidates(signals)
    affix = split_title(signals.title_tag or "", candidates, url, loose=True)[1]
    candidates += [affix] if affix else []
    best, best_score = None, 0.0
    for index, name in enumerate(candidates):
        key = _name_key(name)
        score = sum(_name_key(n) == key for n in candidates) + 0.5 * _matches_host(key, url)
        if score - index * 0.01 > best_score:
            best, best_score = name, score - index * 0.01
    return best or _host_label(url)


def _site_candidates(signals: Signals) -> list[str]:
    """Site names the page declares, best source first (URLs and taglines left out)."""
    names = [_name(o) for o in signals.jsonld if types_of(o) & {"website"}]
    names += [signals.first_meta("og:site_name")]
    names += [_name(a.get("publisher")) for a in signals.articles()]
    names += [_name(o) for o in signals.jsonld if types_of(o) & SITE_TYPES - {"website"}]
    return [
        _untagged(n) for n in names if n and 1 < len(n) <= MAX_SITE_NAME_CHARS and not _is_url(n)
    ]


def _name(obj: Any) -> str | None:
    """The `name` of a JSON-LD object (never its @id or url)."""
    if isinstance(obj, list):
        return next((n for n in map(_name, obj) if n), None)
    value = obj.get("name") if isinstance(obj, dict) else None
    return (one_line(value) or None) if isinstance(value, str) else None


def _untagged(name: str) -> str:
    """A site name without an appended tagline ('LinkNaija | Nigeria's news' -> 'LinkNaija')."""
    parts = [p for p in _TITLE_SEPARATOR.split(name) if p.strip()]
    return parts[0].strip() if len(parts) > 1 else name


def _is_url(text: str) -> bool:
    """True for a URL or bare host name given as a name."""
    return "://" in text or text.lower().startswith("www.") or "#" in text


def _name_key(name: str) -> str:
    """The `letters_key` of a site name without a leading 'the' ('The Verge' = 'verge')."""
    return letters_key(_THE.sub("", fold(name)))


def _matches_host(key: str, url: str) -> bool:
    """True if a name and the URL's host name contain one another (at least 4 letters)."""
    host = letters_key(registrable_domain(urlsplit(url).hostname or "").split(".")[0])
    return len(key) >= 4 and len(host) >= 4 and (key in host or host in key)


def _host_label(url: str) -> str | None:
    """The first label of the host's registrable domain ('blog.comwrap.com' -> 'comwrap');
    None for an IP address."""
    host = urlsplit(url).hostname or ""
    return None if _is_ip(host) else registrable_domain(host).split(".")[0] or None


def split_title(
    title: str, site_names: list[str], url: str, loose: bool = False
) -> tuple[str, str | None]:
    """(headline, site affix or None): drop a leading or trailing site name from a page title.

    A part that is a known site name or the host name is an affix; so is a short last part
    (at most 4 words and less than half the rest; `loose`: 5 words, shorter than the rest)."""
    parts = [p for p in _TITLE_SEPARATOR.split(title) if p.strip()]
    if len(parts) < 2:
        return title.strip(), None
    for affix, rest in ((parts[-1], parts[:-1]), (parts[0], parts[1:])):
        if _is_site(affix, site_names, url):
            return _rejoin(title, rest), affix.strip()
    last, rest = parts[-1], parts[:-1]
    words, ratio = (5, 1) if loose else (4, 2)
    if len(last.split()) <= words and len(last) * ratio < len(" ".join(rest)):
        return _rejoin(title, rest), last.strip()
    return title.strip(), None


def _rejoin(title: str, parts: list[str]) -> str:
    """The original text spanning the kept parts (their separators kept)."""
    start, end = title.find(parts[0]), title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip()


def _is_site(text: str, site_names: list[str], url: str) -> bool:
    """True if a title part is the site's name or its host name."""
    key = letters_key(text)
    if not key:
        return False
    if any(key == letters_key(name) for name in site_names):
        return True
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    labels = [letters_key(label) for label in host.split(".")]
    return key in labels or key == letters_key(host)


def title(signals: Signals, site: str | None, url: str) -> str | None:
    """The headline as displayed: the page's only `<h1>` (not the site name, at least two
    words) or the `<h1>` that says what a declared title says; else JSON-LD, Open Graph,
    Twitter or `<title>` without the site name."""
    names = [n for n in (site, *_site_candidates(signals)) if n]
    found = None
    for raw in _title_sources(signals):
        headline = split_title(raw, names, url)[0]
        if headline and not _is_site(headline, names, url):
            found = headline
            break
    headings = [h for h in signals.h1 if len(h.split()) >= 2 and not _is_site(h, names, url)]
    one_heading = len(headings) == 1 and (len(signals.h1) == 1 or found is None)
    if one_heading and (found is None or _related(headings[0], found)):
        return headings[0]
    return next((h for h in headings if _same_title(h, found)), found)


def _related(heading: str, title_: str) -> bool:
    """True if two headlines share a word of 4+ letters (or, in unspaced scripts, 2 characters)."""
    words = {fold(w) for w in _WORD4.findall(heading)}
    if words or " " in heading.strip():
        return bool(words & {fold(w) for w in _WORD4.findall(title_)})
    pairs = {heading[i : i + 2] for i in range(len(heading) - 1)}
    return any(title_[i : i + 2] in pairs for i in range(len(title_) - 1))


def _title_sources(signals: Signals) -> list[str]:
    """Declared titles, best first."""
    sources = [jsonld_text(article_field(signals, "headline"))]
    sources += [
        signals.first_meta("og:title"),
        signals.first_meta("twitter:title"),
        signals.title_tag,
    ]
    return [s for s in sources if s]


def _same_title(heading: str, title_: str | None) -> bool:
    """True if an `<h1>` and a declared title are the same headline (or one begins the other)."""
    if not title_:
        return False
    a, b = word_key(heading), word_key(title_)
    return bool(a) and (a == b or (len(a) > 20 and (b.startswith(a) or a.startswith(b))))


def title_variants(signals: Signals, headline: str | None) -> set[str]:
    """Word keys of every title the page declares (to spot a headline repeated in text)."""
    variants = {word_key(t) for t in (*_title_sources(signals), *signals.h1) if t}
    if headline:
        variants.add(word_key(headline))
    return {v for v in variants if v}


def description(signals: Signals) -> str | None:
    """JSON-LD, Open Graph or `<meta name=description>` description."""
    found = jsonld_text(article_field(signals, "description"))
    return found or signals.first_meta("og:description", "description", "twitter:description")


def categories(signals: Signals) -> list[str]:
    """Sections: JSON-LD articleSection, article:section."""
    found = jsonld_texts(article_field(signals, "articleSection"))
    found += signals.meta.get("article:section", [])
    return _unique(found)


def tags(signals: Signals) -> list[str]:
    """Keywords: JSON-LD keywords, article:tag, news_keywords, keywords."""
    found = jsonld_texts(article_field(signals, "keywords")) + signals.meta.get("article:tag", [])
    for name in ("news_keywords", "keywords"):
        for value in signals.meta.get(name, []):
            found += [k.strip() for k in value.split(",")]
    return _unique(found)


def _unique(values: list[str]) -> list[str]:
    """Non-empty values, first occurrence kept (case-insensitive), at most 50."""
    seen: set[str] = set()
    kept = []
    for value in values:
        key = fold(value)
        if key and key not in seen and len(value) <= 100:
            seen.add(key)
            kept.append(value.strip())
    return kept[:50]


def lead_image(signals: Signals, url: str) -> str | None:
    """og:image, JSON-LD image, twitter:image, or the first figure's image."""
    found = signals.first_meta("og:image", "og:image:url", "og:image:secure_url")
    found = found or jsonld_text(article_field(signals, "image"))
    found = found or signals.first_meta("twitter:image", "twitter:image:src")
    found = found or next((src for src, _alt, _cap in signals.figures if _usable(src)), None)
    return _absolute(found, url)


def images(signals: Signals, url: str) -> list[dict[str, str | None]]:
    """The page's figures: src (absolute), alt and caption; icons and data URIs left out."""
    kept: list[dict[str, str | None]] = []
    for src, alt, caption in signals.figures:
        absolute = _absolute(src, url) if _usable(src) else None
        if absolute and all(i["src"] != absolute for i in kept):
            kept.append({"src": absolute, "alt": alt or None, "caption": caption or None})
    return kept[:MAX_IMAGES]


def _usable(src: str) -> bool:
    """True for an image URL worth keeping (not inline data, not an icon format)."""
    path = src.split("?", 1)[0].lower()
    return bool(src) and not src.startswith("data:") and not path.endswith(IMAGE_SUFFIXES)


def _absolute(src: str | None, url: str) -> str | None:
    """An absolute http(s) URL for a possibly relative one."""
    if not src:
        return None
    absolute = urljoin(url, src.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def canonical_url(signals: Signals, url: str, canonicalize: Callable[[str], str]) -> str:
    """rel=canonical or og:url when on the page's own site and not its home page, else the
    page URL; either way in our canonical form (`canonicalize`)."""
    own = canonicalize(url)
    for declared in (*signals.links.get("canonical", [])[:1], signals.first_meta("og:url")):
        absolute = _absolute(declared, url)
        if absolute is None:
            continue
        try:
            candidate = canonicalize(absolute)
        except PageError:
            continue
        if _sane(candidate, own):
            return candidate
    return own


def _sane(candidate: str, own: str) -> bool:
    """Same registrable domain (so not another tenant of a shared host such as github.io),
    and not a home page standing for a deeper URL."""
    a, b = urlsplit(candidate), urlsplit(own)
    if a.path in ("", "/") and b.path not in ("", "/"):
        return False
    return registrable_domain(a.hostname or "") == registrable_domain(b.hostname or "")


def registrable_domain(host: str) -> str:
    """The domain a host's owner registered, per the public suffix list and its private section
    ('www.bbc.co.uk' -> 'bbc.co.uk', 'spam.github.io' stays): hosts under it are one site.

    Unknown top-level domains count as public suffixes ('a.b.example' -> 'b.example'); an IP
    address, a single label ('localhost') or a public suffix itself stands for itself.
    """
    host = host.lower().rstrip(".")
    if _is_ip(host):
        return host
    domain = _PSL.privatesuffix(host)
    return domain if isinstance(domain, str) else host


def _is_ip(host: str) -> bool:
    """True for an IP address: IPv6 (a colon) or IPv4 (a numeric last label: no TLD is one)."""
    return ":" in host or host.rsplit(".", 1)[-1].isdigit()
