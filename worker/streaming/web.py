"""HTTP endpoints on faust's web server: /healthz (progress), /readyz, /metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import faust
import mode
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError

from worker import metrics, topology
from worker.health import (
    Observation,
    Partition,
    ProgressClock,
    ProgressTracker,
    Status,
    with_undecided,
)
from worker.security import client_options
from worker.settings import Settings
from worker.streaming import exits
from worker.streaming.offsets import SettlingConsumer

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 10.0  # one probe's reads; longer counts as unreadable
UNKNOWN_TOPIC = UnknownTopicOrPartitionError.errno


class Probe:
    """Reads the whole group's offsets and assignment itself (a stuck consumer cannot).

    It has a consumer and an admin client of its own, not the app's.
    """

    def __init__(self, app: faust.App, settings: Settings, clock: ProgressClock) -> None:
        self.app, self.settings, self.clock = app, settings, clock
        self.topics = topology.consumed(settings)
        self.tracker = ProgressTracker(settings.stall_limit_s)
        self.status = Status(True, 0, 0.0, "starting")
        self.reachable = False
        self._clients: tuple[AIOKafkaConsumer, AIOKafkaAdminClient] | None = None
        self._restore_left: int | None = None

    async def _started(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._clients is None:
            options = client_options(self.settings)
            consumer = AIOKafkaConsumer(**options, enable_auto_commit=False)
            admin = AIOKafkaAdminClient(**options)
            await consumer.start()
            await admin.start()
            self._clients = consumer, admin
        return self._clients

    @property
    def recovering(self) -> bool:
        """True while this process restores its tables (from local files and changelogs)."""
        return bool(self.app.in_recovery)

    def _restore_progress(self) -> None:
        """A table restore that advanced since the last probe is progress (not a stall)."""
        if not self.recovering:
            self._restore_left = None
            return
        left = cast(Any, self.app.tables).recovery.active_remaining_total()
        if self._restore_left is None or left < self._restore_left:
            self.clock.mark()
        self._restore_left = left

    async def check(self) -> None:
        """One probe; exits the process when stalled (and `exit_on_stall`)."""
        self._restore_progress()
        try:
            seen = await asyncio.wait_for(self._observe(), READ_TIMEOUT_S)
        except Exception as exc:
            self.reachable = False
            log.warning("health probe failed: %r", exc)
            self.status = self.tracker.unreadable(time.monotonic(), self.status, repr(exc))
        else:
            self.reachable = True
            self.status = self.tracker.observe(time.monotonic(), seen, self.clock.last)
        clock, limit = self.clock, self.settings.dedup_wait_s + self.settings.stall_limit_s
        self.status = with_undecided(self.status, clock.undecided, clock.oldest_undecided_s, limit)
        metrics.LAG.set(self.status.lag)
        metrics.set_partition_lag(self.tracker.lags.items())
        metrics.STALLED_S.set(self.status.seconds_without_progress)
        if not self.status.healthy and self.settings.exit_on_stall:
            # Nothing uncommitted is lost: a new process (and a new group generation) replays it.
            exits.stalled(self.status.detail)

    async def _observe(self) -> Observation:
        consumer, admin = await self._started()
        described = {t["topic"]: t for t in await admin.describe_topics(self.topics)}
        missing = [name for name in self.topics if described[name]["error_code"] == UNKNOWN_TOPIC]
        found = {name: t["partitions"] for name, t in described.items() if name not in missing}
        empty = sorted(name for name, parts in found.items() if not parts)
        if empty:
            raise KafkaError(f"no partition metadata for {empty}")
        tps = [TopicPartition(name, p["partition"]) for name, parts in found.items() for p in parts]
        end = await consumer.end_offsets(tps) if tps else {}
        offsets = await admin.list_consumer_group_offsets(self.settings.app_id)
        committed = {
            tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset >= 0
        }
        fresh = [tp for tp in tps if tp not in committed]
        start = await consumer.beginning_offsets(fresh) if fresh else {}
        [group] = await admin.describe_consumer_groups([self.settings.app_id])
        app_consumer = cast(SettlingConsumer, self.app.consumer)  # see app.IngestTransport
        return Observation(
            end=_partitions(end),
            committed=_partitions(committed),
            start=_partitions(start),
            held=_held(group),
            busy={Partition(tp.topic, tp.partition) for tp in app_consumer.in_flight()},
            mine={Partition(tp.topic, tp.partition) for tp in app_consumer.assignment()},
            recovering=self.recovering,
            missing=missing,
        )

    async def close(self) -> None:
        """Stop the probe's own clients, if started."""
        if self._clients is not None:
            consumer, admin = self._clients
            await consumer.stop()
            await admin.close()


def _partitions(offsets: Mapping[Any, int]) -> dict[Partition, int]:
    return {Partition(tp.topic, tp.partition): offset for tp, offset in offsets.items()}


def _held(described: Any) -> set[Partition]:
    """The partitions the members of a described group hold (standard consumer assignment)."""
    held: set[Partition] = set()
    for group in described.to_object()["groups"]:
        for member in group["members"]:
            if member["member_assignment"]:
                assignment = ConsumerProtocolMemberAssignment.decode(member["member_assignment"])
                held |= {Partition(tp.topic, tp.partition) for tp in assignment.partitions()}
    return held


class ProbeLoop(mode.Service):
    """Runs the probe every `interval_s` from the moment the app starts.

    Not a faust timer: faust starts those only once the tables are recovered, and a worker
    whose start-up hangs (a broker that stops answering while partitions are assigned or
    tables restored) would then report "starting" forever instead of exiting.
    """

    def __init__(self, probe: Probe, interval_s: float) -> None:
        super().__init__()
        self.probe, self.interval_s = probe, interval_s

    @mode.Service.task
    async def _probe(self) -> None:
        while not self.should_stop:
            await self.probe.check()
            await self.sleep(self.interval_s)


def register(app: faust.App, settings: Settings, clock: ProgressClock) -> Probe:
    """Add the probe loop (started with the app) and the three views to the app."""
    probe = Probe(app, settings, clock)
    app.add_dependency(ProbeLoop(probe, settings.health_interval_s))

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json(probe.status.as_json(), status=200 if probe.status.healthy else 503)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        """Ready once the broker is reachable, the group formed and the tables restored (a
        worker beyond the partition count holds nothing and is ready: idle, not broken)."""
        joined = app.rebalancing_count > 0 and not app.rebalancing
        ready = probe.reachable and joined and not probe.recovering
        body = {"ready": ready, "broker_reachable": probe.reachable, "recovering": probe.recovering}
        return web.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        return web.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

    return probe
