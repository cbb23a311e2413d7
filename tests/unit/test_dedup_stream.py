"""The labelled dedup stream (bench/dedup_stream.py) and its scorer (bench/dedup_score.py)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import lxml.html
import pytest

from bench import dedup_stream
from bench.dedup_score import clusters, cut_copy_splits, format_score, same_clusters, score
from bench.dedup_stream import CASES, Labelled, generate, kept_share

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "raw_page.schema.json"
SIZE = 300


@pytest.fixture(scope="module")
def stream() -> list[Labelled]:
    return generate(size=SIZE)


def meta(item: Labelled) -> Any:
    return item.value["meta"]


# the generator


def test_same_seed_same_stream_other_seed_other_stream(stream: list[Labelled]) -> None:
    assert generate(size=SIZE) == stream
    assert [i.value for i in generate(size=SIZE, seed=7)] != [i.value for i in stream]


def test_every_case_at_300_messages_in_stream_order(stream: list[Labelled]) -> None:
    assert len(stream) == SIZE
    assert {item.case for item in stream} == set(CASES)
    assert [meta(item)["msg"] for item in stream] == list(range(SIZE))
    assert all(meta(i)["case"] == i.case and meta(i)["cluster"] == i.cluster for i in stream)


def test_duplicates_are_35_to_50_percent(stream: list[Labelled]) -> None:
    expect = Counter(meta(item)["expect"] for item in stream)
    assert 0.35 <= (expect["duplicate"] + expect["stale"]) / SIZE <= 0.50


def test_values_are_raw_pages_with_meta_first(stream: list[Labelled]) -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker()
    )
    for item in stream:
        validator.validate(item.value)
        assert next(iter(item.value)) == "meta"  # a truncated rejection payload still has it
        assert item.value["url"] == item.url and item.value["fetched_at"].endswith("Z")


def test_clusters_first_message_is_new_and_others_follow(stream: list[Labelled]) -> None:
    members: dict[str, list[Labelled]] = defaultdict(list)
    for item in stream:
        members[item.cluster].append(item)
    for cluster, items in members.items():
        assert meta(items[0])["expect"] == "new"
        if cluster.startswith(("teaser-", "other-")):
            assert len(items) == 1
        assert all(meta(i)["expect"] != "new" for i in items[1:])


def test_same_url_cases_stay_on_the_story_url_copies_move(stream: list[Labelled]) -> None:
    home = {i.cluster: i.url for i in stream if i.case in ("original", "original_late")}
    for item in stream:
        if item.case in ("refetch", "refetch_chrome", "in_place_edit", "substantial_update"):
            assert item.url == home[item.cluster]
        elif item.case == "url_variant":
            assert item.url != home[item.cluster]
        elif item.case in ("syndicated", "light_edit", "teaser"):
            assert (urlsplit(item.url).hostname or "").startswith("news-aggregator-")
            assert item.cluster.startswith("teaser-") == (item.case == "teaser")
        elif item.case == "hard_negative":
            assert (
                urlsplit(item.url).hostname == urlsplit(home.get(item.cluster, item.url)).hostname
            )


def test_stale_copies_arrive_after_an_update_fetched_before_it(stream: list[Labelled]) -> None:
    updated: dict[str, str] = {}
    for item in stream:
        fetched = item.value["fetched_at"]
        if item.case == "substantial_update":
            updated[item.cluster] = fetched
        elif item.case == "stale":
            assert fetched < updated[item.cluster]


def test_late_originals_follow_a_syndicated_copy(stream: list[Labelled]) -> None:
    first: dict[str, str] = {}
    for item in stream:
        first.setdefault(item.cluster, item.case)
    late = [item for item in stream if item.case == "original_late"]
    assert late and all(first[item.cluster] == "syndicated" for item in late)


def test_light_edits_keep_most_words_teasers_at_most_35_percent(stream: list[Labelled]) -> None:
    pages = {page.id: page for page in dedup_stream.load_corpus()}
    updated = set()
    for item in stream:
        if item.case == "substantial_update":
            updated.add(meta(item)["page"])  # later copies carry the new text
        elif item.case in ("light_edit", "teaser") and meta(item)["page"] not in updated:
            doc = lxml.html.fromstring(item.value["html"])
            body = doc.xpath("//div[@class='story-body' or @class='entry' or @itemprop]/p")
            texts = [p.text_content() for p in body if p.get("class") != "read-more"]
            original = pages[meta(item)["page"]].paragraphs
            if item.case == "light_edit":
                assert kept_share(original, texts) >= 0.7
            else:
                assert 0 < len(" ".join(texts).split()) <= 0.35 * len(" ".join(original).split())


# the scorer

A, B, C = "a" * 32, "b" * 32, "c" * 32
LABELS = [
    ("story-x", "original", "new"),
    ("story-x", "refetch", "duplicate"),
    ("story-x", "syndicated", "duplicate"),
    ("story-x", "substantial_update", "revision"),
    ("story-x", "stale", "stale"),
    ("other-0001", "hard_negative", "new"),
    ("teaser-x", "teaser", "new"),
]


def labels() -> list[Labelled]:
    made = []
    for msg, (cluster, case, expect) in enumerate(LABELS):
        value = {"meta": {"msg": msg, "cluster": cluster, "case": case, "expect": expect}}
        made.append(Labelled(value | {"url": f"https://x.example/{msg}"}, cluster, case, ""))
    return made


def article(msg: int, id_: str, revision: int = 1) -> dict[str, Any]:
    return {"id": id_, "revision": revision, "meta": {"msg": msg}}


def duplicate(msg: int, of: str, kind: str = "content", stale: bool = False) -> dict[str, Any]:
    return {"kind": kind, "duplicate_of": of, "id": "d" * 32, "stale": stale, "meta": {"msg": msg}}


def perfect() -> list[dict[str, Any]]:
    return [
        article(0, A),
        duplicate(1, A, "url"),
        duplicate(2, A),
        article(3, A, 2),
        duplicate(4, A, "url", stale=True),
        article(5, B),
        article(6, C),
    ]


def test_perfect_run_scores_one_everywhere() -> None:
    result = score(labels(), [*perfect(), duplicate(1, A, "url")])
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)
    assert set(result.case_recall.values()) == {1.0} and set(result.case_apart.values()) == {1.0}
    assert (result.messages, result.records, result.repeats, result.conflicting) == (7, 8, 1, 0)
    assert (result.missing, result.wrongly_dropped, result.stale_published) == (0, 0, 0)
    assert (result.revisions_ok, result.revisions_total) == (4, 4)
    assert (result.clusters_unpublished, result.clusters_split) == (0, 0)
    assert "F1 1.0000" in format_score(result)


def test_a_hard_negative_dropped_as_a_duplicate_is_lost_data() -> None:
    records = perfect()
    records[5] = duplicate(5, A)
    result = score(labels(), records)
    assert result.precision == pytest.approx(10 / 15) and result.recall == 1.0
    assert (result.wrongly_dropped, result.dangling) == (1, 0)
    assert result.case_apart["hard_negative"] == 0.0 and result.clusters_unpublished == 1


def test_a_duplicate_of_an_unpublished_id_dangles() -> None:
    records = perfect()
    records[2] = duplicate(2, "e" * 32)
    result = score(labels(), records)
    assert (result.wrongly_dropped, result.dangling) == (1, 1)
    assert result.case_recall["syndicated"] == 0.0


def test_a_missing_message_is_a_singleton() -> None:
    result = score(labels(), [r for r in perfect() if r["meta"]["msg"] != 2])
    assert (result.missing, result.precision, result.recall) == (1, 1.0, 0.6)
    assert result.case_recall["syndicated"] == 0.0 and result.decisions["duplicate"]["missing"] == 1


def test_a_stale_copy_published_as_a_revision() -> None:
    records = perfect()
    records[4] = article(4, A, 3)
    result = score(labels(), records)
    assert (result.stale_published, result.revisions_ok, result.precision) == (1, 3, 1.0)
    assert result.clusters_split == 0 and result.decisions["stale"] == {"revision": 1}


def test_conflicts_split_clusters_and_truncated_rejections() -> None:
    payload = json.dumps({"meta": {"msg": 6}, "url": "https://x.example/6", "html": "<p>" * 99})
    records = [*perfect()[:6], article(1, B), {"reason": "timeout", "payload": payload[:60]}]
    result = score(labels(), [*records, {"id": C, "revision": 1, "meta": {"msg": 99}}])
    assert (result.conflicting, result.unlabelled, result.clusters_unpublished) == (1, 1, 1)
    assert result.decisions["new"] == {"new": 2, "rejected": 1}
    assert result.case_apart["teaser"] == 1.0


def test_clusterings_compare_as_partitions() -> None:
    run = clusters(perfect())
    renamed = clusters([{**r, "id": "f" * 32} if r["meta"]["msg"] == 5 else r for r in perfect()])
    merged = clusters([*perfect()[:5], duplicate(5, A), article(6, C)])
    assert run[2] == A and same_clusters(run, renamed) and not same_clusters(run, merged)


def test_an_oracle_that_follows_the_labels_scores_perfectly(stream: list[Labelled]) -> None:
    revision: Counter[str] = Counter()
    records = []
    for item in stream:
        expect, msg = meta(item)["expect"], meta(item)["msg"]
        if expect in ("new", "revision"):
            revision[item.cluster] += 1
            records.append(article(msg, item.cluster, revision[item.cluster]))
        else:
            records.append(duplicate(msg, item.cluster, stale=expect == "stale"))
    result = score(stream, records)
    assert (result.precision, result.recall, result.wrongly_dropped) == (1.0, 1.0, 0)
    assert result.revisions_ok == result.revisions_total
    assert set(result.case_recall.values()) == {1.0} and set(result.case_apart.values()) == {1.0}


def test_a_split_is_explained_only_by_a_copy_in_a_story_with_an_update() -> None:
    """The syndicated copy (msg 2) published as its own article splits story-x, a story with a
    substantial update: explained. The hard negative published under the story's id too: not."""
    records = perfect()
    records[2] = article(2, "e" * 32)
    raced = score(labels(), records)
    assert (raced.clusters_split, raced.clusters_split_by_copy) == (1, 1)
    assert "(1 by a copy decided before the publisher's page of its text)" in format_score(raced)
    records[1] = article(1, "f" * 32)  # a re-fetch of the publisher's page: not a copy
    assert score(labels(), records).clusters_split_by_copy == 0


