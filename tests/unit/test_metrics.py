"""`worker.metrics`: the histograms observe where the worker measures, lag per partition, state
size, and the process's own metrics on the one registry `/metrics` serves."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.streaming.test_output import Consumer, Topic, message
from worker import metrics
from worker.health import ProgressClock
from worker.runner import InlineRunner, ProcessRunner
from worker.settings import Settings
from worker.streaming.agents import Intake, Outcome, Output, Send

TOPICS = SimpleNamespace(by_band=None, verdicts=None)


def sample(name: str, **labels: str) -> float:
    """A sample's value now (0 if it has none yet)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def latency_count(outcome: str, since: str, le: str = "+Inf") -> float:
    return sample("ingest_latency_seconds_bucket", outcome=outcome, since=since, le=le)


def test_latency_from_fetch_and_from_produce_lands_in_its_bucket() -> None:
    now = time.time()
    before = (latency_count("article", "fetch", "10.0"), latency_count("article", "fetch", "2.5"))
    produced = latency_count("article", "produce", "1.0")
    metrics.delivered(metrics.Latency("article", now - 5, now - 0.2), now)
    assert latency_count("article", "fetch", "10.0") == before[0] + 1
    assert latency_count("article", "fetch", "2.5") == before[1]
    assert latency_count("article", "produce", "1.0") == produced + 1


def test_a_fetch_time_ahead_of_our_clock_counts_as_no_latency_and_unknown_times_not_at_all() -> None:
    now = time.time()
    total = sample("ingest_latency_seconds_sum", outcome="duplicate", since="fetch")
    counted = latency_count("duplicate", "fetch")
    produced = latency_count("duplicate", "produce")
    metrics.delivered(metrics.Latency("duplicate", now + 60, None), now)
    assert sample("ingest_latency_seconds_sum", outcome="duplicate", since="fetch") == total
    assert latency_count("duplicate", "fetch") == counted + 1
    assert latency_count("duplicate", "produce") == produced


def test_the_process_and_platform_collectors_are_on_the_registry() -> None:
    text = metrics.exposition().decode()
    assert "\nprocess_resident_memory_bytes " in text and "\nprocess_cpu_seconds_total " in text
    assert "\npython_info{" in text


def test_lag_per_partition_replaces_the_partitions_observed_before() -> None:
    metrics.set_partition_lag({("pages.raw", 0): 5, ("pages.raw", 1): 7}.items())
    metrics.set_partition_lag({("pages.raw", 1): 3}.items())
    assert sample("ingest_partition_lag_messages", topic="pages.raw", partition="1") == 3
    assert metrics.REGISTRY.get_sample_value(
        "ingest_partition_lag_messages", {"topic": "pages.raw", "partition": "0"}
    ) is None


def database(tabledir: Path, name: str, *sizes: int) -> None:
    folder = tabledir / name
    folder.mkdir(parents=True)
    for n, size in enumerate(sizes):
        (folder / f"00000{n}.sst").write_bytes(b"x" * size)


def test_table_sizes_add_up_each_table_s_partitions(tmp_path: Path) -> None:
    database(tmp_path, "url-state-0.db", 100, 20)
    database(tmp_path, "url-state-1.db", 3)
    database(tmp_path, "band-lists-0.db", 7)
    (tmp_path / "url-state-backups").mkdir()
    sizes = metrics.table_sizes(tmp_path)
    assert sizes == {"url-state": 123, "band-lists": 7}
    assert metrics.table_sizes(tmp_path / "absent") == {}


def test_the_state_size_is_walked_at_most_every_interval(tmp_path: Path) -> None:
    database(tmp_path, "sized-0.db", 10)
    state = metrics.StateSize(tmp_path, every_s=30.0)
    state.update(100.0)
    database(tmp_path, "sized-1.db", 5)
    state.update(129.0)
    assert sample("ingest_state_bytes", table="sized") == 10
    state.update(130.0)
    assert sample("ingest_state_bytes", table="sized") == 15


