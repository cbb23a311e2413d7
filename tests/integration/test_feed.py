"""`ingest-worker feed` as a process against the real broker: JSONL (a file and stdin), a WARC
file and an HTML directory in one run, read back from the raw topic; the summary; --rate; a
delivery the broker refuses."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import REPO, Broker, Collector, Names, create_topics
from tests.unit.test_feeding import RECORDS, TRUNCATED, write_page, write_warc
from worker import sources

SUMMARY = re.compile(r"^sent (\d+) to (\S+) in [\d.]+ s, skipped (\d+), failed (\d+)$")


RECORDS_AT = [sum(len(gzip.compress(r)) for r in RECORDS[:n]) for n in range(len(RECORDS) + 1)]
"""Where each record of the gzip-per-record test WARC starts (the last: the truncated one)."""


def feed(
    args: list[str], broker: Broker, topic: str, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """`python -m worker feed ARGS` publishing to this broker and topic."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "INGEST_TOPIC_RAW": topic}
    return subprocess.run(
        [sys.executable, "-m", "worker", "feed", *args],
        input=stdin,
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )


def summary(done: subprocess.CompletedProcess[bytes]) -> tuple[int, str, int, int, list[str]]:
    """The summary's counts (sent, topic, skipped, failed) and its detail lines."""
    lines = done.stderr.decode().splitlines()
    found = SUMMARY.match(lines[0]) if lines else None
    assert found, done.stderr.decode()
    sent, topic, skipped, failed = found.groups()
    return int(sent), topic, int(skipped), int(failed), lines[1:]


def jsonl(*values: object) -> bytes:
    return b"".join(v if isinstance(v, bytes) else orjson.dumps(v) + b"\n" for v in values)


async def test_feed_publishes_jsonl_warc_and_html_keyed_by_url(
    broker: Broker, names: Names, tmp_path: Path
) -> None:
    await create_topics(broker.bootstrap, [names.raw], 3)
    pages = tmp_path / "pages.jsonl.gz"
    pages.write_bytes(
        gzip.compress(
            jsonl(
                message("https://news.example.com/1", article_html(1), source="s1"),
                b"not json\n",
                message("https://news.example.com/2", article_html(2), as_body=True),
                {"html": "<p>no url</p>"},
            )
        )
    )
    stdin = tmp_path / "stdin.jsonl"
    stdin.write_bytes(jsonl(message("https://news.example.com/3", article_html(3)), b"[1]\n"))
    warc = write_warc(tmp_path / "crawl.warc.gz", RECORDS, gzip_per_record=True)
    warc.write_bytes(warc.read_bytes() + gzip.compress(TRUNCATED)[:-200])
    site = tmp_path / "site"
    write_page(site / "a.html", article_html(4).encode(), {"url": "https://blog.example.de/a"})
    write_page(site / "2025" / "b.html", article_html(5).encode("latin-1"))
    write_page(site / "c.html", b"<p>c</p>", "{not json")
    options = ["--source", "crawl-7", "--base-url", "https://mirror.example.org/site"]

    done = feed(
        [str(pages), "-", str(warc), str(site), *options], broker, names.raw, stdin.read_bytes()
    )

    read = sources.Options(10 * 1024 * 1024, "crawl-7", "https://mirror.example.org/site")
    items = [*sources.read_paths([str(pages), str(warc), str(site)], None, read)]
    items += sources.read_jsonl(str(stdin), read)
    expected = sorted(
        (m.key, orjson.loads(m.value)) for m in items if isinstance(m, sources.Message)
    )
    assert len(expected) == 8
    assert done.returncode == 0, done.stderr.decode()
    sent, topic, skipped, failed, details = summary(done)
    assert (sent, topic, skipped, failed) == (8, names.raw, 9, 0)
    assert details == [
        f"  skipped bad_sidecar: 1 (first: {site}/c.html.json)",
        f"  skipped no_url: 1 (first: {pages}:4)",
        f"  skipped not_json: 1 (first: {pages}:2)",
        "  skipped not_object: 1 (first: -:2)",
        f"  skipped warc_not_html: 1 (first: {warc}@{RECORDS_AT[3]})",
        f"  skipped warc_not_http: 1 (first: {warc}@{RECORDS_AT[5]})",
        f"  skipped warc_not_response: 2 (first: {warc}@0)",
        f"  skipped warc_truncated: 1 (first: {warc}@{RECORDS_AT[7]})",
    ]
    collector = Collector(broker.bootstrap, [names.raw])
    try:
        records = await collector.until(len(expected), timeout_s=60, settle_s=1.0)
    finally:
        await collector.close()
    assert sorted((r.key or b"", r.value) for r in records) == expected
    urls = {key.decode() for key, _ in expected}
    assert {"https://blog.example.de/a", "https://mirror.example.org/site/2025/b.html"} <= urls


async def test_rate_limits_messages_per_second(
    broker: Broker, names: Names, tmp_path: Path
) -> None:
    await create_topics(broker.bootstrap, [names.raw], 1)
    count, rate = 30, 10.0
    pages = tmp_path / "pages.jsonl"
    pages.write_bytes(jsonl(*(message(f"https://e.example/{n}", "<p>x</p>") for n in range(count))))

    started = time.monotonic()
    done = feed([str(pages), "--rate", str(rate)], broker, names.raw)
    elapsed_s = time.monotonic() - started

    assert done.returncode == 0, done.stderr.decode()
    assert summary(done)[:4] == (count, names.raw, 0, 0)
    assert elapsed_s >= (count - 1) / rate  # a burst of one, then one message every 1/rate s


async def test_a_refused_delivery_is_counted_and_exits_1(
    broker: Broker, names: Names, tmp_path: Path
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        small = {"max.message.bytes": "2000"}  # below what the feeder may send: the broker refuses
        await admin.create_topics([NewTopic(names.raw, 1, 1, topic_configs=small)])
    finally:
        await admin.close()
    pages = tmp_path / "pages.jsonl"
    pages.write_bytes(jsonl(message("https://e.example/big", "<p>" + "x" * 5000 + "</p>")))

    done = feed([str(pages)], broker, names.raw)

    assert done.returncode == 1, done.stderr.decode()
    sent, _, _, failed, details = summary(done)
    assert (sent, failed) == (0, 1)
    assert details == ["  failed MessageSizeTooLargeError: 1"]


def test_a_missing_topic_is_one_line_and_exit_2(
    broker: Broker, names: Names, tmp_path: Path
) -> None:
    pages = tmp_path / "pages.jsonl"
    pages.write_bytes(jsonl(message("https://e.example/1", "<p>x</p>")))

    done = feed([str(pages)], broker, names.raw)

    assert done.returncode == 2, done.stderr.decode()
    assert done.stderr.decode() == (
        f"ingest-worker feed: topics: {names.raw} does not exist "
        "(`ingest-worker topics` creates it)\n"
    )
