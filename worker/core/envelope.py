"""The raw-page envelope: a decoded JSON value checked against the input contract.

Mirrors `schemas/raw_page.schema.json` (tests/contract keeps the two in agreement).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from worker.errors import PageError, Reason
from worker.records import RawPage

RECORD_OVERHEAD_BYTES = 128
"""What a producer adds to a message's key and value in a record batch (aiokafka estimates
under 100): a message of more than the limit minus this is refused."""


def header_text(value: bytes) -> str:
    """An HTTP header value as producers send it: UTF-8 if it is valid UTF-8, else ISO-8859-1
    (HTTP's historic charset)."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("latin-1")


def parse_raw_page(obj: Any) -> RawPage:
    """Validate a decoded message and return it as a RawPage; raise PageError if it is not one."""
    if not isinstance(obj, dict):
        raise _schema(f"message is a JSON {_json_type(obj)}, expected an object")
    url = obj.get("url")
    if not isinstance(url, str) or not url:
        raise _schema("url: required, a non-empty string")
    html, body = obj.get("html"), obj.get("body")
    if (html is None) == (body is None):
        raise _schema("exactly one of html or body is required")
    if html is not None and not isinstance(html, str):
        raise _schema(f"html: expected a string, got {_json_type(html)}")
    return RawPage(
        url=url,
        html=html,
        body=None if body is None else _decode_base64(body),
        status=_optional_int(obj, "status"),
        headers=_headers(obj.get("headers")),
        fetched_at=_optional_time(obj, "fetched_at"),
        source=_optional_str(obj, "source"),
        meta=obj.get("meta"),
    )


def iso_utc(moment: datetime) -> str:
    """Format a datetime as ISO-8601 in UTC with a `Z` suffix."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _decode_base64(body: Any) -> bytes:
    """Decode the base64 `body` field strictly."""
    if not isinstance(body, str):
        raise _schema(f"body: expected a base64 string, got {_json_type(body)}")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise PageError(Reason.UNDECODABLE, "body: not valid base64") from None


def _optional_int(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _schema(f"{name}: expected an integer, got {_json_type(value)}")
    return value


def _optional_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise _schema(f"{name}: expected a string, got {_json_type(value)}")
    return value


def _optional_time(obj: dict[str, Any], name: str) -> str | None:
    value = _optional_str(obj, name)
    if value is None:
        return None
    try:
        return iso_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        raise _schema(f"{name}: {value[:64]!r} is not an ISO-8601 date-time") from None


def _headers(value: Any) -> dict[str, str]:
    """Headers as a dict with lower-cased names; values must be strings."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _schema(f"headers: expected an object, got {_json_type(value)}")
    headers: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(item, str):
            raise _schema(f"headers.{name[:64]}: expected a string, got {_json_type(item)}")
        headers[name.lower()] = item
    return headers


def _schema(detail: str) -> PageError:
    return PageError(Reason.INVALID_SCHEMA, detail)


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
