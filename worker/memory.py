"""The worker process's memory: glibc tuned for large buffers freed on several threads, and the
processes' caps checked against the container's memory limit at start."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from dataclasses import dataclass

from worker.settings import MIB, Settings

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
"""`mallopt` parameters (glibc's malloc.h)."""

MMAP_THRESHOLD_BYTES = 128 * 2**10
ARENAS = 2


def tune_malloc() -> bool:
    """Bound what glibc keeps of freed memory; call before any thread starts. Whether it applied
    (False on a C library without `mallopt`, e.g. musl).

    faust runs the Kafka consumer on a thread of its own and RocksDB flushes on others: glibc
    gives each thread up to a 64 MiB arena of its own, and raises its mmap threshold to the
    largest block freed, so once a raw page of a few hundred KB is freed, later pages and fetch
    buffers come from arenas that keep their freed memory. Fixed at 128 KiB (glibc's start
    value) and two arenas, large buffers go back to the system when freed: peak RSS of one
    worker process at 2,000 messages 275 -> 223 MiB (BENCHMARKS.md, "Throughput").
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_ARENA_MAX, ARENAS)
    )
    if not applied:
        log.warning("mallopt refused: the allocator keeps its defaults")
    return applied


PARENT_BASE_BYTES = 288 * MIB
"""The worker process beyond its tables' memory and re-fetch cache: code, libraries, Kafka
clients' fetch and send buffers (1 MiB per assigned partition of four topics), pages in flight
(peak RSS 387 MiB over 33 minutes with 64 + 64 MiB of tables and cache at 12 partitions,
BENCHMARKS.md "Throughput": 259 MiB beyond them)."""


@dataclass(frozen=True, slots=True)
class Budget:
    """What the worker's processes may take: the worker process, and its extraction processes
    (`INGEST_EXTRACT_WORKERS` plus `INGEST_EXTRACT_SPARES`), each capped at `cap` bytes of
    address space (`INGEST_EXTRACT_MEMORY_BYTES`; 0: uncapped)."""

    parent: int
    processes: int
    cap: int

    @property
    def children(self) -> int:
        """The extraction processes together at most (meaningless when uncapped)."""
        return self.processes * self.cap


def budget(settings: Settings) -> Budget:
    """The memory budget these settings give the worker."""
    spares = settings.extract_spares if settings.extract_slow_s else 0
    return Budget(
        parent=PARENT_BASE_BYTES + settings.store_memory_bytes + settings.refetch_cache_bytes,
        processes=settings.extract_workers + spares,
        cap=max(0, settings.extract_memory_bytes),
    )


def check_budget(settings: Settings, limit: int | None) -> None:
    """Raise ValueError (one line) if the processes' caps may exceed the container's memory
    limit: the kernel's OOM killer would then pick a process, not the worker's own caps."""
    if limit is None:
        return
    need = budget(settings)
    if not need.cap:
        raise ValueError(
            f"INGEST_EXTRACT_MEMORY_BYTES=0 leaves {need.processes} extraction processes "
            f"uncapped inside a memory limit of {limit // MIB} MiB: set a cap per process"
        )
    if need.parent + need.children > limit:
        raise ValueError(
            f"memory limit {limit // MIB} MiB is below what the worker may use: "
            f"{need.parent // MIB} MiB (worker process: {PARENT_BASE_BYTES // MIB} + "
            f"INGEST_STORE_MEMORY_BYTES + INGEST_REFETCH_CACHE_BYTES) + {need.processes} "
            f"extraction processes (INGEST_EXTRACT_WORKERS + INGEST_EXTRACT_SPARES) x "
            f"{need.cap // MIB} MiB (INGEST_EXTRACT_MEMORY_BYTES) = "
            f"{(need.parent + need.children) // MIB} MiB: raise the limit or lower those"
        )
