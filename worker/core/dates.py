"""Publication and modification dates: JSON-LD, `<meta>`, `<time>`, the URL, then the text.

Dates come out as ISO-8601 calendar dates (YYYY-MM-DD, the page's own calendar day). A date
after the fetch time is wrong and the next source is tried; so is a year before the web.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

from worker.core.metadata import article_field, jsonld_text
from worker.core.signals import Signals

MIN_YEAR = 1995
TEXT_SCAN_CHARS = 1500
LATEST_OFFSET = timedelta(hours=14)
"""A calendar day starts as early as UTC+14: a date is 'after' a moment only past that."""

PUBLISHED_METAS = (
    "article:published_time", "og:published_time", "datepublished", "article.published",
    "published_time", "publish-date", "publishdate", "pubdate", "date", "dc.date.issued",
    "dcterms.issued", "dc.date", "dcterms.created", "dc.date.created", "sailthru.date",
    "parsely-pub-date", "citation_publication_date", "citation_date", "article:published",
    "og:article:published_time", "cxenseparse:recs:publishtime", "date.available",
)  # fmt: skip
MODIFIED_METAS = (
    "article:modified_time", "og:updated_time", "datemodified", "article.updated",
    "last-modified", "dcterms.modified", "dc.date.modified", "article:modified",
    "og:article:modified_time",
)  # fmt: skip

MONTHS = {
    # en, de, fr, es, pt, it, nl, id/ms (many coincide); keys are lower-case prefixes
    "jan": 1, "januar": 1, "janvier": 1, "enero": 1, "janeiro": 1, "gennaio": 1, "januari": 1,
    "feb": 2, "februar": 2, "février": 2, "fevrier": 2, "febrero": 2, "fevereiro": 2,
    "febbraio": 2, "februari": 2, "mar": 3, "märz": 3, "maerz": 3, "mars": 3, "marzo": 3,
    "março": 3, "marco": 3, "maart": 3, "maret": 3, "apr": 4, "avril": 4, "abril": 4,
    "aprile": 4, "may": 5, "mai": 5, "mayo": 5, "maio": 5, "maggio": 5, "mei": 5, "jun": 6,
    "juni": 6, "juin": 6, "junio": 6, "junho": 6, "giugno": 6, "jul": 7, "juli": 7,
    "juillet": 7, "julio": 7, "julho": 7, "luglio": 7, "aug": 8, "august": 8, "août": 8,
    "aout": 8, "agosto": 8, "augustus": 8, "agustus": 8, "sep": 9, "sept": 9, "september": 9,
    "septembre": 9, "septiembre": 9, "setembro": 9, "settembre": 9, "oct": 10, "okt": 10,
    "oktober": 10, "octobre": 10, "octubre": 10, "outubro": 10, "ottobre": 10, "nov": 11,
    "november": 11, "novembre": 11, "noviembre": 11, "novembro": 11, "dec": 12, "dez": 12,
    "dezember": 12, "décembre": 12, "decembre": 12, "diciembre": 12, "dezembro": 12,
    "dicembre": 12, "desember": 12, "des": 12,
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip

_NUMERIC = re.compile(
    r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?)?(?!\d)"
)
_COMPACT = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(\d{2})(\d{2})(?:T(\d{2})(\d{2}))?(?!\d)")
_CJK = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_WORD_MONTH = r"([^\W\d_]{3,10})\.?"
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})\.?\s+(?:de\s+)?{_WORD_MONTH},?\s+(?:de\s+)?(\d{{4}})(?!\d)"
)
_MONTH_DAY_YEAR = re.compile(rf"{_WORD_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)")
_DOTTED = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_NOT_PUBLISHED = re.compile(
    r"modif|updat|expir|valid|revis|crawl|index|last|review|birth|event|start|end"
)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-]?(\d{2})[/-]?(\d{2})(?:/|[-_]|\.html?|$)")


@lru_cache(maxsize=256)
def parse_date(text: str) -> tuple[date, datetime | None] | None:
    """(calendar date, aware moment if a time and zone were given) of a date string, or None.
    Cached for one page (`article.clean_html` clears it): the publication date, the
    modification date and `next_change` read the same candidates (1,990 calls on 676 strings
    over the dev corpus)."""
    text = text.strip()
    found = _parse_numeric(text) or _parse_words(text)
    if found is None or not MIN_YEAR <= found[0].year <= 2100:
        return None
    return found


def _parse_numeric(text: str) -> tuple[date, datetime | None] | None:
    """ISO-like, compact (20191118) and CJK (2019年11月18日) dates."""
    match = _NUMERIC.search(text) or _COMPACT.search(text) or _CJK.search(text)
    if match is None:
        return None
    groups = match.groups()
    day = _date(groups[0], groups[1], groups[2])
    if day is None or len(groups) < 6 or not groups[5] or groups[3] is None:
        return (day, None) if day else None
    offset = groups[5].replace(":", "")
    zone = UTC if offset == "Z" else _zone(offset)
    hour, minute = int(groups[3]) % 24, int(groups[4]) % 60
    return day, datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _zone(offset: str) -> timezone:
    """The fixed zone of a UTC offset written +hhmm or -hhmm."""
    sign = 1 if offset[0] == "+" else -1
    return timezone(timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign)


def _parse_words(text: str) -> tuple[date, datetime | None] | None:
    """'18 November 2019', 'November 18, 2019', '22 de outubro de 2010', '18.11.2019'."""
    for pattern, order in ((_DAY_MONTH_YEAR, (2, 1, 0)), (_MONTH_DAY_YEAR, (2, 0, 1))):
        for match in pattern.finditer(text):
            groups = match.groups()
            month = _month(groups[order[1]])
            day = _date(groups[order[0]], month, groups[order[2]]) if month else None
            if day:
                return day, None
    dotted = _DOTTED.search(text)
    day = _date(dotted.group(3), dotted.group(2), dotted.group(1)) if dotted else None
    return (day, None) if day else None


def _month(word: str) -> int | None:
    """A month number from a month name or abbreviation in one of the known languages."""
    word = word.casefold().rstrip(".")
    if word in MONTHS:
        return MONTHS[word]
    for length in range(len(word) - 1, 2, -1):
        if word[:length] in MONTHS and len(word) <= 10:
            return MONTHS[word[:length]]
    return None


def _date(year: str | int, month: str | int | None, day: str | int) -> date | None:
    """A valid date, or None."""
    try:
        return date(int(year), int(month or 0), int(day))
    except ValueError:
        return None


def not_after(found: tuple[date, datetime | None], fetched: datetime) -> bool:
    """True if a date is not after the fetch time (a bare date: not after it anywhere on Earth)."""
    day, moment = found
    if moment is not None:
        return moment <= fetched
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - LATEST_OFFSET
    return start <= fetched


def _becomes_valid(found: tuple[date, datetime | None]) -> datetime:
    """The first moment at which a date is no longer after the fetch time (`not_after`)."""
    day, moment = found
    if moment is not None:
        return moment
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - LATEST_OFFSET


def next_change(signals: Signals, url: str, text: str, fetched: datetime) -> datetime | None:
    """The earliest moment after `fetched` at which a date the page gives stops being in the
    future (None: it gives none). Fetched again before then, the same page gets the same
    dates; from then on it may not (a date rejected as after the fetch becomes valid)."""
    candidates = [
        *_declared(signals), *signals.shown_dates, *_modified_sources(signals),
        _url_date(url), signals.header_text, text[:TEXT_SCAN_CHARS],
    ]  # fmt: skip
    later = [
        _becomes_valid(found)
        for found in (parse_date(c) for c in candidates if c)
        if found and not not_after(found, fetched)
    ]
    return min(later, default=None)


def first_valid(candidates: Iterable[str | None], fetched: datetime) -> date | None:
    """The first candidate string that parses to a date not after the fetch time."""
    for candidate in candidates:
        found = parse_date(candidate) if candidate else None
        if found and not_after(found, fetched):
            return found[0]
    return None


def published(signals: Signals, url: str, text: str, fetched: datetime) -> str | None:
    """The publication date: declared (JSON-LD, meta, microdata, `<time>`), shown on the page,
    the URL, then the text. A shown date within a day of the declared one wins: it is the
    publisher's local day, where a declared UTC timestamp may already be the next day."""
    declared = first_valid(_declared(signals), fetched)
    shown = first_valid(signals.shown_dates, fetched)
    if (
        declared
        and shown
        and abs((shown - declared).days) <= 1
        and shown != _modified(signals, fetched)
    ):
        return shown.isoformat()
    later = [_url_date(url), signals.header_text, text[:TEXT_SCAN_CHARS]]
    found = declared or shown or first_valid(later, fetched)
    return found.isoformat() if found else None


