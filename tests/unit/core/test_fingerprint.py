"""Article ids and content hashes (worker/core/fingerprint.py): stable across versions."""

from __future__ import annotations

import re

import pytest

from worker.core.fingerprint import article_id, content_hash

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX64 = re.compile(r"[0-9a-f]{64}")


def test_article_id_is_deterministic_32_hex() -> None:
    first = article_id("https://example.com/a")
    assert first == article_id("https://example.com/a")
    assert HEX32.fullmatch(first)


def test_article_id_differs_for_different_urls() -> None:
    urls = [
        "https://example.com/a",
        "https://example.com/b",
        "http://example.com/a",
        "https://example.com/a?x=1",
    ]
    assert len({article_id(u) for u in urls}) == len(urls)


def test_content_hash_is_64_hex() -> None:
    assert HEX64.fullmatch(content_hash("Hello world"))


@pytest.mark.parametrize(
    "variant",
    [
        "hello world",
        "HELLO WORLD",
        "  Hello   world  ",
        "Hello\n\nworld",
        "Hello\tworld\n",
        "Hello\u00a0world",
        "\uff28ello world",  # fullwidth H: NFKC-equivalent
    ],
)
def test_content_hash_equal_after_normalization(variant: str) -> None:
    assert content_hash(variant) == content_hash("Hello world")


def test_content_hash_equal_for_nfkc_equivalent_forms() -> None:
    assert content_hash("Cafe\u0301 \ufb01ne") == content_hash("caf\u00e9 fine")
    assert content_hash("Stra\u00dfe") == content_hash("STRASSE")


@pytest.mark.parametrize("other", ["Hello worlds", "Hello, world", "Hello word", "world Hello", ""])
def test_content_hash_differs_for_different_texts(other: str) -> None:
    assert content_hash(other) != content_hash("Hello world")


def test_golden_article_id() -> None:
    """Pinned: a change here re-keys every article and breaks dedup state."""
    assert article_id("https://example.com/a") == "2dce0a4c50441bfccfa9caf4b58c3cba"


def test_golden_content_hash() -> None:
    """Pinned: a change here makes every stored content hash stale."""
    golden = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    assert content_hash("Hello world") == golden
