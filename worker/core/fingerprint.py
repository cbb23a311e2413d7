"""Fingerprints: article ids and content hashes (stable across versions of the worker)."""

from __future__ import annotations

import hashlib

from worker.core.normalize import text_for_hash


def article_id(canonical_url: str) -> str:
    """Deterministic article id: the first 128 bits of SHA-256 of the canonical URL, in hex."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the text's dedup form: equal after normalization, equal hash."""
    return hashlib.sha256(text_for_hash(text).encode("utf-8")).hexdigest()
