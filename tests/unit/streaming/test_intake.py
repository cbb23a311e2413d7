"""`agents.Intake`: an unchanged re-fetch is not cleaned again, even while the first fetch is
still being cleaned."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson

from tests.fixtures.synthetic import article_html, message
from tests.unit.streaming.test_stages import topics
from worker import codec, pipeline
from worker.health import ProgressClock
from worker.settings import Settings
from worker.streaming.agents import Intake, source_of


class SlowRunner:
    """Runs calls in this process after a pause, counting them."""

    def __init__(self) -> None:
        self.calls = 0

    async def run(self, fn: Any, *args: Any) -> Any:
        self.calls += 1
        await asyncio.sleep(0.05)
        return fn(*args)


def event(offset: int, fetched_at: str) -> Any:
    value = orjson.dumps(message("https://news.example.com/a", article_html(8), fetched_at=fetched_at))
    raw = SimpleNamespace(topic="pages.raw", partition=0, offset=offset, timestamp=1.0)
    return SimpleNamespace(message=raw, key=None, value=value)


async def test_a_refetch_arriving_while_the_first_fetch_is_cleaned_waits_for_its_page() -> None:
    runner = SlowRunner()
    intake = Intake(topics(), Settings(), runner, None, ProgressClock())  # type: ignore[arg-type]
    first, again = await asyncio.gather(
        intake.handle(event(0, "2026-01-01T00:00:00Z")), intake.handle(event(1, "2026-01-02T00:00:00Z"))
    )
    assert runner.calls == 1
    refetched = event(1, "2026-01-02T00:00:00Z")
    expected = pipeline.process_sketched(refetched.value, source_of(refetched), Settings().max_page_bytes)
    assert codec.sketched(again[0].value) == expected and codec.sketched(first[0].value) != expected
