"""Scores for the extraction benchmark: text shingle overlap and per-field label agreement.

Text: both texts split into `\\w+` tokens (Unicode, case kept), contiguous 4-token shingles
as multisets; per page precision = overlap / predicted shingles, recall = overlap / true
shingles; mean precision over pages with output, mean recall over all pages, F1 of the means
(the corpus README's metric).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"\w+")
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " "}
)
SHINGLE = 4


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """The multiset of 4-token shingles of a text."""
    words = _TOKEN.findall(text)
    return Counter(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def page_scores(predicted: str, truth: str) -> tuple[float | None, float]:
    """(precision or None when nothing was predicted, recall) of one page."""
    pred, true = shingles(predicted), shingles(truth)
    overlap = sum((pred & true).values())
    recall = overlap / sum(true.values()) if true else float(not pred)
    if not predicted.strip():
        return None, recall
    return (overlap / sum(pred.values()) if pred else float(not true)), recall


@dataclass(frozen=True, slots=True)
class TextScore:
    """Corpus-level text scores of one extractor."""

    pages: int
    empty: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        """Harmonic mean of mean precision and mean recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def text_score(pairs: Iterable[tuple[str, str]]) -> TextScore:
    """Score (predicted, truth) pairs, one per page."""
    precisions, recalls, empty = [], [], 0
    for predicted, truth in pairs:
        precision, recall = page_scores(predicted, truth)
        recalls.append(recall)
        if precision is None:
            empty += 1
        else:
            precisions.append(precision)
    mean_p = sum(precisions) / len(precisions) if precisions else 0.0
    return TextScore(len(recalls), empty, mean_p, sum(recalls) / len(recalls) if recalls else 0.0)


def _norm(value: str | None) -> str:
    """Comparison form (bench/labels/README.md): NFKC, straight quotes, '-' for dashes, one
    space, no trailing punctuation, case-folded."""
    text = unicodedata.normalize("NFKC", (value or "").translate(_QUOTES))
    return " ".join(text.split()).rstrip(".!?:;,").casefold()


def title_ok(label: dict[str, Any], value: str | None) -> bool:
    """Title equality after normalization."""
    return _norm(label.get("title")) == _norm(value)


def author_ok(label: dict[str, Any], value: list[str] | None) -> bool:
    """Same set of names, case-insensitive (no names on both sides counts as correct)."""
    want = {_norm(name) for name in label.get("author") or []}
    return want == {_norm(re.sub(r"^by\s+", "", name, flags=re.I)) for name in value or []}


def date_ok(label: dict[str, Any], value: str | None, field: str = "date_published") -> bool:
    """Same calendar date (YYYY-MM-DD prefix); null label and null output counts as correct."""
    want = label.get(field)
    return (want or None) == ((value or "")[:10] or None) if want else not value


def language_ok(label: dict[str, Any], value: str | None) -> bool:
    """Same ISO 639-1 code (the prediction lower-cased, region dropped)."""
    predicted = re.split(r"[-_]", value or "")[0].lower()
    return (label.get("language") or None) == (predicted or None)


def site_name_ok(label: dict[str, Any], value: str | None) -> bool:
    """Equal to the site name or any listed alternative, case-insensitive."""
    names = [label.get("site_name"), *(label.get("site_name_alternatives") or [])]
    wanted = {_site(n) for n in names if n}
    return _site(value) in wanted if wanted else not value


def _site(value: str | None) -> str:
    """Site-name comparison form: normalized, a leading 'The' ignored."""
    return re.sub(r"^the\s+", "", _norm(value))


FIELDS = {
    "title": title_ok,
    "author": author_ok,
    "date": date_ok,
    "language": language_ok,
    "site_name": site_name_ok,
}
"""Field name in the table -> scoring function over (label, extracted value)."""
