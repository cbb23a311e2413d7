"""One raw message in, one cleaned page or one failure out: the CPU-bound steps, in order.

`process` is pure and synchronous; `runner` runs it in child processes, off the event loop.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import cramjam

from worker import codec
from worker.core import decode, envelope, fingerprint, minhash
from worker.core.article import clean_html
from worker.core.normalize import canonicalize_url, word_count
from worker.core.pagetype import PageRules
from worker.errors import PageError, Reason
from worker.records import (
    SCHEMA_VERSION,
    Cleaned,
    Extracted,
    RawPage,
    Rejected,
    Sketched,
    Source,
)

BASE64_OVERHEAD = 4 / 3
MAX_ECHO_CHARS = 4096
"""Longest URL or key copied into a rejection record."""
DEFAULT_RULES = PageRules()


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a message could not become a page, with what was learned before it failed."""

    reason: Reason
    detail: str
    url: str | None = None
    source: str | None = None


def process(
    value: bytes | None, origin: Source, max_page_bytes: int, rules: PageRules = DEFAULT_RULES
) -> Extracted | Failure:
    """Run every step on one raw message; a PageError becomes a Failure."""
    result = _process(value, origin, max_page_bytes, rules)
    return result if isinstance(result, Failure) else result[0]


def _process(
    value: bytes | None, origin: Source, max_page_bytes: int, rules: PageRules
) -> tuple[Extracted, datetime | None] | Failure:
    """`process`, and the moment from which the same page fetched later may clean otherwise."""
    page: RawPage | None = None
    try:
        page = parse(value, max_page_bytes)
        return _clean(page, origin, max_page_bytes, rules)
    except PageError as exc:
        return _failure(exc.reason, exc.detail, page)
    except MemoryError:  # the child's address-space limit (runner), hit by this page
        return _failure(Reason.MEMORY_LIMIT, "page needed more memory than allowed", page)
    except RecursionError:
        return _failure(Reason.TOO_DEEP, "page nesting too deep to process", page)


def _failure(reason: Reason, detail: str, page: RawPage | None) -> Failure:
    """A failure with the page's URL and source when parsing got that far."""
    if page is None:
        return Failure(reason, detail)
    return Failure(reason, detail, page.url, page.source)


def process_sketched(
    value: bytes | None, origin: Source, max_page_bytes: int, rules: PageRules = DEFAULT_RULES
) -> Sketched | Failure:
    """`process`, then the cleaned text's MinHash sketch (for near-duplicate detection)."""
    result = process_reusable(value, origin, max_page_bytes, rules)
    return result if isinstance(result, Failure) else result.sketched


@dataclass(frozen=True, slots=True)
class Reusable:
    """A sketched page, and until when a re-fetch of the same bytes cleans the same."""

    sketched: Sketched
    same_until: str | None
    """ISO-8601: a re-fetch fetched from then on may get other dates (None: never)."""


def process_reusable(
    value: bytes | None, origin: Source, max_page_bytes: int, rules: PageRules = DEFAULT_RULES
) -> Reusable | Failure:
    """`process_sketched`, telling until when its result holds for the same page re-fetched
    (`refetch.Cache`)."""
    result = _process(value, origin, max_page_bytes, rules)
    if isinstance(result, Failure):
        return result
    extracted, same_until = result
    sketch = minhash.sketch(extracted.text)
    until = None if same_until is None else envelope.iso_utc(same_until)
    return Reusable(Sketched(extracted, sketch.encode(), sketch.shingles), until)


def parse(value: bytes | None, max_page_bytes: int) -> RawPage:
    """Decode and validate a raw message."""
    if not value:
        raise PageError(Reason.EMPTY_MESSAGE, "message has no value")
    if len(value) > max_page_bytes * BASE64_OVERHEAD + 65536:
        raise PageError(Reason.TOO_LARGE, f"message is {len(value)} bytes")
    return envelope.parse_raw_page(codec.decode(value))


def clean(
    page: RawPage, origin: Source, max_page_bytes: int, rules: PageRules = DEFAULT_RULES
) -> Extracted:
    """Turn a validated page into an Extracted record."""
    return _clean(page, origin, max_page_bytes, rules)[0]