def test_a_story_split_by_a_copy_is_cut_into_its_parts_and_nothing_else_is() -> None:
    """Cut: the copy (msg 2) published as its own article makes its own part of story-x, the
    rest of the story stays whole; a split no copy explains is left as it is."""
    records = perfect()
    records[2] = article(2, "e" * 32)
    cut = score(cut_copy_splits(labels(), records), records)
    assert (cut.clusters_split, cut.precision, cut.recall) == (0, 1.0, 1.0)
    records[1] = article(1, "f" * 32)
    assert score(cut_copy_splits(labels(), records), records).clusters_split == 1


def test_a_story_whose_every_article_a_copy_published_first_is_explained_too() -> None:
    """A copy published the story first and the publisher's update joined its article; a copy
    of the update decided before the update reached the bands published its own: explained."""
    cases = [("original", "new"), ("syndicated", "duplicate"), ("substantial_update", "revision"),
             ("syndicated", "duplicate")]  # fmt: skip
    story = [
        Labelled({"meta": {"msg": n, "cluster": "s", "case": c, "expect": e}, "url": f"https://x.example/{n}"}, "s", c, "")
        for n, (c, e) in enumerate(cases)
    ]
    records = [duplicate(0, "e" * 32, "near"), article(1, "e" * 32), article(2, "e" * 32, 2), article(3, "f" * 32)]
    result = score(story, records)
    assert (result.clusters_split, result.clusters_split_by_copy) == (1, 1)
