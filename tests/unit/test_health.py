"""Progress tracking over the whole group: stalled when pages wait and nothing moves them."""

from __future__ import annotations

from worker.health import Observation, Partition, ProgressTracker, Status, with_undecided

RAW0, RAW1 = Partition("pages.raw", 0), Partition("pages.raw", 1)
URL0 = Partition("app-pages.by-url", 0)
EVERYONE = frozenset({RAW0, RAW1, URL0})


def seen(end: dict[Partition, int], committed: dict[Partition, int], **more: object) -> Observation:
    return Observation(end=end, committed=committed, **{"held": EVERYONE, "mine": EVERYONE, **more})  # type: ignore[arg-type]


def test_caught_up_is_healthy_however_long_nothing_moves() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    tracker.observe(0, seen({RAW0: 5}, {RAW0: 5}))
    status = tracker.observe(1000, seen({RAW0: 5}, {RAW0: 5}))
    assert status.healthy and status.lag == 0 and status.detail == "caught up"


def test_lag_with_moving_commits_is_healthy() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 100, 5):
        status = tracker.observe(t, seen({RAW0: 1000}, {RAW0: t}))
    assert status.healthy and status.lag == 1000 - 95


def test_lag_without_commits_past_the_timeout_is_stalled() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    tracker.observe(0, seen({RAW0: 100, RAW1: 3}, {RAW0: 40}))
    assert tracker.observe(9, seen({RAW0: 100, RAW1: 3}, {RAW0: 40})).healthy
    status = tracker.observe(11, seen({RAW0: 100, RAW1: 3}, {RAW0: 40}))
    assert not status.healthy and status.lag == 63
    assert status.as_json()["status"] == "stalled"
    assert status.stalled_topics == ("pages.raw",)


def test_a_partition_without_commit_counts_from_its_log_start() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    status = tracker.observe(0, seen({RAW0: 100}, {}, start={RAW0: 100}))
    assert status.lag == 0


def test_progress_after_a_stall_recovers() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    tracker.observe(0, seen({RAW0: 100}, {RAW0: 40}))
    assert not tracker.observe(20, seen({RAW0: 100}, {RAW0: 40})).healthy
    assert tracker.observe(21, seen({RAW0: 100}, {RAW0: 41})).healthy


def test_one_stuck_partition_is_a_stall_even_while_others_progress() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 30, 5):
        status = tracker.observe(t, seen({RAW0: 1000, URL0: 50}, {RAW0: t * 10, URL0: 7}))
    assert not status.healthy
    assert status.stalled_topics == ("app-pages.by-url",)
    assert "app-pages.by-url [0]" in status.detail and "pages.raw" not in status.detail


def test_pages_on_a_partition_no_member_holds_are_a_stall_named_as_such() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    held = frozenset({RAW0, RAW1})  # the group's assignment left the by-url topic out
    for t in range(0, 30, 5):
        status = tracker.observe(t, seen({RAW0: 10, RAW1: 10, URL0: 362}, {RAW0: 10, RAW1: 10}, held=held))
    assert not status.healthy and status.lag == 362
    assert "held by no member" in status.detail and "app-pages.by-url" in status.detail


def test_a_page_waiting_behind_slow_pages_is_not_stuck_while_this_worker_progresses() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 60, 5):  # the commit waits on a batch; pages finish every 5 s
        status = tracker.observe(t, seen({RAW0: 40}, {RAW0: 8}, busy={RAW0}), progressed_at=t - 1)
    assert status.healthy and status.lag == 32


def test_progress_elsewhere_does_not_excuse_a_partition_with_nothing_in_flight() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 60, 5):
        status = tracker.observe(t, seen({RAW0: 40, RAW1: 9}, {RAW0: 8, RAW1: 0}, busy={RAW0}), progressed_at=t)
    assert not status.healthy and status.stalled_topics == ("pages.raw",)
    assert "pages.raw [1]" in status.detail


def test_a_topic_missing_for_the_timeout_is_unhealthy_and_named() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    gone = seen({RAW0: 1}, {RAW0: 1}, missing=["app-pages.by-url"])
    assert tracker.observe(0, gone).healthy
    assert tracker.observe(5, seen({RAW0: 1}, {RAW0: 1})).healthy  # back: the clock restarts
    assert tracker.observe(12, gone).healthy
    status = tracker.observe(23, gone)
    assert not status.healthy
    assert status.stalled_topics == ("app-pages.by-url",)
    assert "app-pages.by-url does not exist" in status.detail


def test_offsets_unreadable_past_the_timeout_is_a_stall() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    ok = tracker.observe(0, seen({RAW0: 5}, {RAW0: 5}))
    assert tracker.unreadable(5, ok, "KafkaTimeoutError()") is ok
    status = tracker.unreadable(11, ok, "KafkaTimeoutError()")
    assert not status.healthy and "unreadable for 11 s" in status.detail


def test_a_page_undecided_too_long_in_the_dedup_stages_is_a_stall_even_at_lag_0() -> None:
    caught_up = Status(True, 0, 0.0, "caught up")
    assert with_undecided(caught_up, 3, 59.0, 60.0) is caught_up
    stalled = with_undecided(caught_up, 3, 61.0, 60.0)
    assert not stalled.healthy and stalled.seconds_without_progress == 61.0
    assert stalled.detail == "3 pages undecided in the dedup stages, the oldest for 61 s"
    already = Status(False, 5, 90.0, "no progress for 90 s: lag on raw [0]")
    assert with_undecided(already, 3, 61.0, 60.0) is already


def test_a_partition_another_member_holds_is_that_members_to_judge() -> None:
    """Another member restoring its tables for minutes must not make this one exit."""
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 60, 5):
        status = tracker.observe(t, seen({RAW0: 40, RAW1: 9}, {RAW0: 8, RAW1: 9}, mine={RAW1}))
    assert status.healthy and status.lag == 32


def test_a_worker_holding_nothing_is_healthy() -> None:
    """Workers beyond the partition count are idle, not stalled; orphans still count."""
    tracker = ProgressTracker(stall_timeout_s=10)
    for t in range(0, 60, 5):
        status = tracker.observe(t, seen({RAW0: 40}, {RAW0: 8}, mine=frozenset()))
    assert status.healthy
    orphan = seen({RAW0: 40, URL0: 5}, {RAW0: 8}, mine=frozenset(), held=frozenset({RAW0}))
    for t in range(60, 120, 5):
        status = tracker.observe(t, orphan)
    assert not status.healthy and "held by no member" in status.detail


def test_a_restore_that_advances_is_not_a_stall_and_one_that_does_not_is() -> None:
    tracker = ProgressTracker(stall_timeout_s=10)
    restoring = seen({RAW0: 40}, {RAW0: 8}, mine={RAW0}, recovering=True)
    for t in range(0, 60, 5):  # the probe marks progress while the restore advances
        status = tracker.observe(t, restoring, progressed_at=t - 1)
    assert status.healthy
    for t in range(60, 80, 5):  # the restore stopped advancing
        status = tracker.observe(t, restoring, progressed_at=59)
    assert not status.healthy and "pages.raw [0]" in status.detail
