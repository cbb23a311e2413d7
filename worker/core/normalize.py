"""Canonical URLs and text normalization: deterministic and idempotent."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from worker.errors import PageError, Reason

MAX_URL_CHARS = 4096

DEFAULT_PORTS = {"http": 80, "https": 443}

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
        "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid",
        "s_cid", "ncid", "cmpid", "ref_src", "ref_url", "spm", "share", "sr_share",
        "at_medium", "at_campaign", "xtor", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_custom")

_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_ANY_SPACE = re.compile(r"\s+")
# Characters RFC 3986 calls unreserved never need percent-encoding.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def canonicalize_url(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL; raise PageError if it is not one.

    Lower-cases scheme and host, drops userinfo, default ports, fragments and tracking
    parameters, sorts the query, resolves dot segments, normalizes percent-escapes and
    removes a trailing slash (except the root).
    """
    if len(url) > MAX_URL_CHARS:
        raise PageError(Reason.INVALID_URL, f"url is {len(url)} characters (max {MAX_URL_CHARS})")
    if _UNSAFE_URL_CHARS.search(url.strip()):
        raise PageError(Reason.INVALID_URL, "url contains whitespace or control characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise PageError(Reason.INVALID_URL, f"url does not parse: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise PageError(Reason.INVALID_URL, f"url scheme {scheme or '(none)'!r} is not http(s)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise PageError(Reason.INVALID_URL, "url has no host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _normalize_path(parts.path)
    query = _normalize_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalize_path(path: str) -> str:
    """Resolve dot segments, normalize escapes and drop a trailing slash."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(quote(unquote(segment), safe=_PATH_SAFE.replace("/", "")))
    return "/" + "/".join(segments)


def _normalize_query(query: str) -> str:
    """Drop tracking parameters and sort the rest (stable for repeated names)."""
    pairs = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    return urlencode(sorted(pairs, key=lambda pair: pair[0]), quote_via=quote)


def _is_tracking(name: str) -> bool:
    """True for analytics and campaign parameters that do not change the page."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalize_text(text: str) -> str:
    """NFC-normalize, collapse spaces inside paragraphs, separate paragraphs by one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = (_HORIZONTAL_SPACE.sub(" ", p).strip() for p in text.split("\n"))
    return "\n\n".join(p for p in paragraphs if p)


def text_for_hash(text: str) -> str:
    """The form of a text that exact deduplication compares: NFKC, case-folded, one space."""
    return _ANY_SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())
