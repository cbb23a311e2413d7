"""Dedup state: two changelog-backed tables, co-partitioned with the internal topics."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from worker.settings import Settings
from worker.topology import TABLE_OWNERS, TABLE_URLS


@dataclass(frozen=True)
class Tables:
    """`owners`: content hash -> ContentOwner; `urls`: article id -> UrlState (as JSON objects)."""

    owners: faust.Table
    urls: faust.Table


def declare(app: faust.App, settings: Settings) -> Tables:
    """Declare both tables (keys and values use the app's default json serializer)."""

    def table(name: str, help_: str) -> faust.Table:
        return app.Table(
            name,
            default=None,
            partitions=settings.partitions,
            help=help_,
        )

    return Tables(
        owners=table(TABLE_OWNERS, "content hash -> first article id with that text"),
        urls=table(TABLE_URLS, "article id -> latest content hash and revision"),
    )
