"""Liveness as progress: a worker is stalled when its committed offsets stop moving while there is lag.

Pure bookkeeping (no Kafka, no faust): the streaming layer feeds it the log-end offsets and the
group's committed offsets of the partitions this worker owns, read with a separate admin
client, because a stuck consumer also stops updating its own view of the highwater.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Hashable


@dataclass(frozen=True, slots=True)
class Status:
    """What /healthz reports."""

    healthy: bool
    lag: int
    seconds_without_progress: float
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "stalled",
            "lag": self.lag,
            "seconds_without_progress": round(self.seconds_without_progress, 1),
            "detail": self.detail,
        }


@dataclass
class ProgressTracker:
    """Remembers when the committed offsets last moved."""

    stall_timeout_s: float
    _committed: dict[Hashable, int] = field(default_factory=dict)
    _progress_at: float | None = None

    def observe(self, now: float, end: Mapping[Hashable, int], committed: Mapping[Hashable, int]) -> Status:
        """Record one probe: end offsets and committed offsets (missing = nothing committed yet)."""
        current = {tp: committed.get(tp, 0) for tp in end}
        lag = sum(max(0, end[tp] - current[tp]) for tp in end)
        if self._progress_at is None or current != self._committed or lag == 0:
            self._progress_at = now
        self._committed = current
        idle = now - self._progress_at
        if lag > 0 and idle > self.stall_timeout_s:
            return Status(False, lag, idle, f"lag {lag} and no commit for {idle:.0f} s")
        return Status(True, lag, idle, "progressing" if lag else "caught up")
