"""MinHash sketches and similarity estimates (worker/core/minhash.py)."""

from __future__ import annotations

import random

from tests.fixtures.synthetic import sentence
from worker.core import minhash

RNG = random.Random(7)
TEXT = " ".join(sentence(RNG) for _ in range(30))


def exact_jaccard(a: str, b: str) -> float:
    sa, sb = set(minhash.shingles(a).tolist()), set(minhash.shingles(b).tolist())
    return len(sa & sb) / len(sa | sb)


def test_sketches_are_deterministic_and_compare_the_dedup_form_of_the_text() -> None:
    a = minhash.sketch(TEXT)
    assert a == minhash.sketch(TEXT)
    assert a == minhash.sketch("  " + TEXT.upper().replace(" ", "\n"))  # case and spacing
    assert len(a.signature) == 4 * minhash.PERMUTATIONS
    assert minhash.Sketch.decode(a.encode(), a.shingles) == a


def test_the_estimate_follows_the_exact_jaccard_similarity() -> None:
    words = TEXT.split()
    for cut in (0.1, 0.3, 0.5):
        edited = " ".join(words[: int(len(words) * (1 - cut))]) + " an entirely new ending follows"
        estimate = minhash.jaccard(minhash.sketch(TEXT), minhash.sketch(edited))
        assert abs(estimate - exact_jaccard(TEXT, edited)) < 0.12


def test_word_order_matters_and_cjk_characters_are_words() -> None:
    assert minhash.jaccard(minhash.sketch("a b c d e f"), minhash.sketch("f e d c b a")) == 0.0
    assert minhash.sketch("東京都の天気は晴れです").shingles == 9


def test_empty_texts_and_shares() -> None:
    empty, full = minhash.sketch(""), minhash.sketch(TEXT)
    assert empty.shingles == 0 and minhash.jaccard(empty, empty) == 1.0
    assert minhash.jaccard(empty, full) == 0.0
    assert minhash.new_share(full, full) == 0.0
    half = minhash.sketch(" ".join(TEXT.split()[: len(TEXT.split()) // 2]))
    assert minhash.new_share(half, full) < 0.05 < 0.35 < minhash.new_share(full, half)


def test_band_keys_name_their_band() -> None:
    keys = minhash.band_keys(minhash.sketch(TEXT))
    assert len(keys) == minhash.BANDS == len(set(keys))
    assert all(len(k) == 16 for k in keys)


def test_a_stored_sketch_keeps_the_low_byte_of_each_value_and_estimates_alike() -> None:
    words = TEXT.split()
    a, b = minhash.sketch(TEXT), minhash.sketch(" ".join(words[: len(words) * 3 // 4]) + " new end")
    stored = a.compact()
    assert len(stored.signature) == minhash.PERMUTATIONS and stored.compact() == stored
    assert minhash.Sketch.decode(stored.encode(), stored.shingles) == stored
    assert minhash.jaccard(stored, b.compact()) == minhash.jaccard(a, b) == minhash.jaccard(stored, b)
    assert minhash.jaccard(stored, a) == 1.0


def test_the_estimate_is_corrected_for_low_bytes_that_agree_by_chance() -> None:
    """Different values agree on their low byte once in 256 times: over many pairs the stored
    estimate averages what the full 32-bit values give."""
    rng = random.Random(3)
    stored, full = [], []
    for _ in range(60):
        a, b = (minhash.sketch(" ".join(sentence(rng) for _ in range(20))) for _ in range(2))
        stored.append(minhash.jaccard(a, b))
        full.append(float((a.values() == b.values()).mean()))
    assert abs(sum(stored) - sum(full)) / len(full) < 0.0015  # uncorrected: about 0.0037


def test_the_pivot_is_the_lowest_band_whose_stored_values_agree() -> None:
    a = minhash.sketch(TEXT)
    values = a.values().copy()
    values[: 3 * minhash.ROWS] += 1  # bands 0-2 differ (their low bytes too)
    b = minhash.Sketch(values.tobytes(), a.shingles)
    assert minhash.pivot(a, b) == minhash.pivot(a.compact(), b) == 3
    keys_a, keys_b = minhash.band_keys(a), minhash.band_keys(b)
    assert [x == y for x, y in zip(keys_a, keys_b, strict=True)].index(True) == 3
    assert minhash.pivot(a, minhash.sketch("something else entirely, nothing shared at all")) is None
