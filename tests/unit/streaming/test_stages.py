"""The dedup stages (`streaming.agents`) over dict tables, without Kafka.

Messages between the stages are delivered by hand, in the order a test chooses, so two copies
can be in flight at once: what a stage sends is what the next stage gets.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from tests.unit.core.test_dedup import A, B, page, story
import orjson

from worker import codec
from worker.core import dedup
from worker.settings import Settings
from worker.streaming.agents import PARTITIONER, BandStage, GatherStage, PendingPages, Send, UrlStage
from worker.streaming.tables import Tables
from worker.streaming.topics import Topics

PARTITIONS = 2


def topics() -> Topics:
    names = ("raw", "by_url", "by_band", "verdicts", "articles", "duplicates", "rejected")
    return Topics(*names)  # type: ignore[arg-type]  # a Send only carries its topic along


class Event:
    """What a stage reads of an event (a plain object: a held-back write keeps a weak reference)."""

    def __init__(self, value: bytes, key: bytes | None, message: Any) -> None:
        self.value, self.key, self.message = value, key, message


class Pipeline:
    """The three stages on shared dict tables, with a queue of messages per internal topic."""

    def __init__(self, wait_s: float = 120.0, partitions: int = PARTITIONS, replies: dict[str, Any] | None = None,
                 pending: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.topics = topics()
        replies = {} if replies is None else replies
        pending = {} if pending is None else pending
        self.tables = Tables(urls={}, pending=pending, replies=replies, bands={}, members={}, waits={})  # type: ignore[arg-type]
        settings = Settings(partitions=partitions, dedup_wait_s=wait_s)
        self.pending = PendingPages(self.tables, partitions)
        self.stages: dict[Any, Any] = {
            "by_url": UrlStage(self.topics, self.tables, settings, None, self.pending),  # type: ignore[arg-type]
            "by_band": BandStage(self.topics, self.tables, settings, None),  # type: ignore[arg-type]
            "verdicts": GatherStage(self.topics, self.tables, settings, None, self.pending),  # type: ignore[arg-type]
        }
        self.queue: list[Send] = []
        self.outputs: list[dict[str, Any]] = []
        self.offset = 0

    def send(self, sends: list[Send]) -> None:
        for s in sends:
            if s.topic in ("articles", "duplicates"):
                self.outputs.append(orjson.loads(s.value))
            else:
                self.queue.append(s)

    def deliver(self, send: Send, delivered: bool = True) -> None:
        """Handle one message; `delivered=False`: the process dies before its outputs are in."""
        self.queue.remove(send)
        outcome = self.handle(send)
        if delivered:
            self.send([*outcome.sends, *outcome.after])
            if outcome.done is not None:
                outcome.done()

    def crash_on_decision(self) -> Send:
        """Deliver the queued band and verdict messages in order until one decides a page; that
        one is decided and stored, then the process dies before its outputs are in. Returns it,
        to be read again after a restart."""
        while True:
            send = next(s for s in self.queue if s.topic in ("by_band", "verdicts"))
            self.queue.remove(send)
            outcome = self.handle(send)
            if any(s.topic in ("articles", "duplicates") for s in outcome.sends):
                return send
            self.send([*outcome.sends, *outcome.after])
            if outcome.done is not None:
                outcome.done()

    def looked_up_first(self, p: Any) -> None:
        """Deliver a page's band replies (then its lookups) before any other's: it asks about
        the pages before it while they are still undecided."""
        for send in [s for s in self.queue if s.topic == "verdicts" and s.key == p.page.id.encode()]:
            self.deliver(send)
        self.drain("by_band")

    def handle(self, send: Send) -> Any:
        """One message handled as its own round: what the stage held back is written after it."""
        stage = self.stages[send.topic]
        outcome = stage.handle(self.event(send))
        stage.flush()
        return outcome

    def event(self, send: Send) -> Any:
        """The message as an event at the next offset (one count for every partition)."""
        self.offset += 1
        return Event(send.value, send.key, SimpleNamespace(partition=send.partition, offset=self.offset))

    def drain(self, *topics: str) -> None:
        """Deliver every message of these topics, in queue order, including what they send."""
        while any(s.topic in topics for s in self.queue):
            self.deliver(next(s for s in self.queue if s.topic in topics))

    def run(self) -> None:
        while self.queue:
            self.deliver(self.queue[0])

    def intake(self, p: Any) -> None:
        self.send([Send("by_url", p.page.id.encode(), codec.encode(p), 0)])  # type: ignore[arg-type]


def test_a_copy_in_flight_with_its_original_waits_and_points_at_the_article() -> None:
    flow = Pipeline()
    original, copy = page(A, story(1), 0), page(B, story(1), 1)
    flow.intake(original)
    flow.intake(copy)
    flow.drain("by_url")  # both ask the bands before any decides
    flow.drain("by_band")
    flow.looked_up_first(copy)
    assert flow.tables.waits, "the copy waits for the undecided original"
    flow.run()
    article, duplicate = flow.outputs
    assert article["id"] == original.page.id and "revision" in article
    assert (duplicate["kind"], duplicate["duplicate_of"]) == ("content", original.page.id)
    assert not flow.tables.waits and not flow.tables.pending
    refs = {q.ref for page_ in (original, copy) for q in dedup.band_queries(page_, PARTITIONS).values()}
    assert set(flow.tables.members) == refs, "one record per page, at its home partition"
    assert all(m["root"] == original.page.id for m in flow.tables.members.values())


def test_a_wait_past_the_limit_is_released_and_the_page_decided_without_it() -> None:
    flow = Pipeline(wait_s=0.0)
    original, copy = page(A, story(1), 0), page(B, story(1), 1)
    flow.intake(original)
    flow.intake(copy)
    flow.drain("by_url", "by_band")
    flow.looked_up_first(copy)
    band: BandStage = flow.stages["by_band"]
    [(key, waiting)] = flow.tables.waits.items()
    time.sleep(0.01)
    releases = band.overdue({0, 1})
    assert [r.partition for r in releases] == [int(key.split(":", 1)[0])]
    assert band.overdue(set()) == []  # another process's partitions: not ours to release
    for release in releases:
        flow.queue.insert(0, release)
        flow.deliver(release)
    flow.run()
    kinds = sorted("revision" in o for o in flow.outputs)
    assert kinds == [True, True], "released: both published, neither dropped"
    assert waiting and not flow.tables.waits


def test_a_replayed_decision_resumes_the_pages_that_wait_for_it() -> None:
    """The original's decision is replayed (its process died before sending): the index message
    that carries its article id must resume the copy waiting for it."""
    flow = Pipeline()
    original, copy = page(A, story(1), 0), page(B, story(1), 1)
    flow.intake(original)
    flow.intake(copy)
    flow.drain("by_url", "by_band")
    flow.looked_up_first(copy)
    *first, last = [s for s in flow.queue if s.key == original.page.id.encode()]
    for reply in first:
        flow.deliver(reply)
    flow.deliver(last, delivered=False)  # decided and stored, then the process died
    assert flow.outputs == [] and flow.tables.waits
    flow.send([last])  # the verdict is read again after the restart
    flow.run()
    assert [o.get("kind", "article") for o in flow.outputs] == ["article", "content"]
    assert flow.outputs[1]["duplicate_of"] == original.page.id
    assert not flow.tables.waits


def test_pages_of_one_url_are_decided_in_the_order_they_came() -> None:
    """The first page of a URL asks the bands; an update arriving meanwhile waits behind it
    instead of overtaking it (it would become revision 1 and the first page stale)."""
    flow = Pipeline()
    first, update = page(A, story(1), 0), page(A, story(2), 1, fetched_at="2025-05-02T10:00:00.000Z")
    flow.intake(first)
    flow.intake(update)
    flow.deliver(flow.queue[0])  # the first asks the bands
    flow.deliver(flow.queue[0])  # the update: queued, nothing sent
    assert all(s.topic == "by_band" for s in flow.queue)
    assert flow.tables.urls[first.page.id]["waiting"] == ["pages.raw:0:0", "pages.raw:0:1"]
    flow.run()
    assert [(o["revision"], o["meta"]["offset"]) for o in flow.outputs] == [(1, 0), (2, 1)]
    assert flow.tables.urls[first.page.id]["waiting"] == [] and not flow.tables.pending


def test_a_page_decided_behind_another_is_delivered_again_after_a_crash() -> None:
    """A re-fetch queued behind the first page of its URL is decided with it; the process dies
    before either record is delivered: the replayed answer delivers both, once each."""
    flow = Pipeline()
    first, refetch = page(A, story(1), 0), page(A, story(1), 1)
    flow.intake(first)
    flow.intake(refetch)
    flow.drain("by_url", "by_band")
    last = flow.crash_on_decision()  # both decided and stored, then the process died
    assert flow.outputs == [] and flow.tables.urls[first.page.id]["waiting"]
    flow.send([last])  # the answer is read again after the restart
    flow.run()
    assert [(o.get("kind", "article"), o["meta"]["offset"]) for o in flow.outputs] == [("article", 0), ("url", 1)]
    assert flow.tables.urls[first.page.id]["waiting"] == [] and not flow.tables.pending


def test_an_update_queued_behind_the_publishers_original_goes_to_the_article_it_follows() -> None:
    """The copy site's page is published first; the publisher's original asks the bands while its
    update waits behind it. The original becomes the copy's duplicate, so the update is sent on
    to the copy's id (its stage-1 partition) and published there as the article's revision 2."""
    flow = Pipeline()
    old, new = story(1), story(1)[:4] + story(2)[:5]
    copy = page(B, old, 0, fetched_at="2025-05-01T10:00:00.000Z")
    original = page(A, old, 1, fetched_at="2025-05-01T09:00:00.000Z")
    update = page(A, new, 2, fetched_at="2025-05-02T10:00:00.000Z")
    flow.intake(copy)
    flow.run()
    flow.intake(original)
    flow.intake(update)
    flow.drain("by_url")  # the original asks the bands, the update is queued behind it
    flow.drain("by_band", "verdicts")
    [forwarded] = flow.queue
    assert (forwarded.topic, forwarded.key) == ("by_url", copy.page.id.encode())
    flow.run()
    decided = [(o["id"], o.get("revision"), o.get("duplicate_of")) for o in flow.outputs]
    assert decided == [(copy.page.id, 1, None), (original.page.id, None, copy.page.id), (copy.page.id, 2, None)]
    assert flow.outputs[2]["url"] == A and not flow.tables.pending
    assert flow.tables.urls[original.page.id]["follows"] == copy.page.id
    assert flow.tables.urls[original.page.id]["waiting"] == []


def test_a_page_arriving_while_a_queued_one_is_sent_on_is_sent_on_too() -> None:
    """The publisher's update is sent on to the article its URL follows, but not delivered yet
    when its re-fetch arrives: the re-fetch must not queue behind it (nothing would ever take
    it out of the queue). Then the process dies before the update is delivered: replayed, it
    is sent on again, and each page gets exactly one record."""
    flow = Pipeline()
    old, new = story(1), story(1)[:4] + story(2)[:5]
    copy = page(B, old, 0, fetched_at="2025-05-01T10:00:00.000Z")
    original = page(A, old, 1, fetched_at="2025-05-01T09:00:00.000Z")
    update = page(A, new, 2, fetched_at="2025-05-02T10:00:00.000Z")
    refetch = page(A, new, 3, fetched_at="2025-05-03T10:00:00.000Z")
    flow.intake(copy)
    flow.run()
    flow.intake(original)
    flow.intake(update)
    flow.drain("by_url", "by_band")
    last = flow.crash_on_decision()  # original decided, update sent on, then the process died
    flow.intake(refetch)
    flow.deliver(flow.queue[-1])
    assert [s.key for s in flow.queue] == [copy.page.id.encode()], "the re-fetch is sent on"
    flow.send([last])  # the answer is read again after the restart
    flow.run()
    decided = sorted((o["meta"]["offset"], o.get("revision"), o.get("kind"), o.get("stale")) for o in flow.outputs)
    # The update's first sending was lost with the process, so its re-fetch (the same text,
    # fetched later) reached the article first: revision 2; the update then is a stale copy.
    assert decided == [(0, 1, None, None), (1, None, "content", False), (2, None, "url", True), (3, 2, None, None)]
    state = flow.tables.urls[original.page.id]
    assert state["waiting"] == [] and list(state["decisions"]) == ["pages.raw:0:1"]
    assert not flow.tables.pending


def test_pages_undecided_are_counted_for_the_health_probe() -> None:
    """A page asking the bands and one queued behind it are undecided until the answers come;
    only the partitions this process holds count."""
    flow = Pipeline()
    first, update = page(A, story(1), 0), page(A, story(2), 1, fetched_at="2025-05-02T10:00:00.000Z")
    flow.intake(first)
    flow.intake(update)
    flow.drain("by_url")
    part = PARTITIONER(first.page.id.encode(), [0, 1], [0, 1])
    pages, oldest = flow.pending.undecided({part}, time.time() + 30)
    assert pages == 2 and 30 <= oldest < 40
    assert flow.pending.undecided({1 - part}, time.time()) == (0, 0.0)
    flow.run()
    assert flow.pending.undecided({0, 1}, time.time()) == (0, 0.0)


class Restored(dict[str, Any]):
    """A table that counts its restores, as `tables.DurableTable` does."""

    recoveries = 0


def test_pages_a_restore_brings_back_are_counted_after_it_completes() -> None:
    """The count is kept as the stages store and forget pages; a restore writes the store around
    them, so each completed restore has the table read again (and only then)."""
    flow = Pipeline(pending=Restored())
    flow.intake(page(A, story(1), 0))
    flow.drain("by_url")
    part = PARTITIONER(page(A, story(1), 0).page.id.encode(), [0, 1], [0, 1])
    assert flow.pending.undecided({part}, time.time())[0] == 1
    [(key, stored)] = flow.tables.pending.items()
    flow.tables.pending[key + "-restored"] = stored  # what a restore of another page writes
    assert flow.pending.undecided({part}, time.time())[0] == 1
    flow.tables.pending.recoveries += 1
    assert flow.pending.undecided({part}, time.time())[0] == 2
    flow.pending.pop(key + "-restored")
    assert flow.pending.undecided({part}, time.time())[0] == 1


def test_a_decision_is_sent_before_the_band_messages_that_depend_on_it() -> None:
    """The record goes first; the index and settles only once it is acknowledged."""
    flow = Pipeline()
    flow.intake(page(A, story(1), 0))
    flow.drain("by_url", "by_band")
    [verdict, *rest] = [s for s in flow.queue if s.topic == "verdicts"]
    for reply in rest:
        flow.deliver(reply)
    flow.queue.remove(verdict)
    outcome = flow.handle(verdict)
    assert [s.topic for s in outcome.sends] == ["articles"]
    assert outcome.after and {s.topic for s in outcome.after} == {"by_band"}


def test_an_answer_repeated_after_a_crash_forgot_the_page_half_way_changes_nothing() -> None:
    """The process died between deleting a delivered page's entry and its progress entry: an
    answer replayed later finds only the progress, drops it, and sends nothing."""
    flow = Pipeline()
    flow.intake(page(A, story(1), 0))
    flow.drain("by_url", "by_band")
    [reply] = [s for s in flow.queue if s.topic == "verdicts"][:1]
    flow.run()
    [member] = [k for k in flow.tables.urls[page(A, story(1), 0).page.id]["decisions"]]
    part = codec.decode_verdict(reply.value).part
    flow.tables.replies[member] = {"parts": [part], "replies": {}}  # left behind
    outcome = flow.handle(reply)
    assert (outcome.sends, outcome.after) == ([], []) and member not in flow.tables.replies
    assert len(flow.outputs) == 1


class Counted(dict[str, Any]):
    """A table that counts its writes."""

    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def test_the_replies_of_one_round_write_a_pages_progress_once() -> None:
    """A page's replies handled in one round are held back and written once at its end."""
    replies = Counted()
    flow = Pipeline(partitions=8, replies=replies)
    p = page(A, story(1), 0)
    flow.intake(p)
    flow.drain("by_url", "by_band")
    *first, last = [s for s in flow.queue if s.topic == "verdicts"]
    assert len(first) >= 4
    gather, before = flow.stages["verdicts"], replies.writes
    for send in first:  # one round
        flow.queue.remove(send)
        assert gather.handle(flow.event(send)).sends == []
    assert replies.writes == before
    gather.flush()
    assert replies.writes == before + 1
    flow.deliver(last)
    assert [(o["id"], o["revision"]) for o in flow.outputs] == [(p.page.id, 1)]
    assert not flow.tables.replies and not flow.tables.pending
