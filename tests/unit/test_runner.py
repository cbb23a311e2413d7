"""The process runner: results come back, a slow call times out and its child is replaced."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from tests.processes import assert_gone, descendants
from worker.errors import Reason
from worker.pipeline import Failure
from worker import preload
from worker.pipeline import Reusable
from worker.runner import PRELOAD, InlineRunner, ProcessRunner


def pid_after(delay_s: float) -> int:
    """Sleep, then return the child's pid (module-level: it must pickle)."""
    time.sleep(delay_s)
    return os.getpid()


def die() -> None:
    os._exit(3)


@pytest.fixture
async def runner() -> AsyncIterator[ProcessRunner]:
    r = ProcessRunner(workers=2, timeout_s=1.0, tasks_per_child=100)
    yield r
    r.close()


async def test_calls_run_in_child_processes(runner: ProcessRunner) -> None:
    pids = await asyncio.gather(*(runner.run(pid_after, 0.0) for _ in range(4)))
    assert all(isinstance(p, int) and p != os.getpid() for p in pids)


async def test_slow_call_times_out_and_its_slot_is_replaced(runner: ProcessRunner) -> None:
    slow, fast = await asyncio.gather(runner.run(pid_after, 30.0), runner.run(pid_after, 0.0))
    assert slow == Failure(Reason.TIMEOUT, "processing took longer than 1 s")
    assert isinstance(fast, int)  # the other slot kept working meanwhile
    assert runner.recycled == 1
    after = await asyncio.gather(*(runner.run(pid_after, 0.0) for _ in range(2)))
    assert all(isinstance(p, int) for p in after)  # both slots serve again


async def test_a_dying_child_is_a_failure_and_is_replaced(runner: ProcessRunner) -> None:
    result = await runner.run(die)
    assert isinstance(result, Failure) and result.reason is Reason.EXTRACTOR_CRASHED
    assert isinstance(await runner.run(pid_after, 0.0), int)


async def test_event_loop_stays_responsive_while_children_work(runner: ProcessRunner) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await asyncio.gather(runner.run(pid_after, 0.5), runner.run(pid_after, 0.5))
    ticker.cancel()
    assert ticks >= 20


async def test_inline_runner_calls_in_process() -> None:
    assert await InlineRunner().run(pid_after, 0.0) == os.getpid()


def allocate(n_bytes: int) -> int:
    return len(bytearray(n_bytes))


async def test_memory_cap_makes_a_greedy_call_fail_alone() -> None:
    capped = ProcessRunner(workers=1, timeout_s=10.0, tasks_per_child=100, memory_bytes=768 * 1024 * 1024)
    try:
        with pytest.raises(MemoryError):
            await capped.run(allocate, 2 * 1024 * 1024 * 1024)
        assert await capped.run(allocate, 1024) == 1024  # the same child goes on
    finally:
        capped.close()


PARENT = """
import asyncio, sys, time
from tests.unit.test_runner import pid_after
from worker.runner import ProcessRunner

async def main():
    runner = ProcessRunner(workers=2, timeout_s=60.0, tasks_per_child=100)
    busy = asyncio.ensure_future(runner.run(pid_after, 60.0))  # one child mid-page
    print(await runner.run(pid_after, 0.0), flush=True)
    await busy

asyncio.run(main())
"""


def test_children_end_with_a_worker_killed_by_sigkill() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    int(parent.stdout.readline())  # a child answered: the pool is up
    family = descendants(parent.pid)
    assert len(family) >= 3  # resource tracker, forkserver, two children
    parent.kill()
    parent.wait()
    assert_gone(family, timeout_s=10)


async def test_a_slow_call_gives_its_slot_up_to_a_spare() -> None:
    """With one slot, a page past the slow limit no longer holds up the pages behind it; once
    it ends, its spare stays and the pool is one slot again."""
    runner = ProcessRunner(workers=1, timeout_s=30.0, tasks_per_child=100, slow_s=0.2, spares=1)
    try:
        slow = asyncio.ensure_future(runner.run(pid_after, 3.0))
        started = time.monotonic()
        quick = await asyncio.gather(*(runner.run(pid_after, 0.0) for _ in range(3)))
        assert time.monotonic() - started < 2.5  # served beside the slow call, not after it
        assert runner.spares == 1
        slow_pid = await slow
        assert isinstance(slow_pid, int) and slow_pid not in quick
        assert runner.spares == 0
        later = await asyncio.gather(*(runner.run(pid_after, 0.0) for _ in range(2)))
        assert set(later) <= set(quick)  # the spare's child serves on; the slow one waits
    finally:
        runner.close()


async def test_the_slot_of_an_ended_slow_call_is_the_next_spare() -> None:
    """No new process per slow page: the child that ran one serves in place of the next."""
    runner = ProcessRunner(workers=1, timeout_s=30.0, tasks_per_child=100, slow_s=0.2, spares=1)
    try:
        first = asyncio.ensure_future(runner.run(pid_after, 1.0))
        await asyncio.sleep(0.4)
        spare_pid = await runner.run(pid_after, 0.0)
        first_pid = await first
        assert (runner.spares, len(runner._idle)) == (0, 1)
        second = asyncio.ensure_future(runner.run(pid_after, 1.0))
        await asyncio.sleep(0.4)
        assert await runner.run(pid_after, 0.0) == first_pid  # the idle slot, not a new child
        assert await second == spare_pid
        assert (runner.spares, len(runner._idle)) == (0, 1)
    finally:
        runner.close()


async def test_spares_are_at_most_as_many_as_allowed() -> None:
    runner = ProcessRunner(workers=1, timeout_s=30.0, tasks_per_child=100, slow_s=0.1, spares=1)
    try:
        slow = [asyncio.ensure_future(runner.run(pid_after, 1.5)) for _ in range(3)]
        await asyncio.sleep(0.8)
        assert runner.spares == 1  # the second slow call runs in the one spare
        started = time.monotonic()
        await runner.run(pid_after, 0.0)  # waits for a slot: none is left
        assert time.monotonic() - started > 0.4
        await asyncio.gather(*slow)
        assert runner.spares == 0
    finally:
        runner.close()


async def test_a_slow_call_that_times_out_leaves_its_spare_in_its_place() -> None:
    runner = ProcessRunner(workers=1, timeout_s=1.0, tasks_per_child=100, slow_s=0.1, spares=2)
    try:
        slow = asyncio.ensure_future(runner.run(pid_after, 30.0))
        await asyncio.sleep(0.3)
        assert isinstance(await runner.run(pid_after, 0.0), int)
        assert await slow == Failure(Reason.TIMEOUT, "processing took longer than 1 s")
        assert (runner.spares, runner.recycled, runner._free.qsize()) == (0, 1, 1)
    finally:
        runner.close()


def test_the_forkserver_warms_the_pipeline_up_on_real_pages() -> None:
    """What `worker.preload` cleans before the forkserver forks goes through the whole pipeline
    (a failure there would leave every extraction process cold without a word)."""
    article, short = preload.warm_up()
    assert isinstance(article, Reusable) and article.sketched.page.title == "Council extends the bus network"
    assert isinstance(short, Reusable)
    assert PRELOAD == ["worker.preload"]
