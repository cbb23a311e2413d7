"""Author names: from JSON-LD, `<meta>`, microdata and bylines, kept only if they are names.

A byline fragment, a site or agency name, a date, a category, a job title, a department, an
organization, an e-mail or a URL is not a name: better no author than a wrong one. Bylines lose
their credit words ('By', 'Von', 'Par', 'Текст:', in the languages of `phrases`), the date and
date words after the name (also glued to it: 'Carrie ArnoldNovember 19'), author-box links, a
trailing outlet ('Kevin McCoy USA TODAY') and a leading job title. A lone word is a name only
when the page credits it ('von gnaddrig') or declares it a Person, and never beside full names.
"""

from __future__ import annotations

import re
from typing import Any

from worker.core.dates import MONTHS
from worker.core.normalize import fold, letters_key, one_line, word_key
from worker.core.phrases import (
    AUTHOR_BOX_LINKS,
    AUTHOR_ROLES,
    BYLINE_CREDITS,
    DATE_INTROS,
    NAME_PARTICLES,
    NOT_AUTHOR_WORDS,
    WEEKDAY_ABBREVIATIONS,
)
from worker.core.signals import Signals, types_of

MAX_AUTHORS = 10
ORGANIZATION_TYPES = frozenset({"organization", "newsmediaorganization"})
PERSON_TYPE = "person"
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
    agencies agencias agenturen
    the berita kabar share follow email updated
    """.split()
) | frozenset(NOT_AUTHOR_WORDS)  # fmt: skip
"""Words that never occur in a person's name (compared case-insensitively)."""
ROLES = frozenset(AUTHOR_ROLES)

AGENCIES = frozenset(
    """
    ap afp reuters dpa ansa efe xinhua tass ria upi pti ians ani bernama antara yonhap kyodo anp
    apa belga lusa epa kna bloomberg
    """.split()
) | {"associated press", "agence france presse",
     "press trust of india", "thomson reuters", "the associated press", "ria novosti",
     "kyodo news", "yonhap news"}  # fmt: skip
"""News agencies, as `normalize.word_key` keys: a byline naming one names no person."""

