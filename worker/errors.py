"""Rejection reasons and the error tree.

    PageError                 a page that cannot become an article; carries a `Reason`
     +-- (raised by codec, records, core.decode, core.extract with the matching reason)

Anything else raised while handling a message is a bug in the worker: the streaming layer
catches it at the message boundary and rejects the message with `Reason.INTERNAL_ERROR`.
One `Reason` value is at once the rejection record's `reason`, the metric label and the value
tests assert on.
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    """Machine-readable reason a page was rejected."""

    EMPTY_MESSAGE = "empty_message"
    NOT_JSON = "not_json"
    INVALID_SCHEMA = "invalid_schema"
    INVALID_URL = "invalid_url"
    TOO_LARGE = "too_large"
    DECOMPRESSED_TOO_LARGE = "decompressed_too_large"
    MEMORY_LIMIT = "memory_limit"
    TOO_DEEP = "too_deep"
    UNDECODABLE = "undecodable"
    NOT_HTML = "not_html"
    EMPTY_EXTRACTION = "empty_extraction"
    NEEDS_JAVASCRIPT = "needs_javascript"
    NOT_ARTICLE_LISTING = "not_article_listing"
    NOT_ARTICLE_HOMEPAGE = "not_article_homepage"
    NOT_ARTICLE_ERROR = "not_article_error"
    NOT_ARTICLE_PAYWALL = "not_article_paywall"
    NOT_ARTICLE_OTHER = "not_article_other"
    TIMEOUT = "timeout"
    EXTRACTOR_CRASHED = "extractor_crashed"
    OUTPUT_TOO_LARGE = "output_too_large"
    INTERNAL_ERROR = "internal_error"


class PageError(Exception):
    """A page that cannot become an article, with the reason and a human detail."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
