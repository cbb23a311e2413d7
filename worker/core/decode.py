"""From a raw page's bytes or text to HTML text we are willing to parse.

Charset precedence for bytes: byte-order mark, strict UTF-8 (valid UTF-8 is almost never an
accident, and pages often declare a legacy charset they don't use), the HTTP Content-Type
charset, the `<meta>` charset, then detection. Binary payloads and declared non-HTML types are
refused.
"""

from __future__ import annotations

import codecs
import re

import cramjam
from charset_normalizer import from_bytes

from worker.errors import PageError, Reason

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"GIF8", "GIF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x1f\x8b", "gzip"),  # still compressed after `decompress`: nested compression
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "ZIP"),
    (b"RIFF", "RIFF media"),
    (b"\x00\x00\x00", "binary"),
    (b"OggS", "Ogg"),
    (b"\x7fELF", "ELF"),
)
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
SNIFF_BYTES = 4096
WIDE_CHARSETS = ("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs2")
DETECT_BYTES = 256 * 1024
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_MARKUP = re.compile(r"<[a-zA-Z!/?]")
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20))
"""Binary control characters; in UTF-8 each is its own byte, never part of another character."""


DECOMPRESSORS = {
    "gzip": cramjam.gzip,
    "x-gzip": cramjam.gzip,
    "deflate": cramjam.zlib,
    "br": cramjam.brotli,
    "zstd": cramjam.zstd,
}
COMPRESSED_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"))


def decompress(body: bytes, headers: dict[str, str], max_bytes: int) -> bytes:
    """Undo a Content-Encoding (or gzip/zstd recognized by magic) without ever exceeding max_bytes.

    trafilatura would decompress bytes itself, unbounded: pages reach it only as text.
    """
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        encoding = next((name for magic, name in COMPRESSED_MAGIC if body.startswith(magic)), "")
    if not encoding:
        return body
    codec = DECOMPRESSORS.get(encoding)
    if codec is None:
        raise PageError(Reason.UNDECODABLE, f"unsupported content-encoding {encoding[:32]!r}")
    out = bytearray(max_bytes + 1)
    try:
        size = codec.decompress_into(body, out)
    except cramjam.DecompressionError as exc:
        if "whole buffer" in str(exc):
            raise _inflates_past(encoding, max_bytes) from None
        raise PageError(Reason.UNDECODABLE, f"{encoding} body is corrupt") from None
    if size > max_bytes:
        raise _inflates_past(encoding, max_bytes)
    return bytes(out[:size])


def _inflates_past(encoding: str, max_bytes: int) -> PageError:
    """The refusal of a compressed body that is larger than `max_bytes` once inflated."""
    detail = f"{encoding} body inflates past {max_bytes} bytes"
    return PageError(Reason.DECOMPRESSED_TOO_LARGE, detail)


def check_content_type(headers: dict[str, str]) -> None:
    """Refuse a page whose declared Content-Type is not a text/markup type."""
    declared = headers.get("content-type", "").split(";")[0].strip().lower()
    if declared and declared not in HTML_TYPES:
        raise PageError(Reason.NOT_HTML, f"declared content-type {declared[:64]!r} is not HTML")


# Detectors confuse undeclared windows-1252 with DOS code pages that no web page uses.
WESTERN_DOS_CODEPAGES = frozenset({"cp437", "cp850", "cp858", "cp860", "cp861", "cp863", "cp865"})


def decode_body(body: bytes, headers: dict[str, str]) -> str:
    """Decode page bytes to text; raise PageError for binary or undecodable bytes."""
    for magic, name in MAGIC:
        if body.startswith(magic):
            raise PageError(Reason.NOT_HTML, f"body is {name} data, not HTML")
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    declared = _HEADER_CHARSET.search(headers.get("content-type", ""))
    if declared and declared.group(1).lower().startswith(WIDE_CHARSETS):
        text = _decode(body, declared.group(1))  # BOM-less UTF-16/32 also looks like UTF-8
        if text is not None:
            return text
    try:
        return body.decode("utf-8")  # valid UTF-8 beats a declared legacy charset
    except UnicodeDecodeError:
        pass
    for charset in _declared_charsets(body, headers):
        text = _decode(body, charset)
        if text is not None:
            return text
    best = from_bytes(body[:DETECT_BYTES]).best()
    detected = None if best is None else best.encoding
    if detected in WESTERN_DOS_CODEPAGES and _decode(body, "cp1252") is not None:
        detected = "cp1252"  # what the page almost surely is: the web's default fallback
    text = None if detected is None else _decode(body, detected)
    if text is None:
        raise PageError(Reason.UNDECODABLE, "body is in no recognizable text encoding")
    return text


def _declared_charsets(body: bytes, headers: dict[str, str]) -> list[str]:
    """Charsets named by the Content-Type header, then by a `<meta>` tag, in that order."""
    names = [m.group(1) for m in [_HEADER_CHARSET.search(headers.get("content-type", ""))] if m]
    meta = _CHARSET.search(body[:SNIFF_BYTES])
    name = meta.group(1).decode("ascii") if meta else ""
    if name and not name.lower().startswith(WIDE_CHARSETS):  # WHATWG: a utf-16 <meta> means UTF-8
        names.append(name)
    return names


def _decode(body: bytes, encoding: str) -> str | None:
    """Decode with a named encoding; None if the name is unknown or the bytes don't fit it."""
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:
        return None
    if text.count("\ufffd") > max(16, len(text) // 100):
        return None
    return text


def check_markup(html: str) -> None:
    """Refuse text with no markup at all or with binary control characters."""
    head = html[:65536]
    if not head.strip():
        raise PageError(Reason.NOT_HTML, "page is empty")
    if _control_count(head) > max(8, len(head) // 100):
        raise PageError(Reason.NOT_HTML, "page has binary control characters")
    if not _MARKUP.search(head):
        raise PageError(Reason.NOT_HTML, "page has no HTML markup")


def _control_count(text: str) -> int:
    """How many binary control characters a text holds (a regular expression takes 0.55 ms
    over 64 KiB, deleting the bytes from the UTF-8 form a tenth of that)."""
    raw = text.encode("utf-8", "surrogatepass")
    return len(raw) - len(raw.translate(None, _CONTROL_BYTES))
