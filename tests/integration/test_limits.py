"""Size limits on the output side: a record the producer may not send becomes a rejection."""

from __future__ import annotations

import base64
from typing import Any

import cramjam
import orjson

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import Collector, Names, create_topics, produce, wait_for_group

MAX_MESSAGE_BYTES = 300_000


async def test_output_larger_than_the_message_limit_is_rejected_with_coordinates(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 1)
    workers.start(1, INGEST_MAX_MESSAGE_BYTES=str(MAX_MESSAGE_BYTES))
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    huge = article_html(7, paragraphs=900)  # about 400 KB of text: the cleaned record is too big
    small = article_html(8)
    values = [orjson.dumps(message("https://big.example.com/a", huge, as_body=True)),
              orjson.dumps(message("https://small.example.com/b", small))]  # fmt: skip
    assert MAX_MESSAGE_BYTES < len(values[0]) < 10 * MAX_MESSAGE_BYTES
    sent = await produce(broker.bootstrap, names.raw, values)

    rejected, article = await collector.until(2)
    assert rejected.topic == names.rejected and article.topic == names.articles
    got = rejected.value
    assert got["reason"] == "output_too_large"
    assert (got["origin"]["partition"], got["origin"]["offset"]) == (sent[0].partition, sent[0].offset)
    # the whole message, compressed to fit the rejected topic's limit, ready to be replayed
    assert not got["payload_truncated"] and got["payload_bytes"] == len(values[0])
    assert got["payload"] is None and got["payload_compression"] == "zstd"
    assert bytes(cramjam.zstd.decompress(base64.b64decode(got["payload_base64"]))) == values[0]
    assert len(orjson.dumps(got)) < MAX_MESSAGE_BYTES
    headers = dict(rejected.headers)
    assert headers["ingest.error.reason"] == b"output_too_large"
    assert (headers["ingest.origin.topic"], headers["ingest.origin.partition"], headers["ingest.origin.offset"]) == (
        names.raw.encode(), str(sent[0].partition).encode(), str(sent[0].offset).encode())
    assert article.value["url"] == "https://small.example.com/b"


async def test_messages_larger_than_the_fetch_size_all_arrive(
    broker: Any, names: Names, workers: Any, collector: Collector
) -> None:
    """The consumer fetches 1 MiB per partition (`app.FETCH_BYTES_PER_PARTITION`): pages of
    several MiB on every partition, among small ones, still come out, each as its article."""
    await create_topics(broker.bootstrap, [names.raw, *names.outputs], 4)
    workers.start(1, INGEST_PARTITIONS="4")
    await wait_for_group(broker.bootstrap, names.app_id, 1)
    filler = "<script>var x = '" + "z" * (3 * 2**20) + "';</script></body>"
    pages = []
    for n in range(12):
        html = article_html(20 + n)
        pages.append(html.replace("</body>", filler) if n % 3 == 0 else html)
    urls = [f"https://s{n}.example.com/a" for n in range(len(pages))]
    values = [orjson.dumps(message(url, page)) for url, page in zip(urls, pages, strict=True)]
    assert sum(len(v) > 3 * 2**20 for v in values) == 4
    sent = await produce(broker.bootstrap, names.raw, values)
    assert len({s.partition for s in sent}) > 1

    outputs = await collector.until_origins({(s.partition, s.offset) for s in sent})
    assert sorted(o.value["url"] for o in outputs if o.topic == names.articles) == sorted(urls)