def _declared(signals: Signals) -> list[str | None]:
    """Machine-readable publication dates, best source first."""
    sources: list[str | None] = [jsonld_text(article_field(signals, "datePublished"))]
    sources += [v for name in PUBLISHED_METAS for v in signals.meta.get(name, [])]
    sources += signals.itemprops.get("datepublished", [])
    sources += [v for v, context in signals.times if context == "published"]
    sources += [v for v, context in signals.times if context == ""][:1]
    sources += [v for name, values in signals.meta.items() if _dated_name(name) for v in values]
    return sources


def _dated_name(name: str) -> bool:
    """A `<meta>` name of some publication date we do not know by name (e.g. 'sn-post-date')."""
    return ("date" in name or "publish" in name) and not _NOT_PUBLISHED.search(name)


def modified(signals: Signals, published_: str | None, fetched: datetime) -> str | None:
    """The last modification date, if declared, not before publication nor after the fetch."""
    found = _modified(signals, fetched)
    if found is None or (published_ and found.isoformat() < published_):
        return None
    return found.isoformat()


def _modified(signals: Signals, fetched: datetime) -> date | None:
    """The first declared modification date not after the fetch."""
    return first_valid(_modified_sources(signals), fetched)


def _modified_sources(signals: Signals) -> list[str | None]:
    """Machine-readable modification dates, best source first."""
    sources: list[str | None] = [jsonld_text(article_field(signals, "dateModified"))]
    sources += [v for name in MODIFIED_METAS for v in signals.meta.get(name, [])]
    sources += signals.itemprops.get("datemodified", [])
    sources += [v for v, context in signals.times if context == "modified"]
    return sources


def _url_date(url: str) -> str | None:
    """A /2019/11/18/ or /20191118/ style date in the URL path, as YYYY-MM-DD."""
    match = _URL_DATE.search(url.split("?", 1)[0])
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None
