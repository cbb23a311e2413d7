"""The feed readers (worker/sources.py): JSONL, WARC files and HTML directories to raw-page
messages or counted skips, on files the tests write; every field of every message compared."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.contract.schemas import validate
from worker import feeding, sources
from worker.__main__ import main
from worker.core.envelope import parse_raw_page
from worker.sources import Format, Message, Options, Skip, Skipped
from worker.settings import ENV

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "tests" / "fixtures" / "pages"
LATIN1 = (PAGES / "news-id-latin1.html").read_bytes()
UTF8 = (PAGES / "news-en.html").read_bytes()
OPTIONS = Options(max_message_bytes=10 * 1024 * 1024)
MTIME = datetime(2025, 4, 30, 8, 30, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the environment: strip every variable the worker reads."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)


def fields(item: sources.Item) -> dict[str, Any]:
    """A message's value, checked against the input contract and the worker's own parser."""
    assert isinstance(item, Message), item
    value = orjson.loads(item.value)
    validate("raw_page", value)
    page = parse_raw_page(value)
    assert item.key == page.url.encode()
    return value


def reasons(items: list[sources.Item]) -> list[str]:
    """The skip reasons in order."""
    return [i.reason.value for i in items if isinstance(i, Skipped)]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- WARC --------------------------------------------------------------------------------


def warc_record(
    kind: str,
    uri: str | None,
    block: bytes,
    content_type: str = "application/http; msgtype=response",
    date: str | None = "2025-05-01T10:15:00Z",
) -> bytes:
    """One WARC/1.1 record, as a crawler writes it."""
    head = ["WARC/1.1", f"WARC-Type: {kind}", "WARC-Record-ID: <urn:uuid:0f5a4c1e>"]
    head += [f"WARC-Date: {date}"] if date else []
    head += [f"WARC-Target-URI: {uri}"] if uri else []
    head += [f"Content-Type: {content_type}", f"Content-Length: {len(block)}"]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"


def http(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    """An HTTP/1.1 response as it came off the wire (header text as ISO-8859-1 bytes)."""
    head = "\r\n".join([f"HTTP/1.1 {status}", *headers]).encode("latin-1")
    return head + b"\r\n\r\n" + body


def write_warc(path: Path, records: list[bytes], gzip_per_record: bool) -> Path:
    """A WARC file of these records: one gzip member per record, or plain."""
    path.write_bytes(b"".join(gzip.compress(r) if gzip_per_record else r for r in records))
    return path


CHUNKED = b"19\r\n<html><p>chunked</p></htm\r\n2\r\nl>\r\n0\r\n\r\n"
RECORDS = [
    warc_record("warcinfo", None, b"software: crawler/1.0\r\n", "application/warc-fields"),
    warc_record(
        "request",
        "https://news.example.id/a",
        http(b"", "Host: news.example.id").replace(b"HTTP/1.1 200 OK", b"GET /a HTTP/1.1"),
        "application/http; msgtype=request",
    ),
    warc_record(
        "response",
        "https://news.example.id/a",
        http(
            LATIN1,
            "Content-Type: text/html; charset=ISO-8859-1",
            "Set-Cookie: a=1",
            "Set-Cookie: b=2",
            "X-Latin1: caf\xe9",
            "X-Utf8: caf\xc3\xa9",  # the UTF-8 bytes of café
        ),
    ),
    warc_record(
        "response",
        "https://news.example.id/logo.png",
        http(b"\x89PNG\r\n", "Content-Type: image/png"),
    ),
    warc_record(
        "response",
        "<https://news.example.id/c>",
        http(CHUNKED, "Transfer-Encoding: chunked"),
        date="2025-05-01T12:15:00.250+02:00",
    ),
    warc_record(
        "response",
        "dns:news.example.id",
        b"20250501101500\nnews.example.id. 300 IN A 192.0.2.1",
        "text/dns",
    ),
    warc_record(
        "response",
        "https://news.example.id/gone",
        http(b"<p>gone</p>", "Content-Type: text/html", status="404 Not Found"),
    ),
]
TRUNCATED = warc_record(
    "response", "https://news.example.id/cut", http(UTF8, "Content-Type: text/html")
)


@pytest.mark.parametrize("gzip_per_record", [True, False], ids=["gzip-per-record", "plain"])
def test_warc_sends_http_responses_and_skips_the_rest(
    tmp_path: Path, gzip_per_record: bool
) -> None:
    suffix = ".warc.gz" if gzip_per_record else ".warc"
    last = gzip.compress(TRUNCATED)[:-200] if gzip_per_record else TRUNCATED[:-2000]
    path = write_warc(tmp_path / f"crawl{suffix}", RECORDS, gzip_per_record)
    path.write_bytes(path.read_bytes() + last)

    items = list(sources.read(str(path), sources.detect(str(path), None), OPTIONS))

    assert [fields(i) for i in items if isinstance(i, Message)] == [
        {
            "url": "https://news.example.id/a",
            "body": b64(LATIN1),
            "status": 200,
            "headers": {
                "content-type": "text/html; charset=ISO-8859-1",
                "set-cookie": "a=1, b=2",
                "x-latin1": "café",
                "x-utf8": "café",
            },
            "fetched_at": "2025-05-01T10:15:00.000Z",
            "source": "warc",
        },
        {
            "url": "https://news.example.id/c",
            "body": b64(b"<html><p>chunked</p></html>"),
            "status": 200,
            "headers": {},
            "fetched_at": "2025-05-01T10:15:00.250Z",
            "source": "warc",
        },
        {
            "url": "https://news.example.id/gone",
            "body": b64(b"<p>gone</p>"),
            "status": 404,
            "headers": {"content-type": "text/html"},
            "fetched_at": "2025-05-01T10:15:00.000Z",
            "source": "warc",
        },
    ]
    assert reasons(items) == [
        "warc_not_response",
        "warc_not_response",
        "warc_not_html",
        "warc_not_http",
        "warc_truncated",
    ]
    offsets = [int(i.where.rsplit("@", 1)[1]) for i in items if isinstance(i, Skipped)]
    assert offsets[0] == 0 and offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert all(i.where.startswith(f"{path}@") for i in items if isinstance(i, Skipped))


def test_warc_record_with_a_bad_date_no_uri_or_no_status_line_is_skipped_alone(
    tmp_path: Path,
) -> None:
    page = http(b"<p>ok</p>", "Content-Type: text/html")
    records = [
        warc_record("response", "https://e.example/1", page, date="yesterday"),
        warc_record("response", "https://e.example/2", page, date=None),
        warc_record("response", None, page),
        warc_record("response", "https://e.example/3", b"\x00\x01 not http at all"),
        warc_record(
            "response", "https://e.example/4", http(b"<p>ok</p>", "X-Big: " + "a" * 40_000)
        ),
        warc_record("response", "https://e.example/5", page),
        warc_record(
            "response", "https://e.example/6", http(b"<p>ok</p>", "Transfer-Encoding: chunked")
        ),
    ]
    path = write_warc(tmp_path / "odd.warc.gz", records, gzip_per_record=True)

    items = list(sources.read_warc(str(path), Options(10**7, source="crawler-7")))

    assert reasons(items) == ["bad_date", "bad_date", "no_url", "warc_broken", "warc_broken"]
    assert fields(items[-1]) == {  # a crawler decoded the chunks but kept the header
        "url": "https://e.example/6",
        "body": b64(b"<p>ok</p>"),
        "status": 200,
        "headers": {},
        "fetched_at": "2025-05-01T10:15:00.000Z",
        "source": "crawler-7",
    }
    assert fields(items[-2]) == {
        "url": "https://e.example/5",
        "body": b64(b"<p>ok</p>"),
        "status": 200,
        "headers": {"content-type": "text/html"},
        "fetched_at": "2025-05-01T10:15:00.000Z",
        "source": "crawler-7",
    }


def test_a_corrupt_gzip_member_ends_the_file_with_one_skip(tmp_path: Path) -> None:
    first, second = (
        warc_record("response", f"https://e.example/{n}", http(b"<p>x</p>")) for n in "ab"
    )
    corrupt = bytearray(gzip.compress(second))
    corrupt[20:30] = b"\xff" * 10
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(gzip.compress(first) + bytes(corrupt) + gzip.compress(first))

    items = list(sources.read_warc(str(path), OPTIONS))

    assert [fields(i)["url"] for i in items[:1]] == ["https://e.example/a"]
    assert items[1:] == [Skipped(Skip.WARC_BROKEN, str(path))]


def test_warc_page_over_the_message_limit_is_too_large(tmp_path: Path) -> None:
    page = warc_record("response", "https://e.example/big", http(b"<p>" + b"x" * 3000 + b"</p>"))
    path = write_warc(tmp_path / "big.warc", [page], gzip_per_record=False)

    assert reasons(list(sources.read_warc(str(path), Options(4000)))) == ["too_large"]
    assert len(list(sources.read_warc(str(path), Options(5000)))) == 1


# --- HTML directories --------------------------------------------------------------------


def write_page(path: Path, data: bytes, sidecar: Any = None) -> Path:
    """An HTML file with a fixed mtime, and its `.json` sidecar if one is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))
    if sidecar is not None:
        text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar)
        Path(f"{path}.json").write_text(text)
    return path