_CREDITS = "|".join(BYLINE_CREDITS)
_PREFIX = re.compile(
    rf"^(?:{_CREDITS})(?:\s*[:\-–]\s*|\s+|(?<=\w{{3}})(?-i:(?=[A-ZÀ-ÖØ-ÞА-Я])))", re.IGNORECASE
)
"""A credit at a byline's start, glued to the name only after a word of 3+ letters ('vonChris')."""
_CREDIT_INSIDE = re.compile(rf"(?:^|(?<=[\s·|•]))(?:{_CREDITS})\s+(?=\S)", re.IGNORECASE)
_SPLIT = re.compile(
    r"\s*(?:[,;|·•/]|(?<=\w\w)\.\s|\s[-–—]\s|\s(?:and|und|et|y|e|dan|и|en|och|og|ve)\s|&|\+)\s*",
    re.IGNORECASE,
)
WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday senin selasa rabu kamis jumat sabtu "
    "minggu montag dienstag mittwoch donnerstag freitag samstag sonntag lunes martes miércoles "
    "jueves viernes sábado domingo lundi mardi mercredi jeudi vendredi samedi dimanche lunedì "
    "martedì mercoledì giovedì venerdì sabato segunda terça quarta quinta sexta понедельник "
    "вторник среда четверг пятница суббота воскресенье"
).split()
_FULL_MONTHS = "january february march april june july october december".split()
_MONTH = "(?:" + "|".join(sorted({*MONTHS, *_FULL_MONTHS}, key=len, reverse=True)) + ")[а-яё]{0,2}"
_DATE_WORDS = "|".join([*WEEKDAYS, *WEEKDAY_ABBREVIATIONS, *DATE_INTROS, _MONTH])
_DATE_START = re.compile(
    rf"\b(?:{'|'.join(WEEKDAYS)})\b|\b{_MONTH}\.?\s+\d|\b\d"
    rf"|\b(?:{'|'.join(DATE_INTROS)})\s+\S*\s*\d",
    re.IGNORECASE,
)
_GLUED_DATE = re.compile(
    rf"(?<=[a-zß-ÿ])(?-i:(?=[A-Z]))(?=(?:{_DATE_WORDS})\b[\s,.:]*\d)", re.IGNORECASE
)
"""A date word glued to the name before it ('Carrie ArnoldNovember 19', 'Heiko SauerDo 9')."""
_DATE_TAIL = re.compile(rf"(?:[\s,·|•\-–—]+(?:{_DATE_WORDS}))+[\s,·|•\-–—:.]*$", re.IGNORECASE)
_BOX_LINK = re.compile(
    rf"(?:\s+|(?<=[a-z])(?-i:(?=[A-Z])))(?:{'|'.join(AUTHOR_BOX_LINKS)})\b.*$", re.IGNORECASE
)
_NOT_NAME_CHARS = re.compile(r"[\d@#/\\:=<>{}\[\]()|*_?!]|https?|www\.|\.(?:com|org|net)\b", re.I)
_HANDLE = re.compile(r"^[^\W\d_][\w.\-]{1,29}$")
"""A user name credited alone ('von gnaddrig', 'by freeman1984')."""
_ACCOUNT = re.compile(r"admin|webmaster|editor|redak|staff|team|user|guest|gast", re.IGNORECASE)
"""Parts of a user name that name a site account, not a person ('wpadmin', 'newsteam')."""
_LEGAL_FORM = re.compile(
    r"(?:^|\s)(?:gmbh|ag|inc|llc|ltd|corp|plc|kg|ohg|e\.\s?v|s\.\s?a|s\.\s?l|b\.\s?v|n\.\s?v)\b",
    re.IGNORECASE,
)
_ARTICLES = frozenset("the die der das el la le les los las il lo het zur zum über about".split())
"""A person's name never starts with an article ('Die FURCHE', 'El Colombiano', 'Zur Person')."""
_KEPT_STOP = frozenset("jr sr".split())
"""A final period stays after these and after an initial ('Perry Bacon Jr.', 'Joe S.')."""
_NOT_ACRONYM = re.compile(r"^(?:I{1,3}|IV|V|VI{1,3}|JR|SR|.)$")
"""Roman numerals, Jr/Sr and initials: all caps, yet part of a name ('John Smith III')."""
_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z])")
_PIECES = re.compile(r"[\s\-‐]+")
_NONE: frozenset[str] = frozenset()
_CJK = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\s·]{2,12}$")


def authors(signals: Signals, site_name: str | None, categories: list[str]) -> list[str]:
    """Author names: full names from the first declared source that has any (the visible
    byline instead when it names the same people and more), else the byline's full names;
    a lone word only when nothing names a person in full."""
    excluded = _excluded_keys(site_name, categories)
    shown = max(
        ((_names([(b, False)], excluded), _credits(b)) for b in signals.bylines[:2]),
        key=lambda found: (len(found[0]), _full(found[0]), found[1]),
        default=([], False),
    )[0]
    sources = _sources(signals)
    for names in (_names(c, excluded) for c in sources):
        if _full(names):
            names = [n for n in names if _full([n])]  # a lone word beside full names: a handle
            wider = {fold(n) for n in names} < {fold(n) for n in shown}
            return (shown if wider else names)[:MAX_AUTHORS]
    if _full(shown):
        return shown[:MAX_AUTHORS]
    agreed = frozenset(fold(p) for b in signals.bylines for p in split_byline(b))
    declared = (_names(c, excluded, agreed) for c in sources)
    return next((names for names in declared if names), shown)[:MAX_AUTHORS]


def _credits(byline: str) -> bool:
    """True if a byline credits someone ('By', 'Von', 'Autor:'...)."""
    return bool(_PREFIX.match(_from_credit(one_line(byline).lstrip(" |·•~-–—:"))))


def _full(names: list[str]) -> bool:
    """True if a name among names is more than one word (or written in CJK)."""
    return any(" " in n or _CJK.match(n) for n in names)


def _excluded_keys(site_name: str | None, categories: list[str]) -> set[str]:
    """Word keys of the site's name (also without a domain ending) and of its sections."""
    names = [n for n in (site_name, *categories) if n]
    if site_name and " " not in site_name.strip() and "." in site_name:
        names.append(site_name.rsplit(".", 1)[0])  # 'ElColombiano.com' -> 'ElColombiano'
    return {word_key(n) for n in names} - {""}


