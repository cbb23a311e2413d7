"""The second evaluation set: trafilatura's own evaluation corpus, the worker against trafilatura.

    .venv/bin/python -m bench.evalset copy --snapshot GIT_DIR [--commit HASH] [--unpinned]
    .venv/bin/python -m bench.evalset score [--missed] [--authors] [--limit N]

The corpus is adbar/trafilatura's `tests/evaldata.json` (990 pages, each with snippets that
must and must not appear in the main text, 538 with an author label) and the pages it names
under `tests/cache/` and `tests/eval/`. bench/ fetches nothing at run time: `copy` takes the
files out of a local git snapshot of that repository (a bare git directory is enough) at the
pinned commit, into the git-ignored `bench/data/trafilatura-eval/`, with a MANIFEST.json
(commit, file count, sha256 of the JSON). A snapshot without the pinned commit is refused;
`--unpinned` copies another commit (figures then not comparable with BENCHMARKS.md).

`score` runs on every page, from its bytes as stored (trafilatura's evaluation hands the bytes
to the extractor, which finds the charset itself):
- trafilatura as its evaluation runs it (`tests/eval_common.py`, runner "trafilatura"):
  `extract(bytes, fast=False, include_comments=False, include_tables=True,
  include_formatting=False)`, no URL; authors from `bare_extraction(bytes, with_metadata=True)`
  with the same options (`tests/eval_authors.py`, there with its defaults);
- the worker as a scraper feeds it: a raw-page message `{url, body: base64 bytes, fetched_at}`
  through `pipeline.process` with the default settings (no headers: the charset comes from the
  bytes, as for trafilatura); the URL is the JSON's key as it is, or a stand-in with no
  page-type hint for the 37 keys that are not http(s) URLs (`STAND_IN_HOST`),
and scores both with trafilatura's rule (bench/evalset_score.py). It prints the table, every
page the worker rejects with its reason, detail and URL, and the required snippets the worker
misses where trafilatura finds them, on rejected pages and inside published articles
(`--missed` lists the latter); `--authors` lists every labelled page whose worker authors
are not the label, with trafilatura's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import trafilatura

from bench.evalset_score import (
    Confusion,
    author_label,
    author_right,
    count_item,
    found_snippets,
    same_names,
)
from worker import codec, pipeline
from worker.records import Source

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "bench" / "data" / "trafilatura-eval"
REPOSITORY = "adbar/trafilatura"
PINNED_COMMIT = "e90b0ef51ab026fdb905fb6c5b3c84dd3d784fd5"
"""The snapshot commit the figures in BENCHMARKS.md were measured on (2026-08-21)."""
PINNED_EVALDATA_SHA256 = "6179b235b77918840552e9b166adcfc411e56a3342fc4873cc0d35944cc30b52"
EVALDATA = "tests/evaldata.json"
PAGE_DIRS = ("cache", "eval")
"""Where a page's file is looked up under tests/, first match wins (their `resolve`)."""
MANIFEST = "MANIFEST.json"
FETCHED_AT = "2026-01-01T00:00:00.000Z"
"""A fixed fetch time: results do not depend on the day of the run."""
ORIGIN = Source(topic="bench", partition=0, offset=0, timestamp_ms=None)
MAX_PAGE_BYTES = 8 * 1024 * 1024
"""The worker's default `max_page_bytes`."""
EXTRACT_OPTS: dict[str, bool] = {
    "include_comments": False,
    "include_tables": True,
    "include_formatting": False,
}
"""trafilatura's canonical evaluation settings (`EXTRACT_OPTS` in their eval_common.py)."""
STAND_IN_HOST = "evalset.invalid"
"""Host of the URL given to the worker for a key that is not an http(s) URL (37 keys such as
`hard::zeit.de.zugverkehr.html`, `recall::...`, `xhttps://...`: pages whose URL the corpus does
not give); the stand-in's path is the page's file name, so the URL carries no page-type hint."""


class SnapshotError(Exception):
    """The snapshot or the copied set is not what the benchmark was pinned to."""


