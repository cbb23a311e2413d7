"""`ingest-worker tail` and `ingest-worker replay` as users run them, against the real broker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import REPO, Collector, Names, create_topics, produce, wait_for_group
from worker import codec, pipeline, tail
from worker.core.dedup import article, duplicate
from worker.errors import Reason
from worker.records import RawPage, Source
from worker.settings import Settings

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
FILLER = "<script>var pad = '" + "p" * (3 * 2**20) + "';</script></body>"
"""3 MiB: more than the 1 MiB a rejection used to keep of its message."""


def cli_env(broker: Any, names: Names, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **names.env(broker.bootstrap, 2, tmp_path / "cli")}


def cli(args: list[str], env: dict[str, str], timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    """`ingest-worker ARGS`, output captured (so stdout is a pipe: JSON lines)."""
    return subprocess.run([sys.executable, "-m", "worker", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout_s)  # fmt: skip


async def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a topic, from the beginning to its end now."""
    settings = Settings(bootstrap_servers=bootstrap)
    consumer = tail.consumer(settings, "earliest")
    await consumer.start()
    try:
        partitions = await tail.assign(consumer, settings, [topic])
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def test_a_rejected_page_is_replayed_whole_after_the_fix(
    broker: Any, names: Names, workers: Any, collector: Collector, tmp_path: Path
) -> None:
    """A 3 MiB listing page is rejected (listings are by default); the team decides to keep
    listings, restarts the worker so, and replays the listing rejections only: the very same
    message comes back through with its key and becomes an article; the rest stays rejected."""
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 2)
    workers.start(2)
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    listing_url, article_url = "https://news.example/category/local", "https://news.example/2026/a"
    listing = orjson.dumps(message(listing_url, (PAGES / "listing.html").read_text().replace("</body>", FILLER)))
    story = orjson.dumps(message(article_url, article_html(4)))
    sent = [
        (await produce(broker.bootstrap, names.raw, [listing], listing_url.encode()))[0],
        (await produce(broker.bootstrap, names.raw, [story], article_url.encode()))[0],
        (await produce(broker.bootstrap, names.raw, [b"{not json"], b"k-bad"))[0],
    ]
    first = await collector.until_origins({(s.partition, s.offset) for s in sent})
    rejected = {o.value["reason"]: o for o in first if o.topic == names.rejected}
    assert set(rejected) == {"not_article_listing", "not_json"}
    kept = rejected["not_article_listing"]
    assert kept.key == listing_url.encode()
    assert not kept.value["payload_truncated"] and kept.value["payload_bytes"] == len(listing)
    assert kept.value["payload"] == listing.decode()  # whole, as text: it fits the record
    assert dict(kept.headers) == {
        "ingest.error.reason": b"not_article_listing",
        "ingest.error.detail": kept.value["detail"].encode(),
        "ingest.origin.topic": names.raw.encode(),
        "ingest.origin.partition": str(sent[0].partition).encode(),
        "ingest.origin.offset": str(sent[0].offset).encode(),
        "ingest.origin.timestamp": str(sent[0].timestamp_ms).encode(),
    }
    assert workers.stop_all() == [0]

    workers.start(2, INGEST_REJECT_PAGE_TYPES="homepage,error")  # the fix: listings are kept
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    env = cli_env(broker, names, tmp_path)
    raw_before = await read_all(broker.bootstrap, names.raw)

    dry = cli(["replay", "--reason", "not_article_listing", "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "matched 1 (not_article_listing 1); would send 1" in dry.stderr, dry.stderr
    listed = [orjson.loads(line) for line in dry.stdout.splitlines()]
    assert [(r["topic"], r["key"], r["value"]["reason"]) for r in listed] == [
        (names.rejected, listing_url, "not_article_listing")]  # fmt: skip
    assert "matched 1 (not_article_listing 1); would send 1" in dry.stderr, dry.stderr
    assert len(await read_all(broker.bootstrap, names.raw)) == len(raw_before)  # nothing sent

    none = cli(["replay", "--all", "--since", "2099-01-01T00:00:00Z"], env)
    assert none.returncode == 0 and "matched 0 (none); sent 0" in none.stderr, none.stderr

    done = cli(["replay", "--reason", "not_article_listing"], env)
    assert done.returncode == 0, done.stderr
    assert "read 2 rejections" in done.stderr and "sent 1 to " + names.raw in done.stderr, done.stderr
    raw_after = await read_all(broker.bootstrap, names.raw)
    assert len(raw_after) == len(raw_before) + 1
    again = next(r for r in raw_after if r.headers)
    assert (again.key, again.value) == (listing_url.encode(), listing)  # the very same message
    assert dict(again.headers) == {
        "ingest.replay.of": f"{names.rejected}/{kept.partition}/{kept.offset}".encode()}  # fmt: skip

    outputs = await collector.until(len(first) + 1)
    published = [o for o in outputs if o.topic == names.articles and o.value["url"] == listing_url]
    assert len(published) == 1
    page = published[0].value
    assert (page["page_type"], page["revision"], published[0].key) == ("listing", 1, page["id"].encode())
    assert (page["origin"]["partition"], page["origin"]["offset"]) == (again.partition, again.offset)


async def test_tail_follows_new_records_with_filters(broker: Any, names: Names, tmp_path: Path) -> None:
    """tail prints only what arrives after it started, filtered, as JSON lines in a pipe and as
    summary lines on a terminal; --from-beginning with --idle reads what is there and stops."""
    await create_topics(broker.bootstrap, names.outputs, 2)
    env = cli_env(broker, names, tmp_path)
    origin = Source(names.raw, 0, 5, 1_746_000_000_000)
    page = pipeline.clean(RawPage(url="https://www.harbor.example/a", body=(PAGES / "news-en.html").read_bytes()),
                          origin, 10**7)  # fmt: skip
    story = codec.encode(article(page, 1, "2026-12-05T00:00:00.000Z"))
    copy = codec.encode(duplicate(page, "url", page.id, 1.0, False))
    refusal = codec.encode(pipeline.rejected(pipeline.Failure(Reason.TIMEOUT, "slow", "https://slow.example/x"),
                                             origin, b"k", b"{}", 10**6))  # fmt: skip
    await produce(broker.bootstrap, names.articles, [story], page.id.encode())  # before tail: not shown

    piped = subprocess.Popen([sys.executable, "-m", "worker", "tail", "--limit", "2"], env=env, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    primary, replica = os.openpty()  # a terminal: summaries
    on_tty = subprocess.Popen([sys.executable, "-m", "worker", "tail", "rejected", "--reason", "timeout",
                               "--limit", "1"], env=env, cwd=REPO, stdout=replica, stderr=subprocess.PIPE)  # fmt: skip
    os.close(replica)
    for process in (piped, on_tty):
        assert process.stderr is not None
        started = await asyncio.to_thread(process.stderr.readline)
        assert started.startswith(b"tail: following ") and b" from now" in started, started

    await produce(broker.bootstrap, names.duplicates, [copy], page.id.encode())
    await produce(broker.bootstrap, names.rejected, [refusal], b"k")
    out, err = await asyncio.to_thread(piped.communicate, timeout=60)
    assert piped.returncode == 0, err
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert sorted((r["topic"], r["key"], r["value"]["id"] if "id" in r["value"] else r["value"]) for r in lines) == [
        (names.duplicates, page.id, page.id), (names.rejected, "k", orjson.loads(refusal))]  # fmt: skip
    assert next(r["value"] for r in lines if r["topic"] == names.duplicates) == orjson.loads(copy)
    assert all({"partition", "offset", "timestamp"} <= set(r) for r in lines)
    assert on_tty.wait(60) == 0
    shown = os.read(primary, 4096).decode()
    os.close(primary)
    assert shown.split()[:4] == ["rejected", "timeout", f"{names.raw}[0]@5", "https://slow.example/x"]

    everything = cli(["tail", "--from-beginning", "--idle", "3", "--site", "harbor.example"], env)
    assert everything.returncode == 0, everything.stderr
    assert sorted(orjson.loads(line)["topic"] for line in everything.stdout.splitlines()) == [
        names.articles, names.duplicates]  # fmt: skip
    started_at = time.monotonic()
    wrong = cli(["tail", "--partition", "7", "--idle", "1"], env)
    assert wrong.returncode == 2 and "no partition [7]" in wrong.stderr, wrong.stderr
    assert time.monotonic() - started_at < 30
