"""Scores of a worker's run over a labelled dedup stream (bench/dedup_stream.py).

    .venv/bin/python -m bench.dedup_score labels.jsonl outputs.jsonl

`labels.jsonl` is the stream as generated; `outputs.jsonl` every record the worker published
for it on the articles, duplicates and rejected topics, one a line: the values themselves or
the lines of `ingest-worker dump` ({"topic", "key", "value"}). Records are joined to labels by
`meta.msg`; a rejection's meta is read from its payload (the stream writes meta first, so a
truncated payload still has it).

A message's predicted cluster is the article id it was published under, the `duplicate_of`
of its duplicate record, or itself alone when rejected or missing. Figures:
- pairwise precision, recall and F1 over message pairs (same predicted vs same true cluster);
- per case, the share of messages put with the first published message of their cluster
  (stories) or kept apart from every other cluster (teasers, hard negatives);
- wrongly dropped: duplicates of an article of another cluster, or of no published article;
- missing messages, conflicting ones (two different decisions) and identical repeats;
- stale copies published, same-URL messages decided as `meta.expect` says;
- clusters with no published article, and with more than one (revisions of one id count once);
  of the latter, those of a story with a substantial update whose other articles were all
  first published by copy sites' pages: the order effect the dedup rules allow (README,
  Deduplication). The publisher's URL carries two texts under 0.6 alike, kept together by
  the URL alone; a copy of one of them decided before the publisher's page with that text
  reached the bands is published, since nothing like it was.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from bench.dedup_stream import Labelled

SAME_URL = ("original", "refetch", "refetch_chrome", "in_place_edit", "substantial_update", "stale")
"""Cases whose expected decision depends only on what the worker knows of the URL."""
APART = ("teaser", "hard_negative")
COPIES = ("syndicated", "light_edit")
"""Cases of a story's text on a copy site."""
"""Cases that are clusters of their own."""
PUBLISHED = ("new", "revision")
_META = re.compile(r'"meta"\s*:\s*')


class Decision(NamedTuple):
    """What the worker did with one message: `kind` (new, revision, duplicate, stale or
    rejected), the predicted cluster, and the record's detail (revision, duplicate kind or
    rejection reason) so that only identical records count as repeats."""

    kind: str
    cluster: str
    detail: str


@dataclass(frozen=True)
class Score:
    """Figures of one run (see the module docstring)."""

    messages: int
    records: int
    precision: float
    recall: float
    f1: float
    case_recall: Mapping[str, float]
    """Story cases: share of messages put with their cluster's first published message."""
    case_apart: Mapping[str, float]
    """Teasers and hard negatives: share of messages with no other cluster's message."""
    case_counts: Mapping[str, int]
    wrongly_dropped: int
    """Duplicates of an article of another cluster, or of no published article (lost data)."""
    dangling: int
    """Of the wrongly dropped: duplicates of an id no message was published under."""
    missing: int
    conflicting: int
    repeats: int
    unlabelled: int
    """Records that name no message of the stream."""
    stale_published: int
    revisions_ok: int
    """Messages of the SAME_URL cases decided as their `expect` says (of revisions_total)."""
    revisions_total: int
    clusters_unpublished: int
    """Clusters none of whose messages was published."""
    clusters_split: int
    """Clusters published under more than one article id."""
    clusters_split_by_copy: int
    """Of those, the ones of a story with a substantial update whose other ids were all first
    published by copies."""
    decisions: Mapping[str, Mapping[str, int]]
    """Expected decision -> decisions made (and `missing`) -> messages."""


def score(labels: Sequence[Labelled], records: Iterable[dict[str, Any]]) -> Score:
    """Score a run's output records against the stream's labels."""
    label = {item.value["meta"]["msg"]: item for item in labels}
    made, count, unlabelled, repeats = _made(label, records)
    decided = {msg: made[msg][0] for msg in sorted(made)}
    pred = {msg: decided[msg].cluster if msg in decided else f"missing:{msg}" for msg in label}
    true = {msg: item.cluster for msg, item in label.items()}
    precision, recall = _pairwise(pred, true)
    published: dict[str, set[str]] = defaultdict(set)
    for msg, decision in decided.items():
        if decision.kind in PUBLISHED:
            published[decision.cluster].add(true[msg])
    dropped = [(msg, d) for msg, d in decided.items() if d.kind in ("duplicate", "stale")]
    dangling = sum(d.cluster not in published for _, d in dropped)
    wrong = sum(d.cluster in published and true[m] not in published[d.cluster] for m, d in dropped)
    same_url = [msg for msg, item in label.items() if item.case in SAME_URL]
    unpublished, split, by_copy = _publications(label, decided)
    return Score(
        messages=len(label),
        records=count,
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        **_per_case(label, decided, pred),
        wrongly_dropped=wrong + dangling,
        dangling=dangling,
        missing=len(label) - len(decided),
        conflicting=sum(len(made[msg]) > 1 for msg in decided),
        repeats=repeats,
        unlabelled=unlabelled,
        stale_published=sum(
            label[msg].case == "stale" and d.kind in PUBLISHED for msg, d in decided.items()
        ),
        revisions_ok=sum(
            _kind(decided, msg) == label[msg].value["meta"]["expect"] for msg in same_url
        ),
        revisions_total=len(same_url),
        clusters_unpublished=unpublished,
        clusters_split=len(split),
        clusters_split_by_copy=len(by_copy),
        decisions=_confusion(label, decided),
    )


