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


def declare(app: faust.App, settings: Settings) -> Topics:
    """Declare the topics on the app; internal ones are created by faust with our partitions."""

    def topic(name: str, internal: bool = False) -> faust.TopicT:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            internal=internal,
            partitions=settings.partitions if internal else None,
            config={"max.message.bytes": str(settings.max_message_bytes)} if internal else None,
        )

    return Topics(
        raw=topic(settings.topic_raw),
        by_url=topic(settings.topic_by_url, internal=True),
        by_band=topic(settings.topic_by_band, internal=True),
        verdicts=topic(settings.topic_verdicts, internal=True),
        articles=topic(settings.topic_articles),
        duplicates=topic(settings.topic_duplicates),
        rejected=topic(settings.topic_rejected),
    )
