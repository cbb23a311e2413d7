"""Hostile pages and messages: each is rejected with its own reason, in bounded time.

Run through `pipeline.process` on the raw bytes, as the worker's child processes do; the
pytest-timeout marker is the bound (these all finish in well under a second).
"""

from __future__ import annotations

import gzip

import orjson
import pytest

from tests.fixtures.hostile import CASES, MAX_PAGE, b64, msg
from tests.fixtures.synthetic import article_html
from worker.pipeline import Failure, process
from worker.records import Extracted, Source

ORIGIN = Source("pages.raw", 0, 7, 1_746_000_000_000)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_rejected_with_its_reason(name: str) -> None:
    value, reason = CASES[name]
    result = process(value, ORIGIN, MAX_PAGE)
    assert isinstance(result, Failure), name
    assert result.reason is reason, (name, result.detail)
    assert result.detail


@pytest.mark.timeout(20)
def test_gzip_body_within_the_limit_is_cleaned() -> None:
    result = process(msg(body=b64(gzip.compress(article_html(3).encode()))), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted) and result.word_count > 300


@pytest.mark.timeout(20)
def test_wrong_declared_charset_still_decodes_the_text() -> None:
    html = article_html(4).replace("officials said", "officials saïd «ça»").encode("utf-8")
    result = process(msg(body=b64(html), headers={"Content-Type": "text/html; charset=iso-8859-1"}), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted) and "saïd «ça»" in result.text


@pytest.mark.timeout(20)
def test_mixed_encodings_never_produce_invalid_text() -> None:
    mixed = article_html(5).encode("utf-8") + "<p>café crème résumé</p>".encode("cp1252") * 3
    result = process(msg(body=b64(mixed)), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted)
    orjson.dumps(result)  # valid UTF-8 all the way (orjson refuses lone surrogates)


@pytest.mark.timeout(20)
def test_no_entity_expansion_and_no_file_access() -> None:
    doctype = '<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    result = process(msg(html=doctype + article_html(6).replace("<p>", "<p>&e;&b; ", 1)), ORIGIN, MAX_PAGE)
    text = result.text if isinstance(result, Extracted) else result.detail
    assert "root:" not in text and "aaaaaaaaaaaaaaaaaaaa" not in text


@pytest.mark.timeout(20)
def test_a_bare_html_fragment_is_cleaned_like_a_document() -> None:
    body = "".join(f"<p>{' '.join(['The council approved the harbour plan on Monday'] * 4)} {n}.</p>" for n in range(8))
    result = process(msg(html=f"<div><h1>Harbour plan approved</h1>{body}</div>"), ORIGIN, MAX_PAGE)
    assert isinstance(result, Extracted) and result.word_count > 200
