"""What `ingest-worker feed` reads: JSONL, WARC files and directories of HTML files.

Pure and synchronous: each reader turns one source into raw-page messages (the input contract,
`schemas/raw_page.schema.json`, keyed by URL) or skips carrying a `Skip` reason and where they
were met. A bad line or record is one skip; the file goes on. `feeding` publishes them.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

from fastwarc.stream_io import ChunkedReader
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from worker import codec
from worker.core.decode import check_content_type
from worker.core.envelope import RECORD_OVERHEAD_BYTES, header_text, iso_utc
from worker.errors import PageError

SIDECAR_SUFFIX = ".json"
"""`page.html.json` next to `page.html`: its raw-page fields without `html` or `body`."""
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
WARC_SUFFIXES = (".warc", ".warc.gz")


class Format(str, Enum):
    """What a path holds."""

    JSONL = "jsonl"
    WARC = "warc"
    HTML = "html"
    """A directory of .html/.htm files, searched recursively."""


class Skip(str, Enum):
    """Machine-readable reason a line, record or file was not sent."""

    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    NO_URL = "no_url"
    TOO_LARGE = "too_large"
    """The message would be over INGEST_MAX_MESSAGE_BYTES."""
    BAD_DATE = "bad_date"
    """A WARC record without an ISO-8601 WARC-Date."""
    BAD_SIDECAR = "bad_sidecar"
    """A page's `.json` sidecar is not a JSON object with a string `url`."""
    UNREADABLE = "unreadable"
    """A read error (corrupt gzip, I/O error): the rest of that file is skipped."""
    WARC_NOT_RESPONSE = "warc_not_response"
    WARC_NOT_HTTP = "warc_not_http"
    WARC_NOT_HTML = "warc_not_html"
    """A declared Content-Type the worker would reject as not_html (images, PDFs...)."""
    WARC_TRUNCATED = "warc_truncated"
    """A record shorter than its Content-Length, or without one (a file cut short)."""
    WARC_BROKEN = "warc_broken"
    """No HTTP status line or an HTTP header over 32 KiB; or, where the file holds no WARC
    record where one should start (corrupt gzip, garbage), the rest of the file."""


DEFAULT_SOURCES = {Format.WARC: "warc", Format.HTML: "html"}
"""`source` of messages built from a format when --source is not given."""


class FeedError(Exception):
    """A path that cannot be fed at all (missing, unreadable, unknown format): exit 2."""


@dataclass(frozen=True, slots=True)
class Options:
    """How readers build messages."""

    max_message_bytes: int
    source: str | None = None
    """`source` of WARC and HTML messages (default: the format's name); JSONL is sent as is."""
    base_url: str | None = None
    """The URL of an HTML directory's root, for pages without a sidecar."""


@dataclass(frozen=True, slots=True)
class Message:
    """One raw-page message, ready to publish."""

    key: bytes
    """The page URL, UTF-8."""
    value: bytes


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something not sent, and why."""

    reason: Skip
    where: str
    """`path:line` (JSONL), `path@offset` (WARC, offset in the file) or a file path."""


Item = Message | Skipped


def read_paths(paths: list[str], forced: Format | None, options: Options) -> Iterator[Item]:
    """Every message and skip of these paths in order; raise FeedError now if one is unusable."""
    formats = [detect(path, forced) for path in paths]
    return (item for path, f in zip(paths, formats, strict=True) for item in read(path, f, options))


def detect(path: str, forced: Format | None) -> Format:
    """The format of a path: `forced`, else from its name; raise FeedError if it is unusable."""
    if path == "-":
        if forced not in (None, Format.JSONL):
            raise FeedError("- (stdin) is read as JSONL only")
        return Format.JSONL
    target = Path(path)
    if not os.access(target, os.R_OK):
        raise FeedError(
            f"cannot read {path}: {'no such file' if not target.exists() else 'denied'}"
        )
    fmt = forced or _by_name(target)
    if fmt is None:
        raise FeedError(f"{path}: unknown format (name it .jsonl, .warc, .warc.gz; or --format)")
    if fmt is Format.HTML and not target.is_dir():
        raise FeedError(f"{path}: html input is a directory of .html files")
    return fmt


def _by_name(path: Path) -> Format | None:
    """The format a path's name or type says."""
    if path.is_dir():
        return Format.HTML
    if path.name.lower().removesuffix(".gz").endswith(JSONL_SUFFIXES):
        return Format.JSONL
    return Format.WARC if path.name.lower().endswith(WARC_SUFFIXES) else None