async def test_a_dedup_stage_record_is_timed_once_acknowledged_and_its_band_messages_never() -> None:
    log: list[str] = []
    latency = metrics.Latency("article", time.time() - 1, None)
    articles, bands = Topic("articles", log, held=True), Topic("by_band", log)
    record = Send(articles, b"k", b"record", latency=latency)  # type: ignore[arg-type]
    outcome = Outcome([record], [Send(bands, None, b"index", 1)])  # type: ignore[arg-type]
    output = Output(TOPICS, Settings(send_timeout_s=5), lambda: Consumer(), ProgressClock())  # type: ignore[arg-type, return-value]
    counted = latency_count("article", "fetch")
    deciding = asyncio.ensure_future(output.decide([(outcome, SimpleNamespace(message=message("m")))]))  # type: ignore[list-item]
    await asyncio.sleep(0.01)
    assert latency_count("article", "fetch") == counted  # sent, not acknowledged yet
    articles.release()
    await deciding
    assert latency_count("article", "fetch") == counted + 1


async def test_an_intake_rejection_is_timed_from_its_raw_message_once_acknowledged() -> None:
    log: list[str] = []
    rejected = Topic("rejected", log)
    topics = SimpleNamespace(by_band=None, verdicts=None, rejected=rejected)
    output = Output(topics, Settings(send_timeout_s=5), lambda: Consumer(), ProgressClock())  # type: ignore[arg-type, return-value]
    raw = SimpleNamespace(name="raw", topic="pages.raw", partition=0, offset=4, timestamp=time.time() - 3)
    event = SimpleNamespace(message=raw, key=None, value=b"not json")
    counted = latency_count("rejected", "produce", "5.0")
    intake = Intake(topics, Settings(), InlineRunner(), output, ProgressClock())  # type: ignore[arg-type]
    await intake.publish(event, None)  # type: ignore[arg-type]
    assert len(log) == 1 and '"reason":"not_json"' in log[0]
    assert latency_count("rejected", "produce", "5.0") == counted + 1


async def test_intake_counts_the_pages_it_takes_in_by_topic() -> None:
    published: list[Any] = []

    async def publish(sends: Any, event: Any) -> None:
        published.append(await sends)

    output = SimpleNamespace(publish=publish, rejection=lambda *a: "rejection", release=lambda message: None)
    intake = Intake(TOPICS, Settings(), InlineRunner(), output, ProgressClock())  # type: ignore[arg-type]
    before = sample("ingest_pages_consumed_total", topic="crawl.raw")
    raw = SimpleNamespace(topic="crawl.raw", partition=0, offset=0, timestamp=None)
    await intake.publish(SimpleNamespace(message=raw, key=None, value=b"x"), None)  # type: ignore[arg-type]
    assert sample("ingest_pages_consumed_total", topic="crawl.raw") == before + 1
    assert published == [["rejection"]]


def pause(seconds: float) -> float:
    """Sleep in the child (module-level: it must pickle)."""
    time.sleep(seconds)
    return seconds


@pytest.mark.timeout(120)
async def test_the_cleaning_time_is_the_child_s_not_the_wait_for_a_free_one() -> None:
    runner = ProcessRunner(workers=1, timeout_s=10.0, tasks_per_child=10)
    try:
        await runner.run(pause, 0.0)  # the child started
        count = sample("ingest_cleaning_seconds_count")
        fast, slow = (sample("ingest_cleaning_seconds_bucket", le=le) for le in ("0.25", "0.5"))
        await asyncio.gather(runner.run(pause, 0.3), runner.run(pause, 0.3))
        # each took 0.3 s in the child; the second waited 0.3 s more for the one slot
        assert sample("ingest_cleaning_seconds_count") == count + 2
        assert sample("ingest_cleaning_seconds_bucket", le="0.25") == fast
        assert sample("ingest_cleaning_seconds_bucket", le="0.5") == slow + 2
    finally:
        runner.close()
