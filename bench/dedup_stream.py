"""A labelled stream of raw pages for near-duplicate detection, made from the development corpus.

    .venv/bin/python -m bench.dedup_stream [--corpus DIR] [--size N] [--seed S] --out FILE

Then `ingest-worker feed FILE`, collect every record of the articles, duplicates and rejected
topics (`ingest-worker dump --expect N > outputs.jsonl`) and score them with bench/dedup_score.py.

Each message is a raw page (schemas/raw_page.schema.json) whose `meta` is its label, written
first in the value so that a truncated rejection payload still starts with it: `msg` (position
in the stream), `cluster` (the article body it carries), `case` (how it was made, see CASES),
`expect` (what the worker should decide: "new" for the first message of a cluster, "revision"
for a substantial update, "stale" for a stale copy, else "duplicate"), `page` (the corpus page
it was made from) and, for some cases, `variant`, `edits` or `new_share`.

Stories: each corpus page used is one story (cluster `story-<page>`), fetched again, re-
templated and edited over three days (SHARES gives the mix; size 2000 uses all 88 pages). A
teaser is a cluster of its own. Hard negatives (the rest of the stream, about 47%) are other
stories on the template of a real page; since every real body is already a story, their
bodies are dealt from a shuffled pile of the corpus's English sentences, so that none repeats
a story and two of them share a sentence or two at most. New text of updates comes from the
same pile.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import math
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
LABELS = ROOT / "bench" / "labels" / "corpus-labels.json"
SEED = 20261202
START = datetime(2026, 11, 30, tzinfo=UTC)
SPAN = timedelta(hours=72)
"""Fetch times of the stream: START to START + SPAN, in arrival order but for a few."""

SHARES = {
    "refetch": 0.09, "refetch_chrome": 0.07, "url_variant": 0.09, "syndicated": 0.07,
    "light_edit": 0.05, "in_place_edit": 0.03, "stale": 0.02, "original_late": 0.01,
    "substantial_update": 0.03, "teaser": 0.03,
}  # fmt: skip
"""Share of the stream per case (at least 2 each); one original per story, hard negatives fill
the rest."""
CASES = ("original", *SHARES, "hard_negative")
PER_STORY = {"teaser": 1, "substantial_update": 2, "in_place_edit": 3}
"""Most messages of a case one story gets."""
AFTER_ORIGINAL = ("refetch", "refetch_chrome", "url_variant", "in_place_edit", "substantial_update")
"""Cases fetched from the story's own site, so after its original."""
TEASER_SHARE = 0.35
HOSTS = 6
"""Aggregator sites news-aggregator-1.example ... -6.example."""

_SLOT = re.compile(r"ZzSlot_(\w+?)_zZ")
"""A slot marker: plain ASCII, which lxml leaves alone even in a URL attribute."""
_PARAGRAPH_TAGS = ("p", "div", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "td",
                   "span", "figcaption", "pre", "dd", "article", "font", "center")  # fmt: skip
