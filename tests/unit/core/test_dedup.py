"""Dedup decisions (worker/core/dedup.py): the three stages as pure functions, and in one process."""

from __future__ import annotations

import random
from dataclasses import fields, replace

import pytest

from tests.fixtures.synthetic import sentence
from worker.core import dedup, minhash
from worker.core.dedup import (
    BandQuery,
    BandReply,
    BandSettle,
    Decided,
    Hit,
    InProcess,
    Member,
    Pending,
    Scatter,
    UrlState,
)
from worker.core.fingerprint import article_id, content_hash
from worker.records import SCHEMA_VERSION, Article, Duplicate, Extracted, Sketched, Source

NOW = "2025-06-01T00:00:00.000Z"
LATER = "2025-06-02T00:00:00.000Z"


def story(seed: int, paragraphs: int = 8) -> list[str]:
    """A news text as paragraphs of synthetic sentences."""
    rng = random.Random(seed)
    return [" ".join(sentence(rng) for _ in range(4)) for _ in range(paragraphs)]


def page(
    url: str, paragraphs: list[str], offset: int, fetched_at: str = "2025-05-01T10:00:00.000Z"
) -> Sketched:
    """A cleaned, sketched page as intake sends it."""
    text = "\n\n".join(paragraphs)
    extracted = Extracted(
        canonical_url=url, title="T", author=[], date_published=None, date_modified=None,
        language="en", site_name=None, description=None, categories=[], tags=[], image=None,
        images=[], text=text, page_type="article", quality={}, id=article_id(url), url=url,
        word_count=len(text.split()), content_hash=content_hash(text), fetched_at=fetched_at,
        source=None, meta={"offset": offset}, origin=Source("pages.raw", 0, offset, None),
    )  # fmt: skip
    sketch = minhash.sketch(text)
    return Sketched(extracted, sketch.encode(), sketch.shingles)


A, B, C = "https://a.example/story", "https://b.example/copy", "https://c.example/other"


def decide(engine: InProcess, p: Sketched, now: str = NOW) -> tuple[str, ...]:
    """A decision as (kind, revision or target id, stale)."""
    record = engine.add(p, now)
    if isinstance(record, Article):
        return ("article", str(record.revision), record.id)
    return (record.kind, record.duplicate_of, str(record.stale))


# --- stage 1 ----------------------------------------------------------------------------------


def test_a_url_without_an_article_asks_every_band_partition_that_owns_one_of_its_keys() -> None:
    p = page(A, story(1), 0)
    step = dedup.url_step(UrlState(), p, NOW, 4)
    assert isinstance(step, Scatter)
    keys = minhash.band_keys(minhash.Sketch.decode(p.signature, p.shingles))
    asked = {key: part for part, q in step.queries.items() for _, key in q.bands}
    assert asked == {key: dedup.band_partition(key, 4) for key in keys}
    assert step.pending.parts == sorted(step.queries) and step.pending.replies == {}


def test_a_short_text_is_published_without_near_duplicate_search() -> None:
    step = dedup.url_step(UrlState(), page(A, ["Ten words are not enough to call two texts copies."], 0), NOW, 4)
    assert isinstance(step, Decided) and isinstance(step.record, Article)
    assert step.record.revision == 1 and step.index == {}


def published(p: Sketched, revision: int = 1) -> UrlState:
    """The state of a URL whose article is `p`."""
    state = UrlState()
    current = dedup.Revision(revision, p.page.content_hash, p.signature, p.shingles, p.page.fetched_at)
    return replace(state, current=current)


def test_the_same_text_again_is_a_url_duplicate() -> None:
    first = page(A, story(1), 0)
    step = dedup.url_step(published(first), page(A, story(1), 1, "2025-05-02T00:00:00.000Z"), NOW, 4)
    assert isinstance(step, Decided) and isinstance(step.record, Duplicate)
    assert (step.record.kind, step.record.duplicate_of, step.record.similarity, step.record.stale) == (
        "url", first.page.id, 1.0, False
    )


def test_a_cosmetic_change_is_a_url_duplicate_with_its_similarity() -> None:
    text = story(1)
    edited = [*text[:-1], text[-1].replace("officials", "officals"), "Correction: the meeting is on Friday."]
    step = dedup.url_step(published(page(A, text, 0)), page(A, edited, 1, LATER), NOW, 4)
    assert isinstance(step, Decided) and isinstance(step.record, Duplicate)
    assert step.record.kind == "url" and 0.8 < step.record.similarity < 1.0


