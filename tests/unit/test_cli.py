"""The `clean` command (worker/__main__.py) on the committed fixture pages, with golden values."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from worker.__main__ import main
from worker.core.fingerprint import article_id, content_hash
from worker.settings import ENV

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the environment: strip every variable the worker reads."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)


def run_clean(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Run `clean` and return its exit code and the one JSON record it printed."""
    code = main(["clean", *args])
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return code, json.loads(out)


def test_news_en(capsys: pytest.CaptureFixture[str]) -> None:
    code, article = run_clean(capsys, str(PAGES / "news-en.html"))
    assert code == 0
    assert article["schema_version"] == 2
    assert article["revision"] == 1
    assert article["url"] == article["canonical_url"] == "http://localhost/news-en.html"
    assert article["id"] == article_id("http://localhost/news-en.html")
    assert article["title"] == "Council approves tidal barrier for the old harbour"
    assert article["author"] == ["Maria Okafor"]
    assert article["date_published"] == "2024-03-14"
    assert article["language"] == "en"
    assert article["site_name"] == "Harbor City Ledger"
    assert article["description"].startswith(
        "After two years of debate, the city council voted 9 to 4"
    )
    assert article["image"] == "https://www.harborcityledger.example/img/2024/03/barrier-render.jpg"
    text = article["text"]
    assert (
        "The council added an amendment requiring the harbour master to publish a closure schedule "
        "at least twelve hours in advance whenever possible." in text
    )
    assert text.startswith("After two years of public hearings")  # the headline is not repeated
    assert text.endswith("would be published for comment in the summer.")
    assert len(text) > 1500
    assert article["content_hash"] == content_hash(text)
    assert article["word_count"] == len(text.split())
    chrome = ["cookies", "Related articles", "Harbour hearing", "Morning Briefing", "Terms of"]
    for snippet in chrome:
        assert snippet not in text
    assert article["fetched_at"] == article["processed_at"]
    assert article["fetched_at"].endswith("Z")


def test_news_en_with_url(capsys: pytest.CaptureFixture[str]) -> None:
    path = "/local/2024/03/14/council-approves-tidal-barrier"
    url = f"https://WWW.harborcityledger.example{path}/?utm_source=x#top"
    code, article = run_clean(capsys, str(PAGES / "news-en.html"), "--url", url)
    canonical = f"https://www.harborcityledger.example{path}"
    assert code == 0
    assert article["url"] == url
    assert article["canonical_url"] == canonical
    assert article["id"] == article_id(canonical)


def test_blog_de(capsys: pytest.CaptureFixture[str]) -> None:
    code, article = run_clean(capsys, str(PAGES / "blog-de.html"))
    assert code == 0
    assert article["language"] == "de"
    assert article["title"] == "Tomaten im Hochbeet: Was ich dieses Jahr anders mache"
    assert article["author"] == ["Jana Lindqvist"]
    assert article["date_published"] == "2024-05-22"
    assert article["site_name"] == "Gartennotizen"
    text = article["text"]
    assert "Außerdem pflanze ich nur noch vier statt sechs Tomaten in das Beet." in text
    assert "Ich freue mich über eure Erfahrungen in den Kommentaren." in text
    comments = [
        "Rückschnitt der unteren Blätter",
        "Bauanleitung mit den Dachlatten",
        "ich berichte im September",
    ]
    for comment in comments:
        assert comment not in text
    for chrome in ["Cookies", "Ähnliche Artikel", "Impressum", "Schreibe einen Kommentar"]:
        assert chrome not in text


def test_news_id_latin1(capsys: pytest.CaptureFixture[str]) -> None:
    code, article = run_clean(capsys, str(PAGES / "news-id-latin1.html"))
    assert code == 0
    assert article["language"] == "id"
    assert article["title"] == "Festival Kopi Bandung Tarik Ribuan Pengunjung"
    assert article["author"] == ["Rina Wulandari"]
    assert article["date_published"] == "2024-08-05"
    assert article["site_name"] == "Kabar Priangan"
    text = article["text"]
    assert "Ketua panitia, Andr\u00e9 Setiawan, mengatakan" in text
    assert "\u201cKami tidak menyangka antrean" in text
    assert "sejak pagi,\u201d ujarnya" in text
    assert "Caf\u00e9 Lembang Asri" in text
    assert "BANDUNG \u2013 Festival kopi tahunan" in text
    assert "\ufffd" not in text


def test_spa_shell_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    code, record = run_clean(capsys, str(PAGES / "spa-shell.html"))
    assert code == 1
    assert record["reason"] == "needs_javascript"
    assert record["url"] == "http://localhost/spa-shell.html"
    assert record["origin"]["topic"] == str(PAGES / "spa-shell.html")
    size = (PAGES / "spa-shell.html").stat().st_size
    assert (record["payload_bytes"], record["payload"], record["payload_truncated"]) == (size, "", True)


def test_clean_on_a_missing_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clean", "/nonexistent/page.html"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "ingest-worker clean: cannot read /nonexistent/page.html: No such file or directory\n"


def test_listing_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    code, record = run_clean(capsys, str(PAGES / "listing.html"))
    assert code == 1
    assert record["reason"] == "not_article_listing"
    assert "link titles" in record["detail"]


def test_clean_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (PAGES / "news-id-latin1.html").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code, article = run_clean(capsys, "-")
    assert code == 0
    assert article["url"] == "http://localhost/stdin"
    assert article["language"] == "id"
    assert "Andr\u00e9 Setiawan" in article["text"]


def test_clean_rejects_stdin_binary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"%PDF-1.7\n..."), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    code, record = run_clean(capsys, "-", "--url", "https://example.com/report.pdf")
    assert code == 1
    assert record["reason"] == "not_html"
    assert record["url"] == "https://example.com/report.pdf"


def test_clean_rejects_a_bad_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, record = run_clean(capsys, str(PAGES / "news-en.html"), "--url", "ftp://example.com/a")
    assert code == 1
    assert record["reason"] == "invalid_url"
    assert record["url"] == "ftp://example.com/a"


def test_clean_honours_max_page_bytes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_MAX_PAGE_BYTES", "1000")
    code, record = run_clean(capsys, str(PAGES / "news-en.html"))
    assert code == 1
    assert record["reason"] == "too_large"


def test_run_with_its_web_port_taken_is_a_one_line_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        monkeypatch.setenv("INGEST_WEB_PORT", str(taken.getsockname()[1]))
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ingest-worker: configuration error: INGEST_WEB_PORT=") and "\n" not in err
