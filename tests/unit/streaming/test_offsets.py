"""The commit rule: only settled or nonexistent offsets, only contiguously from the start."""

from __future__ import annotations

from worker.streaming.offsets import fetch_gaps, next_commit


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