def _sources(signals: Signals) -> list[list[tuple[str, bool]]]:
    """Raw author strings per declared source, best source first, each with whether the page
    declares it a person (a JSON-LD Person)."""
    from_jsonld: list[tuple[str, bool]] = []
    for article in signals.articles():
        from_jsonld += _jsonld_people(article.get("author"))
        from_jsonld += _jsonld_people(article.get("creator"))
    metas = [v for name in AUTHOR_METAS for v in signals.meta.get(name, [])]
    microdata = signals.itemprops.get("author", []) + signals.itemprops.get("creator", [])
    return [from_jsonld, [(m, False) for m in metas], [(m, False) for m in microdata]]


def _jsonld_people(value: Any) -> list[tuple[str, bool]]:
    """Names of JSON-LD authors that are not organizations, with whether typed Person."""
    items = value if isinstance(value, list) else [value]
    names: list[tuple[Any, bool]] = []
    for item in items:
        if isinstance(item, str):
            names.append((item, False))
        elif isinstance(item, dict) and not types_of(item) & ORGANIZATION_TYPES:
            name, person = item.get("name"), PERSON_TYPE in types_of(item)
            names += [(n, person) for n in (name if isinstance(name, list) else [name])]
    return [(n, person) for n, person in names if isinstance(n, str)]


def _names(
    candidates: list[tuple[str, bool]], excluded: set[str], agreed: frozenset[str] = _NONE
) -> list[str]:
    """The real names among raw author strings, each split into its parts, deduplicated.

    A lone word counts when it is a byline's only part and is credited ('von gnaddrig'), a
    capitalized JSON-LD Person ('Regan') or a declared value shown as a byline (`agreed`)."""
    found: list[str] = []
    for raw, person in candidates:
        parts = _credited_parts(raw)
        for part, credited in parts:
            name = clean_name(part, excluded)
            alone = len(parts) == 1 and name is not None and word_key(name) == word_key(part)
            capitalized = name is not None and not name[0].islower()
            single = alone and (credited or (person and capitalized) or fold(part) in agreed)
            if (
                name
                and is_name(name, excluded, single)
                and not any(fold(name).startswith(fold(f)) for f in found)
            ):
                found.append(name)
    return found


def split_byline(raw: str) -> list[str]:
    """A byline's parts: 'By A, B and C' -> ['A', 'B', 'C'], cut before a date, a date word
    and author-box links (prefixes are stripped later)."""
    return [part for part, _credited in _credited_parts(raw)]


def _credited_parts(raw: str) -> list[tuple[str, bool]]:
    """A byline's parts, each with whether a credit word ('By', 'Von', 'Текст:') precedes it."""
    text = _from_credit(one_line(raw).lstrip(" |·•~-–—:"))
    credited = bool(_PREFIX.match(text))
    text = _BOX_LINK.sub("", _cut_at_date(_strip_prefixes(text)))
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    return [(p, credited or bool(_PREFIX.match(p))) for p in parts]


def _from_credit(text: str) -> str:
    """The byline from its credit on when a date or label comes first ('8. Januar 2020 · by
    Ana', 'Posted on May 2, 2020 by Ana')."""
    if _PREFIX.match(text):
        return text
    credit = _CREDIT_INSIDE.search(text)
    date = _DATE_START.search(text, 0, credit.start()) if credit else None
    return text[credit.start() :] if credit and date else text


def _strip_prefixes(text: str) -> str:
    """A text without the credit words it starts with ('Post author By Ana' -> 'Ana')."""
    while match := _PREFIX.match(text):
        text = text[match.end() :]
    return text


def _cut_at_date(text: str) -> str:
    """A byline up to its date, without the weekday or date words before it."""
    text = _GLUED_DATE.sub(" ", text)
    date = _DATE_START.search(text)
    return _DATE_TAIL.sub("", text[: date.start()]) if date else text


