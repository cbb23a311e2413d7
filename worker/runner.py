"""Runs the CPU-bound pipeline off the event loop, each call bounded in time.

`ProcessRunner` keeps N single-process slots (child processes started from a forkserver that
has already imported the pipeline). A call that runs past its timeout has its child killed and
replaced, so one pathological page costs one slot for `timeout_s` and nothing more. A child
that dies (segfault, OOM kill) is replaced the same way. Each child's address space is capped,
so a page that needs too much memory fails alone (MemoryError, see `pipeline.process`).
A call still running after `slow_s` gives its slot up to a spare child (at most `spares` at once),
so slow pages never hold every slot while the pages behind them wait; the spare slot stays, and
the slow call's slot, once the call ends, waits idle to be the next spare (a new child costs
about 45 ms of CPU before it cleans a page as fast as a warm one), spares and idle slots
together at most `spares`.
`InlineRunner` has the same interface and runs in-process, for tests and the `clean` command.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from worker import metrics
from worker.errors import Reason
from worker.pipeline import Failure

T = TypeVar("T")
PRELOAD = ["worker.preload"]
"""What the forkserver imports before it forks a child: the pipeline, warmed up."""


def start_child(max_bytes: int, worker_pid: int) -> None:
    """Set up a new child: it ends with the worker; its address space is capped (0: no cap)."""
    exit_with(worker_pid)
    if max_bytes > 0:  # a page that needs too much raises MemoryError
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def exit_with(pid: int) -> None:
    """End this process as soon as process `pid` ends, however it ends (SIGKILL included).

    A pool child would otherwise live on: it holds its own task queue open, so it never sees
    the worker go, and the forkserver lives as long as any child does.
    """
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)

    def wait() -> None:
        select.select([handle], [], [])  # readable once the process has ended
        os._exit(1)

    threading.Thread(target=wait, name="exit-with-worker", daemon=True).start()


class InlineRunner:
    """Runs calls in the calling process (tests, CLI)."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T | Failure:
        """Call fn(*args) directly."""
        return fn(*args)

    def close(self) -> None:
        """Nothing to release."""


class ProcessRunner:
    """Runs calls in a fixed number of child processes with a per-call timeout."""

    def __init__(
        self,
        workers: int,
        timeout_s: float,
        tasks_per_child: int,
        memory_bytes: int = 0,
        slow_s: float = 0.0,
        spares: int = 0,
    ) -> None:
        self.timeout_s = timeout_s
        self.slow_s = slow_s
        """A call running this long counts as slow: a spare slot takes its place (0: never)."""
        self._tasks_per_child = tasks_per_child
        self._memory_bytes = memory_bytes
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._free: asyncio.Queue[ProcessPoolExecutor] = asyncio.Queue()
        for _ in range(workers):
            self._free.put_nowait(self._new_slot())
        self.max_spares = spares if slow_s > 0 else 0
        self.spares = 0
        """Slots opened in place of slow calls' slots, now running."""
        self._idle: list[ProcessPoolExecutor] = []
        """Slots whose slow call ended while a spare served in their place: the next spares
        (`spares` + len(_idle) <= max_spares: the processes the memory check counts)."""
        self.recycled = 0

    def _new_slot(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            max_tasks_per_child=self._tasks_per_child,
            initializer=start_child,
            initargs=(self._memory_bytes, os.getpid()),
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T | Failure:
        """Run fn(*args) in a child; a timeout or a dead child becomes a Failure."""
        slot: ProcessPoolExecutor | None = await self._free.get()
        assert slot is not None
        loop = asyncio.get_running_loop()
        spared = False

        def spare() -> None:  # still running: let a new slot serve the pages behind it
            nonlocal spared
            if not call.done() and self.spares < self.max_spares:
                self.spares, spared = self.spares + 1, True
                metrics.EXTRACT_SPARES.set(self.spares)
                self._free.put_nowait(self._idle.pop() if self._idle else self._new_slot())

        slow: asyncio.TimerHandle | None = None
        started = time.monotonic()  # once a slot is free: the time in the child, not the wait
        try:
            call = slot.submit(fn, *args)  # (done in the child: the loop may not know it yet)
            if self.max_spares:
                slow = loop.call_later(self.slow_s, spare)
            return await asyncio.wait_for(asyncio.wrap_future(call), self.timeout_s)
        except TimeoutError:
            self._kill(slot)
            slot = None
            return Failure(Reason.TIMEOUT, f"processing took longer than {self.timeout_s:g} s")
        except BrokenProcessPool:
            self._kill(slot)
            slot = None
            return Failure(Reason.EXTRACTOR_CRASHED, "the extraction process died")
        finally:
            metrics.CLEANING_S.observe(time.monotonic() - started)
            if slow is not None:
                slow.cancel()
            if spared:  # its spare has its place: this slot waits to be the next spare
                self.spares -= 1
                metrics.EXTRACT_SPARES.set(self.spares)
                if slot is not None:
                    self._idle.append(slot)
            else:
                self._free.put_nowait(slot or self._new_slot())

    def _kill(self, slot: ProcessPoolExecutor) -> None:
        """Kill a slot's child (the caller replaces the slot)."""
        for process in list(getattr(slot, "_processes", {}).values()):
            process.kill()
        slot.shutdown(wait=False, cancel_futures=True)
        self.recycled += 1
        metrics.TIMEOUTS_RECYCLED.inc()

    def close(self) -> None:
        """Stop every child process."""
        while not self._free.empty():
            self._free.get_nowait().shutdown(wait=False, cancel_futures=True)
        while self._idle:
            self._idle.pop().shutdown(wait=False, cancel_futures=True)
