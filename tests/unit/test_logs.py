"""`worker.logs`: JSON lines in production, text on a terminal; a page's coordinates as fields;
nothing unprintable reaches the stream; faust's own lines take the same form."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import mode
import pytest

from worker import logs
from worker.core.dedup import origin_key
from worker.errors import Reason
from worker.health import ProgressClock
from worker.pipeline import Failure
from worker.records import Source
from worker.settings import Settings
from worker.streaming.agents import Output, _origin

ORIGIN = Source("pages.raw", 3, 1207, 1_700_000_000_000)
HOSTILE_URL = "https://e.example/\x1b[2J\x00a\nb\r\u2028c d'e"


class Terminal(io.StringIO):
    """A stream that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def configure() -> Iterator[Callable[[str], io.StringIO]]:
    """Configure logging in a form onto a fresh stream; the test's logging comes back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def configured(form: str) -> io.StringIO:
        stream = Terminal(tty=False)
        logging.config.dictConfig(logs.config(form, "info", stream))
        return stream

    yield configured
    root.handlers[:], root.level = handlers, level


def emit_samples() -> None:
    """A per-page line with a hostile URL, a message with a line break, an exception."""
    log = logging.getLogger("worker.streaming.agents")
    log.info("rejected", extra=logs.page(ORIGIN, HOSTILE_URL, reason="invalid_url"))
    log.warning("a message\nwith %s", "a\x1b[31m break")
    try:
        raise ValueError("bad\npage")
    except ValueError:
        log.exception("failed")


def test_json_is_one_valid_object_a_line_with_the_page_coordinates(configure: Callable[[str], io.StringIO]) -> None:
    stream = configure("json")
    emit_samples()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    page = records[0]
    assert (page["topic"], page["partition"], page["offset"]) == ("pages.raw", 3, 1207)
    assert page["url"] == HOSTILE_URL and page["reason"] == "invalid_url"
    assert page["message"] == "rejected" and page["level"] == "INFO"
    assert page["logger"] == "worker.streaming.agents" and page["time"].startswith("20")
    assert records[1]["message"] == "a message\nwith a\x1b[31m break"
    assert "ValueError: bad\npage" in records[2]["exc_info"]


def test_json_escapes_every_unprintable_character(configure: Callable[[str], io.StringIO]) -> None:
    stream = configure("json")
    emit_samples()
    text = stream.getvalue()
    assert text.count("\n") == 3 and text.endswith("\n")
    assert all(c.isprintable() for line in text.splitlines() for c in line)


def test_text_is_faust_s_line_with_the_fields_after_the_message(configure: Callable[[str], io.StringIO]) -> None:
    stream = configure("text")
    logging.getLogger("worker.streaming.agents").info(
        "rejected", extra=logs.page(ORIGIN, "https://e.example/a", reason="not_json")
    )
    [line] = stream.getvalue().splitlines()
    assert line.startswith("[20") and "[INFO] rejected " in line
    assert line.endswith(
        " rejected topic=pages.raw partition=3 offset=1207 url=https://e.example/a reason=not_json"
    )


def test_text_escapes_control_characters_in_the_fields_and_the_message_but_its_line_breaks(
    configure: Callable[[str], io.StringIO],
) -> None:
    stream = configure("text")
    emit_samples()
    text = stream.getvalue()
    lines = text.splitlines()
    assert all(c.isprintable() for line in lines for c in line)
    assert lines[0].endswith(f" url={HOSTILE_URL!r} reason=invalid_url")
    assert lines[1].endswith("a message") and lines[2] == "with a\\x1b[31m break"  # (faust's tables)
    assert lines[3].endswith(" failed") and lines[4] == "Traceback (most recent call last):"


def test_a_url_is_cut_and_absent_coordinates_stay_fields() -> None:
    fields = logs.page(ORIGIN, "https://e.example/" + "x" * 1000)
    assert len(fields["url"]) == logs.URL_CHARS
    assert logs.page(ORIGIN, None)["url"] is None


@pytest.mark.parametrize(
    ("form", "tty", "resolved"),
    [("auto", True, "text"), ("auto", False, "json"), ("json", True, "json"), ("text", False, "text")],
)
def test_auto_is_text_on_a_terminal_and_json_elsewhere(form: str, tty: bool, resolved: str) -> None:
    assert logs.resolve(form, Terminal(tty)) == resolved


def test_an_unknown_form_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="INGEST_LOG_FORMAT='yaml'"):
        logs.resolve("yaml", Terminal(False))


def test_the_setting_defaults_to_auto() -> None:
    assert Settings().log_format == "auto"
    assert Settings.from_env({"INGEST_LOG_FORMAT": "json"}).log_format == "json"


def test_faust_s_worker_logs_in_the_configured_form(configure: Callable[[str], io.StringIO]) -> None:
    """mode's Worker (faust's) replaces the root handlers as it starts: with the configuration
    `run` gives it, its lines and every library's are JSON too."""
    stream = Terminal(tty=False)
    config = logs.config("json", "info", stream)
    worker = mode.Worker(loglevel="info", logging_config=config, redirect_stdouts=False, quiet=True)
    configure("text")  # what the process had before faust started
    worker._setup_logging()
    logging.getLogger("faust.transport.consumer").info("Fetcher %s", "started")
    logging.getLogger("aiokafka.consumer.group_coordinator").warning("Joined\ngroup")
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["Fetcher started", "Joined\ngroup"]


def test_a_rejection_logs_its_coordinates_and_url(caplog: pytest.LogCaptureFixture) -> None:
    topics = SimpleNamespace(by_band=None, verdicts=None, rejected="rejected")
    output = Output(topics, Settings(), lambda: None, ProgressClock())  # type: ignore[arg-type, return-value]
    with caplog.at_level(logging.INFO, logger="worker.streaming.agents"):
        output.rejection(Failure(Reason.INVALID_URL, "no", HOSTILE_URL), ORIGIN, b"k", b"<p>body</p>")
    [record] = caplog.records
    assert (record.topic, record.partition, record.offset) == ("pages.raw", 3, 1207)  # type: ignore[attr-defined]
    assert record.url == HOSTILE_URL and record.reason == "invalid_url"  # type: ignore[attr-defined]
    assert "body" not in record.getMessage()


def test_an_origin_key_gives_its_coordinates_back() -> None:
    assert _origin(origin_key(ORIGIN)) == Source("pages.raw", 3, 1207)
