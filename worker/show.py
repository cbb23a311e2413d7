"""Records as people read them: one summary line per record on a terminal, JSON when piped.

Pure: formatting only. The commands that print records (`clean`, `dump`, `tail`) choose the
form with `--format`: `auto` is a summary on a terminal and a JSON line otherwise, so a pipe
into `jq` or a file always gets every field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

FORMATS = ("auto", "summary", "json")
TITLE_CHARS = 72
URL_CHARS = 80


def summaries(form: str, terminal: bool) -> bool:
    """True if records are printed as summaries (`--format`; `auto` follows the terminal)."""
    return form == "summary" or (form == "auto" and terminal)


def summary(value: Any) -> str:
    """One line for an output record, whichever topic it is from (told apart by its fields)."""
    if not isinstance(value, dict):
        return f"?          {_cut(repr(value), URL_CHARS)}"
    if "reason" in value:
        return rejected(value)
    if "duplicate_of" in value:
        return duplicate(value)
    return article(value)


def article(value: dict[str, Any]) -> str:
    """`article  <id> r<revision>  <language>  <site>  <words> w  <title>`."""
    words = value.get("word_count")
    return "  ".join(
        [
            "article  ",
            _id(value.get("id")),
            f"r{value.get('revision', '?')}",
            f"{value.get('language') or '--':2}",
            f"{_cut(site(value), 24):24}",
            f"{words if words is not None else '?':>6} w",
            _cut(value.get("title") or "(no title)", TITLE_CHARS),
        ]
    )


def duplicate(value: dict[str, Any]) -> str:
    """`duplicate <id> <kind> of <id>  <similarity>  <site>  <url>`."""
    similarity = value.get("similarity")
    stale = "  stale" if value.get("stale") else ""
    return "  ".join(
        [
            "duplicate",
            _id(value.get("id")),
            f"{value.get('kind', '?'):7} of {_id(value.get('duplicate_of'))}",
            f"{similarity:.2f}" if isinstance(similarity, int | float) else "?",
            f"{_cut(site(value), 24):24}",
            _cut(value.get("url") or "", URL_CHARS) + stale,
        ]
    )


def rejected(value: dict[str, Any]) -> str:
    """`rejected  <reason>  <topic>[<partition>]@<offset>  <url or detail>`."""
    origin = value.get("origin") or {}
    where = (
        f"{origin.get('topic', '?')}[{origin.get('partition', '?')}]@{origin.get('offset', '?')}"
    )
    return "  ".join(
        [
            "rejected ",
            f"{value.get('reason', '?'):22}",
            where,
            _cut(value.get("url") or value.get("detail") or "", URL_CHARS),
        ]
    )


def site(value: dict[str, Any]) -> str:
    """The record's site: its site name, else its URL's host without `www.`."""
    name = value.get("site_name")
    if isinstance(name, str) and name:
        return name
    url = value.get("url")
    host = urlsplit(url).hostname or "" if isinstance(url, str) else ""
    return host.removeprefix("www.")


def _id(value: Any) -> str:
    """An article id shortened to 12 hex digits (still unique in any one stream one reads)."""
    return f"{value[:12]:12}" if isinstance(value, str) else "?" * 12


def _cut(text: str, limit: int) -> str:
    """Text on one line, at most `limit` characters (an ellipsis marks a cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
