"""Assembles the app (topics, tables, agents) and runs it as a faust worker."""

from __future__ import annotations

import faust

from worker.runner import InlineRunner, ProcessRunner
from worker.settings import Settings
from worker.streaming import agents, tables, topics
from worker.streaming.app import create_app


def build(settings: Settings, runner: ProcessRunner | InlineRunner) -> faust.App:
    """The complete faust app for these settings."""
    app = create_app(settings)
    agents.register(app, topics.declare(app, settings), tables.declare(app, settings), runner, settings)
    return app


def run(settings: Settings) -> None:
    """Run the worker until it is stopped (SIGTERM / SIGINT)."""
    runner = ProcessRunner(
        settings.extract_workers,
        settings.extract_timeout_s,
        settings.extract_tasks_per_child,
        settings.extract_memory_bytes,
    )
    settings.app_data_dir.mkdir(parents=True, exist_ok=True)
    app = build(settings, runner)
    try:
        faust.Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()
    finally:
        runner.close()
