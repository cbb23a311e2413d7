"""Canonical URLs and text normalization (worker/core/normalize.py)."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable

import pytest

from worker.core.normalize import (
    canonicalize_url,
    fold,
    letters_key,
    normalize_text,
    one_line,
    text_for_hash,
    word_count,
    word_key,
)
from worker.errors import PageError, Reason

# --- canonicalize_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?utm_source=n&utm_medium=email&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a"),
        ("https://example.com/a?gclid=Cj0KCQ&page=2", "https://example.com/a?page=2"),
        ("https://example.com/a?UTM_Campaign=spring&q=x", "https://example.com/a?q=x"),
        ("https://example.com/a?utm_source=a&fbclid=b&gclid=c", "https://example.com/a"),
    ],
)
def test_tracking_params_removed(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_other_params_kept_and_sorted() -> None:
    url = "https://example.com/search?q=tide&page=2&b=1&a=2"
    assert canonicalize_url(url) == "https://example.com/search?a=2&b=1&page=2&q=tide"


def test_repeated_param_keeps_its_order() -> None:
    url = "https://example.com/s?tag=b&a=1&tag=a"
    assert canonicalize_url(url) == "https://example.com/s?a=1&tag=b&tag=a"


def test_blank_param_values_kept() -> None:
    assert canonicalize_url("https://example.com/s?x=&flag") == "https://example.com/s?flag&x="


def test_fragment_dropped() -> None:
    assert canonicalize_url("https://example.com/a#comments") == "https://example.com/a"
    assert canonicalize_url("https://example.com/a?x=1#top") == "https://example.com/a?x=1"


def test_scheme_and_host_lower_cased_path_kept() -> None:
    expected = "https://www.example.com/News/Story"
    assert canonicalize_url("HTTPS://WWW.Example.COM/News/Story") == expected


def test_userinfo_and_trailing_host_dot_dropped() -> None:
    assert canonicalize_url("https://user:pw@example.com./a") == "https://example.com/a"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://[2001:db8::1]:80/a", "http://[2001:db8::1]/a"),
        ("http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
    ],
)
def test_default_ports_dropped_others_kept(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com/a/b/", "https://example.com/a/b"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?x=1", "https://example.com/?x=1"),
        ("https://example.com//a//b", "https://example.com/a/b"),
    ],
)
def test_trailing_and_empty_slashes(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a/./b", "https://example.com/a/b"),
        ("https://example.com/a/b/../c", "https://example.com/a/c"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/b/..", "https://example.com/a"),
        ("https://example.com/a/.", "https://example.com/a"),
    ],
)
def test_dot_segments_resolved(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/%7euser", "https://example.com/~user"),  # unreserved: decoded
        ("https://example.com/%41%62c", "https://example.com/Abc"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),  # hex upper-cased
        ("https://example.com/café", "https://example.com/caf%C3%A9"),  # raw non-ASCII encoded
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),  # an escaped slash stays one
        ("https://example.com/a%3fb", "https://example.com/a%3Fb"),
        ("https://example.com/?q=caf%c3%a9", "https://example.com/?q=caf%C3%A9"),
        ("https://example.com/?q=a+b", "https://example.com/?q=a+b"),
        ("https://example.com/?q=%7euser&p=%c3%a9", "https://example.com/?p=%C3%A9&q=~user"),
        ("https://example.com/?q=a%2Bb", "https://example.com/?q=a%2Bb"),
        ("https://example.com/?q=100%25", "https://example.com/?q=100%25"),
    ],
)
def test_percent_escapes_normalized(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_escaped_and_unescaped_forms_are_one_url() -> None:
    escaped = canonicalize_url("https://example.com/caf%C3%A9")
    assert escaped == canonicalize_url("https://example.com/café")


def test_surrounding_whitespace_is_stripped() -> None:
    assert canonicalize_url("  https://example.com/a \n") == "https://example.com/a"


def test_a_space_in_the_path_or_query_is_escaped_as_browsers_do() -> None:
    """A link or a scraper's URL with a space in it names the page a browser loads with %20."""
    spaced = canonicalize_url("https://example.com/a b/c?q=x y&p=1")
    assert spaced == "https://example.com/a%20b/c?p=1&q=x%20y"
    assert spaced == canonicalize_url("https://example.com/a%20b/c?q=x%20y&p=1")


