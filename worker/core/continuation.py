"""Article bodies split into sibling blocks (around ads or embeds): the blocks trafilatura left out.

Many templates cut the body into several containers with the same tag and class
(`<div class="article__body">` ... ad ... `<div class="article__body">`). trafilatura keeps the
first and may drop the rest. When the extracted text holds one such block in full and not a
word of a later one, the later blocks' paragraphs are put back after it, in page order.
"""

from __future__ import annotations

import re
from collections import defaultdict

from lxml.etree import XPath, _Element

from worker.core.boilerplate import key

MIN_COVERED = 0.8
"""Share of a block's paragraphs the extraction must hold for the block to count as found."""
MIN_BLOCK_WORDS = 30
"""A block to restore carries at least this much text in paragraphs."""
_PARAGRAPHS = XPath("//p")
_COMMENTS = re.compile(r"comment|respon|reply|disqus", re.I)


def restore(tree: _Element, paragraphs: list[str]) -> list[str]:
    """The paragraphs with left-out sibling body blocks put back after the last found block."""
    found = {key(p) for p in paragraphs}
    for blocks in _sibling_blocks(tree):
        covered = [_share(texts, found) >= MIN_COVERED for texts in blocks]
        if not any(covered):
            continue
        last = max(i for i, c in enumerate(covered) if c)
        missing = [t for texts in blocks[last + 1 :] if _share(texts, found) == 0 for t in texts]
        if sum(len(t.split()) for t in missing) >= MIN_BLOCK_WORDS:
            at = _position_after(paragraphs, blocks[last])
            paragraphs = paragraphs[:at] + missing + paragraphs[at:]
            found.update(key(t) for t in missing)
    return paragraphs


def _sibling_blocks(tree: _Element) -> list[list[list[str]]]:
    """Groups (2+) of paragraph containers sharing tag and class; per block, its paragraph texts."""
    groups: dict[tuple[str, str], dict[_Element, list[str]]] = defaultdict(dict)
    for paragraph in _PARAGRAPHS(tree):
        parent = paragraph.getparent()
        css = parent.get("class") if parent is not None else None
        text = " ".join(paragraph.text_content().split())
        if css and text and not _COMMENTS.search(css):
            groups[(parent.tag, css)].setdefault(parent, []).append(text)
    return [list(blocks.values()) for blocks in groups.values() if len(blocks) > 1]


def _share(texts: list[str], found: set[str]) -> float:
    """Share of a block's paragraphs present in the extraction."""
    return sum(key(t) in found for t in texts) / len(texts)


def _position_after(paragraphs: list[str], block: list[str]) -> int:
    """The index just after the last extracted paragraph that belongs to a block."""
    keys = {key(t) for t in block}
    return max((i + 1 for i, p in enumerate(paragraphs) if key(p) in keys), default=len(paragraphs))
