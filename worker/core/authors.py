"""Author names: from JSON-LD, `<meta>`, microdata and bylines, kept only if they are names.

A byline fragment, a site or agency name, a date, a category, a job title, an e-mail or a URL
is not a name: better no author than a wrong one.
"""

from __future__ import annotations

import re
from typing import Any

from worker.core.dates import MONTHS
from worker.core.normalize import fold, one_line, word_key
from worker.core.signals import Signals, types_of

MAX_AUTHORS = 10
ORGANIZATION_TYPES = frozenset({"organization", "newsmediaorganization"})
MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 60
AUTHOR_METAS = (
    "author", "article:author", "parsely-author", "sailthru.author", "dc.creator",
    "dcterms.creator", "byl", "citation_author", "twitter:creator:name", "cxenseparse:author",
)  # fmt: skip

NOT_NAMES = frozenset(
    """
    admin administrator editor editors editorial redaksi redaktion redação redacción rédaction
    redazione редакция staff newsroom desk team webdesk web news reporter reporters correspondent
    correspondents contributor contributors guest author authors writer writers press agency
    wire wires service services bureau online digital media office committee unknown anonymous
    sponsored partner partners content studio published updated posted by photo photos video
    the berita kabar share follow email updated
    """.split()
)  # fmt: skip
"""Words that never occur in a person's name (compared case-insensitively)."""

AGENCIES = frozenset(
    """
    ap afp reuters dpa ansa efe xinhua tass ria upi pti ians ani bernama antara yonhap kyodo anp
    apa belga lusa epa kna bloomberg
    """.split()
) | {"associated press", "agence france presse",
     "press trust of india", "thomson reuters", "the associated press", "ria novosti",
     "kyodo news", "yonhap news"}  # fmt: skip
"""News agencies, as `normalize.word_key` keys: a byline naming one names no person."""

_PREFIX = re.compile(
    r"^(?:(?:written|posted|reported|text|story|words|photos?)\s+by|by|von|par|por|oleh|di|door|"
    r"av|af|от|автор|작성자|글|기자|author|autor|auteur|penulis|reporter|editor)\s*[:\-–]?\s+",
    re.IGNORECASE,
)
_SPLIT = re.compile(
    r"\s*(?:[,;|·•/]|(?<=\w\w)\.\s|\s(?:and|und|et|y|e|dan|и|en|och|og|ve)\s|&|\+)\s*",
    re.IGNORECASE,
)
WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday senin selasa rabu kamis jumat sabtu "
    "minggu montag dienstag mittwoch donnerstag freitag samstag sonntag lunes martes miércoles "
    "jueves viernes sábado domingo lundi mardi mercredi jeudi vendredi samedi dimanche lunedì "
    "martedì mercoledì giovedì venerdì sabato segunda terça quarta quinta sexta понедельник "
    "вторник среда четверг пятница суббота воскресенье"
).split()
_DATE_START = re.compile(
    r"\b(?:"
    + "|".join(WEEKDAYS)
    + r")\b|\b(?:"
    + "|".join(k for k in MONTHS if len(k) >= 3)
    + r")\.?\s+\d|\d|\b(?:updated|published|posted|on)\s+\S*\s*\d",
    re.IGNORECASE,
)
_NOT_NAME_CHARS = re.compile(r"[\d@#/\\:=<>{}\[\]()|*_?!]|https?|www\.|\.(?:com|org|net)\b", re.I)
_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z])")
_CJK = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\s·]{2,12}$")


def authors(signals: Signals, site_name: str | None, categories: list[str]) -> list[str]:
    """Author names from the first source that has any real name in it; the visible byline
    instead when it names the same people and more."""
    excluded = {word_key(n) for n in (site_name, *categories) if n}
    shown = max((_names([b], excluded) for b in signals.bylines[:2]), key=len, default=[])
    for candidates in _sources(signals):
        names = _names(candidates, excluded)
        if names:
            wider = {fold(n) for n in names} < {fold(n) for n in shown}
            return (shown if wider else names)[:MAX_AUTHORS]
    return shown[:MAX_AUTHORS]


def _sources(signals: Signals) -> list[list[str]]:
    """Raw author strings per declared source, best source first."""
    from_jsonld: list[str] = []
    for article in signals.articles():
        from_jsonld += _jsonld_people(article.get("author"))
        from_jsonld += _jsonld_people(article.get("creator"))
    metas = [v for name in AUTHOR_METAS for v in signals.meta.get(name, [])]
    microdata = signals.itemprops.get("author", []) + signals.itemprops.get("creator", [])
    return [from_jsonld, metas, microdata]


def _jsonld_people(value: Any) -> list[str]:
    """Names of JSON-LD authors that are not organizations."""
    items = value if isinstance(value, list) else [value]
    names: list[Any] = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and not types_of(item) & ORGANIZATION_TYPES:
            name = item.get("name")
            names += name if isinstance(name, list) else [name]
    return [n for n in names if isinstance(n, str)]


def _names(candidates: list[str], excluded: set[str]) -> list[str]:
    """The real names among raw author strings, each split into its parts, deduplicated."""
    found: list[str] = []
    for raw in candidates:
        for part in split_byline(raw):
            name = clean_name(part)
            if (
                name
                and is_name(name, excluded)
                and not any(fold(name).startswith(fold(f)) for f in found)
            ):
                found.append(name)
    return found


def split_byline(raw: str) -> list[str]:
    """A byline's parts: 'By A, B and C' -> ['A', 'B', 'C'] (prefixes are stripped later)."""
    text = _PREFIX.sub("", one_line(raw))
    date = _DATE_START.search(text)
    text = text[: date.start()] if date else text
    return [p.strip() for p in _SPLIT.split(text) if p and p.strip()]


def clean_name(part: str) -> str | None:
    """Strip a name's prefix and punctuation; an all-caps name becomes title case."""
    name = _PREFIX.sub("", part.strip()).strip(" .,:;-–—'\"“”‘’")
    if not name:
        return None
    if name.isupper() and len(name) > 3:
        name = name.title()
    return name


def is_name(name: str, excluded: set[str]) -> bool:
    """True if a string looks like a person's name and is none of the excluded names."""
    if len(name) > MAX_NAME_CHARS or _NOT_NAME_CHARS.search(name):
        return False
    key = word_key(name)
    if (
        key in excluded
        or key in AGENCIES
        or any(key and key in e for e in excluded if len(key) > 5)
    ):
        return False
    if _CJK.match(name):
        return True
    words = name.split()
    parts = [fold(p) for w in words for p in _CAMEL.split(w)]
    if not 2 <= len(words) <= MAX_NAME_WORDS or any(p in NOT_NAMES for p in parts):
        return False
    return sum(w[0].isupper() for w in words) >= max(2, len(words) - 2)
