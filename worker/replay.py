"""`ingest-worker replay`: send rejected messages through the worker again, after a fix.

Reads the rejected topic from the beginning to where it ended when the command started (no
consumer group), picks the rejections matching the filters, and publishes each one's original
message, as it was, with its original key, to the raw topic. A rejection that does not hold its
whole original message, or whose message was an internal record rather than a raw page, is
skipped and counted. Pages sent twice come out as `url` duplicates the second time.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cramjam
from aiokafka import AIOKafkaProducer

from worker import tail
from worker.security import client_options
from worker.settings import Settings

REPLAY_HEADER = "ingest.replay.of"
"""Header on a replayed message: `<rejected topic>/<partition>/<offset>` of its rejection."""
_AGO = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Selection:
    """Which rejections to replay: reasons (empty: all) and a window of rejection times."""

    reasons: frozenset[str] = frozenset()
    since_ms: int | None = None
    until_ms: int | None = None

    def matches(self, value: dict[str, Any], timestamp_ms: int) -> bool:
        """True if a rejection has one of the reasons and was made within the window."""
        if self.reasons and value.get("reason") not in self.reasons:
            return False
        if self.since_ms is not None and timestamp_ms < self.since_ms:
            return False
        return self.until_ms is None or timestamp_ms < self.until_ms


@dataclass(slots=True)
class Summary:
    """What a replay did: rejections read, matched, sent (or that would be), skipped by why."""

    read: int = 0
    matched: Counter[str] = field(default_factory=Counter)
    """Matching rejections by reason."""
    sent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def moment(text: str, now: datetime | None = None) -> int:
    """Milliseconds since the epoch of an ISO-8601 time (UTC if no zone) or of a time ago
    (`90m`, `6h`, `2d`); raises ValueError otherwise."""
    ago = _AGO.fullmatch(text.strip())
    if ago:
        seconds = float(ago.group(1)) * _UNIT_S[ago.group(2)]
        return round(((now or datetime.now(UTC)).timestamp() - seconds) * 1000)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO-8601 time nor a duration like 6h") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return round(when.timestamp() * 1000)


def original(value: dict[str, Any], raw_topic: str) -> tuple[bytes | None, str]:
    """The original message a rejection holds, or None and why it cannot be replayed."""
    if value.get("payload_truncated"):
        return None, "payload_truncated"
    origin = value.get("origin") or {}
    if origin.get("topic") != raw_topic:
        return None, "not_from_raw_topic"
    if isinstance(value.get("payload"), str):
        return value["payload"].encode("utf-8"), ""
    packed = value.get("payload_base64")
    if not isinstance(packed, str):
        return None, "no_payload"
    try:
        data = base64.b64decode(packed, validate=True)
        if value.get("payload_compression") == "zstd":
            data = bytes(cramjam.zstd.decompress(data))
    except (ValueError, cramjam.DecompressionError):
        return None, "payload_unreadable"
    return data, ""


async def replay(
    settings: Settings,
    selection: Selection,
    dry_run: bool,
    report: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Summary:
    """Re-publish the matching rejections' original messages to the raw topic (none in a dry
    run); `report(record, value)` is told of each one sent or that would be."""
    summary = Summary()
    reader = tail.consumer(settings, "earliest")
    producer = None
    await reader.start()
    try:
        chosen = await tail.assign(reader, settings, [settings.topic_rejected])
        ends = await reader.end_offsets(chosen)
        starts = {tp: await reader.position(tp) for tp in chosen}
        todo = {tp for tp in chosen if starts[tp] < ends[tp]}
        if not dry_run:
            producer = AIOKafkaProducer(
                **client_options(settings),
                acks="all",
                enable_idempotence=True,
                max_request_size=settings.max_message_bytes,
            )
            await producer.start()
        futures = []
        while todo:
            batches = await reader.getmany(*todo, timeout_ms=tail.POLL_MS)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    summary.read += 1
                    value = tail.decoded(record.value)
                    if not isinstance(value, dict) or not selection.matches(
                        value, record.timestamp
                    ):
                        continue
                    summary.matched[str(value.get("reason"))] += 1
                    message, why = original(value, settings.topic_raw)
                    if message is None:
                        summary.skipped[why] += 1
                        continue
                    if producer is not None:
                        of = f"{record.topic}/{record.partition}/{record.offset}".encode()
                        futures.append(
                            await producer.send(
                                settings.topic_raw,
                                message,
                                record.key,
                                headers=[(REPLAY_HEADER, of)],
                            )
                        )
                    summary.sent += 1
                    if report is not None:
                        report(record, value)
                if await reader.position(tp) >= ends[tp]:
                    todo.discard(tp)
        for future in futures:
            await future  # raises if the broker refused one: the summary is then not printed
        return summary
    finally:
        await reader.stop()
        if producer is not None:
            await producer.stop()