def test_a_substantial_change_is_the_next_revision_and_is_indexed() -> None:
    text = story(1)
    updated = text[:4] + story(2)[:5]  # half the paragraphs replaced, one added
    step = dedup.url_step(published(page(A, text, 0), revision=2), page(A, updated, 1, LATER), NOW, 4)
    assert isinstance(step, Decided) and isinstance(step.record, Article)
    assert step.record.revision == 3
    assert step.state is not None and step.state.current is not None
    assert step.state.current.revision == 3 and step.state.current.fetched_at == LATER
    assert {q.root for q in step.index.values()} == {article_id(A)}


def test_a_page_fetched_before_the_current_revision_is_stale_never_a_revision() -> None:
    old, new = story(1), story(1)[:4] + story(2)[:4]
    state = published(page(A, new, 1, LATER), revision=2)
    step = dedup.url_step(state, page(A, old, 0, "2025-05-01T10:00:00.000Z"), NOW, 4)
    assert isinstance(step, Decided) and isinstance(step.record, Duplicate)
    assert (step.record.kind, step.record.stale) == ("url", True)
    assert step.state is not None and step.state.current == state.current


def test_replayed_messages_get_their_first_decisions_whatever_came_between() -> None:
    """T1, T2, T1 at one URL, then all three replayed: the same kinds, revisions and targets."""
    t1, t2 = story(1), story(2)
    pages = [page(A, t1, 0, "2025-05-01T00:00:00.000Z"), page(A, t2, 1, "2025-05-02T00:00:00.000Z"),
             page(A, t1, 2, "2025-05-03T00:00:00.000Z")]  # fmt: skip
    engine = InProcess()
    first = [engine.add(p, NOW) for p in pages]
    assert [(type(r).__name__, getattr(r, "revision", None)) for r in first] == [
        ("Article", 1), ("Article", 2), ("Article", 3)
    ]
    again = [engine.add(p, LATER) for p in reversed(pages)][::-1]
    assert again == first  # every field, processed_at included


# --- stage 2 ----------------------------------------------------------------------------------


def query(p: Sketched, bands: list[tuple[int, str]] | None = None) -> BandQuery:
    [only] = dedup.band_queries(p, 1).values()
    return replace(only, bands=bands or only.bands)


def index(lists: dict[str, list[str]], members: dict[str, Member], q: BandQuery) -> list[Hit]:
    """A band partition handles a query: its lists, and the page's record at its home."""
    step = dedup.band_step(lists, q)
    lists.update(step.lists)
    member = dedup.home_member(members.get(q.ref), q)
    if member is not None:
        members[q.ref] = member
    return step.hits


def test_a_band_answers_with_the_members_that_came_first_and_remembers_the_order() -> None:
    a, b = query(page(A, story(1), 0)), query(page(B, story(1), 1))
    lists: dict[str, list[str]] = {}
    assert index(lists, {}, a) == []
    assert index(lists, {}, b) == [Hit(a.ref, list(range(minhash.BANDS)))]
    assert index(lists, {}, a) == []  # a replay: same answer, nothing appended
    assert all(listed == [a.ref, b.ref] for listed in lists.values())


def test_a_member_reference_names_its_home_partition_and_fetch_hour() -> None:
    p = page(A, story(1), 7, "2025-05-01T10:30:00.000Z")
    queries = dedup.band_queries(p, 4)
    [home] = [part for part, q in queries.items() if q.page is not None]
    assert {q.ref for q in queries.values()} == {f"{home}:{1746095400 // 3600}:0:7"}
    assert dedup.home_of(queries[home].ref) == home


def test_only_the_home_partition_keeps_the_record_and_learns_its_root() -> None:
    queries = dedup.band_queries(page(A, story(1), 0), 4)
    home = next(part for part, q in queries.items() if q.page is not None)
    stored = dedup.home_member(None, queries[home])
    assert stored is not None and stored.root is None
    assert all(dedup.home_member(None, q) is None for part, q in queries.items() if part != home)
    indexed = dedup.band_queries(page(A, story(1), 0), 4, root="r")[home]
    assert dedup.home_member(stored, indexed) == replace(stored, root="r")
    assert dedup.home_member(replace(stored, root="r"), indexed) is None


def test_a_band_key_stops_taking_members_when_full() -> None:
    key = "00" * 8
    lists = {key: [f"0:1:0:{i}" for i in range(dedup.MAX_BAND_MEMBERS)]}
    step = dedup.band_step(lists, query(page(A, story(1), 0), [(0, key)]))
    assert step.lists == {}


