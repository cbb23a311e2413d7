"""Site chrome that survives extraction, removed paragraph by paragraph, in many languages.

Every rule looks at a *whole* paragraph: a paragraph that IS a chrome line ("Read more",
"Baca juga: <headline>", "Advertisement", an image file name, a photo credit) goes; a real
sentence that merely contains such words stays. Paragraphs over `MAX_CHROME_WORDS` words are
never touched. The headline, kicker and byline repeated at the top of the text go too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.core import phrases
from worker.core.dates import parse_date
from worker.core.normalize import word_key

MAX_CHROME_WORDS = 40
"""Longer paragraphs are text, whatever they contain."""
MAX_LABEL_WORDS = 25
"""'Read more: <headline>' lines are at most this long."""
MAX_CREDIT_WORDS = 15
HEADER_PARAGRAPHS = 4
"""The header (headline, kicker, byline, dateline) is looked for in this many first paragraphs."""
MAX_KICKER_WORDS = 8
"""Lines above a repeated headline are dropped with it only if they are this short."""
MAX_DATELINE_WORDS = 12
"""A leading line of at most this many words that is a date (and time) is a dateline."""
MAX_CHECKED_CHARS = 1000
"""Longer paragraphs are never chrome nor captions (a quick test before the word count)."""

_FLAGS = re.IGNORECASE | re.UNICODE

key = word_key
"""The paragraph key, under its old name for `continuation` and `bench.extraction`."""
CHROME_KEYS = frozenset(word_key(p) for p in phrases.CHROME_LINES)
_LABEL = re.compile(
    r"^\W{0,3}(?:" + "|".join(phrases.LABELS) + r")\s*(?::|：|»|›|→|\s[-–—]\s|\.\.\.|…)", _FLAGS
)
_CREDIT_START = re.compile(
    r"^\W{0,2}(?:"
    + "|".join(phrases.CREDIT_WORDS)
    + r")\b\s*(?::|：|/|©|by\b|credits?\b|courtesy\b|via\b|\|)",
    _FLAGS,
)
_CREDIT_NAMED = re.compile(r"^(?i:foto|photo|bild|фото|gambar)\s+[A-ZÀ-ÖØ-ÞА-Я]")
_AGENCY_CREDIT = re.compile(r"(?:" + "|".join(phrases.PHOTO_AGENCIES) + r")", _FLAGS)
_WIRE_CREDIT = re.compile(r"^\W{0,2}(?:" + "|".join(phrases.WIRE_CREDITS) + r")\b", _FLAGS)
_CONTRIBUTED = re.compile(r"contributed (?:reporting|to this (?:report|story|article))", _FLAGS)
_TAIL_HEADING = re.compile(
    r"^\W{0,3}(?:" + "|".join(phrases.TAIL_HEADINGS) + r")\s*[:?!.…»›→|]*\s*$", _FLAGS
)
_PROMPT = re.compile(r"^\W{0,2}(?:" + "|".join(phrases.PROMPTS) + r")", _FLAGS)
_PROMPT_TOPIC = re.compile(
    r"newsletter|inbox|twitter|facebook|instagram|tiktok|youtube|linkedin|telegram|whatsapp|@|"
    r"\bios\b|\bandroid\b|app store|google play|\be-?paper\b|\bedition\b|\bausgabe\b|\babo\b|"
    r"\bpremium\b|member|mitglied|"
    r"miembro|membre|\bsocio|kommentar|comment|comentario|eingeloggt|logged in|\bcanal\b|"
    r"\bkanal\b|\bchannel\b",
    _FLAGS,
)
_QUOTES = re.compile(r"[\"“”„«»‘’]")
MAX_PROMPT_WORDS = 8
"""A call to action this short is chrome whatever it names ('Jetzt unterstützen!')."""
_DISCLOSURE = re.compile(r"(?:" + "|".join(phrases.DISCLOSURES) + r")", _FLAGS)
_DISCLOSURE_HINTS = ("affilia", "afiliado", "werbung", "advertis", "compensation", "commission",
                     "amazon", "gewähr")  # fmt: skip
"""Every disclosure holds one of these (lower case): a quick test before the expression."""
_RIGHTS = re.compile(r"^\W{0,3}(?:" + "|".join(phrases.RIGHTS_NOTICES) + r")", _FLAGS)
_COMMENT_COUNT = re.compile(
    r"^\W{0,2}(?:\d+\s+(?:kommentare?|comments?|comentarios?|comentários?|commentaires?|"
    r"commenti|komentarz[ey]?|komentar)|(?:" + "|".join(phrases.NO_COMMENTS) + r")\s+(?:"
    r"kommentare|comments|comentarios|comentários|commentaires|commenti|komentarzy|komentar))"
    r"(?:\s+(?:yet|so far|bisher|aún|encore|ancora))?\s*(?:\([^)]*\))?\W*$",
    _FLAGS,
)
"""A whole line counting comments ('3 Kommentare', 'No comments yet'); not 'No comment.'"""
_FILE_NAME = re.compile(
    r"^[\w\-.()%+ ]{1,150}\.(?:png|jpe?g|gif|webp|avif|bmp|tiff?|svg|heic)$", _FLAGS
)
_SEPARATOR = re.compile(r"^[\s\-|=_*~•·.:#+/\\]*$")
_DATELINE = re.compile(r"^[\w\s.,:/-]*$")
_SHORTCODE = re.compile(r"^\[(\w+)\b[^\]]*\].*\[/\1\]$")
_TIMESTAMP = re.compile(
    r"^\W{0,2}(?:"
    + "|".join(phrases.TIMESTAMP_WORDS)
    + r")\b[\s:,]*(?:on|at|am|em|el|le|il|pada)?\s*"
    r"[\w\s.,/:-]{0,40}?\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?[\w\s.,()]{0,20}$",
    _FLAGS,
)
_COPYRIGHT = re.compile(r"^\W{0,2}(?:[©ⓒ]|(?:\(c\)|copyright)\s*(?:[©ⓒ]|\(c\)|\d{4}))", _FLAGS)
"""A copyright notice: the sign, or '(c)' or 'Copyright' before the sign or a year (not a
list item '(c) The tenant...', not 'Copyright law...')."""
_COPYRIGHT_WORD = re.compile(r"^(?:\(c\)|copyright\b)", _FLAGS)
"""'(c)' or 'Copyright' before a name: a credit line when it is no sentence ('(c) Wiley-VCH')."""
_READING_TIME = re.compile(
    r"^\W?\d+\s*(?:min(?:ute)?s?|menit|minuten|minutos?|minuti|минут\w*|分)\.?\s*"
    r"(?:read|reading|to read|de leitura|lesezeit|baca|de lectura|de lecture|di lettura)?\W?$",
    _FLAGS,
)


@dataclass(frozen=True, slots=True)
class Context:
    """What the page says about itself, to recognize its own headline and labels in the text."""

    titles: frozenset[str] = frozenset()
    """Word keys (`normalize.word_key`) of the headline and declared titles."""
    labels: frozenset[str] = frozenset()
    """Word keys of the site name, categories and authors (kicker and byline lines)."""
    captions: frozenset[str] = frozenset()
    """Word keys of image captions, alt texts and credit lines found in the markup."""


def context(titles: set[str], labels: set[str], captions: set[str]) -> Context:
    """A Context from raw strings (keys are computed here)."""
    return Context(
        *(frozenset(k for k in map(word_key, group) if k) for group in (titles, labels, captions))
    )


def clean(paragraphs: list[str], page: Context) -> list[str]:
    """The paragraphs that are text: the tail after it (links to other articles, contacts,
    sources), chrome lines, captions and repeated headers removed."""
    text = paragraphs[: tail_start(paragraphs)]
    kept = [p for p in text if len(p) > MAX_CHECKED_CHARS or not _dropped(p, page)]
    return kept[_header_end(kept, page) :]


def tail_start(paragraphs: list[str]) -> int:
    """Where what follows the text begins: a tail heading (`phrases.TAIL_HEADINGS`: 'Related
    articles', 'Weitere Themen', 'Pressekontakt:', 'Quellen') in the second half of the words
    and followed by a headline-long line (a teaser title, a list item, a name) or nothing,
    with everything after it going too (teasers, addresses, references). A heading followed by
    a paragraph of prose is an inline box's, whose teaser is gone: the text goes on; so does
    it after a heading in the first half (the line rules see those)."""
    words = [len(p.split()) for p in paragraphs] + [0]
    half, seen = sum(words) / 2, 0
    for index, paragraph in enumerate(paragraphs):
        if (
            seen >= half
            and words[index + 1] <= MAX_LABEL_WORDS
            and _is_tail_heading(paragraph, words[index])
        ):
            return index
        seen += words[index]
    return len(paragraphs)


def _header_end(paragraphs: list[str], page: Context) -> int:
    """How many leading paragraphs are the page's header: headline, kicker, byline, dateline.

    Those that are the headline or a label go; so do short lines above a repeated headline."""
    end = 0
    for index, paragraph in enumerate(paragraphs[:HEADER_PARAGRAPHS]):
        if _is_header(paragraph, page):
            end = index + 1
        elif len(paragraph.split()) > MAX_KICKER_WORDS:
            break
    while end < len(paragraphs) and _is_header(paragraphs[end], page):
        end += 1
    return end


def _dropped(paragraph: str, page: Context) -> bool:
    """True for a chrome line or a caption of one of the page's images."""
    return is_chrome(paragraph) or (bool(page.captions) and word_key(paragraph) in page.captions)


def _is_header(paragraph: str, page: Context) -> bool:
    """True for a headline, kicker (section, site), byline or dateline line."""
    paragraph_key = word_key(paragraph)
    if paragraph_key in page.titles or paragraph_key in page.labels:
        return True
    words = paragraph_key.split()
    if len(words) <= 8 and words and words[0] in ("by", "von", "oleh", "por", "par", "di"):
        return any(label in paragraph_key for label in page.labels)
    return (
        len(words) <= MAX_DATELINE_WORDS
        and _DATELINE.match(paragraph) is not None
        and parse_date(paragraph) is not None
    )


def is_chrome(paragraph: str) -> bool:
    """True if a whole paragraph is a chrome line in one of the known languages."""
    text = paragraph.strip()
    words = len(text.split())
    if words > MAX_CHROME_WORDS:
        return False
    if word_key(text) in CHROME_KEYS or _SEPARATOR.match(text) or _FILE_NAME.match(text):
        return True
    if _is_tail_heading(text, words):
        return True
    if _READING_TIME.match(text) or _SHORTCODE.match(text) or _TIMESTAMP.match(text):
        return True
    if words <= MAX_LABEL_WORDS and (_LABEL.match(text) or _WIRE_CREDIT.match(text)):
        return True
    if words <= MAX_CREDIT_WORDS and _is_credit(text):
        return True
    if _PROMPT.match(text) and (_PROMPT_TOPIC.search(text) or _short_call(text, words)):
        return True
    if (words <= MAX_PROMPT_WORDS and _COMMENT_COUNT.match(text)) or _disclosure(text):
        return True
    if _COPYRIGHT.match(text) or _RIGHTS.match(text):  # a notice, never prose
        return True
    return words <= 20 and bool(_CONTRIBUTED.search(text))


def _is_tail_heading(text: str, words: int) -> bool:
    """A heading of what follows a text (`phrases.TAIL_HEADINGS`), kicker-short."""
    return words <= MAX_KICKER_WORDS and _TAIL_HEADING.match(text) is not None


def _short_call(text: str, words: int) -> bool:
    """A call to action too short to name what it sells ('Jetzt unterstützen!'); not one in
    quotation marks, which is someone speaking ('"Join us," she said.')."""
    return words <= MAX_PROMPT_WORDS and not _QUOTES.search(text)


def _disclosure(text: str) -> bool:
    """An advertising or affiliate disclosure (`phrases.DISCLOSURES`) anywhere in the text."""
    lower = text.lower()
    return any(h in lower for h in _DISCLOSURE_HINTS) and bool(_DISCLOSURE.search(text))


def _is_credit(text: str) -> bool:
    """A photo credit (short; not a sentence ending in a full stop). Copyright notices are
    `is_chrome`'s up to 40 words."""
    if _CREDIT_START.match(text):
        return True
    if text.endswith(".") and not text.endswith(("Ltd.", "Inc.", "Co.")):
        return False
    return bool(
        _COPYRIGHT_WORD.match(text) or _CREDIT_NAMED.match(text) or _AGENCY_CREDIT.search(text)
    )
