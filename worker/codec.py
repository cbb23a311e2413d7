"""Bytes <-> records: the only module that imports orjson."""

from __future__ import annotations

from typing import Any

import orjson

from worker.errors import PageError, Reason
from worker.records import Extracted, Source


def encode(record: Any) -> bytes:
    """Serialize a record (dataclass, dict or list) to compact JSON bytes."""
    return orjson.dumps(record)


def decode(data: bytes | str) -> Any:
    """Parse JSON bytes; raise PageError(NOT_JSON) with orjson's message if they are not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PageError(Reason.NOT_JSON, f"not JSON: {exc}") from None


def decode_extracted(data: bytes) -> Extracted:
    """Rebuild an Extracted record from the internal dedup topics."""
    fields = orjson.loads(data)
    fields["origin"] = Source(**fields["origin"])
    return Extracted(**fields)