def read(path: str, fmt: Format, options: Options) -> Iterator[Item]:
    """The messages and skips of one path in the given format."""
    if fmt is Format.JSONL:
        return read_jsonl(path, options)
    if fmt is Format.WARC:
        return read_warc(path, options)
    return read_html_dir(path, options)


def read_jsonl(path: str, options: Options) -> Iterator[Item]:
    """Each non-blank line of a JSONL file ('-': stdin; gzip by magic), sent as it is."""
    try:
        for number, line in enumerate(_lines(path), 1):
            line = line.strip()
            if line:
                yield jsonl_item(line, f"{path}:{number}", options.max_message_bytes)
    except (OSError, EOFError, zlib.error):
        yield Skipped(Skip.UNREADABLE, path)


def _lines(path: str) -> Iterator[bytes]:
    """The lines of stdin, of a file, or of a gzip-compressed file."""
    if path == "-":
        yield from sys.stdin.buffer
        return
    with Path(path).open("rb") as stream:
        if stream.peek(2)[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=stream) as unzipped:
                yield from unzipped
        else:
            yield from stream


def jsonl_item(line: bytes, where: str, max_bytes: int) -> Item:
    """A JSONL line as a message keyed by its `url`, or the reason it is skipped."""
    try:
        obj = codec.decode(line)
    except PageError:
        return Skipped(Skip.NOT_JSON, where)
    if not isinstance(obj, dict):
        return Skipped(Skip.NOT_OBJECT, where)
    url = obj.get("url")
    if not isinstance(url, str) or not url:
        return Skipped(Skip.NO_URL, where)
    return _checked(Message(url.encode(), line), where, max_bytes)


def _checked(message: Message, where: str, max_bytes: int) -> Item:
    """The message, or a `too_large` skip if the producer would refuse it."""
    if len(message.key) + len(message.value) + RECORD_OVERHEAD_BYTES > max_bytes:
        return Skipped(Skip.TOO_LARGE, where)
    return message


def read_warc(path: str, options: Options) -> Iterator[Item]:
    """One message per HTTP response record of a WARC file (gzip per record or plain)."""
    source = options.source or DEFAULT_SOURCES[Format.WARC]
    with Path(path).open("rb") as stream:
        records = iter(ArchiveIterator(stream, parse_http=False, quirks_mode=True))
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except OSError:  # corrupt gzip, or no record header: nothing to resync on
                yield Skipped(Skip.WARC_BROKEN, path)
                return
            where = f"{path}@{record.stream_pos}"
            yield warc_item(record, where, source, options.max_message_bytes)


def warc_item(record: WarcRecord, where: str, source: str, max_bytes: int) -> Item:
    """A WARC record (HTTP not yet parsed) as a raw-page message, or why it is skipped."""
    if record.record_type != WarcRecordType.response:
        return Skipped(Skip.WARC_NOT_RESPONSE, where)
    if record.headers.get("Content-Length") is None:
        return Skipped(Skip.WARC_TRUNCATED, where)
    if not record.is_http:
        return Skipped(Skip.WARC_NOT_HTTP, where)
    url = (record.headers.get("WARC-Target-URI") or "").strip("<> ")
    if not url:
        return Skipped(Skip.NO_URL, where)
    fetched_at = _warc_date(record.headers.get("WARC-Date"))
    if fetched_at is None:
        return Skipped(Skip.BAD_DATE, where)
    try:
        record.parse_http(quirks_mode=True)
    except OSError:  # an HTTP header over 32 KiB
        return Skipped(Skip.WARC_BROKEN, where)
    if record.http_headers.status_code is None:
        return Skipped(Skip.WARC_BROKEN, where)
    headers = _http_headers(record)
    try:
        check_content_type(headers)
    except PageError:
        return Skipped(Skip.WARC_NOT_HTML, where)
    if _base64_size(record.content_length) + RECORD_OVERHEAD_BYTES > max_bytes:
        return Skipped(Skip.TOO_LARGE, where)
    payload = record.reader.read()
    if len(payload) < record.content_length:
        return Skipped(Skip.WARC_TRUNCATED, where)
    if headers.pop("transfer-encoding", "").strip().lower() == "chunked":
        payload = _unchunked(payload)
    page = {
        "url": url,
        "body": base64.b64encode(payload).decode(),
        "status": record.http_headers.status_code,
        "headers": headers,
        "fetched_at": fetched_at,
        "source": source,
    }
    return _checked(Message(url.encode(), codec.encode(page)), where, max_bytes)