def test_an_origin_key_left_in_a_band_list_by_an_earlier_version_is_no_candidate_and_dropped() -> None:
    """Band lists named members by origin key ('topic:partition:offset') before references."""
    q = query(page(A, story(1), 0))
    key = q.bands[0][1]
    step = dedup.band_step({key: ["pages.raw:0:3"]}, q)
    assert step.hits == [] and step.lists[key] == [q.ref]
    assert dedup.expired_list(["pages.raw:0:3", q.ref], "") == [q.ref]


def test_settling_sets_the_root_once() -> None:
    member = Member("id", "h", "sig", 3, 40, None)
    settled = dedup.settle_member(member, BandSettle("m", "root"))
    assert settled == replace(member, root="root")
    assert dedup.settle_member(settled, BandSettle("m", "root")) is None
    assert dedup.settle_member(None, BandSettle("m", "root")) is None


# --- stage 3 ----------------------------------------------------------------------------------


def test_copies_point_at_the_first_published_article() -> None:
    engine = InProcess()
    text = story(1)
    original = decide(engine, page(A, text, 0))
    assert original == ("article", "1", article_id(A))
    assert decide(engine, page(B, text, 1)) == ("content", article_id(A), "False")
    light = [text[0].upper(), *text[2:], "Correction: an earlier version misspelled a name."]
    record = engine.add(page(C, light, 2), NOW)
    assert isinstance(record, Duplicate)
    assert (record.kind, record.duplicate_of) == ("near", article_id(A))
    assert dedup.NEAR_SIMILARITY <= record.similarity < 1.0


def test_teasers_and_other_stories_are_not_duplicates() -> None:
    engine = InProcess()
    text = story(1)
    decide(engine, page(A, text, 0))
    assert decide(engine, page(B, text[:3] + ["Read more on our site."], 1))[0] == "article"
    assert decide(engine, page(C, story(3), 2))[0] == "article"


def test_a_copy_of_a_duplicate_points_at_the_published_article() -> None:
    """B repeats A lightly; C repeats B, less like A: C's target is still A (a published id)."""
    engine = InProcess()
    text = story(1)
    decide(engine, page(A, text, 0))
    b = text[:7] + story(5)[:1]
    assert decide(engine, page(B, b, 1)) == ("near", article_id(A), "False")
    c = b[:6] + story(6)[:2]
    assert decide(engine, page(C, c, 2))[:2] == ("near", article_id(A))


def asked(p: Sketched, hits: list[Hit], partitions: int = 1) -> dict[int, dedup.Lookup]:
    """The lookups of a page whose band partitions replied with these hits."""
    pending = dedup.add_reply(Pending(p, [0]), BandReply(dedup.origin_key(p.page.origin), 0, hits))
    return dedup.lookups(pending, partitions)


def decided(p: Sketched, candidates: list[dedup.Candidate]) -> dedup.Decided:
    """Stage 3 once its home partition answered with these candidates."""
    pending = Pending(p, [0], {0: []}, homes=[0], answers={0: candidates})
    return dedup.gather_step(UrlState(), pending, NOW, 1)


@pytest.mark.parametrize("pivot_first", ["a", "b"])
def test_two_near_copies_at_the_same_moment_give_exactly_one_article(pivot_first: str) -> None:
    """Each band partition answers in its own order; the pivot band's order decides for both:
    the later page there waits at the earlier one's home for its decision, then points at its
    article."""
    text = story(1)
    pages = {"a": page(A, text, 0), "b": page(B, [*text[:-1], "A different last paragraph about the harbour and its ferry."], 1)}
    keys = {name: minhash.band_keys(minhash.Sketch.decode(p.signature, p.shingles)) for name, p in pages.items()}
    shared = [i for i in range(minhash.BANDS) if keys["a"][i] == keys["b"][i]]
    assert len(shared) >= 2
    pivot = shared[0]
    second = "b" if pivot_first == "a" else "a"
    lists: dict[str, list[str]] = {}
    members: dict[str, Member] = {}
    hits: dict[str, list[Hit]] = {"a": [], "b": []}
    for band in range(minhash.BANDS):  # one partition per band, each with its own order
        order = ["a", "b"] if (band == pivot) == (pivot_first == "a") else ["b", "a"]
        for name in order:
            [q] = dedup.band_queries(pages[name], 1).values()
            hits[name] += index(lists, members, replace(q, bands=[q.bands[band]]))
    lookup = {name: asked(pages[name], hits[name])[0] for name in pages}
    steps = {name: dedup.lookup_step(members.get, lookup[name]) for name in pages}
    [first] = [q.ref for q in dedup.band_queries(pages[pivot_first], 1).values()]
    assert steps[pivot_first].awaits == [] and steps[second].awaits == [first]

    published = decided(pages[pivot_first], steps[pivot_first].candidates)
    assert isinstance(published.record, Article)
    [settle] = published.settle.values()
    members[first] = dedup.settle_member(members[first], settle) or members[first]
    resumed = dedup.lookup_step(members.get, lookup[second])  # the settle resumes the wait
    assert resumed.awaits == [] and [c.root for c in resumed.candidates] == [published.record.id]
    dropped = decided(pages[second], resumed.candidates).record
    assert isinstance(dropped, Duplicate)
    assert (dropped.kind, dropped.duplicate_of) == ("near", published.record.id)


