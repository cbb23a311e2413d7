"""Deduplication as pure decisions: (what the tables hold, a message) -> (new state, outputs).

Three stages, each keyed so that the state it touches lives in exactly one partition:

1. `url_step`, keyed by article id (canonical URL). A page whose URL already has a published
   article is compared with that article: a stale fetch (fetched before the current revision)
   and a cosmetic change are `url` duplicates, a substantial change is the next revision. A
   page of a URL without an article asks the band stage for near-duplicate candidates. A URL
   whose first text was a copy of another article *follows* it: its later pages are sent on
   to that article's id (`Forward`) and decided there, so a publisher whose text reached the
   worker first through a copy site still has one article (its update is that article's next
   revision, not a second article).
2. `band_step`, keyed by LSH band key (`core.minhash`). Each band key keeps references to its
   members in arrival order; a query appends the page and replies with the members that came
   before it (`Hit`). A page's record (signature, root article) is kept once, by its *home*
   partition, the owner of its first band key (`home_member`), named in its reference.
3. `gather_step`, keyed by article id again: once every band partition has replied, the page
   looks its hits up at their home partitions (`lookups`, `lookup_step`), is verified against
   the records they answer with and decided; its settle goes to its own home.

Who comes first between two near-copies is decided in one place: the band partition of the
lowest band the two share (their *pivot*). Both pages see the same order there, so of two
near-copies decided at the same moment exactly one is published, whatever the partitioning.
A lookup about a predecessor at the pivot that is still undecided waits at its home
(`LookupStep.awaits`) until it settles, so `duplicate_of` always names the published article,
never a page that became a duplicate itself. A wait longer than the worker's limit is released
(`BandRelease`): the page then ignores the undecided predecessor, so a wait never holds a page
forever (at worst both copies are published; none is dropped).

Every decision is stored under the raw message's coordinates, so a replayed message gets
exactly the decision it got the first time (kind, revision, target, processed_at).

State expires by event time: a page compares with the state of pages fetched within the window
before it (`horizon`). A member fetched before the horizon is no candidate; an id whose pages
are all older is reduced to a marker (`expire`): its last revision's number, text hash and fetch
time, so that its URL seen again continues the article's revisions (the same text is a `url`
duplicate, another text the next revision) instead of restarting at 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from worker.core import minhash
from worker.core.envelope import iso_utc
from worker.core.minhash import Sketch
from worker.records import SCHEMA_VERSION, Article, Duplicate, Extracted, Sketched, Source

FORWARDED = "forwarded"
"""The decision kind that marks a queued page sent on to the article its URL follows, until its
record is delivered (no record of its own: the article's stage 1 decides it)."""
NEAR_SIMILARITY = 0.6
"""Estimated Jaccard similarity from which a page at another URL is a near-duplicate."""
REVISION_CHANGE = 0.3
"""Share of new (or removed) text, relative to the current revision, that makes a revision."""
MIN_SHINGLES = 12
"""Texts with fewer shingles (about a dozen words) are too short to call near-copies."""
TEASER_SHARE = 0.4
"""A text under this share of another's words is not its duplicate (a teaser, a summary), even
when its shingles are nearly all in the other (repetitive texts have few distinct shingles)."""
MAX_BAND_MEMBERS = 200
"""Members remembered per band key: a key shared by more pages than this says nothing."""
MAX_DECISIONS = 256
"""Decisions kept per article id, the latest: a replay re-delivers far fewer messages of one id
(an older one replayed is decided again, against the id's current state)."""


def origin_key(origin: Source) -> str:
    """The identity of a raw message: 'topic:partition:offset'."""
    return f"{origin.topic}:{origin.partition}:{origin.offset}"


def band_partition(key: str, partitions: int) -> int:
    """The partition that owns a band key."""
    return int(key, 16) % partitions


def horizon(fetched_at: str, now: str, window_s: float) -> str:
    """The oldest fetch time inside the window of a page fetched at `fetched_at` (a fetch time
    after `now` counts as now, so a page from the future expires nothing); "" without expiry."""
    if window_s <= 0 or not fetched_at:
        return ""
    latest = datetime.fromisoformat(min(fetched_at, now))
    return iso_utc(latest - timedelta(seconds=window_s))


# --- state ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """What was decided for one raw message, replayed as is."""

    kind: str
    """`article`, a duplicate kind (`url`, `content`, `near`), or FORWARDED."""
    processed_at: str
    revision: int | None = None
    duplicate_of: str | None = None
    similarity: float = 1.0
    stale: bool = False


@dataclass(frozen=True, slots=True)
class Revision:
    """The published revision of an article: what later pages of its URL are compared with."""

    revision: int
    content_hash: str
    signature: str
    """Empty in an expired id's marker: only the text's hash is known."""
    shingles: int
    fetched_at: str

    @property
    def sketch(self) -> Sketch:
        return Sketch.decode(self.signature, self.shingles)


@dataclass(frozen=True, slots=True)
class UrlState:
    """Per article id: its current revision (None until one is published), every decision
    taken for a page of this id, by raw coordinates, and its undecided pages."""

    current: Revision | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    follows: str | None = None
    """The published article this id's first text repeated (never set once the id has its
    own article): its later pages are decided by that article's id."""
    sources: dict[str, Revision] = field(default_factory=dict)
    """Once a URL that follows this article published a revision: the last revision each URL
    published (this id's own included), which a page of that URL is compared with, so that a
    copy site's re-fetch is not a revision back to its own text."""
    waiting: list[str] = field(default_factory=list)
    """Origin keys of this id's pages that went through the bands or queued behind one, in
    arrival order, until their records are delivered (`delivered`). The first undecided one
    is asking the bands; the undecided ones after it wait for its decision, so one URL's
    pages are decided in order."""
    seen: str = ""
    """The latest fetch time of a page decided for this id: when its state expires."""

    @property
    def undecided(self) -> list[str]:
        return [k for k in self.waiting if k not in self.decisions]

    @property
    def marker(self) -> bool:
        """True for what an expired id keeps: its last revision, without its text's sketch."""
        return self.current is not None and not self.current.signature

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> UrlState:
        if not data:
            return cls()
        current = data.get("current")
        return cls(
            current=None if current is None else Revision(**current),
            decisions={k: Decision(**d) for k, d in data.get("decisions", {}).items()},
            waiting=list(data.get("waiting", [])),
            follows=data.get("follows"),
            sources={k: Revision(**r) for k, r in data.get("sources", {}).items()},
            seen=data.get("seen") or (current or {}).get("fetched_at", ""),
        )


def expire(state: UrlState, horizon: str) -> UrlState | None:
    """What an id keeps once its pages are all fetched before `horizon`: a marker of its last
    revision, or nothing (`UrlState()`) if it never published one. None: nothing to expire (in
    the window, an undecided page, a marker already, or no expiry)."""
    if not horizon or state.waiting or state.seen >= horizon or state.marker:
        return None
    if state.current is None:
        return UrlState()
    kept = replace(state.current, signature="", shingles=0)
    return UrlState(current=kept, seen=state.seen)


@dataclass(frozen=True, slots=True)
class Member:
    """An indexed page, as its home band partition keeps it (the one of its first band key)."""

    id: str
    content_hash: str
    signature: str
    shingles: int
    words: int
    root: str | None
    """The published article it belongs to, once decided (its own id if published)."""
    fetched_at: str = ""
    """No candidate for a page fetched a window after it; deleted once out of every window."""


@dataclass(frozen=True, slots=True)
class Hit:
    """A member that came before the querying page in some of its band keys."""

    ref: str
    """The member's reference (`member_ref`)."""
    earlier_in: list[int]
    """The band indexes where it came first."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A hit with what its home partition keeps of it."""

    member: str
    """The member's reference."""
    earlier_in: list[int]
    id: str
    content_hash: str
    signature: str
    shingles: int
    words: int
    root: str | None


@dataclass(frozen=True, slots=True)
class BandQuery:
    """A page's band keys that live in one band partition; the query to the page's home
    partition also carries what that partition keeps of it (`page`)."""

    member: str
    """The page's origin key (what its answers are about)."""
    ref: str
    """How the lists name it (`member_ref`)."""
    bands: list[tuple[int, str]]
    """(band index, band key)."""
    id: str
    """The article id its answers are keyed by."""
    fetched_at: str
    root: str | None = None
    """Set for a published text: it is indexed, nobody waits for an answer."""
    page: Member | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """A page's hits whose records one home partition keeps: answer with them, or, for an
    undecided near-copy that came first at the two pages' pivot band, once it is decided."""

    member: str
    id: str
    probe: Member
    """The asking page."""
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class BandSettle:
    """Tells a page's home partition which published article it belongs to."""

    member: str
    """The page's reference."""
    root: str


@dataclass(frozen=True, slots=True)
class BandRelease:
    """Tells a home partition to answer the lookups waiting too long for this member."""

    member: str


@dataclass(frozen=True, slots=True)
class BandReply:
    """One band partition's hits for a query."""

    member: str
    part: int
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    """One home partition's candidates for a lookup."""

    member: str
    part: int
    candidates: list[Candidate]


@dataclass(frozen=True, slots=True)
class Pending:
    """A page waiting for its band partitions' hits, then for its home partitions' answers
    (keyed by its origin key)."""

    page: Sketched
    parts: list[int]
    replies: dict[int, list[Hit]] = field(default_factory=dict)
    homes: list[int] | None = None
    """The home partitions asked about the hits, once every band partition replied."""
    answers: dict[int, list[Candidate]] = field(default_factory=dict)
    since: str = ""
    """When stage 1 stored it (ISO 8601 UTC): how long the page has been undecided."""

    @property
    def replied(self) -> bool:
        return set(self.parts) <= set(self.replies)

    @property
    def complete(self) -> bool:
        return self.homes is not None and set(self.homes) <= set(self.answers)


# --- stage 1: by article id -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decided:
    """A page decided: the state to store (None: unchanged), its record, and the band keys to
    index it under when it was published (by partition; empty when nothing to index)."""

    state: UrlState | None
    record: Article | Duplicate
    index: dict[int, BandQuery] = field(default_factory=dict)
    settle: dict[int, BandSettle] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scatter:
    """A page of a URL without an article: ask these band partitions for candidates."""

    state: UrlState
    pending: Pending
    queries: dict[int, BandQuery]


@dataclass(frozen=True, slots=True)
class Queued:
    """A page behind an undecided page of the same id: kept until that one is decided."""

    state: UrlState
    pending: Pending


@dataclass(frozen=True, slots=True)
class Forward:
    """A page of an id that follows another article: stage 1 of that article decides it."""

    page: Sketched
    """The page with `article` set to the id that decides it."""
    state: UrlState | None = None
    """The state of the id it leaves, to store (a queued page is marked FORWARDED there until
    delivered, so that later pages of the id do not queue behind it); None: unchanged."""


def deciding_id(page: Sketched) -> str:
    """The id whose stage-1 state decides a page: its own, or the article its URL follows."""
    return page.article or page.page.id


def url_step(
    state: UrlState, page: Sketched, now: str, partitions: int
) -> Decided | Scatter | Queued | Forward:
    """Stage 1 (`state` is the deciding id's): replay, wait behind this id's undecided page,
    send on to the article the URL follows, compare with the URL's current article, or look
    for near-copies."""
    key = origin_key(page.page.origin)
    known = state.decisions.get(key)
    if known is not None:
        return _again(page, known, partitions)
    undecided = state.undecided
    if undecided[:1] == [key]:  # a replay of the page asking the bands: ask again
        queries = band_queries(page, partitions)
        return Scatter(state, Pending(page, sorted(queries), since=now), queries)
    if undecided:
        return Queued(_waiting(state, key), Pending(page, [], since=now))
    return _advance(state, page, now, partitions)


def next_in_line(
    state: UrlState,
    after: str,
    stored: Callable[[str], Pending | None],
    now: str,
    partitions: int,
) -> list[tuple[Sketched, Decided | Scatter | Forward]]:
    """After page `after` of an id is decided, the steps for the other pages in `waiting`:
    decided ones not yet delivered again (a crash may have lost their records), then the
    queued ones decided in order, until one has to ask the bands."""
    steps: list[tuple[Sketched, Decided | Scatter | Forward]] = []
    for key in state.waiting:
        pending = None if key == after else stored(key)
        if pending is None:  # the page just decided, or delivered and forgotten
            continue
        known = state.decisions.get(key)
        if known is not None:
            steps.append((pending.page, _again(pending.page, known, partitions)))
            continue
        if pending.parts:  # asking the bands already (a replay got here): ask again
            queries = band_queries(pending.page, partitions)
            steps.append((pending.page, Scatter(state, pending, queries)))
            break
        step = _advance(state, pending.page, now, partitions)
        if isinstance(step, Forward):
            mark = Decision(FORWARDED, now, duplicate_of=state.follows)
            state = replace(state, decisions={**state.decisions, key: mark})
            step = replace(step, state=state)
        steps.append((pending.page, step))
        if isinstance(step, Scatter):
            break
        assert step.state is not None
        state = step.state
    return steps


def delivered(state: UrlState, keys: Iterable[str]) -> UrlState:
    """The state once these pages' records are delivered: out of `waiting` (and the marks of
    pages sent on forgotten: a replay of one is sent on again, as the id follows)."""
    done = set(keys)
    decisions = {k: d for k, d in state.decisions.items() if k not in done or d.kind != FORWARDED}
    return replace(state, waiting=[k for k in state.waiting if k not in done], decisions=decisions)


def _advance(
    state: UrlState, page: Sketched, now: str, partitions: int
) -> Decided | Scatter | Forward:
    """Decide a page with nothing of its id undecided before it, send it on to the article
    its URL follows, or send it to the bands (it is then in `waiting`, at its place)."""
    if state.current is None and state.follows is not None:
        return Forward(replace(page, article=state.follows))
    if state.current is not None:
        return _against_current(state, page, now, partitions)
    if page.shingles < MIN_SHINGLES or page.article is not None:
        return _publish(state, page, now)  # (sent on to an id without a revision: its first)
    queries = band_queries(page, partitions)
    pending = Pending(page, sorted(queries), since=now)
    return Scatter(_waiting(state, origin_key(page.page.origin)), pending, queries)


def _waiting(state: UrlState, key: str) -> UrlState:
    """The state with this page in `waiting`, at the end unless it is there already."""
    return state if key in state.waiting else replace(state, waiting=[*state.waiting, key])


def _against_current(state: UrlState, page: Sketched, now: str, partitions: int) -> Decided:
    """Compare a page with the revision its URL published last (the article's current one,
    unless another URL of the article published since)."""
    current = state.current
    assert current is not None
    base = state.sources.get(page.page.id, current)
    exact = page.page.content_hash == base.content_hash
    stale = page.page.fetched_at < base.fetched_at
    if state.marker:  # the id expired: only its last text's hash is known
        similarity, change = (1.0, 0.0) if exact else (0.0, 1.0)
    else:
        new, old = _sketch(page), base.sketch
        similarity = _similarity(exact, new, old)
        change = max(minhash.new_share(new, old), minhash.new_share(old, new))
    if stale or similarity == 1.0 or change < REVISION_CHANGE:
        of = deciding_id(page)  # the URL's article, its own or the one it follows
        decision = Decision("url", now, duplicate_of=of, similarity=similarity, stale=stale)
        remembered = _remember(state, page, decision)
        if exact:
            return remembered
        # Another text of this article (older, or cosmetically changed): copies of it found
        # later point here, whatever order the pages came in.
        return replace(remembered, index=_index(page, partitions))
    published = _publish(state, page, now, current.revision + 1)
    return replace(published, index=_index(page, partitions))


def _publish(state: UrlState, page: Sketched, now: str, revision: int = 1) -> Decided:
    """Publish a page as the given revision of its article."""
    p, article_id = page.page, deciding_id(page)
    new = Revision(revision, p.content_hash, _stored(page), page.shingles, p.fetched_at)
    sources = state.sources
    if p.id != article_id or sources:  # another URL publishes, or did before
        sources = {**sources, p.id: new}
        if article_id not in sources and state.current is not None:
            sources[article_id] = state.current  # what the article's own URL published last
    decision = Decision("article", now, revision=revision)
    return _remember(replace(state, current=new, sources=sources), page, decision)


def _index(page: Sketched, partitions: int) -> dict[int, BandQuery]:
    """The queries that index a published page under its band keys (none for a short text)."""
    if page.shingles < MIN_SHINGLES:
        return {}
    return band_queries(page, partitions, root=deciding_id(page))


def _again(page: Sketched, decision: Decision, partitions: int) -> Decided | Forward:
    """A page seen before at stage 1: replayed, or sent on again if it was sent on."""
    if decision.kind == FORWARDED:
        assert decision.duplicate_of is not None
        return Forward(replace(page, article=decision.duplicate_of))
    return _replayed(page, decision, partitions)


def _replayed(page: Sketched, decision: Decision, partitions: int) -> Decided:
    """A message decided before: the same record, and its band entries brought up to date (in
    case the process died between storing the decision and sending them)."""
    again = record(page.page, decision, page.article)
    root = again.id if isinstance(again, Article) else again.duplicate_of
    if page.shingles < MIN_SHINGLES:
        return Decided(None, again)
    return Decided(None, again, index=band_queries(page, partitions, root=root))


def _remember(state: UrlState, page: Sketched, decision: Decision) -> Decided:
    """Store a decision (the latest MAX_DECISIONS are kept, and those of undecided pages)."""
    decisions = {**state.decisions, origin_key(page.page.origin): decision}
    if len(decisions) > MAX_DECISIONS:
        waiting = set(state.waiting)
        older = [k for k in decisions if k not in waiting][: len(decisions) - MAX_DECISIONS]
        for key in older:
            del decisions[key]
    seen = max(state.seen, page.page.fetched_at)
    kept = replace(state, decisions=decisions, seen=seen)
    return Decided(kept, record(page.page, decision, page.article))


def band_queries(page: Sketched, partitions: int, root: str | None = None) -> dict[int, BandQuery]:
    """A page's band keys grouped by the partition that owns them; the query to its home
    partition (the owner of its first band key) carries its record."""
    grouped: dict[int, list[tuple[int, str]]] = {}
    keys = minhash.band_keys(_sketch(page))
    for index, key in enumerate(keys):
        grouped.setdefault(band_partition(key, partitions), []).append((index, key))
    p, home = page.page, band_partition(keys[0], partitions)
    member, ref = origin_key(p.origin), member_ref(p, home)
    record = Member(
        p.id, p.content_hash, _stored(page), page.shingles, p.word_count, root, p.fetched_at
    )
    return {
        part: BandQuery(
            member, ref, bands, p.id, p.fetched_at, root, record if part == home else None
        )
        for part, bands in grouped.items()
    }


def member_ref(page: Extracted, home: int) -> str:
    """How band lists name an indexed page: 'home:hour:partition:offset' (its home partition,
    which keeps its record; the hour it was fetched, so a list drops it out of the window; its
    raw message's coordinates)."""
    hour = int(_moment(page.fetched_at).timestamp() // 3600)
    return f"{home}:{hour}:{page.origin.partition}:{page.origin.offset}"


def home_of(ref: str) -> int:
    """The home partition of a member reference."""
    return int(ref.split(":", 1)[0])


def _hour(ref: str) -> int | None:
    """The fetch hour of a member reference; None for anything else (an origin key, as band
    lists held before references: such an entry is no candidate and is dropped)."""
    fields = ref.split(":")
    return int(fields[1]) if len(fields) == 4 and all(f.isdigit() for f in fields) else None


def _listed(ref: str, horizon: str) -> bool:
    """False for a reference fetched in an hour before the horizon's (or no reference)."""
    hour = _hour(ref)
    return hour is not None and (not horizon or hour >= _moment(horizon).timestamp() // 3600)


def _inside(ref: str, horizon: str) -> bool:
    """True for a reference fetched in an hour after the horizon's: its record cannot have
    expired, so a home without it has not received it yet (in the horizon's own hour it may
    have expired, and nobody waits for it)."""
    hour = _hour(ref)
    return hour is not None and (not horizon or hour > _moment(horizon).timestamp() // 3600)


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- stage 2: by band key ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BandStep:
    """What a band partition does with a query: lists to store, and its hits (the answer)."""

    lists: dict[str, list[str]]
    hits: list[Hit]
    indexed: list[str]
    """The band keys whose lists hold the page after the step (added now, or before: a replay)."""


def band_step(lists: Mapping[str, list[str]], query: BandQuery, horizon: str = "") -> BandStep:
    """Stage 2: index a page under its band keys and find the members that came before it
    (references fetched before `horizon` are out of its window: dropped from the lists it is
    added to). Idempotent: a query seen before gets the same hits and changes nothing."""
    updates: dict[str, list[str]] = {}
    earlier: dict[str, list[int]] = {}
    indexed: list[str] = []
    for index, key in query.bands:
        listed = lists.get(key, [])
        if query.ref in listed:
            before = listed[: listed.index(query.ref)]
            indexed.append(key)
        else:
            kept = [ref for ref in listed if _listed(ref, horizon)]
            before = kept
            if len(kept) < MAX_BAND_MEMBERS:
                updates[key] = [*kept, query.ref]
                indexed.append(key)
            elif kept != listed:
                updates[key] = kept
        for ref in before:
            if _listed(ref, horizon):
                earlier.setdefault(ref, []).append(index)
    return BandStep(updates, [Hit(ref, bands) for ref, bands in earlier.items()], indexed)


def home_member(known: Member | None, query: BandQuery) -> Member | None:
    """At a page's home partition: its record to store (None: unchanged)."""
    if query.page is None:
        return None
    if known is None:
        return query.page
    if query.root is not None and known.root != query.root:
        return replace(known, root=query.root)
    return None


def expired_list(listed: list[str], horizon: str) -> list[str] | None:
    """A band list without its references out of the window (None: nothing to drop)."""
    kept = [ref for ref in listed if _listed(ref, horizon)]
    return None if len(kept) == len(listed) else kept


def indexed_together(rounds: Iterable[Mapping[str, list[str]]]) -> dict[str, list[str]]:
    """Journal entries of band lists (reference -> the band keys it was indexed under) as one,
    in order: a key a reference already has is not repeated."""
    merged: dict[str, list[str]] = {}
    for entry in rounds:
        for ref, keys in entry.items():
            known = merged.setdefault(ref, [])
            known += [key for key in keys if key not in known]
    return merged


def relisted(
    lists: Mapping[str, list[str]], entry: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """The band lists a journal entry changes, with its references appended in its order (a
    reference a list holds already stays where it is: applying an entry twice changes nothing)."""
    changed: dict[str, list[str]] = {}
    for ref, keys in entry.items():
        for key in keys:
            listed = changed.get(key, lists.get(key) or [])
            if ref not in listed:
                changed[key] = [*listed, ref]
    return changed


def unlisted(
    lists: Mapping[str, list[str]], entry: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """The band lists a deleted journal entry changes: without its references (an empty list is
    to be deleted). An entry is deleted once its references are out of the window."""
    changed: dict[str, list[str]] = {}
    for ref, keys in entry.items():
        for key in keys:
            listed = changed.get(key, lists.get(key) or [])
            if ref in listed:
                changed[key] = [other for other in listed if other != ref]
    return changed


def expired_entry(entry: Mapping[str, list[str]], horizon: str) -> bool:
    """True once every reference of a journal entry is out of the window."""
    return not any(_listed(ref, horizon) for ref in entry)


@dataclass(frozen=True, slots=True)
class LookupStep:
    """What a home partition answers: the candidates, or the members to wait for first."""

    candidates: list[Candidate]
    awaits: list[str]
    """Undecided near-copies that came first at their pivot band, or members whose query is
    still on its way here: answer once they are settled or here."""


def lookup_step(
    member_of: Callable[[str], Member | None],
    lookup: Lookup,
    horizon: str = "",
    release: bool = False,
    swept: str = "",
) -> LookupStep:
    """At a home partition: the records of a page's hits (`horizon`: the asking page's). A
    missing record is waited for only when it cannot have been deleted: fetched in an hour after
    `swept` (now minus the window: the sweep deletes nothing fetched after that), so a late page
    whose hits have expired is answered at once. With `release`, the members it would wait for
    are left out instead."""
    probe = lookup.probe
    sketch = Sketch.decode(probe.signature, probe.shingles)
    candidates, awaits = [], []
    for hit in lookup.hits:
        m = member_of(hit.ref)
        if m is None:  # out of the window, or its query has not reached this partition yet
            if _inside(hit.ref, max(horizon, swept)) and not release:
                awaits.append(hit.ref)
            continue
        if m.fetched_at < horizon:
            continue
        c = Candidate(
            hit.ref, hit.earlier_in, m.id, m.content_hash, m.signature, m.shingles, m.words, m.root
        )
        similar = _predecessor(sketch, probe.content_hash, probe.words, c) is not None
        if m.root is None and similar:
            if not release:
                awaits.append(hit.ref)
            continue
        candidates.append(c)
    return LookupStep(candidates, [] if release else sorted(awaits))


def settle_member(member: Member | None, settle: BandSettle) -> Member | None:
    """The member with its root set (None if it is not kept here or already settled)."""
    if member is None or member.root == settle.root:
        return None
    return replace(member, root=settle.root)


# --- stage 3: by article id, once every band partition answered -------------------------------


def lookups(pending: Pending, partitions: int) -> dict[int, Lookup]:
    """Once every band partition replied: the page's hits, by home partition (none: nothing
    came before it)."""
    page = pending.page
    p, own = page.page, _ref(page, partitions)
    merged: dict[str, set[int]] = {}
    for hits in pending.replies.values():
        for hit in hits:
            if hit.ref != own:
                merged.setdefault(hit.ref, set()).update(hit.earlier_in)
    by_home: dict[int, list[Hit]] = {}
    for ref, bands in merged.items():
        by_home.setdefault(home_of(ref), []).append(Hit(ref, sorted(bands)))
    probe = Member(
        p.id, p.content_hash, _stored(page), page.shingles, p.word_count, None, p.fetched_at
    )
    return {
        home: Lookup(origin_key(p.origin), p.id, probe, hits)
        for home, hits in sorted(by_home.items())
    }


def gather_step(state: UrlState, pending: Pending, now: str, partitions: int) -> Decided:
    """Stage 3: decide a page from its candidates (or its URL's article, if one appeared)."""
    page = pending.page
    key = origin_key(page.page.origin)
    known = state.decisions.get(key)
    if known is not None:
        return _replayed(page, known, partitions)
    if state.current is not None:
        decided = _against_current(state, page, now, partitions)
    else:
        decided = _against_candidates(state, page, _merge(pending.answers.values()), now)
    root = decided.record.id if isinstance(decided.record, Article) else decided.record.duplicate_of
    ref = _ref(page, partitions)
    return replace(decided, settle={home_of(ref): BandSettle(ref, root)})


def _ref(page: Sketched, partitions: int) -> str:
    """The page's member reference."""
    home = band_partition(minhash.band_keys(_sketch(page))[0], partitions)
    return member_ref(page.page, home)


def _against_candidates(
    state: UrlState, page: Sketched, candidates: Iterable[Candidate], now: str
) -> Decided:
    """Published unless a verified near-copy came first at the two pages' pivot band."""
    sketch = _sketch(page)
    p = page.page
    best: tuple[float, bool, Candidate] | None = None
    for candidate in candidates:
        similarity = _predecessor(sketch, p.content_hash, p.word_count, candidate)
        if similarity is None:
            continue
        exact = candidate.content_hash == p.content_hash
        if best is None or (similarity, exact) > best[:2]:
            best = (similarity, exact, candidate)
    if best is None:
        return _publish(state, page, now)  # already indexed by its queries
    similarity, exact, first = best
    target = first.root or first.id
    kind = "url" if target == page.page.id else "content" if exact else "near"
    decision = Decision(kind, now, duplicate_of=target, similarity=similarity)
    if kind != "url" and first.root is not None:  # this URL's text is that article's now
        state = replace(state, follows=state.follows or target)
    return _remember(state, page, decision)


def _similarity(exact: bool, a: Sketch, b: Sketch) -> float:
    """What a duplicate record reports: 1.0 for the same text, else the estimate to 4 places."""
    return 1.0 if exact else round(minhash.jaccard(a, b), 4)


def _predecessor(
    sketch: Sketch, content_hash: str, words: int, candidate: Candidate
) -> float | None:
    """The similarity of a verified near-copy that came before the page at their pivot (the
    lowest band the two share, `minhash.pivot`), else None. Verified: the same text, or an
    estimated Jaccard similarity of at least NEAR_SIMILARITY between texts of comparable
    length."""
    other = Sketch.decode(candidate.signature, candidate.shingles)
    exact = candidate.content_hash == content_hash
    similarity = _similarity(exact, sketch, other)
    if similarity < NEAR_SIMILARITY:
        return None
    if not exact and min(words, candidate.words) < TEASER_SHARE * max(words, candidate.words):
        return None
    pivot = minhash.pivot(sketch, other)
    return similarity if pivot is not None and pivot in candidate.earlier_in else None


def _merge(answers: Iterable[list[Candidate]]) -> list[Candidate]:
    """The candidates of every home partition's answer (each member has one home)."""
    return [c for answer in answers for c in answer]


def add_reply(pending: Pending, reply: BandReply) -> Pending:
    """The pending page with one more partition's hits (a repeated reply changes nothing)."""
    return replace(pending, replies={**pending.replies, reply.part: reply.hits})


def add_answer(pending: Pending, answer: LookupAnswer) -> Pending:
    """The pending page with one more home partition's candidates."""
    return replace(pending, answers={**pending.answers, answer.part: answer.candidates})


# --- records ----------------------------------------------------------------------------------


def record(
    page: Extracted, decision: Decision, article_id: str | None = None
) -> Article | Duplicate:
    """The output record of a decision (an article under `article_id` when the page's URL
    follows another article)."""
    if decision.kind == "article":
        assert decision.revision is not None
        return article(page, decision.revision, decision.processed_at, article_id)
    assert decision.duplicate_of is not None
    of, similarity, stale = decision.duplicate_of, decision.similarity, decision.stale
    return duplicate(page, decision.kind, of, similarity, stale)


def duplicate(
    page: Extracted, kind: str, of: str, similarity: float = 1.0, stale: bool = False
) -> Duplicate:
    """The duplicate record for a dropped page."""
    return Duplicate(
        schema_version=SCHEMA_VERSION,
        kind=kind,
        duplicate_of=of,
        similarity=similarity,
        stale=stale,
        id=page.id,
        url=page.url,
        canonical_url=page.canonical_url,
        content_hash=page.content_hash,
        fetched_at=page.fetched_at,
        source=page.source,
        meta=page.meta,
        origin=page.origin,
    )


def article(
    page: Extracted, revision: int, processed_at: str, article_id: str | None = None
) -> Article:
    """The article record for a page at a revision, under its own id or `article_id`."""
    extracted = {f.name: getattr(page, f.name) for f in fields(Extracted)}
    extracted["id"] = article_id or page.id
    return Article(
        schema_version=SCHEMA_VERSION, revision=revision, processed_at=processed_at, **extracted
    )


def _sketch(page: Sketched) -> Sketch:
    return Sketch.decode(page.signature, page.shingles)


def _stored(page: Sketched) -> str:
    """A page's signature as the tables keep it (`minhash.Sketch.compact`)."""
    return _sketch(page).compact().encode()


# --- the three stages in one process ----------------------------------------------------------


class InProcess:
    """The three stages over in-memory tables, one page at a time: what the streaming worker
    decides when nothing runs concurrently (benchmarks and tests; no Kafka)."""

    def __init__(self, partitions: int = 4) -> None:
        self.partitions = partitions
        self.urls: dict[str, UrlState] = {}
        self.lists: dict[str, list[str]] = {}
        self.members: dict[str, Member] = {}

    def add(self, page: Sketched, now: str) -> Article | Duplicate:
        """Decide one page, as the url, band and gather stages would."""
        step = url_step(self._url(page), page, now, self.partitions)
        while isinstance(step, Forward):
            page = step.page
            step = url_step(self._url(page), page, now, self.partitions)
        assert not isinstance(step, Queued), "one page at a time: nothing is undecided"
        if isinstance(step, Scatter):
            pending = step.pending
            for part, query in step.queries.items():
                pending = add_reply(pending, BandReply(query.member, part, self._band(query)))
            for home, lookup in lookups(pending, self.partitions).items():
                answer = lookup_step(self.members.get, lookup)
                assert not answer.awaits, "one page at a time: every earlier page is decided"
                pending = add_answer(pending, LookupAnswer(lookup.member, home, answer.candidates))
            step = gather_step(step.state, pending, now, self.partitions)
        if step.state is not None:
            self.urls[deciding_id(page)] = delivered(step.state, [origin_key(page.page.origin)])
        for query in step.index.values():
            self._band(query)
        for settle in step.settle.values():
            settled = settle_member(self.members.get(settle.member), settle)
            if settled is not None:
                self.members[settle.member] = settled
        return step.record

    def _url(self, page: Sketched) -> UrlState:
        return self.urls.get(deciding_id(page), UrlState())

    def _band(self, query: BandQuery) -> list[Hit]:
        step = band_step(self.lists, query)
        self.lists.update(step.lists)
        member = home_member(self.members.get(query.ref), query)
        if member is not None:
            self.members[query.ref] = member
        return step.hits