IDEMPOTENCE_URLS = [
    "https://example.com",
    "HTTP://Example.COM:80/a/b/../c/./d/?z=1&utm_source=x&a=2#frag",
    "https://example.com:8443/x/",
    "https://example.com/caf%c3%a9?q=%7e&q=b+c",
    "https://example.com/caf%C3%A9/",
    "https://example.com/a%2Fb?x=%2F",
    "https://user@example.com./%7Euser/?",
    "http://[2001:DB8::1]:8080/p?b=&a",
    "https://example.com/search?q=100%25&page=2",
    "https://example.com/;jsessionid=ABC?x=1",
    "https://example.com/a b",
    "https://example.com/?q=caf\u00e9",
    "https://example.com/\u65b0\u95fb/2024",
    "https://example.com/a?gclid=1&fbclid=2",
]


@pytest.mark.parametrize("url", IDEMPOTENCE_URLS)
def test_canonicalize_is_idempotent(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_escaped_percent_in_path_is_kept_and_idempotent() -> None:
    once = canonicalize_url("https://example.com/a%2541")
    assert once == "https://example.com/a%2541"
    assert canonicalize_url(once) == once


def test_escaped_dot_segments_resolved_once() -> None:
    once = canonicalize_url("https://example.com/a/%2E%2E/b")
    assert once == "https://example.com/b"
    assert canonicalize_url(once) == once


def test_distinct_non_utf8_escapes_stay_distinct() -> None:
    ff = canonicalize_url("https://example.com/%FF")
    assert ff != canonicalize_url("https://example.com/%FE")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file.txt",
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "data:text/html,<p>x</p>",
        "//example.com/a",
        "/relative/path",
        "example.com/a",
        "http://",
        "https:///a",
        "http://./a",
        "http://exa mple.com/",
        "http://example.com :8080/",
        "https://example.com/a\tb",
        "https://example.com/a\x00b",
        "https://example.com/a\x7fb",
        "https://example.com/a\nb",
        "https://example.com/" + "a" * 100_000,
        "https://example.com:99999/",
        "https://example.com:-1/",
        "https://example.com:abc/",
        "http://[::1/",
        "",
    ],
)
def test_rejected_urls(url: str) -> None:
    with pytest.raises(PageError) as info:
        canonicalize_url(url)
    assert info.value.reason is Reason.INVALID_URL


def test_rejected_url_detail_is_short_for_huge_url() -> None:
    with pytest.raises(PageError) as info:
        canonicalize_url("https://example.com/" + "a" * 100_000)
    assert len(info.value.detail) < 200


# --- normalize_text ---------------------------------------------------------------------------


def test_nfc() -> None:
    decomposed = "Cafe\u0301 cre\u0300me"
    assert normalize_text(decomposed) == "Caf\u00e9 cr\u00e8me"
    assert unicodedata.is_normalized("NFC", normalize_text(decomposed))


@pytest.mark.parametrize(
    "text",
    [
        "First paragraph.\nSecond paragraph.",
        "First paragraph.\n\nSecond paragraph.",
        "First paragraph.\n\n\n\nSecond paragraph.",
        "First paragraph.\r\nSecond paragraph.",
        "First paragraph.\r\rSecond paragraph.",
        "  First paragraph.  \n \t \n  Second paragraph.  ",
        "\n\nFirst paragraph.\nSecond paragraph.\n\n",
    ],
)
def test_paragraphs_joined_by_one_blank_line(text: str) -> None:
    assert normalize_text(text) == "First paragraph.\n\nSecond paragraph."


def test_inner_whitespace_collapsed() -> None:
    assert normalize_text("one \t two\u00a0\u00a0three\u2003four") == "one two three four"


