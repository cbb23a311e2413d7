"""Assembles the app (topics, tables, agents, web views) and runs it as a faust worker."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import threading

import faust

from worker import logs, topology
from worker.cgroups import memory_limit
from worker.health import ProgressClock
from worker.memory import check_budget, tune_malloc
from worker.runner import InlineRunner, ProcessRunner
from worker.settings import Settings
from worker.startup import prepare
from worker.streaming import agents, tables, topics, web
from worker.streaming.app import create_app

log = logging.getLogger(__name__)


def build(settings: Settings, runner: ProcessRunner | InlineRunner) -> faust.App:
    """The complete faust app for these settings."""
    app = create_app(settings)
    declared = topics.declare(app, settings)
    state = tables.declare(app, settings)
    _check_topology(settings, declared, state)
    clock = ProgressClock()
    agents.register(app, declared, state, runner, settings, clock)
    web.register(app, settings, clock)
    return app


def _check_topology(settings: Settings, declared: topics.Topics, state: tables.Tables) -> None:
    """Every topic faust will use must be in `topology.specs`, which start-up creates and checks."""
    names = {t.get_topic_name() for t in vars(declared).values()}
    names |= {t.changelog_topic.get_topic_name() for t in vars(state).values()}
    unknown = names - {spec.name for spec in topology.specs(settings)}
    if unknown:
        raise RuntimeError(f"topics missing from worker/topology.py: {sorted(unknown)}")


class GracefulWorker(faust.Worker):
    """A faust Worker whose SIGTERM shutdown is bounded by a grace period.

    faust finishes in-flight events, commits and leaves the group on SIGTERM; if that takes
    longer than `grace_s` (a page stuck in extraction), the process exits 0 anyway and the
    uncommitted pages are replayed by whoever takes the partitions over.
    """

    def __init__(self, app: faust.App, grace_s: float, **kwargs: object) -> None:
        super().__init__(app, **kwargs)  # type: ignore[arg-type]
        self.grace_s = grace_s

    def _on_sigterm(self) -> None:
        timer = threading.Timer(self.grace_s, self._abandon)
        timer.daemon = True
        timer.start()
        super()._on_sigterm()

    def _abandon(self) -> None:
        log.warning(
            "shutdown grace of %.0f s over: abandoning in-flight pages (replayed later)",
            self.grace_s,
        )
        os._exit(0)


def run(settings: Settings) -> None:
    """Wait for the broker and the topics, then run the worker until stopped (SIGTERM/SIGINT)."""
    logging.config.dictConfig(logs.config(settings.log_format, settings.log_level))
    check_budget(settings, memory_limit())  # a ValueError: one line, exit 2 (__main__)
    tune_malloc()
    asyncio.run(prepare(settings))
    runner = ProcessRunner(
        settings.extract_workers,
        settings.extract_timeout_s,
        settings.extract_tasks_per_child,
        settings.extract_memory_bytes,
        settings.extract_slow_s,
        settings.extract_spares,
    )
    settings.app_data_dir.mkdir(parents=True, exist_ok=True)
    app = build(settings, runner)
    try:
        grace = settings.shutdown_grace_s
        # faust configures logging again as it starts: the same way, so its lines are alike
        logging_config = logs.config(settings.log_format, settings.log_level)
        worker = GracefulWorker(
            app, grace, loglevel=settings.log_level, quiet=True, logging_config=logging_config
        )
        worker.execute_from_commandline()
    finally:
        runner.close()
