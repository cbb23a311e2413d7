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
