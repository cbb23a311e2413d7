"""The `ingest-worker` command line (also `python -m worker`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from worker import __version__, codec, kafka_tools, pipeline, replay, show, tail
from worker.core.dedup import article
from worker.core.envelope import iso_utc
from worker.errors import PageError
from worker.records import RawPage, Source
from worker.settings import ENV, Settings, describe
from worker.startup import BrokerRefused


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one command, return the exit code (2: configuration or Kafka error)."""
    args = _parser().parse_args(argv)
    try:
        return _command(args, Settings.from_env())
    except ValueError as exc:
        print(f"ingest-worker: configuration error: {exc}", file=sys.stderr)
    except (KafkaError, BrokerRefused) as exc:
        print(f"ingest-worker {args.command}: Kafka error: {exc}", file=sys.stderr)
    except kafka_tools.TopologyError as exc:
        print(f"ingest-worker {args.command}: topics: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `| head` closed the pipe: stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 2


def _command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the parsed command."""
    if args.command == "run":
        from worker.streaming.worker import run  # imports faust only when needed

        run(settings)
        return 0
    if args.command == "clean":
        return clean(args.file, args.url, settings, args.format)
    if args.command == "config":
        for entry in describe():
            print(f"{entry.var}={entry.value}  # {entry.source}")
        return 0
    if args.command == "tail":
        return _tail(args, settings)
    if args.command == "replay":
        return _replay(args, settings)
    if args.command == "feed":
        return _feed(args, settings)
    if args.command == "topics":
        made = asyncio.run(kafka_tools.ensure_topics(settings))
        print(f"created: {', '.join(made) or '(all existed)'}", file=sys.stderr)
        return 0
    return _dump(args, settings)


def _feed(args: argparse.Namespace, settings: Settings) -> int:
    """Publish the pages of the paths; the summary on stderr."""
    from worker import feeding, sources  # import fastwarc and tqdm only when needed

    options = sources.Options(settings.max_message_bytes, args.source, args.base_url)
    fmt = sources.Format(args.format) if args.format else None
    try:
        items = sources.read_paths(args.paths, fmt, options)
    except sources.FeedError as exc:
        print(f"ingest-worker feed: {exc}", file=sys.stderr)
        return 2
    summary = asyncio.run(
        feeding.feed(settings, items, args.compression, args.rate, sys.stderr.isatty())
    )
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0 if summary.ok else 1


def _dump(args: argparse.Namespace, settings: Settings) -> int:
    """Print the output topics from the beginning; counts on stderr."""
    counts = asyncio.run(tail.dump(settings, args.expect, args.idle, _printer(args.format)))
    for label, count in sorted(counts.items()):
        print(f"{label:40} {count}", file=sys.stderr)
    return 0 if args.expect is None or counts["records"] >= args.expect else 1


def clean(path: str, url: str | None, settings: Settings, form: str = "auto") -> int:
    """Clean one HTML file locally and print its article (exit 0) or rejection (exit 1), as a
    summary or JSON (`form`); a file that cannot be read is one line on stderr (exit 2)."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        print(f"ingest-worker clean: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    url = url or f"http://localhost/{Path(path).name if path != '-' else 'stdin'}"
    now = datetime.now(UTC)
    origin = Source(topic=path, partition=0, offset=0, timestamp_ms=int(now.timestamp() * 1000))
    page = RawPage(url=url, body=data)
    rules = pipeline.rules_from(settings)
    try:
        extracted = pipeline.clean(page, origin, settings.max_page_bytes, rules)
    except PageError as exc:
        failure = pipeline.Failure(exc.reason, exc.detail, url)
        # the payload's size, not the payload: it is the file just read
        record = pipeline.rejected(failure, origin, None, data, settings.max_message_bytes, 0)
        _print_record(record, form)
        return 1
    _print_record(article(extracted, 1, iso_utc(now)), form)
    return 0


def _print_record(record: Any, form: str) -> None:
    """One record on stdout: a summary line on a terminal (or `--format summary`), else JSON."""
    if show.summaries(form, sys.stdout.isatty()):
        print(show.summary(codec.plain(record)))
    else:
        print(codec.encode(record).decode())


def _printer(form: str) -> Callable[[Any, Any], None]:
    """How `dump` and `tail` print a Kafka record: a summary line, or a JSON line with its
    topic, partition, offset, timestamp and key (every line flushed, for pipes)."""
    if show.summaries(form, sys.stdout.isatty()):
        return lambda record, value: print(show.summary(value), flush=True)
    return lambda record, value: print(codec.encode(tail.line(record, value)).decode(), flush=True)


TAIL_TOPICS = ("articles", "duplicates", "rejected")


def _tail(args: argparse.Namespace, settings: Settings) -> int:
    """Follow the chosen output topics (all three by default)."""
    names = {
        "articles": settings.topic_articles,
        "duplicates": settings.topic_duplicates,
        "rejected": settings.topic_rejected,
    }
    topics = [names[t] for t in dict.fromkeys(args.topics or TAIL_TOPICS)]
    filters = tail.Filters(
        frozenset(args.partition or ()),
        frozenset(args.reason or ()),
        frozenset(s.lower() for s in args.site or ()),
    )
    asyncio.run(
        tail.tail(
            settings,
            topics,
            filters,
            args.from_beginning,
            _printer(args.format),
            lambda what: print(f"tail: {what} (Ctrl-C to stop)", file=sys.stderr, flush=True),
            args.limit,
            args.idle,
        )
    )
    return 0


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    """Send the matching rejections' original messages to the raw topic again."""
    if not args.reason and not args.all:
        print(
            "ingest-worker replay: name the reasons (--reason R ...) or say --all", file=sys.stderr
        )
        return 2
    selection = replay.Selection(
        frozenset(args.reason or ()),
        replay.moment(args.since) if args.since else None,
        replay.moment(args.until) if args.until else None,
    )
    listed = _printer(args.format) if args.dry_run else None
    done = asyncio.run(replay.replay(settings, selection, args.dry_run, listed))
    matched = ", ".join(f"{r} {n}" for r, n in done.matched.most_common()) or "none"
    skipped = ", ".join(f"{r} {n}" for r, n in done.skipped.most_common())
    verb = "would send" if args.dry_run else "sent"
    print(
        f"replay: read {done.read} rejections from {settings.topic_rejected}; matched "
        f"{sum(done.matched.values())} ({matched}); {verb} {done.sent} to {settings.topic_raw}"
        + (f"; skipped {sum(done.skipped.values())} ({skipped})" if skipped else ""),
        file=sys.stderr,
    )
    return 0


KAFKA = [var for var in ENV if var.startswith("KAFKA_")]
OUTPUTS = ["INGEST_TOPIC_ARTICLES", "INGEST_TOPIC_DUPLICATES", "INGEST_TOPIC_REJECTED"]
READS: dict[str, list[str]] = {
    "run": list(ENV),
    "config": list(ENV),
    "clean": ["INGEST_MAX_PAGE_BYTES", "INGEST_MAX_MESSAGE_BYTES", "INGEST_REJECT_PAGE_TYPES",
              "INGEST_LISTING_LINK_SHARE", "INGEST_SHORT_TEXT_WORDS"],
    "feed": [*KAFKA, "INGEST_TOPIC_RAW", "INGEST_MAX_MESSAGE_BYTES"],
    "topics": [*KAFKA, "INGEST_APP_ID", "INGEST_TOPIC_RAW", *OUTPUTS, "INGEST_PARTITIONS",
               "INGEST_REPLICATION_FACTOR", "INGEST_MIN_INSYNC_REPLICAS",
               "INGEST_INTERNAL_RETENTION_S", "INGEST_MAX_MESSAGE_BYTES"],
    "dump": [*KAFKA, "INGEST_APP_ID", *OUTPUTS, "INGEST_MAX_MESSAGE_BYTES"],
    "tail": [*KAFKA, *OUTPUTS, "INGEST_MAX_MESSAGE_BYTES"],
    "replay": [*KAFKA, "INGEST_TOPIC_REJECTED", "INGEST_TOPIC_RAW", "INGEST_MAX_MESSAGE_BYTES"],
}  # fmt: skip
"""The environment variables each command reads (listed by its --help)."""


def _epilog(command: str) -> str:
    """The end of a command's --help: the variables it reads, with their defaults."""
    defaults = {entry.var: entry.value for entry in describe({})}
    lines = [f"  {var:32} {defaults[var] or '(empty)'}" for var in READS[command]]
    return (
        "environment variables read (default), each also as <NAME>_FILE naming a file that "
        "holds the value:\n" + "\n".join(lines)
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingest-worker", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=help,
            epilog=_epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def printing(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--format",
            choices=show.FORMATS,
            default="auto",
            help="summary lines or JSON lines (auto: summaries on a terminal, JSON when piped)",
        )

    command("run", "run the worker (configured by environment variables)")
    command("config", "print the effective settings (secrets masked) and where each came from")
    clean_ = command("clean", "clean one HTML page locally and print the record")
    clean_.add_argument("file", help="an HTML file, or - for stdin")
    clean_.add_argument("--url", help="the page's URL (default: a localhost URL)")
    printing(clean_)
    feed = command("feed", help="publish raw pages from JSONL, WARC files or HTML directories")
    feed.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a .jsonl[.gz] file (one raw-page message a line; - for stdin), a .warc[.gz] file "
        "or a directory of .html files",
    )
    feed.add_argument(
        "--format", choices=["jsonl", "warc", "html"], help="read every PATH as this format"
    )
    feed.add_argument(
        "--base-url",
        help="URL of a directory's root: a page without a PAGE.html.json sidecar gets this URL "
        "joined with its path",
    )
    feed.add_argument("--source", help="`source` of WARC and HTML messages (default: warc, html)")
    feed.add_argument(
        "--rate", type=float, metavar="N", help="send at most N messages a second on average"
    )
    feed.add_argument("--compression", choices=["gzip", "zstd", "lz4", "snappy"])
    command(
        "topics",
        "create every topic of the app (input, internal, changelogs, outputs) and check them",
    )
    dump = command("dump", "print every record of the output topics from the beginning, then stop")
    dump.add_argument("--expect", type=int, help="stop after this many records")
    dump.add_argument("--idle", type=float, default=10.0, help="stop after this many idle seconds")
    printing(dump)
    tail_ = command("tail", "follow the output topics' records as they arrive")
    # [] among the choices: Python 3.11's argparse checks an empty `*` list against them
    tail_.add_argument(
        "topics",
        nargs="*",
        choices=[*TAIL_TOPICS, []],
        metavar="TOPIC",
        help="articles, duplicates and/or rejected (default: all three)",
    )
    tail_.add_argument("--from-beginning", action="store_true", help="start at the oldest records")
    tail_.add_argument(
        "--partition", type=int, action="append", help="only this partition (repeatable)"
    )
    tail_.add_argument(
        "--reason", action="append", help="only rejections with this reason (repeatable)"
    )
    tail_.add_argument(
        "--site", action="append", help="only records of this site name or host (repeatable)"
    )
    tail_.add_argument("--limit", type=int, help="stop after this many records")
    tail_.add_argument("--idle", type=float, help="stop after this many seconds without a record")
    printing(tail_)
    replay_ = command("replay", "publish rejected messages to the raw topic again (after a fix)")
    replay_.add_argument(
        "--reason", action="append", help="replay rejections with this reason (repeatable)"
    )
    replay_.add_argument("--all", action="store_true", help="replay rejections of every reason")
    replay_.add_argument(
        "--since", help="rejected at or after: ISO-8601 time, or a time ago (90m, 6h, 2d)"
    )
    replay_.add_argument("--until", help="rejected before: ISO-8601 time, or a time ago")
    replay_.add_argument(
        "--dry-run", action="store_true", help="list what would be sent, send nothing"
    )
    printing(replay_)
    return parser


if __name__ == "__main__":
    sys.exit(main())