# --- copy -------------------------------------------------------------------------------------


def _git(git_dir: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run a read-only git command on a bare git directory; its stdout."""
    command = ["git", f"--git-dir={git_dir}", *args]
    try:
        return subprocess.run(command, input=stdin, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip()
        raise SnapshotError(f"git {' '.join(args[:2])}: {message}") from None


def check_commit(git_dir: Path, commit: str, unpinned: bool = False) -> str:
    """The full commit hash after checking the snapshot holds it and it is the pinned one."""
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise SnapshotError(f"commit must be 40 lower-case hex digits, got {commit!r}")
    if commit != PINNED_COMMIT and not unpinned:
        raise SnapshotError(
            f"commit {commit} is not the pinned {PINNED_COMMIT}; pass --unpinned to copy it "
            "anyway (figures not comparable), or move PINNED_COMMIT and re-measure"
        )
    try:
        found = _git(git_dir, "rev-parse", "--verify", f"{commit}^{{commit}}")
    except SnapshotError as exc:
        raise SnapshotError(f"{git_dir} does not hold commit {commit} ({exc})") from None
    if found.decode().strip() != commit:
        raise SnapshotError(f"{git_dir}: {commit} resolves to {found.decode().strip()}")
    return commit


def tree_blobs(git_dir: Path, commit: str) -> dict[str, str]:
    """Path -> blob id of the corpus files at a commit (the JSON and both page folders)."""
    paths = [EVALDATA, *(f"tests/{d}" for d in PAGE_DIRS)]
    listing = _git(git_dir, "ls-tree", "-r", "-z", commit, "--", *paths)
    blobs = {}
    for entry in filter(None, listing.split(b"\0")):
        meta, path = entry.split(b"\t", 1)
        _mode, kind, blob = meta.decode().split()
        if kind == "blob":
            blobs[path.decode("utf-8", errors="surrogateescape")] = blob
    return blobs


def read_blobs(git_dir: Path, blob_ids: list[str]) -> dict[str, bytes]:
    """The contents of blobs, read in one `git cat-file --batch`."""
    out = _git(git_dir, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in blob_ids).encode())
    contents, position = {}, 0
    for blob in blob_ids:
        header_end = out.index(b"\n", position)
        name, kind, size = out[position:header_end].decode().split()
        if name != blob or kind != "blob":
            raise SnapshotError(f"cat-file answered {name} {kind} for {blob}")
        start = header_end + 1
        contents[blob] = out[start : start + int(size)]
        position = start + int(size) + 1
    return contents


def page_paths(evaldata: dict[str, dict[str, Any]], blobs: dict[str, str]) -> dict[str, str]:
    """Copy target ("cache/<file>" or "eval/<file>") -> snapshot path, for every named page."""
    targets = {}
    for url, item in evaldata.items():
        if not item.get("file") or Path(item["file"]).name != item["file"]:
            raise SnapshotError(f"{url}: page file {item.get('file')!r} is not a plain file name")
        found = [f"{d}/{item['file']}" for d in PAGE_DIRS if f"tests/{d}/{item['file']}" in blobs]
        if not found:
            raise SnapshotError(f"{url}: no page file {item['file']!r} under tests/")
        targets[found[0]] = f"tests/{found[0]}"
    return targets


def copy(git_dir: Path, commit: str, dest: Path, unpinned: bool = False) -> dict[str, Any]:
    """Copy the JSON and its pages at `commit` into `dest` (replaced whole); the manifest."""
    commit = check_commit(git_dir, commit, unpinned)
    if dest.exists() and not (dest / MANIFEST).exists():
        raise SnapshotError(f"{dest} exists and is not a copy made by this script (no {MANIFEST})")
    blobs = tree_blobs(git_dir, commit)
    if EVALDATA not in blobs:
        raise SnapshotError(f"{commit} has no {EVALDATA}")
    raw = read_blobs(git_dir, [blobs[EVALDATA]])[blobs[EVALDATA]]
    digest = hashlib.sha256(raw).hexdigest()
    if commit == PINNED_COMMIT and digest != PINNED_EVALDATA_SHA256:
        expected = PINNED_EVALDATA_SHA256
        raise SnapshotError(f"{EVALDATA} has sha256 {digest} at the pinned commit, not {expected}")
    evaldata = json.loads(raw)
    targets = page_paths(evaldata, blobs)
    contents = read_blobs(git_dir, sorted({blobs[p] for p in targets.values()}))
    manifest = {
        "repository": REPOSITORY,
        "commit": commit,
        "evaldata_sha256": digest,
        "pages": len(evaldata),
        "files": len(targets),
    }
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for target, path in targets.items():
        (staging / target).parent.mkdir(parents=True, exist_ok=True)
        (staging / target).write_bytes(contents[blobs[path]])
    (staging / "evaldata.json").write_bytes(raw)
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    return manifest


# --- load -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvalPage:
    """One page of the set: its URL, annotations and stored bytes."""

    url: str
    item: dict[str, Any]
    body: bytes


def load(data: Path) -> tuple[dict[str, Any], list[EvalPage]]:
    """The manifest and the pages of a copy, in the JSON's order; checks the JSON's digest."""
    if not (data / MANIFEST).exists():
        raise SnapshotError(f"no {MANIFEST} in {data}: run `python -m bench.evalset copy` first")
    manifest = json.loads((data / MANIFEST).read_text(encoding="utf-8"))
    raw = (data / "evaldata.json").read_bytes()
    if hashlib.sha256(raw).hexdigest() != manifest["evaldata_sha256"]:
        raise SnapshotError(f"{data}/evaldata.json is not the copied one (sha256 differs)")
    pages = []
    for url, item in json.loads(raw).items():
        path = next((p for p in (data / d / item["file"] for d in PAGE_DIRS) if p.is_file()), None)
        if path is None:
            raise SnapshotError(f"{url}: {item['file']} missing from {data}")
        pages.append(EvalPage(url, item, path.read_bytes()))
    return manifest, pages


# --- score ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Output:
    """What one extractor made of one page (text None: rejected or crashed)."""

    text: str | None
    author: list[str] | str | None = None
    rejected: str | None = None
    """`reason: detail` when the worker rejected the page (or an extractor crashed)."""


def run_trafilatura(page: EvalPage) -> Output:
    """trafilatura as its evaluation runs it: text from `extract`, author from metadata."""
    text = trafilatura.extract(page.body, fast=False, **EXTRACT_OPTS)
    document = trafilatura.bare_extraction(page.body, with_metadata=True, **EXTRACT_OPTS)
    return Output(text, None if document is None else document.author)


def worker_url(page: EvalPage) -> str:
    """The URL the worker is given: the key when it is an http(s) URL, else a stand-in."""
    if re.match(r"https?://", page.url):
        return page.url
    return f"https://{STAND_IN_HOST}/{quote(page.item['file'])}"


def raw_message(page: EvalPage) -> bytes:
    """The raw-page message a scraper would send for the page's bytes."""
    body = base64.b64encode(page.body).decode("ascii")
    return codec.encode({"url": worker_url(page), "body": body, "fetched_at": FETCHED_AT})


def run_worker(page: EvalPage) -> Output:
    """The worker's `pipeline.process` on the page's raw message."""
    outcome = pipeline.process(raw_message(page), ORIGIN, MAX_PAGE_BYTES)
    if isinstance(outcome, pipeline.Failure):
        return Output(None, rejected=f"{outcome.reason.value}: {outcome.detail}")
    return Output(outcome.text, list(outcome.author))


@dataclass(slots=True)
class Tally:
    """One extractor's results over the set."""

    name: str
    confusion: Confusion = field(default_factory=Confusion)
    authors_right: int = 0
    authors_same_names: int = 0
    authors_empty: int = 0
    no_text: int = 0
    seconds: float = 0.0
    outputs: dict[str, Output] = field(default_factory=dict)

    def add(self, page: EvalPage, output: Output, seconds: float) -> None:
        """Count one page's output."""
        self.outputs[page.url] = output
        self.confusion.add(count_item(page.item, output.text))
        self.no_text += not output.text
        self.seconds += seconds
        right = author_right(page.item, output.author)
        self.authors_right += bool(right)
        self.authors_same_names += bool(same_names(page.item, output.author))
        self.authors_empty += right is not None and not output.author


def run(pages: list[EvalPage], runners: dict[str, Callable[[EvalPage], Output]]) -> list[Tally]:
    """Every runner on every page, one process; a crash counts as a full miss."""
    tallies = [Tally(name) for name in runners]
    for number, page in enumerate(pages, 1):
        for tally, runner in zip(tallies, runners.values(), strict=True):
            start = time.perf_counter()
            try:
                output = runner(page)
            except Exception as exc:  # as trafilatura's evaluation: a crash is a miss, named
                output = Output(None, rejected=f"crashed: {type(exc).__name__}: {exc}")
            tally.add(page, output, time.perf_counter() - start)
        if number % 50 == 0 or number == len(pages):
            print(f"{number}/{len(pages)} pages", file=sys.stderr)
    return tallies


@dataclass(frozen=True, slots=True)
class Missed:
    """A required snippet one extractor finds on a page and the other does not."""

    url: str
    snippet: str
    rejected: bool
    """Whether the extractor that misses it rejected the page."""


def missed_snippets(pages: list[EvalPage], finds: Tally, misses: Tally) -> list[Missed]:
    """Every required snippet present in `finds`'s output and absent from `misses`'s."""
    missed = []
    for page in pages:
        output = misses.outputs[page.url]
        found = found_snippets(page.item["with"], finds.outputs[page.url].text)
        found -= found_snippets(page.item["with"], output.text)
        rejected = output.rejected is not None
        missed += [Missed(page.url, s, rejected) for s in page.item["with"] if s in found]
    return missed


TABLE_HEAD = (
    "| | precision | recall | F1 | authors exactly right (of {labelled}) "
    "| same names (any order, case, spacing) | no text | ms/page |"
)
ROW_NAMES = {
    "trafilatura": f"trafilatura {trafilatura.__version__} (comments off, tables on)",
    "worker": "this worker (`pipeline.process`)",
}


def table(pages: list[EvalPage], tallies: list[Tally]) -> list[str]:
    """The comparison table (markdown), one row per extractor, then the raw counts."""
    labelled = sum(1 for p in pages if author_label(p.item))
    lines = [TABLE_HEAD.format(labelled=labelled), "|---|---|---|---|---|---|---|---|"]
    for t in tallies:
        c, ms = t.confusion, 1000 * t.seconds / len(pages)
        lines.append(
            f"| {ROW_NAMES.get(t.name, t.name)} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} "
            f"| {t.authors_right} ({t.authors_empty} left empty) | {t.authors_same_names} "
            f"| {t.no_text} | {ms:.1f} |"
        )
    lines.append("")
    for t in tallies:
        c = t.confusion
        lines.append(f"{t.name}: tp {c.tp}, fp {c.fp}, fn {c.fn}, tn {c.tn}")
    return lines


def rejections(tally: Tally) -> list[str]:
    """Every page an extractor rejected: the count by reason, then reason, detail and URL."""
    rejected = sorted((o.rejected, url) for url, o in tally.outputs.items() if o.rejected)
    reasons = Counter(r.split(":", 1)[0] for r, _ in rejected)
    by_reason = ", ".join(f"{k} {v}" for k, v in reasons.most_common())
    head = f"pages the {tally.name} rejects: {len(rejected)}"
    head += f" ({by_reason})" if reasons else ""
    return [head, *(f"- {reason} | {url}" for reason, url in rejected)]


def missed_lines(pages: list[EvalPage], theirs: Tally, ours: Tally, listed: bool) -> list[str]:
    """Required snippets the worker misses where trafilatura finds them, and the converse."""
    missed = missed_snippets(pages, theirs, ours)
    on_rejected = sum(m.rejected for m in missed)
    gained = missed_snippets(pages, ours, theirs)
    lines = [
        f"required snippets the worker misses where trafilatura finds them: {len(missed)} "
        f"({on_rejected} on rejected pages, {len(missed) - on_rejected} inside published articles)",
        f"required snippets the worker finds where trafilatura does not: {len(gained)}",
    ]
    if listed:
        lines += [f"- {m.url} | {m.snippet[:100]}" for m in missed if not m.rejected]
    return lines


def report(
    manifest: dict[str, Any], pages: list[EvalPage], tallies: list[Tally], listed: bool
) -> str:
    """Everything `score` prints: the table, the worker's rejections, the snippets it misses."""
    labelled = sum(1 for p in pages if author_label(p.item))
    theirs, ours = tallies
    head = (
        f"second evaluation set: {REPOSITORY} tests/evaldata.json at {manifest['commit'][:8]}, "
        f"{len(pages)} pages, {labelled} with an author label"
    )
    lines = [head, "", *table(pages, tallies), "", *rejections(ours), ""]
    return "\n".join([*lines, *missed_lines(pages, theirs, ours, listed)])


def author_mismatches(pages: list[EvalPage], theirs: Tally, ours: Tally) -> list[str]:
    """Every labelled page whose worker authors are not exactly the label: label, worker,
    trafilatura (each "; "-joined, `-` for none) and URL, the worker's empty ones first."""
    rows = []
    for page in pages:
        label = author_label(page.item)
        ours_ = ours.outputs[page.url].author
        if label is None or author_right(page.item, ours_):
            continue
        theirs_ = theirs.outputs[page.url].author
        mark = "=" if author_right(page.item, theirs_) else " "
        row = f"- {label!r} | worker {_joined(ours_)!r} | trafilatura{mark} {_joined(theirs_)!r}"
        rows.append((bool(ours_), f"{row} | {page.url}"))
    head = f"labelled pages whose worker authors are not the label: {len(rows)}"
    return [head, *(row for _filled, row in sorted(rows, key=lambda r: r[0]))]


def _joined(names: list[str] | str | None) -> str:
    """Authors as one "; "-joined string, `-` for none."""
    if isinstance(names, list):
        return "; ".join(names) or "-"
    return names or "-"


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Copy the set from a snapshot, or score both extractors on it."""
    parser = argparse.ArgumentParser(prog="bench.evalset", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    copy_ = commands.add_parser("copy", help="copy the set out of a local git snapshot")
    copy_.add_argument("--snapshot", type=Path, required=True, help="the snapshot's git directory")
    copy_.add_argument(
        "--commit", default=PINNED_COMMIT, help="full hash (default: the pinned one)"
    )
    copy_.add_argument("--unpinned", action="store_true", help="allow another commit than the pin")
    copy_.add_argument("--dest", type=Path, default=DEFAULT_DATA)
    score = commands.add_parser("score", help="score trafilatura and the worker on the copied set")
    score.add_argument("--data", type=Path, default=DEFAULT_DATA)
    score.add_argument("--limit", type=int, help="only the first N pages (a quick look)")
    score.add_argument("--missed", action="store_true", help="list snippets missed in articles")
    score.add_argument(
        "--authors", action="store_true", help="list every labelled page with other authors"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "copy":
            manifest = copy(args.snapshot, args.commit, args.dest, args.unpinned)
            pages_, commit = manifest["pages"], manifest["commit"]
            print(f"copied {pages_} pages ({manifest['files']} files) at {commit} to {args.dest}")
            return 0
        manifest, pages = load(args.data)
    except SnapshotError as exc:
        print(f"bench.evalset: {exc}", file=sys.stderr)
        return 2
    if manifest["commit"] != PINNED_COMMIT:
        print(f"warning: a copy of {manifest['commit']}, not of the pinned commit", file=sys.stderr)
    pages = pages[: args.limit] if args.limit else pages
    tallies = run(pages, {"trafilatura": run_trafilatura, "worker": run_worker})
    print(report(manifest, pages, tallies, args.missed))
    if args.authors:
        print("\n" + "\n".join(author_mismatches(pages, *tallies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
