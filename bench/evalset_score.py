"""The scoring rule of the second evaluation set: trafilatura's own (`tests/eval_common.py`,
`tests/eval_authors.py` at the pinned commit), restated here so bench/ imports nothing of theirs.

Text: each page has 1-6 snippets that must appear in the main text (`with`) and 1-6 that must
not (`without`). Output and snippets are whitespace-normalized (every run of whitespace one
space, stripped); a snippet counts as present when it is a substring of the output. Per page:
true positives = `with` snippets present, false negatives = `with` snippets absent, false
positives = `without` snippets present, true negatives = `without` snippets absent; no output
(a rejected page, None) finds nothing. The counts are summed over all pages, then
precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2 tp / (2 tp + fp + fn).

Authors: only pages whose label is non-empty count. A label that is a list is joined with "; "
(how trafilatura joins several authors); the output is exactly right when its author string
(trafilatura's `author`; the worker's names joined with "; ", in its order) is equal to it,
character for character: no case folding, no whitespace or punctuation normalization (some
labels carry stray spaces or tabs, which no extractor that strips names can match). A looser
figure, ours, not trafilatura's: the same names in any order, each whitespace-normalized and
lower-cased (`same_names`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_SPACE = re.compile(r"\s+")
AUTHOR_SEPARATOR = "; "


def norm(text: str) -> str:
    """Whitespace-normalized text: every run of whitespace one space, stripped."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Counts:
    """One page's snippet counts."""

    tp: int
    fp: int
    fn: int
    tn: int


def count_item(item: dict[str, Any], result: str | None) -> Counts:
    """A page's counts by whitespace-normalized substring matching (None: nothing found)."""
    found = norm(result) if isinstance(result, str) else None
    tp = sum(1 for w in item["with"] if found is not None and norm(w) in found)
    fp = sum(1 for w in item["without"] if found is not None and norm(w) in found)
    return Counts(tp, fp, len(item["with"]) - tp, len(item["without"]) - fp)


def found_snippets(snippets: Iterable[str], result: str | None) -> set[str]:
    """The snippets present in a result (none for None)."""
    if not isinstance(result, str):
        return set()
    found = norm(result)
    return {s for s in snippets if norm(s) in found}


@dataclass(slots=True)
class Confusion:
    """Snippet counts summed over pages, with trafilatura's derived scores."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, counts: Counts) -> None:
        """Add one page's counts."""
        self.tp += counts.tp
        self.fp += counts.fp
        self.fn += counts.fn
        self.tn += counts.tn

    @property
    def precision(self) -> float:
        """tp / (tp + fp), 0.0 when nothing was found."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn), 0.0 when nothing was required."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """2 tp / (2 tp + fp + fn), 0.0 when all counts are zero."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0


def author_label(item: dict[str, Any]) -> str | None:
    """The page's author label as one string (a list joined with "; "), None when unlabelled."""
    label = item.get("author")
    if isinstance(label, list):
        label = AUTHOR_SEPARATOR.join(label)
    return label or None


def joined_authors(names: Sequence[str] | str | None) -> str | None:
    """An output's authors as one string: a list joined with "; " in its order (None if none)."""
    if isinstance(names, str) or names is None:
        return names or None
    return AUTHOR_SEPARATOR.join(names) or None


def author_right(item: dict[str, Any], names: Sequence[str] | str | None) -> bool | None:
    """Whether the output's authors equal the label exactly (None: the page has no label)."""
    label = author_label(item)
    if label is None:
        return None
    return joined_authors(names) == label


def _names(joined: str | None) -> list[str]:
    """The names of a "; "-joined author string, whitespace-normalized, lower-cased, sorted."""
    return sorted(n for n in (norm(part).lower() for part in (joined or "").split(";")) if n)


def same_names(item: dict[str, Any], names: Sequence[str] | str | None) -> bool | None:
    """Whether the output names the label's authors, ignoring order, spacing and case (None:
    the page has no label)."""
    label = author_label(item)
    if label is None:
        return None
    return _names(joined_authors(names)) == _names(label)
