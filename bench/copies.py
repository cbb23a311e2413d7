"""The development corpus made unique: any number of copies that no dedup rule joins.

Copy c of a corpus page gets its own URL: a first path segment `copy-c` inserted after the
host, in the page's URL and in its rel=canonical and og:url (the article id comes from the
canonical URL). Every word of its text nodes (not tags, scripts, styles or comments; a CJK
character is a word, as in `core.minhash`) gets the suffix `q<c>`, so no word 3-shingle of a
copy is in any other copy: near-duplicate detection joins none of them (on the 88 pages, two
copies share no LSH band key), while the page keeps its structure, length and language. A
page is turned into a template once; a copy is two string replacements.

Used by bench/throughput.py: `raw_stream` for raw messages (new copies, re-fetches, pages
marked slow), `sketched_copies` for pages as intake sends them to the dedup stages.
"""

from __future__ import annotations

import html as markup
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit, urlunsplit

import orjson

from bench.extraction import Page
from worker import pipeline
from worker.core import fingerprint, minhash
from worker.core.envelope import iso_utc
from worker.records import Sketched, Source

TAG, SEGMENT = "\x00", "\x01"
"""Placeholders in a template for the copy's word suffix and URL path segment."""
SLOW_MARKER = "bench-slow"
"""In the URL of a page marked slow (`raw_stream`)."""
MAX_PAGE_BYTES = 8 * 2**20
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_WORD = re.compile(f"[{_CJK}]|(?<![&#])(?<![^\\W{_CJK}])[^\\W{_CJK}]+")
"""A word as `core.minhash` cuts them (a CJK character is one), not the name of an entity."""
_MARKUP = re.compile(
    r"(<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>)", re.I | re.S
)
_DECLARATION = re.compile(r"<(?:link|meta)\b[^>]*>", re.I)
_DECLARES = re.compile(r"""\b(?:rel|property|name)\s*=\s*["']?\s*(?:canonical|og:url)\b""", re.I)
_URL_VALUE = re.compile(r"""(\b(?:href|content)\s*=\s*)(["'])(.*?)\2""", re.I | re.S)


def with_segment(url: str, segment: str) -> str:
    """The URL with a first path segment inserted after the host."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{segment}/{parts.path.lstrip('/')}"))


def tagged(text: str) -> str:
    """Every word followed by the word-suffix placeholder."""
    return _WORD.sub(lambda m: m.group(0) + TAG, text)


def segment(copy: int, slow: bool = False) -> str:
    """The path segment of a copy."""
    return f"copy-{copy}-{SLOW_MARKER}" if slow else f"copy-{copy}"


@dataclass(frozen=True, slots=True)
class Template:
    """A corpus page with placeholders for its copy's path segment and word suffix."""

    url: str
    html: str

    def render(self, copy: int, slow: bool = False) -> tuple[str, str]:
        """URL and HTML of one copy."""
        path = segment(copy, slow)
        return self.url.replace(SEGMENT, path), self.html.replace(SEGMENT, path).replace(
            TAG, f"q{copy}"
        )


def template(page: Page) -> Template:
    """The page with its declared URLs under the copy segment and its words tagged."""
    assert TAG not in page.html and SEGMENT not in page.html, page.id
    html = _DECLARATION.sub(lambda m: _retarget(m.group(0), page.url), page.html)
    pieces = _MARKUP.split(html)  # text, markup, text, ...
    pieces[::2] = [tagged(text) for text in pieces[::2]]
    return Template(with_segment(page.url, SEGMENT), "".join(pieces))


def _retarget(element: str, page_url: str) -> str:
    """A rel=canonical or og:url element pointing under the copy segment; others unchanged."""
    if not _DECLARES.search(element):
        return element

    def moved(m: re.Match[str]) -> str:
        target = with_segment(urljoin(page_url, markup.unescape(m.group(3)).strip()), SEGMENT)
        return f"{m.group(1)}{m.group(2)}{markup.escape(target)}{m.group(2)}"

    return _URL_VALUE.sub(moved, element)


@dataclass(frozen=True, slots=True)
class Note:
    """What a message stands for."""

    page: int
    """Index of its corpus page."""
    copy: int
    refetch_of: int | None = None
    """Index of the earlier message it re-fetches."""
    slow: bool = False


def raw_stream(templates: Sequence[Template], count: int, refetches: float = 0.0,
               slow_every: int = 0) -> Iterator[tuple[str, bytes, Note]]:  # fmt: skip
    """(URL, raw-page JSON, note) of each message: new copies, taking the pages in turn, or
    with probability `refetches` a re-fetch of an earlier copy (same URL and HTML, a later
    fetched_at); with `slow_every`, copies 0, n, 2n... carry `SLOW_MARKER` in their URL.
    Fetch times are one second apart, ending an hour ago."""
    rng = random.Random(20261205)
    start = datetime.now(UTC) - timedelta(seconds=count + 3600)
    new: list[int] = []  # indexes of the messages that are new copies
    notes: list[Note] = []
    for index in range(count):
        if new and rng.random() < refetches:
            first = rng.choice(new)
            note = replace(notes[first], refetch_of=first)
        else:
            copy = len(new)
            new.append(index)
            note = Note(copy % len(templates), copy, slow=slow_every > 0 and copy % slow_every == 0)
        notes.append(note)
        url, html = templates[note.page].render(note.copy, note.slow)
        value = {"url": url, "html": html, "status": 200,
                 "headers": {"content-type": "text/html; charset=utf-8"},
                 "fetched_at": iso_utc(start + timedelta(seconds=index)),
                 "source": "bench"}  # fmt: skip
        yield url, orjson.dumps(value), note


def cleaned(pages: Sequence[Page]) -> list[Sketched]:
    """The corpus pages that the worker's pipeline cleans into pages (not rejections)."""
    fetched_at = iso_utc(datetime.now(UTC) - timedelta(hours=2))
    done = []
    for page in pages:
        value = orjson.dumps({"url": page.url, "html": page.html, "fetched_at": fetched_at})
        result = pipeline.process_sketched(value, Source("bench", 0, 0), MAX_PAGE_BYTES)
        if isinstance(result, Sketched):
            done.append(result)
    return done


def sketched_copies(pages: Sequence[Sketched], count: int, raw_topic: str, partitions: int
                    ) -> Iterator[Sketched]:  # fmt: skip
    """Copies of cleaned pages, as intake sends them to the by-url topic: URL, canonical URL,
    id, text (words tagged), content hash and sketch of their own; the origin names raw
    message `copy` of a topic with this many partitions (round robin), without a timestamp."""
    texts = [tagged(page.page.text) for page in pages]
    for copy in range(count):
        page, path = pages[copy % len(pages)].page, segment(copy)
        canonical = with_segment(page.canonical_url, path).rstrip("/")
        text = texts[copy % len(pages)].replace(TAG, f"q{copy}")
        origin = Source(raw_topic, copy % partitions, copy // partitions)
        extracted = replace(page, url=with_segment(page.url, path), text=text, origin=origin,
                            canonical_url=canonical, id=fingerprint.article_id(canonical),
                            content_hash=fingerprint.content_hash(text))  # fmt: skip
        sketch = minhash.sketch(text)
        yield Sketched(extracted, sketch.encode(), sketch.shingles)
