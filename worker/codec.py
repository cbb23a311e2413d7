"""Bytes <-> records: the only module that imports orjson."""

from __future__ import annotations

from typing import Any

import orjson

from worker.core.dedup import (
    BandQuery,
    BandRelease,
    BandReply,
    BandSettle,
    Candidate,
    Member,
    Pending,
    UrlState,
)
from worker.errors import PageError, Reason
from worker.records import Extracted, Sketched, Source


def encode(record: Any) -> bytes:
    """Serialize a record (dataclass, dict or list) to compact JSON bytes."""
    return orjson.dumps(record)


def decode(data: bytes | str) -> Any:
    """Parse JSON bytes; raise PageError(NOT_JSON) with orjson's message if they are not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PageError(Reason.NOT_JSON, f"not JSON: {exc}") from None


def plain(record: Any) -> Any:
    """A record as JSON-compatible dicts and lists (what a table stores)."""
    return orjson.loads(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS))


def extracted(fields: dict[str, Any]) -> Extracted:
    """An Extracted record from its JSON object."""
    return Extracted(**{**fields, "origin": Source(**fields["origin"])})


def sketched(data: bytes | dict[str, Any]) -> Sketched:
    """A page of the internal by-url topic (or of the pending table)."""
    fields = orjson.loads(data) if isinstance(data, bytes) else data
    page = extracted(fields["page"])
    return Sketched(page, fields["signature"], fields["shingles"], fields.get("article"))


BandMessage = BandQuery | BandSettle | BandRelease
BAND_TAGS: dict[type, str] = {BandQuery: "query", BandSettle: "settle", BandRelease: "release"}


def band_message(message: BandMessage) -> bytes:
    """A message of the internal by-band topic: a query, a settle or a release, tagged."""
    return orjson.dumps({BAND_TAGS[type(message)]: message})


def decode_band_message(data: bytes) -> BandMessage:
    """The inverse of `band_message`."""
    fields = orjson.loads(data)
    if "settle" in fields:
        return BandSettle(**fields["settle"])
    if "release" in fields:
        return BandRelease(**fields["release"])
    return band_query(fields["query"])


def band_query(fields: dict[str, Any]) -> BandQuery:
    """A band query from its JSON object (a message or a waiting entry)."""
    return BandQuery(**{**fields, "bands": [tuple(band) for band in fields["bands"]]})


def band_reply(data: bytes) -> BandReply:
    """A message of the internal verdicts topic."""
    fields = orjson.loads(data)
    candidates = [Candidate(**c) for c in fields["candidates"]]
    return BandReply(fields["member"], fields["part"], candidates)


def url_state(stored: dict[str, Any] | None) -> UrlState:
    """A url-state table value."""
    return UrlState.from_json(stored)


def pending(page: dict[str, Any], progress: dict[str, Any]) -> Pending:
    """A pending page from its two table entries (`pending_entries`)."""
    replies = {
        int(part): [Candidate(**c) for c in candidates]
        for part, candidates in progress["replies"].items()
    }
    return Pending(sketched(page["page"]), progress["parts"], replies, page.get("since", ""))


def pending_entries(record: Pending) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pending page as the `pending` table keeps it (the page, since when) and as the
    `replies` table does (the partitions asked, their answers so far)."""
    page = {"page": plain(record.page), "since": record.since}
    return page, {"parts": record.parts, "replies": plain(record.replies)}


def with_reply(progress: dict[str, Any], reply: BandReply) -> dict[str, Any]:
    """A `replies` table value with one more partition's answer (a repeated one changes nothing)."""
    return {
        **progress,
        "replies": {**progress["replies"], str(reply.part): plain(reply.candidates)},
    }


def answered(progress: dict[str, Any]) -> bool:
    """True once every partition asked has answered."""
    replies: dict[str, Any] = progress["replies"]
    return {str(part) for part in progress["parts"]} <= replies.keys()


def member(stored: dict[str, Any] | None) -> Member | None:
    """A band-members table value."""
    return None if stored is None else Member(**stored)
