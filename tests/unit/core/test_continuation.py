"""Article bodies split into sibling blocks (worker/core/continuation.py)."""

from __future__ import annotations

from lxml import html as lxml_html

from worker.core.continuation import restore

FIRST = ["First paragraph of the story, long enough to count.", "Second paragraph of the first block."]
SECOND = ["Third paragraph, after the ad, in a second body block with the same class and plenty of words to count here.",
          "Fourth paragraph, the end of the story, also with quite a few words in it so the block is substantial."]  # fmt: skip


def tree(blocks: list[list[str]], css: str = "article__body") -> lxml_html.HtmlElement:
    parts = "<div class='ad'>Advertisement</div>".join(
        f"<div class='{css}'>" + "".join(f"<p>{p}</p>" for p in block) + "</div>" for block in blocks
    )
    return lxml_html.document_fromstring(f"<html><body><main>{parts}</main></body></html>")


def test_a_left_out_later_block_is_put_back_after_the_found_one() -> None:
    extracted = [*FIRST, "An author bio at the end."]
    assert restore(tree([FIRST, SECOND]), extracted) == [*FIRST, *SECOND, "An author bio at the end."]


def test_nothing_changes_when_every_block_was_found() -> None:
    assert restore(tree([FIRST, SECOND]), FIRST + SECOND) == FIRST + SECOND


def test_nothing_changes_when_no_block_was_found() -> None:
    assert restore(tree([FIRST, SECOND]), ["Something else entirely."]) == ["Something else entirely."]


def test_comment_blocks_are_never_put_back() -> None:
    assert restore(tree([FIRST, SECOND], css="comment-body"), FIRST) == FIRST
