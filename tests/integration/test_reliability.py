"""Bad input and a frozen broker, through real workers: every page comes out, within a bound.

- The hostile catalogue (tests/fixtures/hostile.py) five times in a row, each on a fresh app id:
  it once stopped after 17 of 26 pages, a flush waiting forever behind a silent /healthz.
- An output the broker never acknowledges (its topic deleted): the worker exits without
  commit within the send timeout, instead of retrying forever; the page is replayed.
- The broker stops answering (SIGSTOP) while pages are in flight: the worker must not wait
  forever; it reports the stall and exits, and a worker started once the broker is back
  delivers every page, each with the decision it would have had. Frozen while the worker
  starts (before its tables are recovered), it exits too.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.fixtures.hostile import CASES
from tests.fixtures.synthetic import article_html
from tests.integration.harness import Broker, Collector, Names, Workers, produce, wait_for_group
from tests.integration.scenario import Scenario

RUNS = 5
BOUND_S = 120.0
FITS = {name: case for name, case in CASES.items() if len(case[0]) < 9 * 1024 * 1024}


@pytest.mark.timeout(1200)
async def test_the_hostile_catalogue_through_a_worker_five_times_on_fresh_app_ids(
    broker: Broker, tmp_path: Path
) -> None:
    assert len(FITS) >= 26
    for run in range(RUNS):
        names = Names()
        (tmp_path / f"run-{run}").mkdir()
        workers = Workers(broker, names, tmp_path / f"run-{run}")
        collector = Collector(broker.bootstrap, names.outputs)
        try:
            workers.start(2)  # no topic made beforehand: the worker makes them all
            await wait_for_group(broker.bootstrap, names.app_id, 1)
            started = time.monotonic()
            sent = await produce(broker.bootstrap, names.raw, [value for value, _ in FITS.values()])
            try:
                records = await collector.until_origins({(c.partition, c.offset) for c in sent}, timeout_s=BOUND_S)
            except TimeoutError as exc:
                raise AssertionError(f"run {run}: {exc}\n{workers.logs()}") from None
            got = {(r.value["origin"]["partition"], r.value["origin"]["offset"]): r for r in records}
            for (name, (_, reason)), coords in zip(FITS.items(), sent):
                record = got[(coords.partition, coords.offset)]
                assert (record.topic, record.value["reason"]) == (names.rejected, reason.value), (run, name)
            assert len(got) == len(sent) and time.monotonic() - started < BOUND_S
        finally:
            await collector.close()
            for worker in workers.running:
                worker.kill()


@pytest.mark.timeout(600)
async def test_a_frozen_broker_makes_the_worker_exit_and_a_new_one_delivers_every_page(
    own_broker: Broker, tmp_path: Path
) -> None:
    names = Names()
    workers = Workers(own_broker, names, tmp_path)
    env = {"INGEST_SEND_TIMEOUT_S": "5", "INGEST_STALL_TIMEOUT_S": "20", "INGEST_BATCH_SIZE": "4"}
    worker = workers.start(2, **env)
    await wait_for_group(own_broker.bootstrap, names.app_id, 1)
    s = Scenario(own_broker, names)
    for n in range(40):
        await s.page(f"https://frozen.example.com/{n}", article_html(800 + n, paragraphs=40), f"p{n}", revision=1)
    os.kill(own_broker.pid, signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        code = worker.process.wait(timeout=60)
    finally:
        os.kill(own_broker.pid, signal.SIGCONT)
    log = worker.log()
    assert code in (70, 75), log[-3000:]
    assert "exiting without commit" in log or "exiting so a new process takes over" in log
    print(f"worker exited {code} {time.monotonic() - frozen:.0f} s after the broker froze")
    workers.running.remove(worker)

    workers.start(2, **env)
    collector = Collector(own_broker.bootstrap, names.outputs)
    try:
        s.check(await s.outputs(collector, timeout_s=180))
    finally:
        await collector.close()
        for w in workers.running:
            w.kill()


@pytest.mark.timeout(300)
async def test_a_broker_frozen_while_the_worker_starts_makes_it_exit(own_broker: Broker, tmp_path: Path) -> None:
    """Frozen as soon as the group has formed: partitions are being opened and tables recovered,
    the moment faust's own timers have not started yet. The probe runs from the start: the
    worker reports the stall and exits instead of saying "starting" forever."""
    names = Names()
    workers = Workers(own_broker, names, tmp_path)
    worker = workers.start(2, INGEST_STALL_TIMEOUT_S="20")
    await wait_for_group(own_broker.bootstrap, names.app_id, 1)
    os.kill(own_broker.pid, signal.SIGSTOP)
    try:
        code = worker.process.wait(timeout=60)
    finally:
        os.kill(own_broker.pid, signal.SIGCONT)
        workers.running.remove(worker)
        worker.kill()
    assert code == 75 and "stalled (offsets unreadable" in worker.log(), worker.log()[-3000:]


async def test_an_output_the_broker_never_acknowledges_exits_without_commit_then_replays(
    broker: Broker, names: Names, workers: Workers, collector: Collector
) -> None:
    """The idempotent producer retries a retriable error (here: the output topic is gone)
    forever, and faust's flush before each commit waits for it: the send timeout must end it."""
    env = {"INGEST_SEND_TIMEOUT_S": "5"}
    worker = workers.start(1, **env)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    s = Scenario(broker, names)
    await s.bad(b"first", "not_json")
    s.check(await collector.until(1))
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([names.rejected])
    finally:
        await admin.close()
    await s.bad(b"second", "not_json")
    assert worker.process.wait(timeout=60) == 70, worker.log()[-3000:]
    assert "exiting without commit" in worker.log()
    workers.running.remove(worker)

    workers.start(1, **env)  # recreates the rejected topic at start; "second" is replayed
    replayed = Collector(broker.bootstrap, [names.rejected])
    try:
        [record] = await replayed.until(1)
    finally:
        await replayed.close()
    assert record.value["payload"] == "second"