def _warc_date(value: str | None) -> str | None:
    """A WARC-Date as the contract's ISO-8601 UTC form, or None if there is none or it is bad."""
    try:
        return iso_utc(datetime.fromisoformat(value or ""))
    except (ValueError, OverflowError):
        return None


def _http_headers(record: WarcRecord) -> dict[str, str]:
    """The HTTP response headers, names lower-cased, repeated ones joined with ', '."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in record.http_headers.items_bytes():
        name, value = raw_name.decode("latin-1").lower(), header_text(raw_value)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _unchunked(payload: bytes) -> bytes:
    """A payload without its chunked transfer coding (as it is if it was already decoded)."""
    try:
        return ChunkedReader(io.BytesIO(payload)).read()
    except OSError:  # the crawler decoded it but kept the header
        return payload


def _base64_size(size: int) -> int:
    """Length of the base64 text of `size` bytes."""
    return 4 * -(-size // 3)


def read_html_dir(root: str, options: Options) -> Iterator[Item]:
    """One message per .html/.htm file under a directory, in path order."""
    source = options.source or DEFAULT_SOURCES[Format.HTML]
    for page in html_files(Path(root)):
        try:
            yield html_item(page, Path(root), source, options)
        except OSError:
            yield Skipped(Skip.UNREADABLE, str(page))


def html_files(root: Path) -> Iterator[Path]:
    """The .html/.htm files under a directory (not following links to directories), sorted."""
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in sorted(files):
            if name.lower().endswith(HTML_SUFFIXES):
                yield Path(directory) / name


def html_item(page: Path, root: Path, source: str, options: Options) -> Item:
    """An HTML file as a raw-page message: URL and fields from its sidecar or the base URL."""
    where = str(page)
    sidecar = Path(f"{page}{SIDECAR_SUFFIX}")
    fields = _sidecar(sidecar) if sidecar.exists() else {}
    if fields is None:
        return Skipped(Skip.BAD_SIDECAR, str(sidecar))
    url = fields.get("url") or _joined(options.base_url, page.relative_to(root))
    if url is None:
        return Skipped(Skip.NO_URL, where)
    stat = page.stat()
    if _base64_size(stat.st_size) + RECORD_OVERHEAD_BYTES > options.max_message_bytes:
        return Skipped(Skip.TOO_LARGE, where)
    message = {
        "url": url,
        "body": base64.b64encode(page.read_bytes()).decode(),
        "fetched_at": iso_utc(datetime.fromtimestamp(stat.st_mtime, UTC)),
        "source": source,
        **{k: v for k, v in fields.items() if k not in ("html", "body")},
    }
    return _checked(Message(url.encode(), codec.encode(message)), where, options.max_message_bytes)


def _sidecar(path: Path) -> dict[str, Any] | None:
    """A sidecar's fields, or None if it is not a JSON object with a non-empty string url."""
    try:
        fields = codec.decode(path.read_bytes())
    except PageError:
        return None
    ok = isinstance(fields, dict) and isinstance(fields.get("url"), str) and fields["url"]
    return fields if ok else None


def _joined(base_url: str | None, relative: Path) -> str | None:
    """The base URL joined with a page's path under the root (escaped), if there is a base."""
    if not base_url:
        return None
    return urljoin(base_url.rstrip("/") + "/", quote(relative.as_posix()))
