"""Exact deduplication decisions (worker/core/dedup.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import pytest

from worker.core.dedup import ContentOwner, UrlState, check_content, check_url, origin_key, to_table
from worker.core.fingerprint import article_id, content_hash
from worker.records import SCHEMA_VERSION, Article, Duplicate, Extracted, Source

T1 = "2024-03-14T09:00:00.000Z"
T2 = "2024-03-15T09:00:00.000Z"
Make = Callable[..., Extracted]


@pytest.fixture
def make_page() -> Make:
    """Factory: a small Extracted record for a URL, text and raw-topic offset."""

    def make(
        url: str = "https://example.com/a",
        text: str = "Hello world",
        offset: int = 0,
        partition: int = 0,
    ) -> Extracted:
        return Extracted(
            id=article_id(url),
            url=url,
            canonical_url=url,
            title="Title",
            author=["A. Writer"],
            date_published="2024-03-14",
            date_modified=None,
            language="en",
            site_name="Example",
            description=None,
            categories=[],
            tags=["t"],
            image=None,
            images=[{"src": "https://example.com/i.jpg", "alt": None, "caption": "c"}],
            text=text,
            word_count=len(text.split()),
            page_type="article",
            quality={"language_confidence": 0.9},
            content_hash=content_hash(text),
            fetched_at="2024-03-14T08:30:00.000Z",
            source="crawler",
            meta={"k": [1, 2]},
            origin=Source(topic="pages.raw", partition=partition, offset=offset, timestamp_ms=1),
        )

    return make


def test_origin_key() -> None:
    assert origin_key(Source("pages.raw", 3, 42, 1000)) == ["pages.raw", 3, 42]


# --- stage 1: check_content -------------------------------------------------------------------


def test_first_page_owns_its_content(make_page: Make) -> None:
    page = make_page()
    owner, dup = check_content(None, page)
    assert owner == ContentOwner(id=page.id, origin=["pages.raw", 0, 0])
    assert dup is None


def test_same_id_passes(make_page: Make) -> None:
    first = make_page(offset=0)
    owner, _ = check_content(None, first)
    assert owner is not None
    assert check_content(owner, make_page(offset=9)) == (None, None)


def test_other_id_is_a_content_duplicate(make_page: Make) -> None:
    owner, _ = check_content(None, make_page("https://example.com/a", offset=0))
    assert owner is not None
    other = make_page("https://mirror.example.org/copy", text="  HELLO   world ", offset=5)
    new, dup = check_content(owner, other)
    assert new is None
    assert isinstance(dup, Duplicate)
    assert dup.kind == "content"
    assert dup.duplicate_of == owner.id == article_id("https://example.com/a")
    assert dup.id == other.id
    assert dup.url == other.url and dup.canonical_url == other.canonical_url
    assert dup.content_hash == other.content_hash
    assert dup.origin == other.origin and dup.meta == other.meta and dup.source == other.source
    assert dup.schema_version == SCHEMA_VERSION


def test_content_replay_with_same_origin_passes(make_page: Make) -> None:
    """A replay of the message that set the owner must not become a duplicate of itself."""
    owner = ContentOwner(id=article_id("https://example.com/a"), origin=["pages.raw", 0, 7])
    other = make_page("https://mirror.example.org/copy", offset=7)
    assert check_content(owner, other) == (None, None)


def test_content_owner_survives_a_table_round_trip(make_page: Make) -> None:
    owner, _ = check_content(None, make_page(offset=3))
    assert owner is not None
    stored = ContentOwner(**to_table(owner))
    replayed = make_page("https://mirror.example.org/copy", offset=3)
    assert check_content(stored, replayed) == (None, None)


# --- stage 2: check_url -----------------------------------------------------------------------


def test_new_url_is_revision_1(make_page: Make) -> None:
    page = make_page(offset=0)
    state, record = check_url(None, page, T1)
    assert state == UrlState(page.content_hash, 1, ["pages.raw", 0, 0], T1)
    assert isinstance(record, Article)
    assert record.revision == 1 and record.processed_at == T1
    assert record.schema_version == SCHEMA_VERSION


def test_article_carries_every_extracted_field(make_page: Make) -> None:
    page = make_page()
    _, record = check_url(None, page, T1)
    for f in fields(Extracted):
        assert getattr(record, f.name) == getattr(page, f.name), f.name


def test_same_hash_is_a_url_duplicate(make_page: Make) -> None:
    state, _ = check_url(None, make_page(offset=0), T1)
    refetch = make_page(text="hello   WORLD", offset=1)
    new, record = check_url(state, refetch, T2)
    assert new is None
    assert isinstance(record, Duplicate)
    assert record.kind == "url"
    assert record.duplicate_of == refetch.id
    assert record.origin == refetch.origin


def test_changed_hash_is_the_next_revision(make_page: Make) -> None:
    state, _ = check_url(None, make_page(offset=0), T1)
    changed = make_page(text="Hello world, updated at noon", offset=1)
    new, record = check_url(state, changed, T2)
    assert new == UrlState(changed.content_hash, 2, ["pages.raw", 0, 1], T2)
    assert isinstance(record, Article)
    assert record.revision == 2 and record.processed_at == T2
    assert record.text == changed.text


def test_revisions_keep_counting(make_page: Make) -> None:
    state: UrlState | None = None
    for offset, text in enumerate(["v1", "v2", "v3", "v4"]):
        new, record = check_url(state, make_page(text=text, offset=offset), T1)
        assert isinstance(record, Article) and record.revision == offset + 1
        state = new


def test_url_replay_with_same_origin_republishes_the_same_article(make_page: Make) -> None:
    page = make_page(offset=4)
    state, first = check_url(None, page, T1)
    assert state is not None
    new, again = check_url(state, page, T2)
    assert new is None
    assert isinstance(again, Article)
    assert again == first
    assert again.revision == 1 and again.processed_at == T1


def test_url_replay_of_a_revision_keeps_its_revision(make_page: Make) -> None:
    state, _ = check_url(None, make_page(text="v1", offset=0), T1)
    changed = make_page(text="v2", offset=1)
    state2, first = check_url(state, changed, T2)
    assert state2 is not None
    stored = UrlState(**to_table(state2))
    new, again = check_url(stored, replace(changed), "2030-01-01T00:00:00.000Z")
    assert new is None
    assert again == first
    assert isinstance(again, Article) and again.revision == 2 and again.processed_at == T2


def test_to_table_is_plain_json_data(make_page: Make) -> None:
    state, _ = check_url(None, make_page(offset=2, partition=1), T1)
    assert state is not None
    table: dict[str, Any] = to_table(state)
    assert table == {
        "content_hash": content_hash("Hello world"),
        "revision": 1,
        "origin": ["pages.raw", 1, 2],
        "processed_at": T1,
    }