def test_a_released_wait_leaves_the_undecided_predecessor_out() -> None:
    """A wait past the limit: the page ignores the undecided copy (both may be published; no
    page is dropped for a copy that might itself be dropped)."""
    a, b = page(A, story(1), 0), page(B, story(1), 1)
    lists: dict[str, list[str]] = {}
    members: dict[str, Member] = {}
    index(lists, members, query(a))
    [lookup] = asked(b, index(lists, members, query(b))).values()
    assert dedup.lookup_step(members.get, lookup).awaits == [query(a).ref]
    released = dedup.lookup_step(members.get, lookup, release=True)
    assert (released.awaits, released.candidates) == ([], [])
    [probe] = [q.page for q in dedup.band_queries(page(C, story(2), 2), 1).values()]
    assert probe is not None
    unlike = dedup.lookup_step(members.get, replace(lookup, probe=probe))
    assert unlike.awaits == [] and [c.root for c in unlike.candidates] == [None]  # never waits


def test_a_hit_whose_record_is_not_home_yet_is_awaited_unless_out_of_the_window() -> None:
    a, b = page(A, story(1), 0, T0), page(B, story(1), 1, T2)
    [lookup] = asked(b, [Hit(query(a).ref, [0])]).values()
    assert dedup.lookup_step({}.get, lookup).awaits == [query(a).ref]  # its query is on its way
    assert dedup.lookup_step({}.get, lookup, horizon=dedup.horizon(T2, LATER, HOUR)).awaits == []


def test_a_late_page_does_not_wait_for_a_hit_the_sweep_may_have_deleted() -> None:
    """Both pages fetched long before now: the page's own window holds the hit, but the home's
    sweep (now minus the window) may have deleted its record, so it is not waited for."""
    a, b = page(A, story(1), 0, T0), page(B, story(1), 1, T2)
    [lookup] = asked(b, [Hit(query(a).ref, [0])]).values()
    day = 24 * HOUR
    fresh = dedup.lookup_step({}.get, lookup, dedup.horizon(T2, T2, day), swept=dedup.horizon(T2, T2, day))
    late = dedup.lookup_step({}.get, lookup, dedup.horizon(T2, LATER, day), swept=dedup.horizon(LATER, LATER, day))
    assert fresh.awaits == [query(a).ref] and late.awaits == [] and late.candidates == []


def test_lookups_go_to_each_hit_home_partition_and_never_about_the_page_itself() -> None:
    p = page(A, story(1), 0)
    own = next(iter(dedup.band_queries(p, 4).values())).ref
    hits = [Hit(own, [0]), Hit("1:5:0:9", [3]), Hit("3:5:0:8", [1]), Hit("1:5:0:7", [2])]
    by_home = asked(p, hits, partitions=4)
    assert {home: [h.ref for h in lk.hits] for home, lk in by_home.items()} == {1: ["1:5:0:9", "1:5:0:7"], 3: ["3:5:0:8"]}
    stored = minhash.Sketch.decode(p.signature, p.shingles).compact().encode()
    assert all(lk.probe.signature == stored and lk.id == p.page.id for lk in by_home.values())


def test_a_url_with_an_article_is_compared_with_it_first() -> None:
    """The publisher's own update is its next revision even if a copy site carried it first."""
    engine = InProcess()
    old, new = story(1), story(1)[:4] + story(2)[:5]
    decide(engine, page(A, old, 0, "2025-05-01T00:00:00.000Z"))
    assert decide(engine, page(B, new, 1, "2025-05-02T00:00:00.000Z"))[0] == "article"
    assert decide(engine, page(A, new, 2, "2025-05-03T00:00:00.000Z")) == ("article", "2", article_id(A))


