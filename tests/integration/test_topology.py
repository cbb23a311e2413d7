"""Start-up and topics: workers started together on a fresh app id, topics that are wrong or gone.

A group whose first assignment was made before faust had created its internal topics never
consumed them (pages sat undecided while /healthz said ok). The worker now creates and checks
every topic before it joins the group; these tests start workers the way a deployment does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.fixtures.synthetic import article_html
from tests.integration.harness import REPO, Collector, Names, Workers, create_topics, wait_for_group
from tests.integration.scenario import Scenario

ROUNDS = 5  # per worker count: 10 fresh starts of a group per run
BOUND_S = 90.0  # every page out within this, from the first one produced


def topics_command(names: Names, bootstrap: str, partitions: int) -> None:
    """`ingest-worker topics`, as a user runs it before the first start."""
    env = {**os.environ, **names.env(bootstrap, partitions, REPO / ".ingest-data")}
    done = subprocess.run([sys.executable, "-m", "worker", "topics"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("count", [2, 3], ids=["2-workers", "3-workers"])
async def test_workers_started_together_on_fresh_app_ids_deliver_every_page(
    count: int, broker: Any, tmp_path: Any
) -> None:
    partitions = 4
    for round_ in range(ROUNDS):
        names = Names()
        if round_ % 2:  # half the rounds as a user who ran `topics` first, half with nothing made
            topics_command(names, broker.bootstrap, partitions)
        workers = Workers(broker, names, tmp_path / f"round-{round_}")
        (tmp_path / f"round-{round_}").mkdir()
        collector = Collector(broker.bootstrap, names.outputs)
        try:
            for _ in range(count):  # at the same instant
                workers.start(partitions)
            await wait_for_group(broker.bootstrap, names.app_id, count)
            s = Scenario(broker, names)
            started = time.monotonic()
            for n in range(6):
                await s.page(f"https://start.example.com/{round_}/{n}", article_html(600 + n), f"p{n}",
                             revision=1, keyed=n % 2 == 0)  # fmt: skip
            await s.bad(b"not json", "not_json")
            await s.page("https://start.example.com/0/0".replace("/0/", f"/{round_}/"), article_html(600),
                         "p0-refetch", dup=("url", "p0"))  # fmt: skip
            remaining = BOUND_S - (time.monotonic() - started)
            try:
                records = await s.outputs(collector, timeout_s=remaining)
            except TimeoutError as exc:
                raise AssertionError(f"round {round_} with {count} workers: {exc}\n{workers.logs()}") from None
            s.check(records)
        finally:
            await collector.close()
            for worker in workers.running:
                worker.kill()


async def test_a_partition_count_that_differs_is_refused_at_start_with_one_line(
    broker: Any, names: Names, workers: Any
) -> None:
    await create_topics(broker.bootstrap, [names.raw], 2)
    worker = workers.start(4)
    assert worker.process.wait(120) == 2
    lines = worker.log().strip().splitlines()
    assert lines[-1] == (
        f"ingest-worker run: topics: topic {names.raw} (input) has 2 partitions, INGEST_PARTITIONS is 4"
    ), lines[-5:]


async def test_an_internal_topic_with_another_partition_count_is_refused_at_start(
    broker: Any, names: Names, workers: Any
) -> None:
    await create_topics(broker.bootstrap, [f"{names.app_id}-url-state-changelog"], 8)
    worker = workers.start(4)
    assert worker.process.wait(120) == 2
    assert f"topic {names.app_id}-url-state-changelog (changelog) has 8 partitions" in worker.log()


async def test_an_output_topic_smaller_than_the_largest_record_is_refused_at_start(
    broker: Any, names: Names, workers: Any
) -> None:
    """Made by hand with the broker's default limit: a decided article over 1 MiB could never be
    written, so the worker names the topic and stops before deciding anything."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(names.articles, 4, 1, topic_configs={"max.message.bytes": "1048588"})])
    finally:
        await admin.close()
    worker = workers.start(4)
    assert worker.process.wait(120) == 2
    assert worker.log().strip().splitlines()[-1] == (
        f"ingest-worker run: topics: topic {names.articles} (output) takes records up to 1048588 bytes, "
        f"INGEST_MAX_MESSAGE_BYTES is {10 * 1024 * 1024}: raise its max.message.bytes"
    )


async def test_a_deleted_internal_topic_makes_healthz_report_a_stall_naming_it(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    # Above one probe's read timeout (web.READ_TIMEOUT_S, 10 s): a read that hangs while the
    # broker deletes the topic is not yet a stall (at 10 s it was, unnamed, 1 CI run in 3).
    stall_s = 20
    worker = workers.start(2, INGEST_STALL_TIMEOUT_S=str(stall_s), INGEST_EXIT_ON_STALL="false")
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    s = Scenario(broker, names)
    await s.page("https://gone.example.com/a", article_html(700), "a", revision=1)
    s.check(await collector.until(1))
    by_url = f"{names.app_id}-pages.by-url"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([by_url])
    finally:
        await admin.close()
    deleted = time.monotonic()
    while time.monotonic() - deleted < stall_s + 20:
        status, body = worker.get("/healthz")
        if status == 503:
            health = orjson.loads(body)
            assert health["status"] == "stalled" and health["stalled_topics"] == [by_url], health
            assert by_url in health["detail"]
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"/healthz still {status} {body!r} {time.monotonic() - deleted:.0f} s after deleting {by_url}")


@pytest.mark.timeout(600)
async def test_pages_produced_while_workers_join_and_leave_all_come_out(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    """Bursts of pages as members join and leave, each burst checked field by field.

    faust loses fetched messages around rebalances; the consumer fetches again what it can
    see was lost. A page that still sits unprocessed makes its worker report the stall and
    exit, and a restarted worker (as a supervisor would start) must deliver it: delayed, never
    lost. Restarts are printed, so the figure shows in the test output.
    """
    env = {"INGEST_STALL_TIMEOUT_S": "15"}
    workers.start(4, **env)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    s = Scenario(broker, names)
    n = restarts = 0
    for change in ("join", "join", "leave", "join"):
        if change == "join":
            workers.start(4, **env)
        else:
            workers.running.pop(0).stop()
        await asyncio.sleep(1.0 if change == "join" else 0.0)  # a joiner needs a moment to start
        for _ in range(8):
            await s.page(f"https://flow.example.com/{n}", article_html(900 + n), f"f{n}", revision=1, keyed=n % 3 > 0)
            n += 1
        deadline = time.monotonic() + 90
        while True:
            for worker in list(workers.running):  # the supervisor
                if worker.process.poll() is not None:
                    assert worker.process.returncode == 75, worker.log()[-2000:]
                    workers.running.remove(worker)
                    workers.start(4, **env)
                    restarts += 1
            try:
                s.check(await s.outputs(collector, timeout_s=5))
                break
            except TimeoutError as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(f"after a {change}: {exc}\n{workers.logs()}") from None
    print(f"join/leave: {n} pages, {restarts} stall restarts")