def test_html_directory_urls_from_sidecars_or_the_base_url(tmp_path: Path) -> None:
    root = tmp_path / "site"
    sidecar = {
        "url": "https://blog.example.de/2025/eintrag",
        "fetched_at": "2025-05-01T09:00:00+02:00",
        "status": 200,
        "headers": {"content-type": "text/html; charset=utf-8"},
        "meta": {"crawl": 7},
        "html": "ignored: the file is the page",
    }
    write_page(root / "a.html", UTF8, sidecar)
    write_page(root / "news" / "b c.HTM", LATIN1)
    write_page(root / "news" / "d.html", b"<p>d</p>", "not json")
    write_page(root / "news" / "e.html", b"<p>e</p>", {"fetched_at": "2025-05-01T09:00:00Z"})
    write_page(root / "notes.txt", b"not a page")
    options = Options(10**7, base_url="https://mirror.example.org/archive")

    items = list(sources.read(str(root), sources.detect(str(root), None), options))

    assert [fields(i) for i in items if isinstance(i, Message)] == [
        {
            "url": "https://blog.example.de/2025/eintrag",
            "body": b64(UTF8),
            "fetched_at": "2025-05-01T09:00:00+02:00",
            "source": "html",
            "status": 200,
            "headers": {"content-type": "text/html; charset=utf-8"},
            "meta": {"crawl": 7},
        },
        {
            "url": "https://mirror.example.org/archive/news/b%20c.HTM",
            "body": b64(LATIN1),
            "fetched_at": "2025-04-30T08:30:15.000Z",
            "source": "html",
        },
    ]
    assert items[2:] == [
        Skipped(Skip.BAD_SIDECAR, f"{root}/news/d.html.json"),
        Skipped(Skip.BAD_SIDECAR, f"{root}/news/e.html.json"),
    ]


