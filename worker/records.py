"""The records that travel through the worker, one dataclass per topic value.

Each output record mirrors a JSON Schema in `schemas/` (checked by tests/contract) and carries
`schema_version`. Records are plain data: encoding lives in `codec`, decisions in `core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 2
"""2: duplicates gained `near`, `similarity` and `stale`."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a message was read: the coordinates of the original raw page."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None
    """Kafka timestamp of the raw message, if the broker gave one."""


@dataclass(frozen=True, slots=True)
class RawPage:
    """A validated input message from the raw topic."""

    url: str
    html: str | None = None
    """The page as text (mutually exclusive with `body`)."""
    body: bytes | None = None
    """The page as bytes of unknown charset (sent base64-encoded)."""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """HTTP response headers, names lower-cased."""
    fetched_at: str | None = None
    """ISO-8601 UTC fetch time, normalized; None means 'use the Kafka timestamp'."""
    source: str | None = None
    """Which scraper produced the page."""
    meta: Any = None
    """Producer data passed through untouched."""


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Everything the worker learns from one page's HTML (`core.article.clean_html`)."""

    canonical_url: str
    title: str | None
    """The headline, never repeated as the first paragraph of `text`."""
    author: list[str]
    """Names of people; no byline fragments, site, agency or section names (empty if unsure)."""
    date_published: str | None
    """YYYY-MM-DD: JSON-LD, <meta>, <time>, the URL, then the text; never after `fetched_at`."""
    date_modified: str | None
    """YYYY-MM-DD, if declared; not before `date_published` nor after `fetched_at`."""
    language: str | None
    """ISO 639-1, identified from the text (the page's lang attribute only as a hint)."""
    site_name: str | None
    description: str | None
    categories: list[str]
    tags: list[str]
    image: str | None
    """Lead image URL."""
    images: list[dict[str, str | None]]
    """The page's figures: {"src", "alt", "caption"}; captions are kept out of `text`."""
    text: str
    """Main text, NFC; paragraphs separated by one blank line."""
    page_type: str
    """article, paywall or other (listing, homepage and error pages are rejected by default)."""
    quality: dict[str, float]
    """text_to_markup, boilerplate_removed, language_confidence, paragraphs, link_share."""


@dataclass(frozen=True, slots=True)
class Extracted(Cleaned):
    """A cleaned page before deduplication: everything an article has but its revision."""

    id: str
    """Deterministic article id: a hash of `canonical_url`."""
    url: str
    word_count: int
    content_hash: str
    """Hash of the normalized text: equal texts, equal hashes."""
    fetched_at: str
    source: str | None
    meta: Any
    origin: Source
    """Coordinates of the raw message this page came from."""


@dataclass(frozen=True, slots=True)
class Article(Extracted):
    """An accepted page, published on the articles topic keyed by `id`: an Extracted page
    with its revision."""

    schema_version: int
    revision: int
    """1 for the first content seen at this id, +1 for each change."""
    processed_at: str
    """When the revision was first decided; a replayed page keeps it."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A page dropped as a duplicate, published keyed by its own `id`."""

    schema_version: int
    kind: str
    """`url`: same canonical URL, unchanged or cosmetically changed text (or a stale fetch);
    `content`: the same text under another URL; `near`: nearly the same text under another URL."""
    duplicate_of: str
    """The id of the published article this page repeats."""
    similarity: float
    """Estimated Jaccard similarity of the two texts' shingles (1.0 for the same text)."""
    stale: bool
    """True if the page was fetched before the article's current revision."""
    id: str
    url: str
    canonical_url: str
    content_hash: str
    fetched_at: str
    source: str | None
    meta: Any
    origin: Source


@dataclass(frozen=True, slots=True)
class Sketched:
    """A cleaned page on its way through the internal dedup topics, with its MinHash sketch."""

    page: Extracted
    signature: str
    """Base64 of the MinHash signature (`core.minhash.Sketch`)."""
    shingles: int
    article: str | None = None
    """Set when the page's URL follows another article (its first text was a copy of that
    article's): the id of the article that decides the page (`core.dedup`)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that could not be processed, with why and where it came from."""

    schema_version: int
    reason: str
    """A `Reason` value."""
    detail: str
    origin: Source
    url: str | None = None
    source: str | None = None
    key: str | None = None
    """The original Kafka key, decoded as UTF-8 with replacement, if any."""
    payload: str | None = None
    """The original value when it is valid UTF-8 and fits the record as text."""
    payload_base64: str | None = None
    """The original value, base64-encoded, when it is not UTF-8 or does not fit as text."""
    payload_bytes: int = 0
    """Size of the original value."""
    payload_truncated: bool = False
    """True if the payload fields hold less than the whole original value."""
    payload_compression: str | None = None
    """`zstd` when `payload_base64` holds the original value compressed (a value that fits the
    record no other way); None otherwise."""
