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
    """Remembers, per partition, when its committed offset last moved."""

    stall_timeout_s: float
    _committed: dict[Hashable, int] = field(default_factory=dict)
    _moved_at: dict[Hashable, float] = field(default_factory=dict)

    def observe(self, now: float, end: Mapping[Hashable, int], committed: Mapping[Hashable, int]) -> Status:
        """Record one probe: end offsets and committed offsets (missing = nothing committed yet).

        A partition counts as stuck when it has lag and its committed offset has not moved for
        `stall_timeout_s`, even while other partitions progress (one stuck stream is enough).
        """
        lags = {tp: max(0, end[tp] - committed.get(tp, 0)) for tp in end}
        for tp in end:
            if tp not in self._moved_at or committed.get(tp, 0) != self._committed.get(tp) or not lags[tp]:
                self._moved_at[tp] = now
        self._committed = {tp: committed.get(tp, 0) for tp in end}
        self._moved_at = {tp: self._moved_at[tp] for tp in end}
        idle = max((now - self._moved_at[tp] for tp in end if lags[tp]), default=0.0)
        lag = sum(lags.values())
        if idle > self.stall_timeout_s:
            stuck = sorted(str(tp) for tp in end if lags[tp] and now - self._moved_at[tp] > self.stall_timeout_s)
            return Status(False, lag, idle, f"no commit for {idle:.0f} s with lag on {', '.join(stuck)[:300]}")
        return Status(True, lag, idle, "progressing" if lag else "caught up")