def clean_name(part: str, excluded: set[str] | frozenset[str] = frozenset()) -> str | None:
    """Strip a name's credit, punctuation, job titles and outlet; the name stays as the page
    writes it (title-casing 'MCCOY' would make 'Mccoy')."""
    name = _strip_prefixes(part.strip().lstrip(" |·•~-–—:")).strip(" ,:;-–—'\"“”‘’~")
    words = name.rstrip(".").split()
    if not words:
        return None
    kept_stop = name.endswith(".") and (len(words[-1]) == 1 or fold(words[-1]) in _KEPT_STOP)
    name = _without_outlet(_without_roles(words), excluded)
    return (name + "." if kept_stop and name else name) or None


def _without_roles(words: list[str]) -> list[str]:
    """Words without the job titles they start with ('Experte Ana Ruiz'); none when they end
    with one (a title: 'CNN Editor-at-large', 'AP Auto Writer')."""
    if words and _is_role(words[-1]):
        return []
    while words and _is_role(words[0]):
        words = words[1:]
    return words


def _is_role(word: str) -> bool:
    """True for a job title, also inside a compound ('FOCUS-Online-Experte')."""
    pieces = [fold(p) for p in _PIECES.split(word) if p]
    return fold(word) in ROLES or (len(pieces) > 1 and pieces[-1] in ROLES)


def _without_outlet(words: list[str], excluded: set[str] | frozenset[str]) -> str:
    """A name without the outlet after it: a trailing run of all-caps words after a name that
    is not all caps ('Kevin McCoy USA TODAY'), or the site's name at either end."""
    end = len(words)
    while end > 2 and _is_acronym(words[end - 1]):
        end -= 1
    if end < len(words) and not all(_is_acronym(w) for w in words[:end]):
        words = words[:end]
    for size in range(min(3, len(words) - 2), 0, -1):
        if word_key(" ".join(words[-size:])) in excluded:
            words = words[:-size]
        elif word_key(" ".join(words[:size])) in excluded:
            words = words[size:]
    return " ".join(words)


def _is_acronym(word: str) -> bool:
    """True for an all-caps word of letters that is no Roman numeral ('USA', 'CNN')."""
    letters = word.strip(".,")
    return letters.isupper() and letters.isalpha() and not _NOT_ACRONYM.match(letters)


def is_name(name: str, excluded: set[str], single: bool = False) -> bool:
    """True if a string looks like a person's name and is none of the excluded names; one
    word only when `single` (a credited user name or a declared Person)."""
    words = name.split()
    if len(words) == 1 and single:
        return _is_handle(name, excluded)
    if len(name) > MAX_NAME_CHARS or _NOT_NAME_CHARS.search(name) or _LEGAL_FORM.search(name):
        return False
    if _is_excluded(name, excluded):
        return False
    if _CJK.match(name):
        return True
    pieces = [fold(p).strip(".'’") for w in words for p in _CAMEL.split(w.replace("-", " "))]
    pieces = [q for p in pieces for q in p.split()]
    if not 2 <= len(words) <= MAX_NAME_WORDS or any(p in NOT_NAMES for p in pieces):
        return False
    if fold(words[0]) in _ARTICLES or any(_is_role(w) for w in words):
        return False
    lower = [w for w in words if w[0].islower()]
    return len(words) - len(lower) >= 2 and all(fold(w) in NAME_PARTICLES for w in lower)


def _is_handle(name: str, excluded: set[str]) -> bool:
    """True for a single credited word that may be a user name: not a role, site or agency,
    nor an all-caps abbreviation (usually an outlet: 'CNN')."""
    key = word_key(name)
    return (
        bool(_HANDLE.match(name))
        and not _NOT_NAME_CHARS.search(re.sub(r"[\d_]", "", name))
        and not (name.isupper() or _is_role(name) or key in NOT_NAMES or key in AGENCIES)
        and not _ACCOUNT.search(name)
        and not _is_excluded(name, excluded)
    )


def _is_excluded(name: str, excluded: set[str]) -> bool:
    """True for the site's name or a section, however spaced, or a news agency."""
    key, letters = word_key(name), letters_key(name)
    return (
        key in excluded
        or key in AGENCIES
        or any(letters == letters_key(e) for e in excluded)
        or any(key and key in e for e in excluded if len(key) > 5)
    )
