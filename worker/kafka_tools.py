"""Operator commands that talk to Kafka directly (aiokafka): create topics, feed pages, dump outputs."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from worker import codec
from worker.errors import PageError
from worker.security import client_options
from worker.settings import Settings

async def create_topics(settings: Settings) -> list[str]:
    """Create the input and output topics (faust creates its internal ones); return those made."""
    names = [settings.topic_raw, settings.topic_articles, settings.topic_duplicates, settings.topic_rejected]
    config = {"max.message.bytes": str(settings.max_message_bytes)}
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in names if n not in existing]
        new = [NewTopic(n, settings.partitions, settings.replication_factor, topic_configs=config) for n in wanted]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
        return wanted
    finally:
        await admin.close()


def read_jsonl(path: str) -> Iterator[bytes]:
    """The non-blank lines of a JSONL file ('-' for stdin), as bytes, unparsed."""
    stream: IO[bytes] = sys.stdin.buffer if path == "-" else Path(path).open("rb")
    with stream:
        for line in stream:
            line = line.strip()
            if line:
                yield line


def key_of(line: bytes) -> bytes | None:
    """The page URL as the message key when the line is a JSON object with one; else no key."""
    try:
        obj = codec.decode(line)
    except PageError:
        return None
    url = obj.get("url") if isinstance(obj, dict) else None
    return url.encode() if isinstance(url, str) else None


async def feed(settings: Settings, path: str, compression: str | None = None) -> int:
    """Publish each line of a JSONL file to the raw topic as it is; return how many were sent."""
    producer = AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=True,
        max_request_size=settings.max_message_bytes,
        compression_type=compression,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(settings.topic_raw, value=line, key=key_of(line))
            for line in read_jsonl(path)
        ]
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


async def dump(settings: Settings, expect: int | None, idle_s: float, out: IO[str]) -> Counter[str]:
    """Print every record of the three output topics as JSON lines; return counts (see _labels).

    Reads from the beginning in a throw-away consumer group (commits nothing), and stops once `expect` records were
    read or nothing new arrived for `idle_s` seconds.
    """
    topics = [settings.topic_articles, settings.topic_duplicates, settings.topic_rejected]
    consumer = AIOKafkaConsumer(
        *topics,
        **client_options(settings),
        group_id=f"{settings.app_id}-dump-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=settings.max_message_bytes * 2,
        max_partition_fetch_bytes=settings.max_message_bytes,
    )
    await consumer.start()
    counts: Counter[str] = Counter()
    try:
        last = time.monotonic()
        while (expect is None or counts["records"] < expect) and time.monotonic() - last < idle_s:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    last = time.monotonic()
                    value = codec.decode(record.value)
                    counts.update(_labels(record.topic, value))
                    out.write(codec.encode(_line(record, value)).decode() + "\n")
        return counts
    finally:
        await consumer.stop()


def _line(record: Any, value: Any) -> dict[str, Any]:
    return {"topic": record.topic, "key": record.key.decode() if record.key else None, "value": value}


def _labels(topic: str, value: Any) -> list[str]:
    """Summary counters for one output record: all records, per topic, per reason or kind."""
    detail = value.get("reason") or value.get("kind") if isinstance(value, dict) else None
    return ["records", topic, f"{topic}:{detail}"] if detail else ["records", topic]
