"""Exact deduplication as pure decisions: (what the table holds, page) -> (new state, verdict).

Two stages, each keyed so that its state lives in exactly one partition:
1. by content hash: the first article id seen with a text owns it; the same text under another
   id is a `content` duplicate of the owner.
2. by article id (canonical URL): unchanged content is a `url` duplicate; changed content is
   the next revision.
Both stages remember the raw message (`origin`) that set their state, so a replayed message
(same topic, partition, offset) is re-published, never dropped as a duplicate of itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from worker.records import SCHEMA_VERSION, Article, Duplicate, Extracted, Source


@dataclass(frozen=True, slots=True)
class ContentOwner:
    """Stage-1 state per content hash: which article owns this text."""

    id: str
    origin: list[Any]


@dataclass(frozen=True, slots=True)
class UrlState:
    """Stage-2 state per article id: its latest revision."""

    content_hash: str
    revision: int
    origin: list[Any]
    processed_at: str


def origin_key(origin: Source) -> list[Any]:
    """The identity of a raw message: [topic, partition, offset]."""
    return [origin.topic, origin.partition, origin.offset]


def check_content(
    owner: ContentOwner | None, page: Extracted
) -> tuple[ContentOwner | None, Duplicate | None]:
    """Stage 1: (owner to store or None, duplicate record or None to pass the page on)."""
    if owner is None:
        return ContentOwner(id=page.id, origin=origin_key(page.origin)), None
    if owner.id == page.id or owner.origin == origin_key(page.origin):
        return None, None
    return None, duplicate(page, kind="content", of=owner.id)


def check_url(
    state: UrlState | None, page: Extracted, now: str
) -> tuple[UrlState | None, Article | Duplicate]:
    """Stage 2: (state to store or None, the record to publish)."""
    if state is not None and state.origin == origin_key(page.origin):
        return None, article(page, state.revision, state.processed_at)
    if state is not None and state.content_hash == page.content_hash:
        return None, duplicate(page, kind="url", of=page.id)
    revision = 1 if state is None else state.revision + 1
    new = UrlState(page.content_hash, revision, origin_key(page.origin), now)
    return new, article(page, revision, now)


def article(page: Extracted, revision: int, processed_at: str) -> Article:
    """The article record for a page at a revision."""
    extracted = {f.name: getattr(page, f.name) for f in fields(Extracted)}
    return Article(schema_version=SCHEMA_VERSION, revision=revision, processed_at=processed_at, **extracted)


def duplicate(page: Extracted, kind: str, of: str) -> Duplicate:
    """The duplicate record for a dropped page."""
    return Duplicate(
        schema_version=SCHEMA_VERSION,
        kind=kind,
        duplicate_of=of,
        id=page.id,
        url=page.url,
        canonical_url=page.canonical_url,
        content_hash=page.content_hash,
        fetched_at=page.fetched_at,
        source=page.source,
        meta=page.meta,
        origin=page.origin,
    )


def to_table(state: ContentOwner | UrlState) -> dict[str, Any]:
    """A state as the JSON object stored in its table."""
    return asdict(state)
