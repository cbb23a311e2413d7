"""The project's cleaning vs trafilatura's defaults, side by side, on the development corpus.

    .venv/bin/python -m bench.extraction [--corpus DIR] [--labels FILE] [--rounds N] [--show ID]

For every page of the corpus (`<corpus>/html/<id>.html.gz` + `ground-truth.json`), runs
- `ingest-worker`: what the worker does to a page (`pipeline.clean`: URL canonicalization,
  parsing, extraction, metadata, language, boilerplate, page type, hashing), and
- `trafilatura`: `trafilatura.extract(html, url=url)` with default settings (text and the
  timing); its metadata comes from `bare_extraction(html, url=url, with_metadata=True)`,
  defaults otherwise, run outside the timed loop,
then prints text precision/recall/F1 (see bench/scoring.py), empty outputs, pages per second
and per-field accuracy against the hand-made labels in bench/labels/ (when present).

Timing: one process, pages in a fixed order, both extractors warmed up first, then N rounds
in which each page is cleaned by both back to back (the order alternating between rounds);
pages per second = pages / the sum of each page's best time (robust to a busy machine).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

from bench.scoring import FIELDS, page_scores, shingles, text_score
from worker import pipeline
from worker.core import boilerplate
from worker.errors import PageError
from worker.records import RawPage, Source

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_LABELS = ROOT / "bench" / "labels" / "corpus-labels.json"
FETCHED_AT = "2026-01-01T00:00:00.000Z"
"""A fixed fetch time after every corpus page: results do not depend on the day of the run."""
ORIGIN = Source(topic="bench", partition=0, offset=0, timestamp_ms=None)
MAX_PAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    """One corpus page with its expected main text."""

    id: str
    url: str
    html: str
    truth: str


@dataclass(slots=True)
class Output:
    """What an extractor made of one page (empty text when it rejected the page)."""

    text: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    rejected: str | None = None


def load_corpus(corpus: Path) -> list[Page]:
    """The corpus pages, sorted by id."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        html = gzip.decompress((corpus / "html" / f"{page_id}.html.gz").read_bytes())
        entry = truth[page_id]
        pages.append(Page(page_id, entry["url"], html.decode("utf-8"), entry["articleBody"]))
    return pages


def load_labels(path: Path) -> dict[str, dict[str, Any]]:
    """Labels by page id or URL ({} when the file does not exist)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.items() if isinstance(data, dict) else ((d.get("id") or d["url"], d) for d in data)
    labels = {}
    for key, label in items:
        labels[key] = label
        if label.get("url"):
            labels[label["url"]] = label
    return labels


def ours(page: Page) -> Output:
    """The worker's cleaning of one page."""
    raw = RawPage(url=page.url, html=page.html, fetched_at=FETCHED_AT)
    try:
        record = pipeline.clean(raw, ORIGIN, MAX_PAGE_BYTES)
    except PageError as exc:
        return Output(rejected=f"{exc.reason.value}: {exc.detail}")
    fields_ = {
        "title": record.title,
        "author": record.author,
        "date": record.date_published,
        "language": record.language,
        "site_name": record.site_name,
    }
    return Output(record.text, fields_)


def trafilatura_text(page: Page) -> str:
    """trafilatura.extract with default settings."""
    return trafilatura.extract(page.html, url=page.url) or ""


def trafilatura_fields(page: Page) -> dict[str, Any]:
    """trafilatura's metadata with default settings (bare_extraction, with_metadata)."""
    document = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    if document is None:
        return {}
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return {
        "title": document.title,
        "author": authors,
        "date": document.date,
        "language": getattr(document, "language", None),
        "site_name": document.sitename,
    }


def timed_rounds(pages: list[Page], runners: list[Callable[[Page], Any]], rounds: int) -> list[float]:
    """Seconds per runner for the whole corpus: each page's best time over `rounds` interleaved
    passes (both runners on a page back to back, their order alternating), summed. Taking each
    page's best time makes the figure robust to a busy machine's hiccups, equally for both."""
    best = [[float("inf")] * len(pages) for _ in runners]
    for round_ in range(rounds):
        order = list(range(len(runners)))
        if round_ % 2:
            order.reverse()
        for number, page in enumerate(pages):
            for index in order:
                start = time.perf_counter()
                runners[index](page)
                best[index][number] = min(best[index][number], time.perf_counter() - start)
    return [sum(times) for times in best]


def field_accuracy(outputs: dict[str, Output], labels: dict[str, dict[str, Any]], pages: list[Page]) -> dict[str, float]:
    """Share of labelled pages on which each field agrees with its label."""
    labelled = [p for p in pages if p.id in labels or p.url in labels]
    scores: dict[str, float] = {}
    for name, ok in FIELDS.items():
        hits = sum(ok(labels.get(p.id) or labels[p.url], outputs[p.id].fields.get(name)) for p in labelled)
        scores[name] = hits / len(labelled) if labelled else float("nan")
    return scores


