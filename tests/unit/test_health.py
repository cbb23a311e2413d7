"""Progress tracking: stalled only when there is lag and the committed offsets stop moving."""

from __future__ import annotations

from worker.health import ProgressTracker


def test_caught_up_is_healthy_however_long_nothing_moves() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    tracker.observe(0, {"p0": 5}, {"p0": 5})
    status = tracker.observe(1000, {"p0": 5}, {"p0": 5})
    assert status.healthy and status.lag == 0


def test_lag_with_moving_commits_is_healthy() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 100, 5):
        status = tracker.observe(t, {"p0": 1000}, {"p0": t})
    assert status.healthy and status.lag == 1000 - 95


def test_lag_without_commits_past_the_timeout_is_stalled() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    tracker.observe(0, {"p0": 100, "p1": 3}, {"p0": 40})
    assert tracker.observe(9, {"p0": 100, "p1": 3}, {"p0": 40}).healthy
    status = tracker.observe(11, {"p0": 100, "p1": 3}, {"p0": 40})
    assert not status.healthy and status.lag == 63
    assert status.as_json()["status"] == "stalled"


def test_progress_after_a_stall_recovers() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    tracker.observe(0, {"p0": 100}, {"p0": 40})
    assert not tracker.observe(20, {"p0": 100}, {"p0": 40}).healthy
    assert tracker.observe(21, {"p0": 100}, {"p0": 41}).healthy


def test_one_stuck_partition_is_a_stall_even_while_others_progress() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 30, 5):
        status = tracker.observe(t, {"raw-0": 1000, "by-url-0": 50}, {"raw-0": t * 10, "by-url-0": 7})
    assert not status.healthy
    assert "by-url-0" in status.detail and "raw-0" not in status.detail