_WRAPPERS = frozenset({"div", "p", "section", "article", "blockquote"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“‘(]?[A-Z])")
_LONG_WORD = re.compile(r"\b[^\W\d_]{6,}\b")
_WORD = re.compile(r"\w+")
_REWORDS = ((" said ", " stated "), (" says ", " notes "), (" but ", " though "),
            (" also ", " further "), (" about ", " around "), (" very ", " really "))  # fmt: skip
_CORRECTIONS = (
    "Correction: An earlier version of this article misstated the date of the announcement.",
    "Correction: This article has been updated to correct the spelling of a name.",
    "Correction: A previous version of this story gave an incorrect figure for the total.",
)
_CAPTIONS = ("Photo: file image", "Photo: handout", "Image: Getty Images", "Photo: AP",
             "Photo: Reuters", "Image: social media")  # fmt: skip
_HEADLINES = ("{}: what we know", "Report: {}", "{} (updated)", "{}, sources say")
_BANNERS = (
    "We use cookies to improve your experience. By continuing you agree to our cookie policy.",
    "This site uses cookies for analytics and personalised ads. Manage your choices in Settings.",
    "Cookies help us deliver our services. You can change your preferences at any time.",
    "We and our partners store and access information on your device. Accept all or customise.",
)
_SKELETONS = (
    '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title} | News'
    ' Aggregator {n}</title></head>\n<body><header class="site-header"><a class="logo" href="/">'
    'News Aggregator {n}</a><nav><ul><li><a href="/world">World</a></li><li><a href="/business">'
    'Business</a></li><li><a href="/tech">Tech</a></li></ul></nav></header>\n<main><article '
    'class="story"><h1 class="story-title">{title}</h1><p class="story-meta">Published {date}'
    '</p>{figure}\n<div class="story-body">{body}</div></article>\n<aside class="trending"><h2>'
    'Trending now</h2><ul>{links}</ul></aside></main>\n<footer class="site-footer"><p>© 2026 News'
    ' Aggregator {n}</p><a href="/privacy">Privacy</a></footer></body></html>\n',
    '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title} – Aggregator'
    ' {n} Daily</title></head>\n<body><div id="wrapper"><div id="top-bar"><span>Aggregator {n} '
    'Daily</span> <a href="/subscribe">Subscribe</a></div>\n<div id="content"><div class="post">'
    '<h2 class="post-title">{title}</h2><div class="post-info">{date}</div>{figure}\n<div class='
    '"entry">{body}</div></div>\n<div id="sidebar"><h3>Popular</h3><ul>{links}</ul></div></div>'
    '\n<div id="footer">Aggregator {n} Daily. All content belongs to its owners.</div></div>'
    "</body></html>\n",
    '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title} :: Aggregator'
    ' {n} Wire</title><meta property="og:site_name" content="Aggregator {n} Wire"></head>\n<body>'
    '<nav class="topnav"><a href="/">Home</a> · <a href="/latest">Latest</a></nav>\n<div class='
    '"layout"><section class="main-column" itemscope itemtype="https://schema.org/NewsArticle">'
    '<h1 itemprop="headline">{title}</h1><time>{date}</time>{figure}\n<div itemprop="articleBody">'
    '{body}</div></section>\n<section class="rail"><h3>More stories</h3><ul>{links}</ul></section>'
    "</div>\n<footer><small>Aggregator {n} Wire, 2026</small></footer></body></html>\n",
)


@dataclass(frozen=True)
class Labelled:
    """One message of the stream (a raw-page value) with its label."""

    value: dict[str, Any]
    cluster: str
    case: str
    url: str


@dataclass(frozen=True)
class Page:
    """One corpus page: as fetched, its main text in paragraphs, its labelled title and language."""

    id: str
    url: str
    html: str
    paragraphs: tuple[str, ...]
    title: str
    titles: tuple[str, ...]
    """The headline and its alternatives, as labelled."""
    site: str
    language: str


class Para(NamedTuple):
    """One paragraph of a version of an article body: its text, the template slot it is
    rendered into (None: kept as the page has it) and `kind`: orig (the page's own markup),
    edit (its element with new text) or new (a new paragraph in the page's paragraph style)."""

    text: str
    slot: int | None
    kind: str


Version = tuple[Para, ...]


@dataclass(frozen=True)
class Template:
    """A page's serialization cut at named slots: paragraphs p<i>, title, headline, url,
    description and jsonld, each with the page's own markup as its default."""

    parts: tuple[str, ...]
    slots: tuple[tuple[str, str], ...]
    """(name, role) of the slot after each part but the last."""
    defaults: Mapping[str, str]
    tags: Mapping[int, tuple[str, str]]
    """Opening and closing tag of each paragraph slot."""
    coverage: float
    """Share of the main text in paragraph slots."""
    leftover: float
    """Text around the slots inside their container, relative to the slots' text."""
    title: str
    """The page's <title>."""
    headline: str | None
    """Opening tag of the headline element, if the page's headline is in a slot."""

    def render(self, fill: Mapping[str, str]) -> str:
        """The page with `fill` (by role) in place of the slots' defaults."""
        out = [self.parts[0]]
        for (name, role), part in zip(self.slots, self.parts[1:], strict=True):
            out += (fill[role] if role in fill else self.defaults[name], part)
        return "".join(out)

    @property
    def prototype(self) -> tuple[str, str]:
        """The tags of a new paragraph: those of the page's commonest paragraph element."""
        return Counter(self.tags.values()).most_common(1)[0][0]

    def version(self, page: Page) -> Version:
        """The page's own article body."""
        paragraphs = enumerate(page.paragraphs)
        return tuple(Para(text, i if i in self.tags else None, "orig") for i, text in paragraphs)

    def body(self, version: Version) -> dict[str, str]:
        """The paragraph slots' markup for a version of the body."""
        fill = {f"p{i}": "" for i in self.tags}
        for para in version:
            if para.slot is None:
                continue
            name = f"p{para.slot}"
            if para.kind == "orig":
                fill[name] += self.defaults[name]
            else:
                start, end = self.tags[para.slot] if para.kind == "edit" else self.prototype
                fill[name] += f"{start}{escape(para.text, quote=False)}{end}"
        return fill


def load_corpus(corpus: Path = DEFAULT_CORPUS) -> tuple[Page, ...]:
    """The corpus pages with their ground truth and labels, in id order."""
    return _load(corpus.resolve())


@functools.cache
def _load(corpus: Path) -> tuple[Page, ...]:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    return tuple(
        Page(
            id=page_id,
            url=truth[page_id]["url"],
            html=gzip.decompress((corpus / "html" / f"{page_id}.html.gz").read_bytes()).decode(),
            paragraphs=tuple(
                " ".join(p.split()) for p in truth[page_id]["articleBody"].split("\n") if p.strip()
            ),
            title=labels[page_id]["title"],
            titles=(labels[page_id]["title"], *labels[page_id]["title_alternatives"]),
            site=labels[page_id]["site_name"],
            language=labels[page_id]["language"],
        )
        for page_id in sorted(truth)
    )


@functools.cache
def template(page: Page) -> Template | None:
    """The page cut around its article paragraphs and metadata; None if fewer than 3 paragraphs
    of its main text are found as elements of their own."""
    parser = lxml.html.HTMLParser(encoding="utf-8")
    doc = lxml.html.document_fromstring(page.html.encode(), parser=parser)
    found = _paragraph_elements(doc, page.paragraphs)
    if len(found) < 3:
        return None
    total = sum(map(len, page.paragraphs))
    matched = sum(len(page.paragraphs[i]) for i in found)
    container = _common_ancestor(list(found.values()))
    leftover = len(" ".join(container.text_content().split())) - matched
    defaults: dict[str, str] = {}
    tags: dict[int, tuple[str, str]] = {}
    for i, element in found.items():
        defaults[f"p{i}"] = lxml.html.tostring(element, encoding="unicode", with_tail=False)
        tags[i] = (_start_tag(element), f"</{element.tag}>")
        _replace(element, f"p{i}")
    title = " ".join(doc.findtext(".//title", "").split())
    headline = _mark_metadata(doc, page, defaults)
    text = lxml.html.tostring(doc, encoding="unicode", doctype=doc.getroottree().docinfo.doctype)
    pieces = _SLOT.split(text.replace("<x-slot>", "").replace("</x-slot>", ""))
    names = pieces[1::2]
    roles = [name if name.startswith("p") else name.rstrip("0123456789") for name in names]
    return Template(
        parts=tuple(pieces[::2]),
        slots=tuple(zip(names, roles, strict=True)),
        defaults=defaults,
        tags=tags,
        coverage=matched / total,
        leftover=leftover / matched,
        title=title,
        headline=headline,
    )


def _paragraph_elements(doc: Any, paragraphs: Sequence[str]) -> dict[int, Any]:
    """Ground-truth paragraph index -> the innermost element holding exactly its text."""
    wanted: dict[str, list[int]] = {}
    for i, text in enumerate(paragraphs):
        wanted.setdefault(text, []).append(i)
    found: dict[int, Any] = {}
    taken: set[Any] = set()
    for element in doc.iter(*_PARAGRAPH_TAGS):
        indexes = wanted.get(" ".join(element.text_content().split()))
        if not indexes or element in taken or any(a in taken for a in element.iterancestors()):
            continue
        while True:
            children = [c for c in element if isinstance(c.tag, str)]
            if len(children) != 1 or children[0].tag not in _WRAPPERS:
                break
            if (element.text or "").strip() or (children[0].tail or "").strip():
                break
            element = children[0]
        found[indexes.pop(0)] = element
        taken.add(element)
    return found


def _common_ancestor(elements: list[Any]) -> Any:
    common = set.intersection(*({e, *e.iterancestors()} for e in elements))
    return next(a for a in (elements[0], *elements[0].iterancestors()) if a in common)


def _start_tag(element: Any) -> str:
    attrs = "".join(f' {k}="{escape(v)}"' for k, v in element.attrib.items())
    return f"<{element.tag}{attrs}>"


def _mark(name: str) -> str:
    return f"ZzSlot_{name}_zZ"


def _replace(element: Any, name: str) -> None:
    """Put a slot marker where the element is (its tail stays in the page)."""
    marker = element.makeelement("x-slot")
    marker.text, marker.tail, element.tail = _mark(name), element.tail, None
    element.getparent().replace(element, marker)


def _mark_metadata(doc: Any, page: Page, defaults: dict[str, str]) -> str | None:
    """Put slot markers on the title, headline, URL, description and JSON-LD (their defaults
    into `defaults`); the headline element's opening tag, if found."""

    def mark(role: str, value: str) -> str:
        name = f"{role}{len(defaults)}"
        defaults[name] = value
        return _mark(name)

    for title in doc.iter("title"):
        title.text = mark("title", escape(title.text_content(), quote=False))
    roles = {"og:title": "headline_text", "twitter:title": "headline_text", "og:url": "url",
             "description": "description", "og:description": "description",
             "twitter:description": "description"}  # fmt: skip
    for meta in doc.iter("meta"):
        role = roles.get((meta.get("property") or meta.get("name") or "").lower())
        if role and meta.get("content") is not None:
            meta.set("content", mark(role, escape(meta.get("content"))))
    for link in doc.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href") is not None:
            link.set("href", mark("url", escape(link.get("href"))))
    for script in doc.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json":
            script.text = mark("jsonld", script.text or "")
    titles = {" ".join(t.split()) for t in page.titles}
    for heading in doc.iter("h1"):
        if " ".join(heading.text_content().split()) in titles:
            defaults["headline"] = lxml.html.tostring(heading, encoding="unicode", with_tail=False)
            _replace(heading, "headline")
            return _start_tag(heading)
    return None


def editable(page: Page) -> bool:
    """True if the page's article text can be edited in place."""
    found = template(page)
    return found is not None and found.coverage >= 0.9


def hosts_hard_negatives(page: Page) -> bool:
    """True if another English story can be put in the page's template: the whole text and
    the headline are in slots, little else is around them."""
    found = template(page)
    return (
        page.language == "en"
        and found is not None
        and found.headline is not None
        and found.coverage >= 0.95
        and found.leftover <= 0.15
    )


def teaser_paragraphs(paragraphs: Sequence[str]) -> int:
    """How many first paragraphs a teaser carries: at most 35% of the paragraphs and words."""
    total = sum(len(p.split()) for p in paragraphs)
    count = words = 0
    for paragraph in paragraphs:
        words += len(paragraph.split())
        if count + 1 > TEASER_SHARE * len(paragraphs) or words > TEASER_SHARE * total:
            break
        count += 1
    return count


def kept_share(before: Sequence[str], after: Sequence[str]) -> float:
    """Words two texts share, over the longer one's words (as multisets)."""
    a, b = Counter(_WORD.findall(" ".join(before))), Counter(_WORD.findall(" ".join(after)))
    return sum((a & b).values()) / max(sum(a.values()), sum(b.values()), 1)


def new_share(before: Sequence[str], after: Sequence[str]) -> float:
    """Share of the words of `after` in paragraphs that `before` does not have."""
    old = set(before)
    total = sum(len(p.split()) for p in after)
    return sum(len(p.split()) for p in after if p not in old) / max(total, 1)


class _Deck:
    """The corpus's English sentences, dealt from a reshuffled pile: text for new stories."""

    def __init__(self, pages: Sequence[Page], rng: random.Random) -> None:
        self._rng = rng
        self._all = sorted(
            {
                sentence
                for page in pages
                if page.language == "en"
                for paragraph in page.paragraphs
                for sentence in _SENTENCE_END.split(paragraph)
                if 8 <= len(sentence.split()) <= 40
            }
        )
        self._pile: list[str] = []

    def sentence(self) -> str:
        """The next sentence of the pile."""
        if not self._pile:
            self._pile = self._rng.sample(self._all, len(self._all))
        return self._pile.pop()

    def paragraph(self) -> str:
        """Two or three sentences."""
        return " ".join(self.sentence() for _ in range(self._rng.randint(2, 3)))

    def headline(self) -> str:
        """The first words of a sentence, without the punctuation around them."""
        words = " ".join(self.sentence().split()[: self._rng.randint(6, 10)])
        words = re.sub(r"^\W+|\W+$", "", words)
        return words[:1].upper() + words[1:]


@dataclass
class _Story:
    """One real article through the stream: what its page shows now and showed before."""

    page: Page
    weight: float
    version: Version
    base: str
    """The page showing the current version, without per-fetch chrome."""
    html: str = ""
    """The page as last fetched."""
    late: bool = False
    cases: Counter[str] = field(default_factory=Counter)
    since: datetime = START
    """When the current version was first fetched."""
    previous: tuple[str, datetime] | None = None
    """Base page and its first fetch before the last substantial update."""

    @property
    def cluster(self) -> str:
        """The story's cluster id."""
        return f"story-{self.page.id[:12]}"


class _Event(NamedTuple):
    t: float
    """Arrival time as a share of the stream."""
    case: str
    story: int
    """Index of the story; -1 for a hard negative."""


@dataclass(frozen=True)
class _Message:
    url: str
    html: str
    cluster: str
    page: str
    fetched: datetime
    source: str = "dedup-bench"
    extra: Mapping[str, Any] = field(default_factory=dict)


def generate(corpus: Path = DEFAULT_CORPUS, size: int = 2000, seed: int = SEED) -> list[Labelled]:
    """A deterministic labelled stream of `size` raw-page messages (at least 200)."""
    if size < 200:
        raise ValueError(f"size {size} is too small to hold every case (min 200)")
    return _Builder(load_corpus(corpus), size, random.Random(seed)).build()


class _Builder:
    """Plans the stories and their copies on a time line, then emits them in arrival order."""

    def __init__(self, pages: Sequence[Page], size: int, rng: random.Random) -> None:
        self.pages, self.size, self.rng = pages, size, rng
        self.deck = _Deck(pages, rng)
        self.titles = [page.title for page in pages]
        self.hosts = [page for page in pages if hosts_hard_negatives(page)]
        self.others = 0
        self.stories = [
            _Story(pages[i], min(rng.paretovariate(1.2), 10), _version(pages[i]), pages[i].html)
            for i in self._pick()
        ]

    def build(self) -> list[Labelled]:
        """The stream, labelled."""
        seen: set[str] = set()
        stream = []
        for msg, event in enumerate(sorted(self._plan())):
            message = self._emit(event)
            expect = _expect(event.case, message.cluster in seen)
            seen.add(message.cluster)
            meta = {"msg": msg, "cluster": message.cluster, "case": event.case,
                    "expect": expect, "page": message.page, **message.extra}  # fmt: skip
            value = {"meta": meta, "url": message.url, "fetched_at": _iso(message.fetched),
                     "source": message.source, "html": message.html}  # fmt: skip
            stream.append(Labelled(value, message.cluster, event.case, message.url))
        return stream

    # planning

    def _count(self, case: str) -> int:
        return max(2, round(SHARES[case] * self.size))

    def _pick(self) -> list[int]:
        """Indexes of the story pages, enough editable English ones for the updates first."""
        order = self.rng.sample(range(len(self.pages)), len(self.pages))
        updatable = [i for i in order if _updatable(self.pages[i])]
        first = updatable[: math.ceil(self._count("substantial_update") / 2) + 2]
        count = min(len(self.pages), max(12, self.size // 20))
        return (first + [i for i in order if i not in first])[:count]

    def _plan(self) -> list[_Event]:
        """Every message's arrival time, case and story."""
        for story in self.stories[-self._count("original_late") :]:
            story.late = True
        for case in ("substantial_update", "stale", "in_place_edit", "teaser", "syndicated",
                     "light_edit", "refetch", "refetch_chrome", "url_variant"):  # fmt: skip
            for _ in range(self._count(case)):
                candidates = [s for s in self.stories if self._eligible(case, s)]
                if case == "syndicated" and any(s.late and not s.cases[case] for s in candidates):
                    candidates = [s for s in candidates if s.late and not s.cases[case]]
                if candidates:
                    weights = [s.weight for s in candidates]
                    self.rng.choices(candidates, weights)[0].cases[case] += 1
        events = [e for i, story in enumerate(self.stories) for e in self._timeline(i, story)]
        others = self.size - len(events)
        return events + [_Event(self.rng.random(), "hard_negative", -1) for _ in range(others)]

    def _eligible(self, case: str, story: _Story) -> bool:
        count = story.cases[case]
        if case in ("substantial_update", "in_place_edit", "stale") and story.late:
            return False
        if case == "substantial_update":
            return _updatable(story.page) and count < PER_STORY[case]
        if case == "in_place_edit":
            return editable(story.page) and count < PER_STORY[case]
        if case == "stale":
            return count < story.cases["substantial_update"]
        if case == "teaser":
            paragraphs = story.page.paragraphs
            return story.page.language == "en" and not count and teaser_paragraphs(paragraphs) > 0
        return True

    def _timeline(self, index: int, story: _Story) -> list[_Event]:
        """The story's events: the original first (after a syndicated copy when late), its own
        site's fetches after it, updates at least 20 minutes later, stale copies soon after."""
        rng, cases = self.rng, Counter(story.cases)
        start = origin = rng.uniform(0, 0.8)
        events = [_Event(start, "original", index)]
        if story.late:
            origin = start + rng.uniform(0.001, 0.02)
            events = [_Event(start, "syndicated", index), _Event(origin, "original_late", index)]
            cases["syndicated"] -= 1
        updates = [origin + 0.005 + self._later(origin + 0.005) for _ in
                   range(cases.pop("substantial_update", 0))]  # fmt: skip
        events += [_Event(t, "substantial_update", index) for t in updates]
        for t in rng.sample(updates, cases.pop("stale", 0)):
            events.append(_Event(t + rng.uniform(0.0005, 0.005), "stale", index))
        for case, count in sorted(cases.items()):
            after = origin if case in AFTER_ORIGINAL else start
            events += [_Event(after + self._later(after), case, index) for _ in range(count)]
        return events

    def _later(self, t: float) -> float:
        """A delay after t: near (under 1% of the stream) or far (up to its end), half each."""
        span = max(0.999 - t, 0.0001)
        far = self.rng.random() < 0.5
        return max(self.rng.uniform(0, span if far else min(span, 0.01)), 1e-6)

    # emitting

    def _emit(self, event: _Event) -> _Message:
        """The message of one event; a story's page changes with its edits and updates."""
        fetched = START + SPAN * event.t
        if event.story < 0:
            return self._hard_negative(self._jitter(fetched))
        story = self.stories[event.story]
        page, case = story.page, event.case
        if case in ("original", "original_late"):
            story.html, story.since = page.html, fetched
        elif case in ("syndicated", "light_edit", "teaser"):
            return self._aggregated(case, story, self._jitter(fetched))
        elif case == "stale":
            return self._stale(story)
        elif case == "url_variant":
            url, kind = self._variant(page.url)
            extra = {"variant": kind}
            return _Message(url, story.html, story.cluster, page.id, fetched, extra=extra)
        elif case == "refetch_chrome":
            story.html = self._chrome(story.base, fetched)
        elif case in ("in_place_edit", "substantial_update"):
            return self._edited(case, story, fetched)
        return _Message(page.url, story.html, story.cluster, page.id, fetched)

    def _edited(self, case: str, story: _Story, fetched: datetime) -> _Message:
        """The story's page with its text edited in place: cosmetic, or a substantial update."""
        page, found = story.page, template(story.page)
        assert found is not None  # only editable pages are edited
        if case == "substantial_update":
            story.previous = (story.base, story.since)
            story.since = fetched
            story.version, extra = self._update(story.version)
        else:
            story.version, extra = self._cosmetic(story.version, page.language == "en")
        story.base = found.render(found.body(story.version))
        story.html = self._chrome(story.base, fetched)
        return _Message(page.url, story.html, story.cluster, page.id, fetched, extra=extra)

    def _cosmetic(self, version: Version, english: bool) -> tuple[Version, dict[str, Any]]:
        """A typo, a reworded phrase or a correction line."""
        paras = list(version)
        kind = self.rng.choice(("typo", "reword", "correction") if english else ("typo",))
        if kind == "correction":
            slot = [p.slot for p in paras if p.slot is not None][-1]
            paras.append(Para(self.rng.choice(_CORRECTIONS), slot, "new"))
            return tuple(paras), {"edits": [kind]}
        slotted = [j for j, p in enumerate(paras) if p.slot is not None]
        j = self.rng.choice([j for j in slotted if _LONG_WORD.search(paras[j].text)] or slotted)
        text = _reword(paras[j].text, self.rng) if kind == "reword" else None
        if text is None:
            kind, text = "typo", _typo(paras[j].text, self.rng)
        paras[j] = Para(text, paras[j].slot, "edit")
        return tuple(paras), {"edits": [kind]}

    def _update(self, version: Version) -> tuple[Version, dict[str, Any]]:
        """40-55% new text: paragraphs replaced and added after the first."""
        old = [p.text for p in version]
        paras, target = list(version), self.rng.uniform(0.40, 0.55)
        while (share := new_share(old, [p.text for p in paras])) < target:
            slotted = [j for j, p in enumerate(paras) if j and p.slot is not None]
            if len(slotted) > 2 and self.rng.random() < 0.5:
                j = self.rng.choice(slotted)
                paras[j] = Para(self.deck.paragraph(), paras[j].slot, "new")
            else:
                j = self.rng.randint(1, len(paras))
                paras.insert(j, Para(self.deck.paragraph(), _slot_near(paras, j), "new"))
        return tuple(paras), {"new_share": round(share, 3)}

    def _stale(self, story: _Story) -> _Message:
        """The version before the last update, fetched before it by a slower scraper."""
        assert story.previous is not None  # planned after an update
        base, since = story.previous
        gap = story.since - since
        delay = min(timedelta(minutes=self.rng.uniform(10, 360)), gap * self.rng.uniform(0.2, 0.8))
        when = story.since - delay
        html = self._chrome(base, when)
        page = story.page
        return _Message(page.url, html, story.cluster, page.id, when, "dedup-bench-delayed")

    def _aggregated(self, case: str, story: _Story, fetched: datetime) -> _Message:
        """The story re-templated on an aggregator: whole, lightly edited, or a teaser."""
        rng, page = self.rng, story.page
        texts, title, caption = [p.text for p in story.version], page.title, rng.choice(_CAPTIONS)
        cluster, section, extra = story.cluster, rng.choice(("world", "news", "latest")), {}
        more = ""
        if case == "light_edit":
            texts, title, caption, edits = self._light_edit(texts, title, caption, page.language)
            extra = {"edits": edits}
        elif case == "teaser":
            texts = texts[: teaser_paragraphs(texts)]
            cluster, section = f"teaser-{page.id[:12]}", "briefs"
            more = f'<p class="read-more"><a href="{escape(page.url)}">Read more</a></p>'
        n = rng.randint(1, HOSTS)
        image = hashlib.sha1(f"{page.id}{caption}".encode()).hexdigest()[:16]
        html = _SKELETONS[n % len(_SKELETONS)].format(
            lang=page.language,
            n=n,
            title=escape(title),
            date=f"{fetched:%d %B %Y}",
            figure=f'<figure><img src="https://cdn.news-aggregator-{n}.example/{image}.jpg" '
            f'alt=""><figcaption>{escape(caption)}</figcaption></figure>',
            body="".join(f"<p>{escape(text, quote=False)}</p>" for text in texts) + more,
            links=self._links(4),
        )
        serial = rng.randrange(10**5, 10**6)
        url = f"https://news-aggregator-{n}.example/{section}/{_slug(title)}-{serial}"
        return _Message(url, html, cluster, page.id, fetched, extra=extra)

    def _light_edit(
        self, texts: list[str], title: str, caption: str, language: str
    ) -> tuple[list[str], str, str, list[str]]:
        """A new headline and two of: a paragraph dropped or added, a correction line, another
        caption, typos; keeping at least 75% of the words."""
        rng, total = self.rng, sum(len(t.split()) for t in texts)
        options = ["drop", "add", "correction", "typos", "caption"]
        if language != "en":
            options = ["drop", "typos", "caption"]
        tries = [sorted(rng.sample(options, 2), key=options.index) for _ in range(5)]
        for edits in [*tries, ["typos", "caption"]]:
            edited, new_caption = list(texts), caption
            for edit in edits:
                if edit == "drop":
                    short = [j for j, t in enumerate(texts) if j and len(t.split()) <= 0.15 * total]
                    if short:
                        del edited[rng.choice(short)]
                elif edit == "add":
                    edited.insert(rng.randint(1, len(edited)), self.deck.paragraph())
                elif edit == "correction":
                    edited.append(rng.choice(_CORRECTIONS))
                elif edit == "typos":
                    for j in rng.choices(range(len(edited)), k=3):
                        edited[j] = _typo(edited[j], rng)
                else:
                    new_caption = rng.choice([c for c in _CAPTIONS if c != caption])
            if kept_share(texts, edited) >= 0.75:
                break
        headline = rng.choice(_HEADLINES).format(title)
        return edited, headline, new_caption, ["headline", *edits]

    def _hard_negative(self, fetched: datetime) -> _Message:
        """Another story on a real page's template: its title, headline, URL, description,
        JSON-LD and paragraphs replaced; the page's chrome kept."""
        rng, self.others = self.rng, self.others + 1
        page = rng.choice(self.hosts)
        found = template(page)
        assert found is not None and found.headline is not None  # see hosts_hard_negatives
        title = self.deck.headline()
        texts = [self.deck.paragraph() for _ in range(rng.randint(4, 10))]
        slots = sorted(found.tags)
        body = [Para(t, slots[min(j, len(slots) - 1)], "new") for j, t in enumerate(texts)]
        url = _sibling(page.url, title, rng.randrange(10**5, 10**6))
        page_title = next((found.title.replace(t, title) for t in page.titles if t in found.title),
                          f"{title} | {page.site}")  # fmt: skip
        jsonld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                  "url": url, "datePublished": _iso(fetched)}  # fmt: skip
        fill = found.body(tuple(body)) | {
            "title": escape(page_title, quote=False),
            "headline": f"{found.headline}{escape(title, quote=False)}</h1>",
            "headline_text": escape(title),
            "url": escape(url),
            "description": escape(_SENTENCE_END.split(texts[0])[0]),
            "jsonld": json.dumps(jsonld, ensure_ascii=False).replace("</", "<\\/"),
        }
        html = self._chrome(found.render(fill), fetched)
        return _Message(url, html, f"other-{self.others:04d}", page.id, fetched)

    def _chrome(self, html: str, fetched: datetime) -> str:
        """The page with this fetch's chrome: a cookie banner, the date in the masthead, ad
        slots and a "most read" list, outside the article."""
        rng = self.rng
        top = (
            f'<div class="cookie-consent" role="dialog"><p>{rng.choice(_BANNERS)}</p>'
            '<button type="button">Accept</button></div>'
            f'<div class="masthead-date">{fetched:%A %d %B %Y, %H:%M} GMT</div>'
            f'<div class="ad-slot" data-slot="top-{rng.randrange(10**6)}">Advertisement</div>'
        )
        bottom = (
            f'<aside class="most-read"><h2>Most read</h2><ol>{self._links(5)}</ol></aside>'
            f'<div class="ad-slot" data-slot="foot-{rng.randrange(10**6)}">Advertisement</div>'
        )
        opening = re.search(r"<body\b[^>]*>", html, re.IGNORECASE)
        start = opening.end() if opening else 0
        end = max(html.rfind("</body>"), html.rfind("</BODY>"))
        end = end if end >= start else len(html)
        return html[:start] + top + html[start:end] + bottom + html[end:]

    def _links(self, count: int) -> str:
        titles = self.rng.sample(self.titles, count)
        return "".join(f'<li><a href="/{_slug(t)}">{escape(t)}</a></li>' for t in titles)

    def _jitter(self, fetched: datetime) -> datetime:
        """One page in ten from other sites was fetched up to 90 minutes before it arrives."""
        if self.rng.random() >= 0.1:
            return fetched
        return max(START, fetched - timedelta(minutes=self.rng.uniform(1, 90)))

    def _variant(self, url: str) -> tuple[str, str]:
        """The URL with tracking parameters, an AMP path or query, the other scheme, with or
        without www., with or without a trailing slash; and which."""
        scheme, host, path, query, fragment = urlsplit(url)
        kinds = ["utm", "fbclid", "amp_query", "amp_path", "scheme", "www"]
        kind = self.rng.choice(kinds if path.endswith(".html") else [*kinds, "slash"])
        joined = f"{query}&" if query else ""
        if kind == "utm":
            medium = self.rng.choice(("social", "email", "rss"))
            query = f"{joined}utm_source=newsletter&utm_medium={medium}&utm_campaign=daily"
        elif kind == "fbclid":
            query = f"{joined}fbclid=IwAR{self.rng.getrandbits(96):024x}"
        elif kind == "amp_query":
            query = f"{joined}amp=1"
        elif kind == "amp_path":
            path = f"/amp{path}" if path.endswith(".html") else f"{path.rstrip('/')}/amp/"
        elif kind == "scheme":
            scheme = "http" if scheme == "https" else "https"
        elif kind == "www":
            host = host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"
        else:
            path = path[:-1] if path.endswith("/") and len(path) > 1 else f"{path}/"
        return urlunsplit((scheme, host, path, query, fragment)), kind


def _updatable(page: Page) -> bool:
    return page.language == "en" and editable(page)


def _version(page: Page) -> Version:
    found = template(page)
    return found.version(page) if found else tuple(Para(t, None, "orig") for t in page.paragraphs)


def _slot_near(paras: Sequence[Para], j: int) -> int | None:
    """The slot of the nearest paragraph before position j that has one (else after it)."""
    before = [p.slot for p in paras[:j] if p.slot is not None]
    after = [p.slot for p in paras[j:] if p.slot is not None]
    return before[-1] if before else after[0] if after else None


def _typo(text: str, rng: random.Random) -> str:
    """Two neighbouring letters of a long word swapped."""
    words = list(_LONG_WORD.finditer(text))
    if not words:
        return text
    word = rng.choice(words)
    w = word.group()
    k = rng.choice([k for k in range(1, len(w) - 2) if w[k] != w[k + 1]] or [1])
    return f"{text[: word.start()]}{w[:k]}{w[k + 1]}{w[k]}{w[k + 2 :]}{text[word.end() :]}"


def _reword(text: str, rng: random.Random) -> str | None:
    """One common word replaced by a near synonym; None if there is none to replace."""
    found = [(a, b) for a, b in _REWORDS if a in text]
    if not found:
        return None
    a, b = rng.choice(found)
    return text.replace(a, b, 1)


def _sibling(url: str, title: str, serial: int) -> str:
    """Another article's URL on the same site, in the same section."""
    scheme, host, path, _query, _fragment = urlsplit(url)
    head = path.rstrip("/").rsplit("/", 1)[0]
    ext = ".html" if path.endswith(".html") else ""
    return urlunsplit((scheme, host, f"{head}/{_slug(title)}-{serial}{ext}", "", ""))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower())[:8]) or "story"


