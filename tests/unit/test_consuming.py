"""The pure parts of `tail`, `replay`, `config` and record summaries (no broker)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cramjam
import pytest

from worker import codec, pipeline, replay, show
from worker.__main__ import READS, main
from worker.errors import Reason
from worker.records import Source
from worker.settings import ENV, describe
from worker.tail import Filters

ORIGIN = Source("pages.raw", 1, 7, 1_746_000_000_000)
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
ARTICLE = {"id": "0123456789abcdef0123456789abcdef", "revision": 3, "language": "id",
           "site_name": "Kompas", "word_count": 812, "url": "https://www.kompas.example/a",
           "title": "Festival  kopi\ntahunan"}  # fmt: skip
DUPLICATE = {"id": "ffff456789abcdef", "kind": "near", "duplicate_of": "0123456789abcdef",
             "similarity": 0.9375, "url": "https://news.example.org/b", "stale": False}  # fmt: skip


def rejection(value: bytes, reason: Reason = Reason.NOT_ARTICLE_LISTING, **kw: Any) -> dict[str, Any]:
    record = pipeline.rejected(pipeline.Failure(reason, "why", "https://e.com/"), ORIGIN, b"k", value, 10**6, **kw)
    return dict(codec.plain(record))


# --- summaries ---------------------------------------------------------------------------------


def test_each_kind_of_record_has_a_one_line_summary() -> None:
    assert show.summary(ARTICLE).split() == [
        "article", "0123456789ab", "r3", "id", "Kompas", "812", "w", "Festival", "kopi", "tahunan"]  # fmt: skip
    assert show.summary(DUPLICATE).split() == [
        "duplicate", "ffff456789ab", "near", "of", "0123456789ab", "0.94", "news.example.org",
        "https://news.example.org/b"]  # fmt: skip
    line = show.summary(rejection(b"{}"))
    assert line.split() == ["rejected", "not_article_listing", "pages.raw[1]@7", "https://e.com/"]


def test_summaries_are_one_short_line_whatever_the_record() -> None:
    long = {**ARTICLE, "title": "x " * 500, "site_name": None, "url": "https://www." + "a" * 300 + ".example/"}
    line = show.summary(long)
    assert "\n" not in line and len(line) < 160 and line.endswith("…")
    assert show.summary("not a record").startswith("?")
    assert show.summary({}).startswith("article")  # no fields: still a line, never a traceback


@pytest.mark.parametrize(("form", "terminal", "expected"),
                         [("auto", True, True), ("auto", False, False), ("summary", False, True), ("json", True, False)])  # fmt: skip
def test_summaries_on_a_terminal_json_when_piped(form: str, terminal: bool, expected: bool) -> None:
    assert show.summaries(form, terminal) is expected


def test_clean_prints_a_summary_when_asked(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    page = tmp_path / "p.html"
    page.write_text("<html><body><p>Two words</p></body></html>")
    assert main(["clean", str(page), "--format", "summary"]) == 0
    assert capsys.readouterr().out.split()[2:] == ["r1", "--", "localhost", "2", "w", "(no", "title)"]
    assert main(["clean", str(PAGES / "spa-shell.html"), "--format", "summary"]) == 1
    out = capsys.readouterr().out
    assert out.split()[:2] == ["rejected", "needs_javascript"] and out.count("\n") == 1


# --- tail filters ------------------------------------------------------------------------------


def test_filters_by_reason_and_site() -> None:
    assert Filters().accept(ARTICLE) and Filters().accept("text")
    by_reason = Filters(reasons=frozenset({"not_article_listing"}))
    assert by_reason.accept(rejection(b"{}")) and not by_reason.accept(ARTICLE)
    assert not by_reason.accept(rejection(b"{}", Reason.TIMEOUT))
    assert Filters(sites=frozenset({"kompas"})).accept(ARTICLE)  # the site name
    assert Filters(sites=frozenset({"kompas.example"})).accept(ARTICLE)  # a subdomain of the host
    assert Filters(sites=frozenset({"example.org"})).accept(DUPLICATE)
    assert not Filters(sites=frozenset({"ample.org"})).accept(DUPLICATE)
    assert not Filters(sites=frozenset({"kompas"})).accept("text")


# --- replay ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [b'{"url": "https://e.com/", "html": "<p>caf\xc3\xa9</p>"}', b"\xff\xfe\x00binary",
                                   b'{"html": "' + b"<p>\\u0001</p>" * 50_000 + b'"}'])  # fmt: skip
def test_replay_reads_back_the_original_message_exactly(value: bytes) -> None:
    assert replay.original(rejection(value), "pages.raw") == (value, "")


def test_replay_reads_compressed_payloads() -> None:
    value = b"\xff" + b"<p>repeated</p>" * 200_000  # 3 MB, not UTF-8: too big as base64 in 1 MB
    record = rejection(value)
    assert record["payload_compression"] == "zstd"
    assert replay.original(record, "pages.raw") == (value, "")


def test_replay_skips_what_it_cannot_send_whole() -> None:
    assert replay.original(rejection(b"abcdef", keep_bytes=3), "pages.raw") == (None, "payload_truncated")
    assert replay.original(rejection(b"{}"), "other.raw") == (None, "not_from_raw_topic")
    broken = {**rejection(b"\xff\xfe"), "payload_compression": "zstd"}
    assert replay.original(broken, "pages.raw") == (None, "payload_unreadable")
    garbage = {**rejection(b"\xff\xfe"), "payload_base64": "not base64!"}
    assert replay.original(garbage, "pages.raw") == (None, "payload_unreadable")


def test_replay_selection_by_reason_and_window() -> None:
    listing, timeout = rejection(b"{}"), rejection(b"{}", Reason.TIMEOUT)
    assert replay.Selection().matches(listing, 5)
    only = replay.Selection(frozenset({"timeout"}), since_ms=10, until_ms=20)
    assert only.matches(timeout, 10) and not only.matches(timeout, 20) and not only.matches(timeout, 9)
    assert not only.matches(listing, 15)


def test_replay_times_are_iso_or_durations_ago() -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    ten = round(datetime(2026, 12, 5, 10, 0, tzinfo=UTC).timestamp() * 1000)
    assert replay.moment("2026-12-05T10:00:00Z") == replay.moment("2026-12-05T10:00:00") == ten
    assert replay.moment("2026-12-05T11:00:00+01:00") == ten
    assert replay.moment("2h", now) == ten
    assert replay.moment("90m", now) == replay.moment("1.5h", now)
    with pytest.raises(ValueError, match="neither"):
        replay.moment("yesterday")


def test_replay_needs_reasons_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay"]) == 2
    assert "--reason" in capsys.readouterr().err


def test_zstd_payload_is_standard_zstd() -> None:
    """Consumers in other languages decode it with any zstd library: a standard frame."""
    packed = base64.b64decode(rejection(b"\xff" + b"x" * 3_000_000)["payload_base64"])
    assert packed[:4] == b"\x28\xb5\x2f\xfd" and len(cramjam.zstd.decompress(packed)) == 3_000_001


# --- config and --help -------------------------------------------------------------------------


def test_config_says_where_each_setting_came_from(tmp_path: Any) -> None:
    secret = tmp_path / "password"
    secret.write_text("hunter2\n")
    env = {"INGEST_PARTITIONS": "12", "KAFKA_SASL_PASSWORD_FILE": str(secret)}
    shown = {e.var: (e.value, e.source) for e in describe(env)}
    assert list(shown) == list(ENV)
    assert shown["INGEST_PARTITIONS"] == ("12", "environment")
    assert shown["KAFKA_SASL_PASSWORD"] == ("********", f"file {secret}")
    assert shown["INGEST_APP_ID"] == ("ingest-worker", "default")
    assert shown["INGEST_EXIT_ON_STALL"] == ("true", "default")


def test_config_command_masks_secrets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "KAFKA_SASL_PASSWORD=********  # environment" in out
    assert out.count("\n") == len(ENV)


@pytest.mark.parametrize("command", sorted(READS))
def test_every_help_lists_the_variables_its_command_reads(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert set(READS[command]) <= set(ENV)
    for var in READS[command]:
        assert f"\n  {var} " in out, var
