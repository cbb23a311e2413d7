"""The worker process's allocator: glibc tuned for large buffers freed on several threads."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

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
