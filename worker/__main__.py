"""The `ingest-worker` command line (also `python -m worker`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.errors import KafkaError

from worker import __version__, codec, kafka_tools, pipeline
from worker.core.dedup import article
from worker.core.envelope import iso_utc
from worker.errors import PageError
from worker.records import RawPage, Source
from worker.settings import Settings
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
    return 2


def _command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the parsed command."""
    if args.command == "run":
        from worker.streaming.worker import run  # imports faust only when needed

        run(settings)
        return 0
    if args.command == "clean":
        return clean(args.file, args.url, settings)
    if args.command == "feed":
        sent = asyncio.run(kafka_tools.feed(settings, args.file, args.compression))
        print(f"sent {sent} messages to {settings.topic_raw}", file=sys.stderr)
        return 0
    if args.command == "topics":
        made = asyncio.run(kafka_tools.ensure_topics(settings))
        print(f"created: {', '.join(made) or '(all existed)'}", file=sys.stderr)
        return 0
    counts = asyncio.run(kafka_tools.dump(settings, args.expect, args.idle, sys.stdout))
    for label, count in sorted(counts.items()):
        print(f"{label:40} {count}", file=sys.stderr)
    return 0 if args.expect is None or counts["records"] >= args.expect else 1


def clean(path: str, url: str | None, settings: Settings) -> int:
    """Clean one HTML file locally and print its article (exit 0) or rejection (exit 1) as JSON;
    a file that cannot be read is one line on stderr (exit 2)."""
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
        print(codec.encode(pipeline.rejected(failure, origin, None, data, 0)).decode())
        return 1
    print(codec.encode(article(extracted, 1, iso_utc(now))).decode())
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingest-worker", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the worker (configured by environment variables)")
    clean_ = commands.add_parser("clean", help="clean one HTML page locally and print the record")
    clean_.add_argument("file", help="an HTML file, or - for stdin")
    clean_.add_argument("--url", help="the page's URL (default: a localhost URL)")
    feed = commands.add_parser("feed", help="publish raw-page messages from a JSONL file")
    feed.add_argument("file", help="a JSONL file, one raw-page message a line, or - for stdin")
    feed.add_argument("--compression", choices=["gzip", "zstd", "lz4", "snappy"])
    commands.add_parser(
        "topics",
        help="create every topic of the app (input, internal, changelogs, outputs) and check them",
    )
    dump = commands.add_parser("dump", help="print the output topics' records as JSON lines")
    dump.add_argument("--expect", type=int, help="stop after this many records")
    dump.add_argument("--idle", type=float, default=10.0, help="stop after this many idle seconds")
    return parser


if __name__ == "__main__":
    sys.exit(main())