def _expect(case: str, seen: bool) -> str:
    """What the worker should decide for a message of its cluster."""
    if case in ("substantial_update", "stale"):
        return "revision" if case == "substantial_update" else "stale"
    return "duplicate" if seen else "new"


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def summary(stream: Sequence[Labelled]) -> str:
    """Messages per case, clusters and the share of duplicates, in a few lines."""
    cases = Counter(item.case for item in stream)
    expect = Counter(item.value["meta"]["expect"] for item in stream)
    dropped = expect["duplicate"] + expect["stale"]
    lines = [
        f"{len(stream)} messages, {len({item.cluster for item in stream})} clusters, "
        f"{dropped / len(stream):.1%} duplicates (expect: {dict(sorted(expect.items()))})"
    ]
    lines += [f"  {case:<20} {cases[case]:>5}" for case in CASES]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Write the stream as JSON lines, one raw-page value a line; the mix to stderr."""
    parser = argparse.ArgumentParser(prog="python -m bench.dedup_stream", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    stream = generate(args.corpus, args.size, args.seed)
    with args.out.open("w", encoding="utf-8") as out:
        for item in stream:
            out.write(json.dumps(item.value, ensure_ascii=False) + "\n")
    sys.stderr.write(summary(stream))


if __name__ == "__main__":
    main(sys.argv[1:])