def test_records_carry_every_field_of_the_page() -> None:
    p = page(A, story(1), 0)
    article = dedup.record(p.page, dedup.Decision("article", NOW, revision=4))
    assert isinstance(article, Article) and article.schema_version == SCHEMA_VERSION
    assert all(getattr(article, f.name) == getattr(p.page, f.name) for f in fields(Extracted))
    dup = dedup.record(p.page, dedup.Decision("near", NOW, duplicate_of="x" * 32, similarity=0.7))
    assert isinstance(dup, Duplicate)
    assert (dup.kind, dup.duplicate_of, dup.similarity, dup.stale) == ("near", "x" * 32, 0.7, False)
    assert (dup.id, dup.url, dup.meta, dup.origin) == (p.page.id, A, {"offset": 0}, p.page.origin)


def test_a_teaser_of_a_repetitive_article_is_not_its_duplicate() -> None:
    """A meal plan repeats its items: the first third has nearly every distinct shingle of the
    whole, yet it is a teaser (under TEASER_SHARE of the words), not a copy."""
    engine = InProcess()
    text = story(1)
    decide(engine, page(A, text * 3, 0))
    teaser = page(B, text, 1)
    assert minhash.jaccard(*(minhash.Sketch.decode(p.signature, p.shingles) for p in (page(A, text * 3, 0), teaser))) > 0.6
    assert decide(engine, teaser)[0] == "article"


def test_a_publisher_whose_copy_came_first_follows_that_article() -> None:
    """The copy site's page is decided first; the publisher's original becomes its duplicate,
    and the publisher's URL then follows the copy's article: its update is that article's next
    revision (one article per story), its re-fetches and stale pages are duplicates of it, and
    the copy site's re-fetch is not a revision back to the old text. Replayed: the same."""
    old, new = story(1), story(1)[:4] + story(2)[:5]
    at = {day: f"2025-05-0{day}T00:00:00.000Z" for day in range(1, 8)}
    engine = InProcess()
    pages = [
        page(B, old, 0, at[1]),  # the copy site first
        page(A, old, 1, at[2]),  # the publisher's original
        page(A, new, 2, at[3]),  # its substantial update
        page(A, new, 3, at[4]),  # re-fetched
        page(A, old, 4, at[2]),  # a stale fetch of the original, arriving late
        page(B, old, 5, at[5]),  # the copy site re-fetched: still its old text
        page(C, new, 6, at[6]),  # another copy of the update
    ]
    first = [engine.add(p, NOW) for p in pages]
    a, b = article_id(A), article_id(B)
    summary = [
        (type(r).__name__, r.id, getattr(r, "revision", None) or (r.kind, r.duplicate_of, r.stale))
        for r in first
    ]
    assert summary == [
        ("Article", b, 1),
        ("Duplicate", a, ("content", b, False)),
        ("Article", b, 2),
        ("Duplicate", a, ("url", b, False)),
        ("Duplicate", a, ("url", b, True)),
        ("Duplicate", b, ("url", b, False)),
        ("Duplicate", article_id(C), ("content", b, False)),
    ]
    assert first[2].url == A, "the revision is the publisher's page, under the article's id"
    again = [engine.add(p, LATER) for p in reversed(pages)][::-1]
    assert again == first


# --- expiry by event time -----------------------------------------------------------------------

HOUR = 3600.0
T0, T2 = "2025-05-01T10:00:00.000Z", "2025-05-01T12:00:00.000Z"


def test_the_horizon_is_the_window_before_the_fetch_never_after_now() -> None:
    assert dedup.horizon(T2, LATER, HOUR) == "2025-05-01T11:00:00.000Z"
    assert dedup.horizon("2099-01-01T00:00:00.000Z", T2, HOUR) == "2025-05-01T11:00:00.000Z"
    assert dedup.horizon(T2, LATER, 0) == "" and dedup.horizon("", LATER, HOUR) == ""