def test_html_page_without_sidecar_or_base_url_has_no_url(tmp_path: Path) -> None:
    page = write_page(tmp_path / "site" / "index.html", b"<p>x</p>")

    items = list(sources.read_html_dir(str(tmp_path / "site"), Options(10**7, source="mirror")))

    assert items == [Skipped(Skip.NO_URL, str(page))]


def test_html_page_over_the_message_limit_is_too_large(tmp_path: Path) -> None:
    page = write_page(tmp_path / "site" / "big.html", b"x" * 3000, {"url": "https://e.example/big"})

    assert list(sources.read_html_dir(str(tmp_path / "site"), Options(4000))) == [
        Skipped(Skip.TOO_LARGE, str(page))
    ]


# --- JSONL -------------------------------------------------------------------------------


GOOD = orjson.dumps({"url": "https://e.example/ä", "html": "<p>x</p>", "source": "s"})
LINES = [
    GOOD,
    b"",
    b"   ",
    b'{"url": "https://e.example/b", "html": "<p>unterminated',
    b"[1, 2, 3]",
    b'{"html": "<p>no url</p>"}',
    b'{"url": 7, "html": "<p>x</p>"}',
    b'{"url": "", "html": "<p>x</p>"}',
    b'{"url": "https://e.example/big", "html": "' + b"x" * 5000 + b'"}',
    b'  {"url": "https://e.example/c", "body": "PHA+eDwvcD4="}  ',
]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_jsonl_lines_are_sent_as_they_are_and_bad_ones_counted(
    tmp_path: Path, compressed: bool
) -> None:
    data = b"\n".join(LINES) + b"\n"
    path = tmp_path / ("pages.jsonl.gz" if compressed else "pages.jsonl")
    path.write_bytes(gzip.compress(data) if compressed else data)

    items = list(sources.read(str(path), sources.detect(str(path), None), Options(4000)))

    assert items == [
        Message("https://e.example/ä".encode(), GOOD),
        Skipped(Skip.NOT_JSON, f"{path}:4"),
        Skipped(Skip.NOT_OBJECT, f"{path}:5"),
        Skipped(Skip.NO_URL, f"{path}:6"),
        Skipped(Skip.NO_URL, f"{path}:7"),
        Skipped(Skip.NO_URL, f"{path}:8"),
        Skipped(Skip.TOO_LARGE, f"{path}:9"),
        Message(b"https://e.example/c", LINES[-1].strip()),
    ]


def test_a_truncated_gzip_jsonl_file_ends_with_one_skip(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join([GOOD] * 3000))[:-50])

    items = list(sources.read_jsonl(str(path), OPTIONS))

    assert items[-1] == Skipped(Skip.UNREADABLE, str(path))
    assert set(items[:-1]) == {Message("https://e.example/ä".encode(), GOOD)}


def test_stdin_is_jsonl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stdin = tmp_path / "stdin"
    stdin.write_bytes(GOOD + b"\nnope\n")
    with stdin.open("rb") as stream:
        monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": stream})())
        items = list(sources.read_paths(["-"], None, OPTIONS))

    assert items == [Message("https://e.example/ä".encode(), GOOD), Skipped(Skip.NOT_JSON, "-:2")]


# --- paths, formats ----------------------------------------------------------------------