def print_table(rows: list[tuple[str, Any, float, dict[str, float]]], labelled: int) -> None:
    """The comparison table, one row per extractor."""
    head = f"{'extractor':<14} {'pages':>5} {'empty':>5} {'precision':>9} {'recall':>7} {'F1':>7} {'pages/s':>8}"
    names = list(FIELDS)
    print(head + "".join(f" {n:>9}" for n in names))
    for name, score, rate, accuracy in rows:
        line = f"{name:<14} {score.pages:>5} {score.empty:>5} {score.precision:>9.4f} {score.recall:>7.4f} {score.f1:>7.4f} {rate:>8.1f}"
        print(line + "".join(f" {accuracy.get(n, float('nan')):>9.3f}" for n in names))
    print(f"field accuracy over {labelled} labelled pages" if labelled else "no labels found: field accuracy not measured")


def show(page: Page, output: Output, label: dict[str, Any] | None) -> None:
    """Our output for one page against its truth: fields, then paragraphs that differ."""
    print(f"== {page.id} {page.url}")
    if output.rejected:
        print(f"rejected: {output.rejected}")
    for name, value in output.fields.items():
        print(f"  {name:10} {value!r}" + (f"   label: {label.get(name if name != 'date' else 'date_published')!r}" if label else ""))
    precision, recall = page_scores(output.text, page.truth)
    print(f"  precision {precision}  recall {recall:.3f}")
    _print_unmatched("extra", output.text, page.truth)
    _print_unmatched("missing", page.truth, output.text)


def _print_unmatched(kind: str, text: str, other: str) -> None:
    """Paragraphs of `text` whose shingles are mostly absent from `other`."""
    theirs = set(shingles(other))
    for paragraph in (p for p in text.split("\n") if p.strip()):
        mine = shingles(paragraph)
        share = sum(1 for s in mine if s in theirs) / len(mine) if mine else float(paragraph.strip() in other)
        if share < 0.5:
            print(f"  {kind:7} | {paragraph[:160]}")


def boilerplate_on_truth(pages: list[Page]) -> tuple[int, int, list[str]]:
    """The chrome filter run on the expected texts themselves, where every paragraph is text:
    (paragraphs containing a chrome phrase, of those kept, paragraphs the filter would drop)."""
    phrases = sorted({k for k in boilerplate.CHROME_KEYS if len(k) > 5}, key=len)
    containing = kept = 0
    dropped = []
    for page in pages:
        for paragraph in (p for p in page.truth.split("\n") if p.strip()):
            chrome = boilerplate.is_chrome(paragraph)
            if chrome:
                dropped.append(f"{page.id[:8]} | {paragraph[:100]}")
            paragraph_key = f" {boilerplate.key(paragraph)} "
            if len(paragraph.split()) > 3 and any(f" {k} " in paragraph_key for k in phrases):
                containing += 1
                kept += not chrome
    return containing, kept, dropped


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="bench.extraction", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--show", metavar="ID", help="print our output vs the truth for pages whose id starts with ID")
    args = parser.parse_args(argv)
    pages, labels = load_corpus(args.corpus), load_labels(args.labels)
    if args.show:
        for page in (p for p in pages if p.id.startswith(args.show)):
            show(page, ours(page), labels.get(page.id) or labels.get(page.url))
        return 0
    mine = {p.id: ours(p) for p in pages}  # also the warm-up
    theirs = {p.id: Output(trafilatura_text(p), trafilatura_fields(p)) for p in pages}
    seconds = timed_rounds(pages, [ours, trafilatura_text], args.rounds)
    labelled = sum(1 for p in pages if p.id in labels or p.url in labels)
    rows = []
    for (name, outputs), total in zip((("ingest-worker", mine), ("trafilatura", theirs)), seconds):
        score = text_score((outputs[p.id].text, p.truth) for p in pages)
        rows.append((name, score, len(pages) / total, field_accuracy(outputs, labels, pages) if labelled else {}))
    print_table(rows, labelled)
    containing, kept, dropped = boilerplate_on_truth(pages)
    print(f"chrome filter on the expected texts: {kept} of {containing} paragraphs that contain a chrome "
          f"phrase kept; {len(dropped)} expected paragraphs would be dropped")
    for line in dropped:
        print(f"  would drop: {line}")
    for page_id, output in mine.items():
        if output.rejected:
            print(f"rejected by ingest-worker: {page_id[:12]} {output.rejected}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
