"""Every topic the worker reads or writes, with its partitions and configuration: one list.

The worker creates what is missing and checks the rest before faust starts (see
`kafka_tools.ensure_topics`), so the consumer group never forms without a topic it needs; the
`topics` command creates the same list. Pure: no Kafka here.

Co-partitioned topics (the raw input, the internal stages and the changelogs) must all have
`INGEST_PARTITIONS` partitions: a dedup table's partition N is rebuilt from changelog partition
N and updated from internal-topic partition N, so any other count splits a key's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from worker.settings import Settings

TABLE_URLS = "url-state"
TABLE_PENDING = "pending"
TABLE_REPLIES = "pending-replies"
TABLE_BANDS = "band-lists"
TABLE_MEMBERS = "band-members"
TABLE_WAITS = "band-waits"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as the worker needs it."""

    name: str
    partitions: int
    role: str
    """input, internal, changelog or output."""
    config: Mapping[str, str] = field(default_factory=dict)

    @property
    def copartitioned(self) -> bool:
        """True if its partition count must equal INGEST_PARTITIONS (outputs may differ)."""
        return self.role != "output"


def changelog(settings: Settings, table: str) -> str:
    """The changelog topic faust derives for a table of this app."""
    return f"{settings.app_id}-{table}-changelog"


def consumed(settings: Settings) -> list[str]:
    """The topics the consumer group reads: the raw input and the three internal stages."""
    return [
        settings.topic_raw,
        settings.topic_by_url,
        settings.topic_by_band,
        settings.topic_verdicts,
    ]


def specs(settings: Settings) -> list[TopicSpec]:
    """Every topic of this app, in flow order."""
    size = {"max.message.bytes": str(settings.max_message_bytes)}
    if settings.min_insync_replicas:
        size["min.insync.replicas"] = str(settings.min_insync_replicas)
    compacted = {**size, "cleanup.policy": "compact"}
    internal = {**size, "retention.ms": str(round(settings.internal_retention_s * 1000))}
    n = settings.partitions

    def spec(name: str, role: str, config: Mapping[str, str] = size) -> TopicSpec:
        return TopicSpec(name, n, role, config)

    return [
        spec(settings.topic_raw, "input"),
        spec(settings.topic_by_url, "internal", internal),
        spec(changelog(settings, TABLE_URLS), "changelog", compacted),
        spec(changelog(settings, TABLE_PENDING), "changelog", compacted),
        spec(changelog(settings, TABLE_REPLIES), "changelog", compacted),
        spec(settings.topic_by_band, "internal", internal),
        spec(changelog(settings, TABLE_BANDS), "changelog", compacted),
        spec(changelog(settings, TABLE_MEMBERS), "changelog", compacted),
        spec(changelog(settings, TABLE_WAITS), "changelog", compacted),
        spec(settings.topic_verdicts, "internal", internal),
        spec(settings.topic_articles, "output"),
        spec(settings.topic_duplicates, "output"),
        spec(settings.topic_rejected, "output"),
    ]


def problems(
    wanted: list[TopicSpec], actual: Mapping[str, int], limits: Mapping[str, int] | None = None
) -> list[str]:
    """What is wrong with the topics as they exist (`actual`: name -> partition count; `limits`:
    name -> `max.message.bytes`). Every topic the worker writes must take its largest record:
    a page that fitted the by-url topic must fit the outputs it becomes, or a decision would
    wait for a record that can never be written."""
    found = []
    for spec in wanted:
        count = actual.get(spec.name)
        if count is None:
            found.append(f"topic {spec.name} ({spec.role}) does not exist")
            continue
        if spec.copartitioned and count != spec.partitions:
            found.append(
                f"topic {spec.name} ({spec.role}) has {count} partitions, INGEST_PARTITIONS is "
                f"{spec.partitions}"
            )
        limit, needed = (limits or {}).get(spec.name), int(spec.config["max.message.bytes"])
        if spec.role != "input" and limit is not None and limit < needed:
            found.append(
                f"topic {spec.name} ({spec.role}) takes records up to {limit} bytes, "
                f"INGEST_MAX_MESSAGE_BYTES is {needed}: raise its max.message.bytes"
            )
    return found