def message_of(record: Mapping[str, Any]) -> int | None:
    """The stream position a record is about: its meta's `msg` (a rejection's from its payload)."""
    meta = record.get("meta") if "reason" not in record else _payload_meta(record.get("payload"))
    msg = meta.get("msg") if isinstance(meta, dict) else None
    return msg if isinstance(msg, int) else None


def decide(record: Mapping[str, Any], msg: int) -> Decision:
    """The decision an output record states about message `msg`."""
    if "reason" in record:
        return Decision("rejected", f"rejected:{msg}", str(record["reason"]))
    if "duplicate_of" in record:
        kind = "stale" if record.get("stale") else "duplicate"
        return Decision(kind, str(record["duplicate_of"]), str(record.get("kind")))
    revision = record.get("revision")
    return Decision("new" if revision == 1 else "revision", str(record["id"]), str(revision))


def clusters(records: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Message -> predicted cluster, from the records alone (the first decision of each)."""
    found: dict[int, str] = {}
    for record in records:
        msg = message_of(record)
        if msg is not None and msg not in found:
            found[msg] = decide(record, msg).cluster
    return found


def same_clusters(a: Mapping[int, str], b: Mapping[int, str]) -> bool:
    """True if two clusterings group the same messages together, whatever their cluster ids."""
    return a.keys() == b.keys() and _partition(a) == _partition(b)


def _partition(clustering: Mapping[int, str]) -> set[frozenset[int]]:
    groups: dict[str, set[int]] = defaultdict(set)
    for msg, cluster in clustering.items():
        groups[cluster].add(msg)
    return {frozenset(group) for group in groups.values()}


def _payload_meta(payload: Any) -> Any:
    """The meta of a rejected message's payload, even when the payload was truncated."""
    if not isinstance(payload, str):
        return None
    try:
        value = json.loads(payload)
        return value.get("meta") if isinstance(value, dict) else None
    except ValueError:
        match = _META.search(payload)
    try:
        return json.JSONDecoder().raw_decode(payload, match.end())[0] if match else None
    except ValueError:
        return None


def _pairwise(pred: Mapping[int, str], true: Mapping[int, str]) -> tuple[float, float]:
    """(precision, recall) over pairs of messages; 1.0 when there is no pair to get right."""

    def pairs(groups: Iterable[Any]) -> int:
        return sum(math.comb(n, 2) for n in Counter(groups).values())

    both = pairs((pred[msg], true[msg]) for msg in pred)
    predicted, actual = pairs(pred.values()), pairs(true.values())
    return (both / predicted if predicted else 1.0), (both / actual if actual else 1.0)


def _kind(decided: Mapping[int, Decision], msg: int) -> str:
    return decided[msg].kind if msg in decided else "missing"


def _per_case(
    label: Mapping[int, Labelled], decided: Mapping[int, Decision], pred: Mapping[int, str]
) -> dict[str, Any]:
    """case_recall, case_apart and case_counts."""
    first: dict[str, str] = {}
    for msg in sorted(decided):
        if decided[msg].kind in PUBLISHED:
            first.setdefault(label[msg].cluster, decided[msg].cluster)
    truths: dict[str, set[str]] = defaultdict(set)
    for msg, item in label.items():
        truths[pred[msg]].add(item.cluster)
    together: dict[str, list[bool]] = defaultdict(list)
    apart: dict[str, list[bool]] = defaultdict(list)
    for msg, item in label.items():
        if item.case in APART:
            apart[item.case].append(truths[pred[msg]] == {item.cluster})
        else:
            together[item.case].append(first.get(item.cluster) == pred[msg])
    return {
        "case_recall": {case: sum(ok) / len(ok) for case, ok in sorted(together.items())},
        "case_apart": {case: sum(ok) / len(ok) for case, ok in sorted(apart.items())},
        "case_counts": dict(sorted(Counter(item.case for item in label.values()).items())),
    }


def _publications(
    label: Mapping[int, Labelled], decided: Mapping[int, Decision]
) -> tuple[int, set[str], dict[str, set[str]]]:
    """How many true clusters have no published id; the clusters with more than one; and of
    these the stories with a substantial update with at most one id besides those first
    published by copies (the publisher's own; none when the publisher's pages joined an
    article a copy published first), with all their ids."""
    ids: dict[str, set[str]] = {item.cluster: set() for item in label.values()}
    by_copy: dict[str, set[str]] = defaultdict(set)
    for msg, decision in sorted(decided.items()):
        if decision.kind in PUBLISHED:
            item = label[msg]
            if decision.cluster not in ids[item.cluster] and item.case in COPIES:
                by_copy[item.cluster].add(decision.cluster)
            ids[item.cluster].add(decision.cluster)
    updated = {item.cluster for item in label.values() if item.case == "substantial_update"}
    split = {cluster for cluster, found in ids.items() if len(found) > 1}
    explained = {c: ids[c] for c in split if c in updated and len(ids[c] - by_copy[c]) <= 1}
    return sum(not found for found in ids.values()), split, explained


def _made(
    label: Mapping[int, Labelled], records: Iterable[dict[str, Any]]
) -> tuple[dict[int, list[Decision]], int, int, int]:
    """The distinct decisions made per message, and the counts of records, unlabelled records
    and identical repeats."""
    made: dict[int, list[Decision]] = defaultdict(list)
    count = unlabelled = repeats = 0
    for record in records:
        count += 1
        msg = message_of(record)
        if msg is None or msg not in label:
            unlabelled += 1
        elif (decision := decide(record, msg)) in made[msg]:
            repeats += 1
        else:
            made[msg].append(decision)
    return made, count, unlabelled, repeats


def cut_copy_splits(
    labels: Sequence[Labelled], records: Iterable[dict[str, Any]]
) -> list[Labelled]:
    """The labels with every split the rules allow (`clusters_split_by_copy`) cut into the parts
    it was published as: a message decided under one of the story's ids belongs to that id's
    part. Scored against them, a run whose pages were decided out of stream order is held to
    the same targets on every other pair and case."""
    label = {item.value["meta"]["msg"]: item for item in labels}
    made = _made(label, records)[0]
    decided = {msg: made[msg][0] for msg in sorted(made)}
    explained = _publications(label, decided)[2]
    cut = []
    for msg, item in label.items():
        ids = explained.get(item.cluster, set())
        if msg in decided and decided[msg].cluster in ids:
            item = replace(item, cluster=f"{item.cluster}#{decided[msg].cluster}")
        cut.append(item)
    return cut


def _confusion(
    label: Mapping[int, Labelled], decided: Mapping[int, Decision]
) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for msg, item in label.items():
        table[item.value["meta"]["expect"]][_kind(decided, msg)] += 1
    return {expect: dict(sorted(made.items())) for expect, made in sorted(table.items())}


def format_score(result: Score) -> str:
    """A readable report of a score."""
    s = result
    lines = [
        f"messages {s.messages}, records {s.records}: {s.missing} missing, {s.conflicting} "
        f"conflicting, {s.repeats} identical repeats, {s.unlabelled} unlabelled",
        f"pairwise  precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}",
        f"wrongly dropped {s.wrongly_dropped} (of which {s.dangling} of no published article), "
        f"stale published {s.stale_published}",
        f"same-URL decisions as expected {s.revisions_ok}/{s.revisions_total}",
        f"clusters with no article {s.clusters_unpublished}, with more than one {s.clusters_split}"
        f" ({s.clusters_split_by_copy} by a copy decided before the publisher's page of its text)",
        f"{'case':<20} {'messages':>8} {'share':>6}",
    ]
    for shares, what in ((s.case_recall, "with their cluster"), (s.case_apart, "kept apart")):
        lines += [f"{c:<20} {s.case_counts[c]:>8} {v:>6.3f}  {what}" for c, v in shares.items()]
    lines.append("expected -> decided")
    lines += [f"  {expect:<9} {made}" for expect, made in s.decisions.items()]
    return "\n".join(lines) + "\n"


def read_labels(path: Path) -> list[Labelled]:
    """The labels of a stream written by `python -m bench.dedup_stream`."""
    return [
        Labelled(value, value["meta"]["cluster"], value["meta"]["case"], value["url"])
        for value in _jsonl(path)
    ]


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Output records, one a line, unwrapped from `ingest-worker dump` lines."""
    for line in _jsonl(path):
        yield line["value"] if line.keys() == {"topic", "key", "value"} else line


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the report of a run."""
    parser = argparse.ArgumentParser(prog="python -m bench.dedup_score", description=__doc__)
    parser.add_argument("labels", type=Path, help="the stream, from python -m bench.dedup_stream")
    parser.add_argument("outputs", type=Path, help="the worker's output records, JSON lines")
    args = parser.parse_args(argv)
    sys.stdout.write(format_score(score(read_labels(args.labels), read_records(args.outputs))))


if __name__ == "__main__":
    main(sys.argv[1:])
