"""Imported by the extraction processes' forkserver (`runner.PRELOAD`): the pipeline, warmed.

A process cleaning its first page loads what the libraries load lazily (trafilatura's and
htmldate's tables, the language model, compiled patterns): 0.7 s where a warm one takes 15 ms.
Done once here, before the forkserver forks, every extraction process starts warm (a child
replaced after `INGEST_EXTRACT_TASKS_PER_CHILD` pages, a timeout or a spare included) and shares
those pages of memory with the forkserver until it writes to them.
"""

from __future__ import annotations

import contextlib

from worker import codec, pipeline
from worker.records import Source

PARAGRAPH = (
    "The city council met on Tuesday evening to discuss the new budget for public transport, "
    "and after a long debate the members agreed to extend the bus network to the northern "
    "districts, where thousands of residents have waited years for a reliable connection. "
)
SHORT = "<html><head><title>Notice</title></head><body><p>Closed on Monday.</p></body></html>"
ARTICLE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Council extends the bus network | The Example Times</title>
<meta property="og:site_name" content="The Example Times">
<meta name="author" content="Jane Example">
<meta property="article:published_time" content="2024-03-05T18:30:00+01:00">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "Council extends the
bus network", "datePublished": "2024-03-05T18:30:00+01:00", "author": {{"@type": "Person",
"name": "Jane Example"}}}}</script></head>
<body><nav><a href="/">Home</a> <a href="/city">City</a></nav><article>
<h1>Council extends the bus network</h1><p class="byline">By Jane Example, March 5, 2024</p>
{"".join(f"<p>{PARAGRAPH * 2}</p>" for _ in range(6))}
<figure><img src="/bus.jpg" alt="A bus"><figcaption>A new line.</figcaption></figure>
</article><footer><p>Copyright 2024 The Example Times. All rights reserved.</p></footer>
</body></html>"""


def warm_up() -> list[pipeline.Reusable | pipeline.Failure]:
    """Clean a built-in article and a short page once (the cascade's paths for both)."""
    url = "https://example.com/city/bus-network"
    return [
        pipeline.process_reusable(codec.encode({"url": url, "html": html}), Source("", 0, n), 2**20)
        for n, html in enumerate([ARTICLE, SHORT])
    ]


with contextlib.suppress(Exception):  # a warm-up never stops the extraction processes
    warm_up()
