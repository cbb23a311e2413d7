"""What the container may use, from this process's cgroup files: CPUs and memory.

The only module that reads /sys/fs/cgroup. A file that is absent or unreadable means no limit
known (a process outside a container, or a cgroup layout not mounted).
"""

from __future__ import annotations

import os
from pathlib import Path

CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
MEMORY_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)
NO_LIMIT = 2**60
"""cgroup v1 says "no limit" with a number near 2^63."""


def available_cpus(cpu_max: Path = CPU_MAX) -> int:
    """The CPUs this process may use: its affinity, capped by its cgroup's CPU quota (a
    container's `resources.limits.cpu`, rounded up), at least 1."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return max(1, cpus)
    if quota != "max":
        cpus = min(cpus, -(-int(quota) // int(period)))
    return max(1, cpus)


def memory_limit(paths: tuple[Path, ...] = MEMORY_LIMITS) -> int | None:
    """The memory limit of this process's cgroup (a container's `resources.limits.memory`),
    None when there is none or it cannot be read."""
    for path in paths:
        try:
            raw = path.read_text().strip()
        except OSError:
            continue
        if raw == "max":
            return None
        try:
            limit = int(raw)
        except ValueError:
            return None
        return None if limit >= NO_LIMIT else limit
    return None
