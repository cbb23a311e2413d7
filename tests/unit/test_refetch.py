"""`refetch.Cache`: an unchanged re-fetch gets exactly the page cleaning would give it, or is
cleaned again."""

from __future__ import annotations

import orjson

from tests.fixtures.synthetic import article_html, listing_html, message
from worker import pipeline, refetch
from worker.records import Source

MAX = 8 * 1024 * 1024
URL = "https://news.example.com/2025/harbour"


def raw(html: str, fetched_at: str, **fields: object) -> bytes:
    return orjson.dumps(message(URL, html, fetched_at=fetched_at, **fields))


def origin(offset: int) -> Source:
    return Source("pages.raw", 0, offset, 1_760_000_000_000 + offset)


def cleaned_into(cache: refetch.Cache, value: bytes, at: Source) -> None:
    found, again = cache.lookup(value, at)
    assert found is not None and again is None
    result = pipeline.process_reusable(value, at, MAX)
    assert isinstance(result, pipeline.Reusable)
    cache.keep(found, result)


def test_a_later_unchanged_fetch_gets_what_cleaning_it_gives() -> None:
    cache, html = refetch.Cache(2**20, MAX), article_html(3)
    cleaned_into(cache, raw(html, "2026-01-01T00:00:00Z", source="a"), origin(1))
    again_value = raw(html, "2026-02-01T00:00:00Z", source="b", meta={"crawl": 7})
    _, again = cache.lookup(again_value, origin(9))
    assert again is not None
    assert again == pipeline.process_sketched(again_value, origin(9), MAX)  # every field


def test_a_changed_page_url_or_header_and_an_earlier_fetch_are_cleaned_again() -> None:
    cache, html = refetch.Cache(2**20, MAX), article_html(3)
    cleaned_into(cache, raw(html, "2026-01-01T00:00:00Z"), origin(1))
    assert cache.lookup(raw(article_html(4), "2026-02-01T00:00:00Z"), origin(2))[1] is None
    assert cache.lookup(raw(html, "2025-12-31T00:00:00Z"), origin(3))[1] is None
    typed = raw(html, "2026-02-01T00:00:00Z", headers={"content-type": "text/html; charset=latin-1"})
    assert cache.lookup(typed, origin(4))[1] is None
    other = orjson.dumps(message(URL + "?page=2", html, fetched_at="2026-02-01T00:00:00Z"))
    assert cache.lookup(other, origin(5))[1] is None


def test_a_page_giving_a_future_date_is_reused_only_until_that_date() -> None:
    # Fetched before its declared publication time: the date is refused then, valid later.
    html = article_html(5).replace('content="2025-', 'content="2026-', 1)
    published = html.split('article:published_time" content="')[1].split('"')[0]
    cache = refetch.Cache(2**20, MAX)
    cleaned_into(cache, raw(html, "2025-12-30T00:00:00Z"), origin(1))
    before = raw(html, "2025-12-31T00:00:00Z")
    _, again = cache.lookup(before, origin(2))
    assert again is not None and again == pipeline.process_sketched(before, origin(2), MAX)
    after_value = raw(html, "2026-12-31T00:00:00Z")
    assert cache.lookup(after_value, origin(3))[1] is None
    later = pipeline.process_sketched(after_value, origin(3), MAX)
    assert isinstance(later, pipeline.Sketched) and isinstance(again, pipeline.Sketched)
    assert later.page.date_published == published[:10] != again.page.date_published


def test_the_cache_keeps_the_most_recently_used_pages_within_its_bytes() -> None:
    cache = refetch.Cache(1, MAX)  # smaller than any page: each keep drops the one before
    cleaned_into(cache, raw(article_html(1), "2026-01-01T00:00:00Z"), origin(1))
    assert cache.bytes == 0 and not cache.kept
    roomy = refetch.Cache(10**6, MAX)
    for n in range(3):
        cleaned_into(roomy, raw(article_html(n), "2026-01-01T00:00:00Z"), origin(n))
    assert len(roomy.kept) == 3 and roomy.bytes == sum(len(k.packed) for k in roomy.kept.values())


def test_with_no_bytes_nothing_is_parsed_or_kept_and_bad_input_goes_to_the_child() -> None:
    assert refetch.Cache(0, MAX).lookup(raw(article_html(1), "2026-01-01T00:00:00Z"), origin(1)) == (None, None)
    assert refetch.Cache(2**20, MAX).lookup(b"{not json", origin(1)) == (None, None)


def test_a_refetch_of_a_refused_page_gets_the_same_rejection_with_its_own_source() -> None:
    listing = listing_html()
    cache = refetch.Cache(2**20, MAX)
    first = raw(listing, "2026-01-01T00:00:00Z", source="a")
    found, again = cache.lookup(first, origin(1))
    refused = pipeline.process_reusable(first, origin(1), MAX)
    assert found is not None and again is None and isinstance(refused, pipeline.Failure)
    cache.keep(found, refused)
    later = raw(listing, "2024-06-01T00:00:00Z", source="b", meta={"crawl": 8})  # any fetch time
    _, again = cache.lookup(later, origin(9))
    assert again is not None and again == pipeline.process_reusable(later, origin(9), MAX)
    assert isinstance(again, pipeline.Failure) and again.source == "b"


def test_a_failure_of_the_process_is_not_kept_and_the_page_is_cleaned_again() -> None:
    cache = refetch.Cache(2**20, MAX)
    value = raw(article_html(2), "2026-01-01T00:00:00Z")
    found, _ = cache.lookup(value, origin(1))
    assert found is not None
    for reason in refetch.CIRCUMSTANTIAL:
        cache.keep(found, pipeline.Failure(reason, "this time"))
    assert cache.lookup(value, origin(2)) == (found, None) and not cache.kept and cache.bytes == 0
