"""Assembles the app (topics, tables, agents, web views) and runs it as a faust worker."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import faust

from worker.runner import InlineRunner, ProcessRunner
from worker.startup import wait_for_broker
from worker.settings import Settings
from worker.streaming import agents, tables, topics, web
from worker.streaming.app import create_app

log = logging.getLogger(__name__)


def build(settings: Settings, runner: ProcessRunner | InlineRunner) -> tuple[faust.App, agents.Inflight]:
    """The complete faust app for these settings, and its agents' in-flight count."""
    app = create_app(settings)
    declared = topics.declare(app, settings)
    inflight = agents.register(app, declared, tables.declare(app, settings), runner, settings)
    sources = {settings.topic_raw, settings.topic_by_content, settings.topic_by_url}
    web.register(app, settings, sources)
    return app, inflight


class GracefulWorker(faust.Worker):
    """A faust Worker whose SIGTERM drains in-flight pages and commits them itself.

    On SIGTERM: fetching stops, the agents finish the events they hold (bounded by half the
    grace period), their acknowledged offsets are committed, and only then does faust stop
    (leaving the group), with its own commits turned off: its stop sequence drops fetched
    messages, and nothing it does on the way down may move an offset. Past `grace_s` the
    process exits 0 anyway: what was not committed is replayed.
    """

    def __init__(self, app: faust.App, inflight: agents.Inflight, grace_s: float, **kwargs: object) -> None:
        super().__init__(app, **kwargs)  # type: ignore[arg-type]
        self.inflight = inflight
        self.grace_s = grace_s

    def _on_sigterm(self) -> None:
        timer = threading.Timer(self.grace_s, self._abandon)
        timer.daemon = True
        timer.start()
        asyncio.ensure_future(self._drain_then_stop(), loop=self.loop)

    async def _drain_then_stop(self) -> None:
        consumer = self.app.consumer
        consumer.pause_partitions(consumer.assignment())
        deadline = self.loop.time() + self.grace_s / 2
        while self.inflight.count > 0 and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        await consumer.commit()
        consumer.commit = _no_commit  # type: ignore[method-assign]
        log.info("drained (%d events left in flight); committed; stopping", self.inflight.count)
        super()._on_sigterm()

    def _abandon(self) -> None:
        log.warning("shutdown grace of %.0f s over: abandoning in-flight pages (replayed later)", self.grace_s)
        os._exit(0)


async def _no_commit(*args: object, **kwargs: object) -> bool:
    """faust's commits during its stop sequence: refused (see GracefulWorker)."""
    return False


def run(settings: Settings) -> None:
    """Wait for the broker, then run the worker until it is stopped (SIGTERM / SIGINT)."""
    asyncio.run(wait_for_broker(settings))
    runner = ProcessRunner(
        settings.extract_workers,
        settings.extract_timeout_s,
        settings.extract_tasks_per_child,
        settings.extract_memory_bytes,
    )
    settings.app_data_dir.mkdir(parents=True, exist_ok=True)
    app, inflight = build(settings, runner)
    try:
        worker = GracefulWorker(app, inflight, settings.shutdown_grace_s, loglevel=settings.log_level, quiet=True)
        worker.execute_from_commandline()
    finally:
        runner.close()
