"""Processes seen through /proc: a process's descendants, and whether they are gone.

Used to check that no extraction process outlives its worker, however the worker ends.
"""

from __future__ import annotations

import time
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """The pids of every living descendant of a process (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # exited meanwhile
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def assert_gone(pids: set[int], timeout_s: float = 15.0) -> None:
    """Fail unless every one of these processes is gone (or a zombie) within the timeout."""
    deadline = time.monotonic() + timeout_s
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        if alive:
            time.sleep(0.1)
    assert not alive, f"processes outlived their worker: {sorted(alive)}"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
