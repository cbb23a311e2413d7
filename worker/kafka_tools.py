"""Topics with plain aiokafka, not faust: create and check them, count their partitions.

Feeding pages is `feeding`; reading the outputs is `tail`."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from worker import topology
from worker.security import client_options
from worker.settings import Settings

METADATA_ATTEMPTS = 20
METADATA_WAIT_S = 0.5


class TopologyError(Exception):
    """Topics missing (and not to be created) or with the wrong partition count: fix, then start."""


async def ensure_topics(settings: Settings, create: bool = True) -> list[str]:
    """Create the app's missing topics (see `topology`), then check them all; return those made.

    Raises TopologyError naming every topic that is still missing or has the wrong partition
    count. Several workers may race here: a topic another one created counts as existing.
    """
    wanted = topology.specs(settings)
    names = [s.name for s in wanted]
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        actual = await partition_counts(admin, names)
        missing = [s for s in wanted if s.name not in actual]
        if missing and create:
            await _create(admin, missing, settings.replication_factor)
            for _ in range(METADATA_ATTEMPTS):  # new topics reach the metadata shortly after
                actual = await partition_counts(admin, names)
                if all(s.name in actual for s in missing):
                    break
                await asyncio.sleep(METADATA_WAIT_S)
        limits = await message_limits(admin, [name for name in names if name in actual])
        found = topology.problems(wanted, actual, limits)
        if found:
            raise TopologyError("; ".join(found))
        return [s.name for s in missing] if create else []
    finally:
        await admin.close()


async def partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition count of each named topic that exists (absent ones are left out)."""
    described = await admin.describe_topics(names)
    return {t["topic"]: len(t["partitions"]) for t in described if t["partitions"]}


async def message_limits(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """`max.message.bytes` of each named topic (the broker's default where the topic sets none)."""
    if not names:
        return {}
    wanted = {"max.message.bytes": None}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, wanted) for name in names]
    limits = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            for entry in resource["config_entries"]:
                if entry["config_names"] == "max.message.bytes" and entry["config_value"]:
                    limits[resource["resource_name"]] = int(entry["config_value"])
    return limits


async def _create(
    admin: AIOKafkaAdminClient, specs: list[topology.TopicSpec], replication: int
) -> None:
    """Create topics; one that appeared meanwhile (another worker) is fine.

    A retriable error (no controller yet...) raises it, for the caller to retry; any other is
    a TopologyError (replication factor above the broker count, not authorized...).
    """
    new = [NewTopic(s.name, s.partitions, replication, topic_configs=dict(s.config)) for s in specs]
    try:
        response = await admin.create_topics(new)
    except TopicAlreadyExistsError:
        return
    for name, code, *rest in response.topic_errors:
        error = for_code(code)
        if code and error is not TopicAlreadyExistsError:
            message = rest[0] if rest and rest[0] else error.__name__
            if error.retriable:
                raise error(message)
            raise TopologyError(f"cannot create topic {name}: {message}")
