"""Near-duplicate detection on the labelled stream, in one process without Kafka.

    .venv/bin/python -m bench.dedup [--size N] [--seed S] [--curve]

Cleans every message of `bench.dedup_stream` once (as the worker's intake does), then decides
them in stream order with `core.dedup.InProcess`, the three dedup stages over in-memory tables.
Prints the score (`bench.dedup_score`), the CPU the MinHash sketch adds to cleaning, and the
state the tables keep per indexed page. `--curve` repeats the decisions over a grid of bands x
rows and similarity thresholds (the figures that chose the parameters; BENCHMARKS.md).

The same stream through the real broker (2 workers, 4 partitions, keyed and unkeyed) is the
integration test `tests/integration/test_dedup_stream.py`; `DEDUP_STREAM_SIZE=2000` runs it in
full.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from bench.dedup_score import Score, format_score, score
from bench.dedup_stream import SEED, Labelled, generate
from worker import codec, pipeline
from worker.core import dedup, minhash
from worker.pipeline import Failure
from worker.records import Sketched, Source

RAW_TOPIC = "pages.raw"
MAX_PAGE_BYTES = 8 * 1024 * 1024
NOW = "2026-12-02T00:00:00.000Z"


@dataclass(frozen=True)
class Cleaned:
    """The stream cleaned once: what the dedup stages get, or the rejection record."""

    results: list[Sketched | dict[str, Any]]
    clean_s: float
    """CPU seconds of cleaning (parse, trafilatura, metadata) over the stream."""
    sketch_s: float
    """CPU seconds of the MinHash sketches over the published-to-be pages."""


def clean(stream: Sequence[Labelled]) -> Cleaned:
    """Clean and sketch every message as the intake does, timing the two apart."""
    results: list[Sketched | dict[str, Any]] = []
    clean_s = sketch_s = 0.0
    for offset, item in enumerate(stream):
        value = orjson.dumps(item.value)
        origin = Source(RAW_TOPIC, 0, offset)
        started = time.process_time()
        result = pipeline.process(value, origin, MAX_PAGE_BYTES)
        cleaned = time.process_time()
        clean_s += cleaned - started
        if isinstance(result, Failure):
            record = pipeline.rejected(result, origin, None, value, MAX_PAGE_BYTES)
            results.append(codec.plain(record))
            continue
        sketch = minhash.sketch(result.text)
        sketch_s += time.process_time() - cleaned
        results.append(Sketched(result, sketch.encode(), sketch.shingles))
    return Cleaned(results, clean_s, sketch_s)


def decide(cleaned: Cleaned, partitions: int = 4) -> tuple[list[dict[str, Any]], dedup.InProcess]:
    """Every message's output record, in stream order, and the engine with its tables."""
    engine = dedup.InProcess(partitions)
    records = [
        item if isinstance(item, dict) else codec.plain(engine.add(item, NOW))
        for item in cleaned.results
    ]
    return records, engine


def state_bytes(engine: dedup.InProcess) -> tuple[int, int]:
    """(JSON bytes of keys and values in all tables as the worker keeps them, pages indexed)."""
    total = sum(len(k) + len(orjson.dumps(codec.plain(v))) for k, v in engine.urls.items())
    total += sum(len(k) + len(orjson.dumps(v)) for k, v in engine.lists.items())
    total += sum(len(k) + len(orjson.dumps(codec.plain(m))) for k, m in engine.members.items())
    return total, len(engine.members)


@contextmanager
def parameters(bands: int, rows: int, near: float) -> Iterator[None]:
    """Decide with other LSH and threshold parameters (restored on exit)."""
    saved = minhash.BANDS, minhash.ROWS, dedup.NEAR_SIMILARITY
    minhash.BANDS, minhash.ROWS, dedup.NEAR_SIMILARITY = bands, rows, near
    try:
        yield
    finally:
        minhash.BANDS, minhash.ROWS, dedup.NEAR_SIMILARITY = saved


def curve(stream: Sequence[Labelled], cleaned: Cleaned) -> str:
    """Pairwise precision and recall, worst case recall and wrongly dropped over a grid."""
    lines = [
        "| bands x rows | threshold | precision | recall | F1 | worst case recall | wrongly dropped |",
        "|---|---|---|---|---|---|---|",
    ]
    for bands, rows in ((16, 8), (32, 4), (64, 2)):
        for near in (0.4, 0.5, 0.6, 0.7, 0.8):
            with parameters(bands, rows, near):
                result = score(stream, decide(cleaned)[0])
            worst = min([*result.case_recall.values(), *result.case_apart.values()])
            lines.append(
                f"| {bands} x {rows} | {near:.1f} | {result.precision:.4f} | "
                f"{result.recall:.4f} | {result.f1:.4f} | {worst:.3f} | {result.wrongly_dropped} |"
            )
    return "\n".join(lines)


def report(stream: Sequence[Labelled], cleaned: Cleaned) -> tuple[Score, str]:
    """The score and the cost figures of the default parameters."""
    records, engine = decide(cleaned)
    result = score(stream, records)
    total, indexed = state_bytes(engine)
    pages = sum(not isinstance(item, dict) for item in cleaned.results)
    started = time.process_time()
    decide(cleaned)
    decide_s = time.process_time() - started
    lines = [
        f"cleaning: {1000 * cleaned.clean_s / len(stream):.2f} ms CPU per message",
        f"sketch:   {1000 * cleaned.sketch_s / max(pages, 1):.2f} ms CPU per cleaned page "
        f"(+{cleaned.sketch_s / cleaned.clean_s:.1%} of cleaning)",
        f"decide:   {1000 * decide_s / max(pages, 1):.2f} ms CPU per page (three stages, in process)",
        f"state:    {total / max(indexed, 1):.0f} bytes of table JSON per indexed page "
        f"({indexed} indexed, {total} bytes)",
    ]
    return result, "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup", description=__doc__)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--curve", action="store_true", help="also the parameter grid")
    args = parser.parse_args(argv)
    stream = generate(size=args.size, seed=args.seed)
    cleaned = clean(stream)
    result, costs = report(stream, cleaned)
    print(format_score(result))
    print(costs)
    if args.curve:
        print(curve(stream, cleaned))


if __name__ == "__main__":
    main(sys.argv[1:])