def test_an_expired_url_keeps_its_last_revision_and_continues_it() -> None:
    engine = InProcess()
    decide(engine, page(A, story(1), 0, T0))
    decide(engine, page(A, story(2), 1, "2025-05-01T10:30:00.000Z"))
    state = engine.urls[article_id(A)]
    assert dedup.expire(state, dedup.horizon(T0, LATER, HOUR)) is None  # inside the window
    marker = dedup.expire(state, dedup.horizon(T2, LATER, HOUR))
    assert marker is not None and marker.marker and not marker.decisions
    assert marker.current is not None and marker.current.revision == 2 and marker.seen == state.seen
    assert dedup.expire(marker, dedup.horizon(LATER, LATER, HOUR)) is None  # a marker stays

    def at(p: Sketched) -> tuple[str, ...]:
        step = dedup.url_step(marker, p, LATER, 4)
        assert isinstance(step, Decided)
        r = step.record
        return (r.kind, r.duplicate_of, str(r.stale)) if isinstance(r, Duplicate) else ("article", str(r.revision))

    assert at(page(A, story(2), 5, T2)) == ("url", article_id(A), "False")  # same text again
    assert at(page(A, story(3), 6, T2)) == ("article", "3")  # a new text: the next revision
    assert at(page(A, story(3), 7, T0)) == ("url", article_id(A), "True")  # older than revision 2


def test_an_expired_id_without_an_article_is_deleted_and_one_waiting_is_kept() -> None:
    horizon = dedup.horizon(T2, LATER, HOUR)
    follower = UrlState(follows="other", seen=T0, decisions={"k": dedup.Decision("near", T0, duplicate_of="other")})
    assert dedup.expire(follower, horizon) == UrlState()
    assert dedup.expire(replace(follower, waiting=["k2"]), horizon) is None


def test_members_out_of_the_window_are_no_candidates_and_leave_the_lists() -> None:
    old, new = page(A, story(1), 0, T0), page(B, story(1), 1, T2)
    lists: dict[str, list[str]] = {}
    members: dict[str, Member] = {}
    index(lists, members, query(old))
    members[query(old).ref] = replace(members[query(old).ref], root=article_id(A))
    inside = dedup.band_step(lists, query(new), horizon=dedup.horizon(T0, LATER, HOUR))
    assert [h.ref for h in inside.hits] == [query(old).ref]
    [lookup] = asked(new, inside.hits).values()
    assert [c.root for c in dedup.lookup_step(members.get, lookup).candidates] == [article_id(A)]
    gone = dedup.lookup_step(members.get, lookup, horizon=dedup.horizon(T2, LATER, HOUR))
    assert gone.candidates == [] and gone.awaits == []
    after = dedup.band_step(lists, query(new), horizon=dedup.horizon(T2, LATER, HOUR))
    assert after.hits == [] and all(listed == [query(new).ref] for listed in after.lists.values())
    horizon = dedup.horizon(T2, LATER, HOUR)
    assert dedup.expired_list([query(old).ref, query(new).ref], horizon) == [query(new).ref]


def test_an_id_keeps_its_latest_decisions_only() -> None:
    engine = InProcess()
    for offset in range(dedup.MAX_DECISIONS + 10):
        decide(engine, page(A, story(1), offset))
    decisions = engine.urls[article_id(A)].decisions
    assert len(decisions) == dedup.MAX_DECISIONS
    assert "pages.raw:0:0" not in decisions and f"pages.raw:0:{dedup.MAX_DECISIONS + 9}" in decisions


def test_a_band_step_names_the_keys_whose_lists_hold_the_page_after_it() -> None:
    q = query(page(A, story(1), 0))
    keys = [key for _, key in q.bands]
    first = dedup.band_step({}, q)
    assert first.indexed == keys
    assert dedup.band_step(first.lists, q).indexed == keys  # a replay: listed before
    full = {keys[0]: [f"0:1:0:{i}" for i in range(dedup.MAX_BAND_MEMBERS)]}
    assert dedup.band_step(full, q).indexed == keys[1:]


def test_journal_entries_merge_append_and_take_out_in_order_and_idempotently() -> None:
    merged = dedup.indexed_together([{"r1": ["k1", "k2"]}, {"r1": ["k2", "k3"], "r2": ["k1"]}])
    assert merged == {"r1": ["k1", "k2", "k3"], "r2": ["k1"]}
    lists = {"k1": ["r0"]}
    appended = dedup.relisted(lists, merged)
    assert appended == {"k1": ["r0", "r1", "r2"], "k2": ["r1"], "k3": ["r1"]}
    assert dedup.relisted(appended, merged) == {}
    assert dedup.unlisted(appended, {"r1": ["k1", "k2"]}) == {"k1": ["r0", "r2"], "k2": []}
    old, new = "0:100:0:1", "0:999999:0:2"
    assert dedup.expired_entry({old: ["k1"]}, "2000-01-01T00:00:00+00:00")
    assert not dedup.expired_entry({old: ["k1"], new: ["k1"]}, "2000-01-01T00:00:00+00:00")
