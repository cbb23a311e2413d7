"""Log lines: one JSON object per line in production, readable text on a terminal.

`config` is the process's `logging.config.dictConfig`, also given to faust's worker (which
configures logging again when it starts), so faust's own lines take the same form. A line about
one page carries its coordinates as fields of their own (`page`, passed as `extra=`), never its
body. Control characters never reach the stream raw: JSON escapes them (and everything past
ASCII), so a record is one line; the text form, for a terminal, escapes them in the fields and in
the message, but for its line breaks (faust logs tables, Python tracebacks).
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from worker.records import Source

FORMATS = ("auto", "json", "text")
TEXT_FORMAT = "[%(asctime)s] [%(process)s] [%(levelname)s] %(message)s"
"""faust's own format (mode's), without the colours."""
URL_CHARS = 200
"""A logged URL is cut to this length (a URL is producer data, unbounded)."""
STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
"""The attributes every log record has: the others came with `extra=`."""


def resolve(form: str, stream: IO[str]) -> str:
    """The log form to use, json or text: `auto` is text on a terminal, JSON otherwise."""
    if form not in FORMATS:
        raise ValueError(f"INGEST_LOG_FORMAT={form!r} is not one of {', '.join(FORMATS)}")
    if form == "auto":
        return "text" if stream.isatty() else "json"
    return form


def page(origin: Source, url: str | None, **fields: Any) -> dict[str, Any]:
    """The `extra=` of a line about one page: the coordinates of its raw message, its URL."""
    return {
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "url": None if url is None else url[:URL_CHARS],
        **fields,
    }


def escape(text: str, keep: str = "") -> str:
    """The text with each unprintable character (control characters, line and paragraph
    separators) not in `keep` as its Python escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)


def field_value(value: Any) -> str:
    """A field's value in the text form: as is if one plain word, else quoted and escaped."""
    text = str(value)
    if text and text.isprintable() and not any(c in text for c in " '\"="):
        return text
    return repr(text)


class TextFormatter(logging.Formatter):
    """faust's text line, its message escaped but for line breaks, then the record's fields as
    `name=value`, escaped."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message, keep="\n")
        line = super().formatMessage(record)
        extra = {k: v for k, v in vars(record).items() if k not in STANDARD}
        return " ".join([line, *(f"{k}={field_value(v)}" for k, v in extra.items())])


def json_formatter() -> JsonFormatter:
    """One JSON object a line: time (ISO, UTC), level, logger, process, message, the fields."""
    return JsonFormatter(
        ["levelname", "name", "process", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def config(form: str, level: str, stream: IO[str] | None = None) -> dict[str, Any]:
    """The process's logging configuration: one handler on `stream` (stderr), in the form
    `form` resolves to for it (see `resolve`), at `level` (a name: info, warning...)."""
    stream = stream or sys.stderr  # the real one: faust redirects sys.stderr to the logs later
    formatter = json_formatter if resolve(form, stream) == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": stream,
                "level": level.upper(),
            }
        },
        "root": {"level": level.upper(), "handlers": ["default"]},
    }
