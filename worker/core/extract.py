"""Main text and metadata of an HTML page: the only module that imports trafilatura.

Results are a pure function of (html, url): trafilatura's process-wide `deduplicate` cache is
never used, and trafilatura is only ever given text, never bytes (it would decompress them
without a size limit).
"""

from __future__ import annotations

from configparser import ConfigParser
from dataclasses import dataclass
from functools import lru_cache

from trafilatura import bare_extraction
from trafilatura.settings import use_config

from worker.core.normalize import normalize_text
from worker.errors import PageError, Reason

MAX_TREE_NODES = 200_000
"""Pages with more elements than this are refused by trafilatura (bounded work per page)."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """What trafilatura found in a page, with lists split and text normalized."""

    title: str | None
    author: list[str]
    date_published: str | None
    site_name: str | None
    description: str | None
    categories: list[str]
    tags: list[str]
    image: str | None
    text: str


@lru_cache(maxsize=1)
def _config() -> ConfigParser:
    """trafilatura's configuration with a bound on tree size and its own timeouts off."""
    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_NODES))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def extract(html: str, url: str) -> Extraction:
    """Extract an article from HTML text; raise PageError(EMPTY_EXTRACTION) if there is none."""
    document = bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        date_extraction_params={"extensive_search": True, "original_date": True},
        config=_config(),
    )
    text = normalize_text(getattr(document, "text", None) or "")
    if document is None or not text:
        raise PageError(Reason.EMPTY_EXTRACTION, "no main text found in the page")
    return Extraction(
        title=_clean(document.title),
        author=_split_names(document.author),
        date_published=_clean(document.date),
        site_name=_clean(document.sitename),
        description=_clean(document.description),
        categories=[c for c in (document.categories or []) if c],
        tags=[t for t in (document.tags or []) if t],
        image=_clean(document.image),
        text=text,
    )


def _clean(value: str | None) -> str | None:
    """Strip a metadata string; empty becomes None."""
    value = (value or "").strip()
    return value or None


def _split_names(author: str | None) -> list[str]:
    """trafilatura joins several authors with ';': split them into a list."""
    return [name.strip() for name in (author or "").split(";") if name.strip()]
