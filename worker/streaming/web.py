"""HTTP endpoints on faust's web server: /healthz (progress), /readyz, /metrics."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from worker import metrics
from worker.health import ProgressTracker, Status
from worker.security import client_options
from worker.settings import Settings

log = logging.getLogger(__name__)

EXIT_STALLED = 75


class Probe:
    """Reads log-end and committed offsets through clients of its own (a stuck consumer can't)."""

    def __init__(self, app: faust.App, settings: Settings, topics: set[str]) -> None:
        self.app, self.settings, self.topics = app, settings, topics
        self.tracker = ProgressTracker(settings.stall_limit_s)
        self.status = Status(True, 0, 0.0, "starting")
        self.reachable = False
        self._clients: tuple[AIOKafkaConsumer, AIOKafkaAdminClient] | None = None

    async def _started(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._clients is None:
            options = client_options(self.settings)
            consumer = AIOKafkaConsumer(**options, enable_auto_commit=False)
            admin = AIOKafkaAdminClient(**options)
            await consumer.start()
            await admin.start()
            self._clients = consumer, admin
        return self._clients

    async def check(self) -> None:
        """One probe; a broker that can't be reached makes the worker not ready, not unhealthy."""
        tps = [TopicPartition(tp.topic, tp.partition) for tp in self.app.consumer.assignment()
               if tp.topic in self.topics]  # fmt: skip
        try:
            consumer, admin = await self._started()
            end = await consumer.end_offsets(tps) if tps else {}
            offsets = await admin.list_consumer_group_offsets(self.settings.app_id, partitions=tps) if tps else {}
        except Exception as exc:
            self.reachable = False
            log.warning("health probe failed: %r", exc)
            return
        self.reachable = True
        committed = {tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset >= 0}
        self.status = self.tracker.observe(time.monotonic(), end, committed)
        metrics.LAG.set(self.status.lag)
        metrics.STALLED_S.set(self.status.seconds_without_progress)
        if not self.status.healthy and self.settings.exit_on_stall:
            # A consumer that stopped fetching (seen after broker restarts and rebalances)
            # recovers only with a new process; nothing uncommitted is lost, it is replayed.
            log.critical("stalled (%s): exiting so a new process takes over", self.status.detail)
            os._exit(EXIT_STALLED)

    async def close(self) -> None:
        if self._clients is not None:
            for client in self._clients:
                await client.stop() if isinstance(client, AIOKafkaConsumer) else await client.close()


def register(app: faust.App, settings: Settings, topics: set[str]) -> Probe:
    """Add the probe timer and the three views to the app."""
    probe = Probe(app, settings, topics)

    @app.timer(interval=settings.health_interval_s)
    async def probe_offsets() -> None:
        await probe.check()

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json(probe.status.as_json(), status=200 if probe.status.healthy else 503)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready = probe.reachable and bool(app.consumer.assignment()) and not app.rebalancing
        return web.json({"ready": ready, "broker_reachable": probe.reachable}, status=200 if ready else 503)

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        return web.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

    return probe
