"""`agents.Intake`: an unchanged re-fetch is not cleaned again, even while the first fetch is
still being cleaned, nor is a re-fetch of a page cleaning refused."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson

from tests.fixtures.synthetic import article_html, listing_html, message
from tests.unit.streaming.test_stages import topics
from worker import codec, pipeline
from worker.health import ProgressClock
from worker.settings import Settings
from worker.streaming.agents import Intake, Output, source_of


class SlowRunner:
    """Runs calls in this process after a pause, counting them."""

    def __init__(self) -> None:
        self.calls = 0

    async def run(self, fn: Any, *args: Any) -> Any:
        self.calls += 1
        await asyncio.sleep(0.05)
        return fn(*args)


def event(offset: int, fetched_at: str, html: str = article_html(8), **fields: Any) -> Any:
    value = orjson.dumps(message("https://news.example.com/a", html, fetched_at=fetched_at, **fields))
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


async def test_a_refetch_of_a_refused_page_is_rejected_as_cleaning_would_without_a_child() -> None:
    homepage = listing_html()
    runner, settings = SlowRunner(), Settings()
    output = Output(topics(), settings, lambda: None, ProgressClock())  # type: ignore[arg-type,return-value]
    intake = Intake(topics(), settings, runner, output, ProgressClock())  # type: ignore[arg-type]
    first = await intake.handle(event(0, "2026-01-01T00:00:00Z", homepage, source="a"))
    later = event(1, "2026-01-01T00:05:00Z", homepage, source="b")
    again = await intake.handle(later)
    assert runner.calls == 1
    refused = pipeline.process(later.value, source_of(later), settings.max_page_bytes)
    assert isinstance(refused, pipeline.Failure) and refused.reason.value == "not_article_listing"
    expected = output.rejection(refused, source_of(later), later.key, later.value)
    assert [again[0].value, again[0].headers] == [expected.value, expected.headers]
    assert again[0].value != first[0].value  # its own source, coordinates and payload
