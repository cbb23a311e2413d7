"""The commit rule: only settled or nonexistent offsets, only contiguously from the start."""

from __future__ import annotations

from worker.streaming.offsets import FetchTracker, fetch_gaps, lost, next_commit


def test_a_contiguous_batch_has_no_gap() -> None:
    assert fetch_gaps(10, [10, 11, 12]) == ([], 13)


def test_jumps_inside_and_before_a_batch_are_gaps() -> None:
    assert fetch_gaps(10, [12, 13, 15]) == ([(10, 12), (14, 15)], 16)


def test_nothing_before_the_first_offset_is_a_gap_when_the_position_is_unknown() -> None:
    assert fetch_gaps(None, [40, 41]) == ([], 42)


def test_a_redelivery_below_the_expected_offset_is_not_a_gap() -> None:
    assert fetch_gaps(50, [12, 13]) == ([], 14)


def test_an_empty_batch_keeps_the_position() -> None:
    assert fetch_gaps(7, []) == ([], 7)


def test_commit_moves_across_the_settled_run() -> None:
    assert next_commit(5, {5, 6, 7, 9}, []) == 8


def test_commit_never_moves_past_an_unsettled_head() -> None:
    """Later offsets settled, the first one not (faust dropped it): no commit at all."""
    assert next_commit(5, {6, 7, 8}, []) is None


def test_commit_crosses_offsets_the_broker_skipped() -> None:
    assert next_commit(5, {5, 8, 9}, [(6, 8)]) == 10


def test_commit_can_start_in_a_gap() -> None:
    assert next_commit(5, {7}, [(3, 7)]) == 8


def test_nothing_settled_means_no_commit() -> None:
    assert next_commit(0, set(), []) is None


def test_after_a_seek_a_jump_from_the_sought_offset_is_a_gap() -> None:
    """A transaction marker at the committed offset: the first batch starts one later."""
    tracker = FetchTracker()
    tracker.begin_seek_all()
    tracker.end_seek_all({"p0": 10})
    assert tracker.fetched(tracker.seeks, {"p0": [11, 12]}) == {"p0": [(10, 11)]}
    assert tracker.fetched(tracker.seeks, {"p0": [14]}) == {"p0": [(13, 14)]}


def test_a_fetch_across_a_seek_is_trusted_only_if_it_starts_at_the_sought_offset() -> None:
    tracker = FetchTracker()
    tracker.seek("p0", 10)
    before = tracker.seeks
    tracker.seek("p0", 5)  # a refetch while the fetch was in flight
    assert tracker.fetched(before, {"p0": [5, 6]}) == {}
    assert tracker.fetched(tracker.seeks, {"p0": [8]}) == {"p0": [(7, 8)]}


def test_a_stale_batch_across_a_seek_makes_the_position_unknown() -> None:
    """Records 40.. fetched before a seek back to 5 may be dropped: 5.. must not be a gap."""
    tracker = FetchTracker()
    tracker.seek("p0", 40)
    before = tracker.seeks
    tracker.seek("p0", 5)
    assert tracker.fetched(before, {"p0": [40, 41]}) == {}
    assert tracker.fetched(tracker.seeks, {"p0": [9, 10]}) == {}  # 5..8 dropped by faust? unknown
    assert tracker.fetched(tracker.seeks, {"p0": [12]}) == {"p0": [(11, 12)]}


def test_a_batch_fetched_while_every_partition_is_sought_proves_nothing() -> None:
    tracker = FetchTracker()
    tracker.begin_seek_all()
    assert tracker.fetched(tracker.seeks, {"p0": [20, 21]}) == {}
    tracker.end_seek_all({"p0": 17, "p1": 3})
    assert tracker.fetched(tracker.seeks, {"p0": [25], "p1": [4]}) == {"p1": [(3, 4)]}


def test_a_forgotten_partition_has_no_gaps() -> None:
    tracker = FetchTracker()
    tracker.seek("p0", 10)
    tracker.forget("p0")
    assert tracker.fetched(tracker.seeks, {"p0": [30]}) == {}


def test_a_fetched_offset_faust_let_go_is_lost() -> None:
    assert lost(7, fetched_upto=9, held_by_faust=False)
    assert not lost(7, fetched_upto=9, held_by_faust=True)  # queued or in an agent, however long
    assert not lost(7, fetched_upto=6, held_by_faust=False)  # not fetched yet
    assert not lost(7, fetched_upto=None, held_by_faust=False)  # sought since
