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
    Hit,
    Lookup,
    LookupAnswer,
    Member,
    Pending,
    UrlState,
)
from worker.errors import PageError, Reason
from worker.records import Extracted, Rejected, Sketched, Source


def encode(record: Any) -> bytes:
    """Serialize a record (dataclass, dict or list) to compact JSON bytes."""
    return orjson.dumps(record)


def decode(data: bytes | str) -> Any:
    """Parse JSON bytes; raise PageError(NOT_JSON) with orjson's message if they are not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PageError(Reason.NOT_JSON, f"not JSON: {exc}") from None


REJECTION_HEADERS = (
    "ingest.error.reason",
    "ingest.error.detail",
    "ingest.origin.topic",
    "ingest.origin.partition",
    "ingest.origin.offset",
    "ingest.origin.timestamp",
)
"""Kafka headers of a rejected record, as Kafka Connect's dead letter queues carry them."""


def rejection_headers(record: Rejected) -> list[tuple[str, bytes]]:
    """A rejection's reason and original coordinates as Kafka headers (UTF-8 values; no
    timestamp header when the original had none)."""
    origin = record.origin
    values = (record.reason, record.detail, origin.topic, origin.partition, origin.offset,
              origin.timestamp_ms)  # fmt: skip
    return [
        (name, str(value).encode("utf-8"))
        for name, value in zip(REJECTION_HEADERS, values, strict=True)
        if value is not None
    ]


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


BandMessage = BandQuery | Lookup | BandSettle | BandRelease
BAND_TAGS: dict[type, str] = {
    BandQuery: "query",
    Lookup: "lookup",
    BandSettle: "settle",
    BandRelease: "release",
}
Verdict = BandReply | LookupAnswer
VERDICT_TAGS: dict[type, str] = {BandReply: "reply", LookupAnswer: "answer"}


def band_message(message: BandMessage) -> bytes:
    """A message of the internal by-band topic: a query, a lookup, a settle or a release."""
    return orjson.dumps({BAND_TAGS[type(message)]: message})


def decode_band_message(data: bytes) -> BandMessage:
    """The inverse of `band_message`."""
    fields = orjson.loads(data)
    if "settle" in fields:
        return BandSettle(**fields["settle"])
    if "release" in fields:
        return BandRelease(**fields["release"])
    if "lookup" in fields:
        return lookup(fields["lookup"])
    return band_query(fields["query"])


def band_query(fields: dict[str, Any]) -> BandQuery:
    """A band query from its JSON object."""
    page = fields.get("page")
    return BandQuery(
        **{
            **fields,
            "bands": [tuple(band) for band in fields["bands"]],
            "page": None if page is None else Member(**page),
        }
    )


def lookup(fields: dict[str, Any]) -> Lookup:
    """A lookup from its JSON object (a message or a waiting entry)."""
    return Lookup(
        fields["member"],
        fields["id"],
        Member(**fields["probe"]),
        [Hit(**hit) for hit in fields["hits"]],
    )


def verdict(message: Verdict) -> bytes:
    """A message of the internal verdicts topic: a band partition's reply or a home
    partition's answer, tagged."""
    return orjson.dumps({VERDICT_TAGS[type(message)]: message})


def decode_verdict(data: bytes) -> Verdict:
    """The inverse of `verdict`."""
    fields = orjson.loads(data)
    if "answer" in fields:
        answer = fields["answer"]
        candidates = [Candidate(**c) for c in answer["candidates"]]
        return LookupAnswer(answer["member"], answer["part"], candidates)
    reply = fields["reply"]
    return BandReply(reply["member"], reply["part"], [Hit(**h) for h in reply["hits"]])


def url_state(stored: dict[str, Any] | None) -> UrlState:
    """A url-state table value."""
    return UrlState.from_json(stored)


def pending(page: dict[str, Any], progress: dict[str, Any]) -> Pending:
    """A pending page from its two table entries (`pending_entries`)."""
    replies = {int(part): [Hit(**h) for h in hits] for part, hits in progress["replies"].items()}
    answers = {
        int(part): [Candidate(**c) for c in candidates]
        for part, candidates in progress.get("answers", {}).items()
    }
    return Pending(
        sketched(page["page"]),
        progress["parts"],
        replies,
        progress.get("homes"),
        answers,
        page.get("since", ""),
    )


def pending_entries(record: Pending) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pending page as the `pending` table keeps it (the page, since when) and as the
    `replies` table does (`progress_entry`)."""
    return {"page": plain(record.page), "since": record.since}, progress_entry(record)


def progress_entry(record: Pending) -> dict[str, Any]:
    """What the `replies` table keeps of a pending page: the partitions and homes it asked and
    their answers so far (not the page)."""
    return {
        "parts": record.parts,
        "replies": plain(record.replies),
        "homes": record.homes,
        "answers": plain(record.answers),
    }


def with_verdict(progress: dict[str, Any], message: Verdict) -> dict[str, Any]:
    """A `replies` table value with one more band partition's hits or home's candidates (a
    repeated one changes nothing)."""
    if isinstance(message, BandReply):
        field, items = "replies", plain(message.hits)
    else:
        field, items = "answers", plain(message.candidates)
    return {**progress, field: {**(progress.get(field) or {}), str(message.part): items}}


def replied(progress: dict[str, Any]) -> bool:
    """True once every band partition asked has replied."""
    replies: dict[str, Any] = progress["replies"]
    return {str(part) for part in progress["parts"]} <= replies.keys()


def answered(progress: dict[str, Any]) -> bool:
    """True once every home partition asked has answered (False before any was asked)."""
    homes, answers = progress.get("homes"), progress.get("answers") or {}
    return homes is not None and {str(home) for home in homes} <= answers.keys()


def member(stored: dict[str, Any] | None) -> Member | None:
    """A band-members table value."""
    return None if stored is None else Member(**stored)