def _clean(
    page: RawPage, origin: Source, max_page_bytes: int, rules: PageRules
) -> tuple[Extracted, datetime | None]:
    """`clean`, and the moment from which the same page fetched later may clean otherwise."""
    canonicalize_url(page.url)  # refuses a URL we cannot canonicalize before any parsing
    decode.check_content_type(page.headers)
    html = page.html
    if html is None:
        body = decode.decompress(page.body or b"", page.headers, max_page_bytes)
        html = decode.decode_body(body, page.headers)
    if len(html) > max_page_bytes:
        raise PageError(Reason.TOO_LARGE, f"page is {len(html)} characters (max {max_page_bytes})")
    decode.check_markup(html)
    fetched_at = fetch_time(page, origin)
    found, same_until = clean_html(
        html, page.url, page.status, datetime.fromisoformat(fetched_at), rules
    )
    extracted = Extracted(
        id=fingerprint.article_id(found.canonical_url),
        url=page.url,
        word_count=word_count(found.text),
        content_hash=fingerprint.content_hash(found.text),
        fetched_at=fetched_at,
        source=page.source,
        meta=page.meta,
        origin=origin,
        **{f.name: getattr(found, f.name) for f in fields(Cleaned)},
    )
    return extracted, same_until


def rules_from(settings: Any) -> PageRules:
    """The page-type rules from a Settings object (reject_page_types, listing_link_share,
    short_text_words); raises ValueError for an unknown page type."""
    return PageRules.parse(
        settings.reject_page_types, settings.listing_link_share, settings.short_text_words
    )


def fetch_time(page: RawPage, origin: Source) -> str:
    """The page's fetch time: as it says, else its raw message's Kafka timestamp."""
    return page.fetched_at or _kafka_time(origin)


def _kafka_time(origin: Source) -> str:
    """The raw message's Kafka timestamp as ISO-8601 (now, if the broker gave none)."""
    if origin.timestamp_ms is None:
        return envelope.iso_utc(datetime.now(UTC))
    return envelope.iso_utc(datetime.fromtimestamp(origin.timestamp_ms / 1000, UTC))


def rejected(
    failure: Failure,
    origin: Source,
    key: bytes | None,
    value: bytes | None,
    record_bytes: int,
    keep_bytes: int | None = None,
) -> Rejected:
    """The rejection record for a failure, carrying the original message whole when it can.

    The record encodes to at most `record_bytes`. The payload is kept as text when it is UTF-8
    and fits, else as base64, else zstd-compressed and base64 (`payload_compression`), else
    (a message that does not compress) cut to what fits as base64. `keep_bytes` caps what is
    kept (None: everything; 0: nothing, the payload's size only).
    """
    raw = value or b""
    kept = raw if keep_bytes is None else raw[:keep_bytes]
    bare = Rejected(
        schema_version=SCHEMA_VERSION,
        reason=failure.reason.value,
        detail=failure.detail[:1024],
        origin=origin,
        url=failure.url[:MAX_ECHO_CHARS] if failure.url else None,
        source=failure.source,
        key=key.decode("utf-8", errors="replace")[:MAX_ECHO_CHARS] if key else None,
        payload_bytes=len(raw),
    )
    room = record_bytes - len(codec.encode(bare)) - RECORD_SLACK
    payload, payload_b64, compression, size = _payload(raw, kept, room)
    return replace(
        bare,
        payload=payload,
        payload_base64=payload_b64,
        payload_compression=compression,
        payload_truncated=size < len(raw),
    )


RECORD_SLACK = 64
"""Bytes a rejection record keeps free beyond its fields (the JSON of a longer field value)."""


def _payload(raw: bytes, kept: bytes, room: int) -> tuple[str | None, str | None, str | None, int]:
    """(text, base64, compression, bytes held) of the kept part of `raw` in `room` bytes of JSON."""
    try:
        raw.decode("utf-8")
        text: str | None = kept.decode("utf-8", errors="ignore")  # a prefix cut mid-character
    except UnicodeDecodeError:
        text = None
    if text is not None and len(codec.encode(text)) <= room:
        return text, None, None, len(text.encode("utf-8"))
    if _base64_size(len(kept)) <= room:
        return None, base64.b64encode(kept).decode("ascii"), None, len(kept)
    packed = bytes(cramjam.zstd.compress(kept))
    if _base64_size(len(packed)) <= room:
        return None, base64.b64encode(packed).decode("ascii"), "zstd", len(kept)
    cut = kept[: max(0, (room - 2) // 4 * 3)]
    return None, base64.b64encode(cut).decode("ascii"), None, len(cut)


def _base64_size(n: int) -> int:
    """Bytes of the JSON string holding n bytes in base64."""
    return (n + 2) // 3 * 4 + 2
