"""Topic declarations: every value and key travels as raw bytes, decoded inside the agents."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from worker.settings import Settings


@dataclass(frozen=True)
class Topics:
    """The worker's topics: input, the three internal dedup stages, and the three outputs."""

    raw: faust.TopicT
    by_url: faust.TopicT
    by_band: faust.TopicT
    verdicts: faust.TopicT
    articles: faust.TopicT
    duplicates: faust.TopicT
    rejected: faust.TopicT


def raw_buffer(settings: Settings) -> int:
    """Raw pages faust buffers ahead of intake: a second batch behind the one in flight, so the
    extraction processes never wait for the consumer, and no more (raw pages are large; faust
    pauses fetching a partition whose messages wait in a full buffer)."""
    return 2 * settings.batch_size


def declare(app: faust.App, settings: Settings) -> Topics:
    """Declare the topics on the app; internal ones are created by faust with our partitions."""

    def topic(name: str, internal: bool = False, buffer: int | None = None) -> faust.TopicT:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            internal=internal,
            partitions=settings.partitions if internal else None,
            config={"max.message.bytes": str(settings.max_message_bytes)} if internal else None,
            maxsize=buffer,
        )

    return Topics(
        raw=topic(settings.topic_raw, buffer=raw_buffer(settings)),
        by_url=topic(settings.topic_by_url, internal=True),
        by_band=topic(settings.topic_by_band, internal=True),
        verdicts=topic(settings.topic_verdicts, internal=True),
        articles=topic(settings.topic_articles),
        duplicates=topic(settings.topic_duplicates),
        rejected=topic(settings.topic_rejected),
    )