def test_empty_and_blank() -> None:
    assert normalize_text("") == ""
    assert normalize_text(" \n\t\n ") == ""


@pytest.mark.parametrize(
    "text",
    [
        "a\n\nb",
        "  x  y \n\n\n z\r\n\r\nw ",
        "Cafe\u0301\u00a0\u0301 \n \u0301",
        "\ufb01le  \u2460\t\n",
        "line\u2028sep\x0cform\x0bfeed",
    ],
)
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


# --- text_for_hash, word_count ----------------------------------------------------------------


def test_text_for_hash_folds_case_space_and_compatibility_forms() -> None:
    assert text_for_hash("  Hello\n\n  WORLD\t ") == "hello world"
    assert text_for_hash("\ufb01ne \u2460") == "fine 1"  # ligature fi, circled one
    assert text_for_hash("Stra\u00dfe") == "strasse"
    assert text_for_hash("Cafe\u0301") == text_for_hash("Caf\u00e9")


def test_text_for_hash_is_idempotent() -> None:
    for text in ["Hello  World", "\ufb01ne \u01f0", "Stra\u00dfe\n\nEnde"]:
        once = text_for_hash(text)
        assert text_for_hash(once) == once


def test_text_for_hash_is_pinned() -> None:
    """Pinned: content hashes and near-duplicate shingles of stored articles depend on it."""
    text = "  Stra\u00dfe\u00a0\ufb01ne\t\u2460 Cafe\u0301\n\n\u0130STANBUL \u01f0 "
    text += "\uff21\uff22\u3000end  "
    assert text_for_hash(text) == "strasse fine 1 caf\u00e9 i\u0307stanbul j\u030c ab end"
    digest = hashlib.sha256(text_for_hash(text).encode("utf-8")).hexdigest()
    assert digest == "c00d3d312aaa92142b172a429d1067df6359337446608cef9318e6b1e1bb3fcd"


# --- comparison keys: fold, word_key, letters_key; one_line -----------------------------------


def test_fold_ignores_case_compatibility_forms_and_spacing_only() -> None:
    assert fold(" \uff32ead\u00a0 MORE\n") == fold("read more") == "read more"
    assert fold("Read more \u00bb") == "read more \u00bb"
    assert fold("Hello, world") != fold("Hello world")


def test_word_key_keeps_words_only() -> None:
    assert word_key("\u00bb Read   more\u2026 \u00ab") == word_key("READ MORE") == "read more"
    assert word_key("snake_case--word") == "snake case word"
    assert word_key("\u2014 \u00b7 |") == ""


def test_word_key_keeps_combining_marks_in_their_word() -> None:
    assert word_key("\u0939\u093f\u0902\u0926\u0940") == "\u0939\u093f\u0902\u0926\u0940"  # Hindi
    assert word_key("\u0915\u093f\u0924\u093e\u092c") != word_key("\u0915\u0924\u092c")


def test_letters_key_ignores_spacing_and_punctuation() -> None:
    assert letters_key("Tech-Crunch") == letters_key("TechCrunch") == letters_key("tech crunch")
    assert letters_key("\uff34\uff25\uff23\uff28 Crunch!") == "techcrunch"
    assert letters_key("Tech Crunch") != letters_key("Tech Crunch 2")


@pytest.mark.parametrize("key", [fold, word_key, letters_key, one_line])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "  Hello,  World!  ",
        "\ufb01ne \u01f0 \u0130",
        "\u0939\u093f\u0902\u0926\u0940 \u2014 x_y",
        "\u1100 \U0001f525\u1161",
    ],
)
def test_keys_are_idempotent(key: Callable[[str], str], text: str) -> None:
    once = key(text)
    assert key(once) == once


def test_one_line_collapses_whitespace_and_keeps_case() -> None:
    assert one_line("  By\n  Jane\u00a0DOE \t") == "By Jane DOE"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("   ", 0),
        ("one", 1),
        ("one two  three", 3),
        ("a\n\nb\tc", 3),
        ("don't stop-now", 2),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count