def test_formats_from_names_or_forced(tmp_path: Path) -> None:
    names = ["a.jsonl", "b.JSON", "c.ndjson.gz", "d.jsonl.gz", "e.warc", "f.warc.gz", "g.dat"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    found = {name: sources.detect(str(tmp_path / name), None) for name in names[:-1]}

    assert found == dict.fromkeys(names[:4], Format.JSONL) | dict.fromkeys(names[4:6], Format.WARC)
    assert sources.detect(str(tmp_path), None) is Format.HTML
    assert sources.detect(str(tmp_path / "g.dat"), Format.WARC) is Format.WARC
    assert sources.detect("-", None) is Format.JSONL


@pytest.mark.parametrize(
    ("path", "forced", "message"),
    [
        ("missing.jsonl", None, "cannot read {tmp}/missing.jsonl: no such file"),
        ("g.dat", None, "{tmp}/g.dat: unknown format"),
        ("g.dat", Format.HTML, "{tmp}/g.dat: html input is a directory"),
        ("-", Format.WARC, "- (stdin) is read as JSONL only"),
    ],
)
def test_unusable_paths_are_refused_before_anything_is_read(
    tmp_path: Path, path: str, forced: Format | None, message: str
) -> None:
    (tmp_path / "g.dat").write_bytes(b"")
    (tmp_path / "ok.jsonl").write_bytes(GOOD)
    target = path if path == "-" else str(tmp_path / path)
    paths = [target] if forced else [str(tmp_path / "ok.jsonl"), target]  # forced: for all

    with pytest.raises(sources.FeedError) as error:
        sources.read_paths(paths, forced, OPTIONS)

    assert str(error.value).startswith(message.format(tmp=tmp_path))


def test_several_paths_are_read_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(GOOD)
    write_page(tmp_path / "site" / "x.html", b"<p>x</p>")
    warc = write_warc(tmp_path / "c.warc", [RECORDS[0]], gzip_per_record=False)
    paths = [str(tmp_path / "a.jsonl"), str(tmp_path / "site"), str(warc)]

    items = list(sources.read_paths(paths, None, OPTIONS))

    assert [type(i).__name__ for i in items] == ["Message", "Skipped", "Skipped"]
    assert reasons(items) == ["no_url", "warc_not_response"]


# --- the CLI, the summary, the rate ------------------------------------------------------


def test_feed_of_a_missing_path_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["feed", str(tmp_path / "nope.warc.gz")])

    err = capsys.readouterr().err
    assert code == 2
    assert err == f"ingest-worker feed: cannot read {tmp_path}/nope.warc.gz: no such file\n"


def test_feed_with_a_rate_of_zero_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.jsonl").write_bytes(GOOD)

    code = main(["feed", str(tmp_path / "a.jsonl"), "--rate", "0"])

    assert code == 2
    assert (
        capsys.readouterr().err
        == "ingest-worker: configuration error: --rate must be positive, got 0.0\n"
    )


def test_summary_lines_and_exit_status() -> None:
    summary = feeding.Summary("pages.raw", sent=5, elapsed_s=1.25)
    summary.skip(Skipped(Skip.NOT_JSON, "a.jsonl:3"))
    summary.skip(Skipped(Skip.NOT_JSON, "a.jsonl:9"))
    summary.skip(Skipped(Skip.WARC_TRUNCATED, "b.warc.gz@1096"))
    assert summary.ok
    assert summary.lines() == [
        "sent 5 to pages.raw in 1.2 s, skipped 3, failed 0",
        "  skipped not_json: 2 (first: a.jsonl:3)",
        "  skipped warc_truncated: 1 (first: b.warc.gz@1096)",
    ]

    summary.failed["KafkaTimeoutError"] += 2
    assert not summary.ok
    assert summary.lines()[0] == "sent 5 to pages.raw in 1.2 s, skipped 3, failed 2"
    assert summary.lines()[-1] == "  failed KafkaTimeoutError: 2"


async def test_token_bucket_spaces_takes_after_a_burst() -> None:
    bucket = feeding.TokenBucket(rate_per_s=50, burst=5)
    started = time.monotonic()

    await asyncio.gather(*(bucket.take() for _ in range(5)))
    burst_s = time.monotonic() - started
    for _ in range(10):
        await bucket.take()

    assert burst_s < 0.05
    assert time.monotonic() - started >= 10 / 50 * 0.95  # timers may wake a hair early


def test_the_input_contract_example_is_a_valid_message() -> None:
    data = (REPO / "examples" / "raw-page.json").read_bytes()
    value = json.loads(data)

    validate("raw_page", value)
    page = parse_raw_page(value)
    assert page.url.startswith("https://") and page.html and page.fetched_at and page.source
    assert sources.jsonl_item(orjson.dumps(value), "x", 10**6) == Message(
        page.url.encode(), orjson.dumps(value)
    )
