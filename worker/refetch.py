"""Unchanged re-fetches recognized before any HTML parsing.

Scrapers fetch the same URL again and again, and most times its bytes have not changed.
Cleaning is a pure function of the URL, the status, the two headers decoding reads and the
page, and of the fetch time only through dates the page gives that are still in the future
(`core.dates.next_change`). So intake keeps, per worker process, the sketched page last cleaned
for each such input (`key`); a message with the same input, fetched no earlier than that page
and before its `same_until`, gets that page with its own fetch time, source, meta and
coordinates instead of being cleaned again: the record full processing gives, so its decision
(a `url` duplicate, usually) is the same too. A page cleaning refused for what it is (a
listing, a homepage, an empty extraction...: a `PageError`, decided before anything reads the
fetch time) is kept as that failure, so its re-fetches (a homepage fetched every few minutes)
get the same rejection with their own source; a failure of the process rather than the page
(timeout, crash, memory, recursion) is cleaned again. The pages are kept zstd-compressed, the
least recently used dropped first beyond `INGEST_REFETCH_CACHE_BYTES`. A re-fetch is found
when it reaches the process that cleaned the earlier fetch: producers that key by URL send
every fetch of a URL to one partition, hence to one process.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

import cramjam

from worker import codec, metrics, pipeline
from worker.errors import Reason
from worker.pipeline import Failure
from worker.records import RawPage, Sketched, Source

Key = bytes
CIRCUMSTANTIAL = frozenset({
    Reason.MEMORY_LIMIT, Reason.TOO_DEEP, Reason.TIMEOUT, Reason.EXTRACTOR_CRASHED,
    Reason.INTERNAL_ERROR,
})  # fmt: skip
"""Failures of the process cleaning a page, not of the page: never kept, the page is cleaned
again (another process, another moment may get through)."""
FAILURE_BYTES = 256
"""What a kept failure counts for, beyond its detail and URL."""


def key(page: RawPage) -> Key:
    """What cleaning reads of a raw page, fetch time aside (128-bit BLAKE2b)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        page.url,
        str(page.status),
        page.headers.get("content-type", ""),
        page.headers.get("content-encoding", ""),
    ):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    if page.html is not None:
        digest.update(b"html\0" + page.html.encode("utf-8", "surrogatepass"))
    else:
        digest.update(b"body\0" + (page.body or b""))
    return digest.digest()


@dataclass(frozen=True, slots=True)
class _Kept:
    packed: bytes
    """The sketched page, encoded and zstd-compressed."""
    fetched_at: datetime
    same_until: datetime | None

    @property
    def size(self) -> int:
        return len(self.packed)


@dataclass(frozen=True, slots=True)
class _Refused:
    failure: Failure
    """Why cleaning refused the page: the same for any fetch of the same input."""

    @property
    def size(self) -> int:
        return FAILURE_BYTES + len(self.failure.detail) + len(self.failure.url or "")


class Cache:
    """Cleaned pages and refusals by `key`, bounded in bytes (0: nothing kept, nothing parsed
    here)."""

    def __init__(self, max_bytes: int, max_page_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_page_bytes = max_page_bytes
        self.bytes = 0
        self.kept: OrderedDict[Key, _Kept | _Refused] = OrderedDict()

    def lookup(
        self, value: bytes | None, origin: Source
    ) -> tuple[Key | None, Sketched | Failure | None]:
        """The key of a raw message (None: not kept, or not a valid page: the child will say
        why) and, for a re-fetch of a kept page, the page or failure cleaning it would give."""
        if self.max_bytes <= 0:
            return None, None
        try:
            page = pipeline.parse(value, self.max_page_bytes)
        except Exception:  # whatever is wrong with it, the child says it as processing would
            return None, None
        found = key(page)
        kept = self.kept.get(found)
        if kept is None:
            return found, None
        if isinstance(kept, _Refused):
            self.kept.move_to_end(found)
            metrics.REFETCH_REUSED.inc()
            return found, replace(kept.failure, source=page.source)
        fetched_at = pipeline.fetch_time(page, origin)
        moment = datetime.fromisoformat(fetched_at)
        if moment < kept.fetched_at:
            return found, None
        if kept.same_until is not None and moment >= kept.same_until:
            return found, None
        self.kept.move_to_end(found)
        sketched = codec.sketched(bytes(cramjam.zstd.decompress(kept.packed)))
        metrics.REFETCH_REUSED.inc()
        again = replace(
            sketched.page, fetched_at=fetched_at, source=page.source, meta=page.meta, origin=origin
        )
        return found, replace(sketched, page=again)

    def keep(self, found: Key, result: pipeline.Reusable | Failure) -> None:
        """Keep what cleaning a page just gave, as the latest for its key (a failure of the
        process, not of the page: nothing)."""
        entry: _Kept | _Refused
        if isinstance(result, Failure):
            if result.reason in CIRCUMSTANTIAL:
                return
            entry = _Refused(result)
        else:
            until = result.same_until
            entry = _Kept(
                bytes(cramjam.zstd.compress(codec.encode(result.sketched))),
                datetime.fromisoformat(result.sketched.page.fetched_at),
                None if until is None else datetime.fromisoformat(until),
            )
        old = self.kept.pop(found, None)
        if old is not None:
            self.bytes -= old.size
        self.kept[found] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes and self.kept:
            _, dropped = self.kept.popitem(last=False)
            self.bytes -= dropped.size
