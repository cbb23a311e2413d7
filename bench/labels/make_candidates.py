#!/usr/bin/env python3
"""Print compact metadata evidence for each page of the development corpus.

This is a *labelling aid*, not an extractor: it gathers every place where a page states its
title, author, publication date, language or site name, so that a person can read them side by
side and decide the true value (see README.md in this directory). It deliberately uses only
lxml and regular expressions -- no article extractor (trafilatura, htmldate, readability ...),
so the labels are not biased towards one of the tools they will be used to measure.

Usage:
    .venv/bin/python bench/labels/make_candidates.py [--corpus DIR] [ID_PREFIX ...] > evidence.txt

With ID prefixes, only the matching pages are printed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from lxml import html as lxml_html
from lxml.etree import ParserError, _Element

DEFAULT_CORPUS = Path("/work/shared/corpus")

# <meta> names/properties worth showing (lower-cased, matched exactly).
META_KEYS: frozenset[str] = frozenset(
    {
        "og:title", "og:site_name", "og:type", "og:locale", "og:url",
        "twitter:title", "twitter:site", "twitter:creator",
        "title", "headline", "author", "article:author", "article:publisher",
        "article:published_time", "article:modified_time", "og:article:published_time",
        "og:updated_time", "date", "pubdate", "publishdate", "publish-date", "publish_date",
        "dc.date", "dc.date.issued", "dc.creator", "dc.title", "dc.language", "dc.publisher",
        "dcterms.created", "dcterms.modified", "sailthru.author", "sailthru.date",
        "parsely-author", "parsely-pub-date", "parsely-title", "byl", "citation_author",
        "citation_date", "citation_publication_date", "language", "content-language",
        "application-name", "cxenseparse:author", "cxenseparse:recs:publishtime",
        "datepublished", "datemodified", "lastmod", "last-modified", "originalpublicationdate",
        "displaydate", "sitename", "site_name", "copyright", "news_keywords",
    }
)

# JSON-LD keys worth showing.
LD_KEYS: tuple[str, ...] = (
    "@type", "headline", "name", "alternativeHeadline", "author", "creator",
    "datePublished", "dateCreated", "dateModified", "publisher", "inLanguage",
)

# Any other <meta> key that looks date-, author-, title- or site-related.
META_PATTERN = re.compile(r"date|time|author|creator|byline|publish|site.?name|lang", re.I)

BYLINE_CLASS = re.compile(r"byline|author|writer|contributor|posted|meta-?info|dateline|credit",
                          re.I)
DATE_CLASS = re.compile(r"date|time|published|timestamp", re.I)


def norm(text: str | None) -> str:
    """Collapse whitespace."""
    return re.sub(r"\s+", " ", text or "").strip()


def short(text: str, limit: int = 160) -> str:
    """Collapse whitespace and cut to limit characters (an ellipsis marks a cut)."""
    text = norm(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def iter_ld(obj: Any) -> Iterator[dict[str, Any]]:
    """Yield every dict inside a JSON-LD value that carries an @type (follows @graph)."""
    if isinstance(obj, list):
        for item in obj:
            yield from iter_ld(item)
    elif isinstance(obj, dict):
        if "@type" in obj:
            yield obj
        if "@graph" in obj:
            yield from iter_ld(obj["@graph"])


def ld_value(value: Any) -> str:
    """Compact rendering of a JSON-LD value (names of nested persons/orgs)."""
    if isinstance(value, list):
        return "[" + ", ".join(ld_value(v) for v in value) + "]"
    if isinstance(value, dict):
        name = value.get("name")
        typ = value.get("@type", "")
        if name is not None:
            return f"{typ}:{ld_value(name)}" if typ else ld_value(name)
        return short(json.dumps(value, ensure_ascii=False), 120)
    return short(str(value), 160)


def jsonld_evidence(tree: _Element) -> list[str]:
    """One line per typed JSON-LD node: headline, author, dates, publisher, language."""
    out: list[str] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            try:  # tolerate trailing commas and control characters
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except json.JSONDecodeError:
                out.append("  ld: <unparseable> " + short(raw, 200))
                continue
        for node in iter_ld(data):
            parts = [f"{k}={ld_value(node[k])}" for k in LD_KEYS if k in node]
            if parts:
                out.append("  ld: " + " | ".join(parts))
    return out


def meta_evidence(tree: _Element) -> list[str]:
    """<meta> tags whose name/property/itemprop looks title-, author-, date- or site-related."""
    out: list[str] = []
    for meta in tree.xpath("//meta"):
        keys = [k for k in (meta.get("property"), meta.get("name"), meta.get("itemprop"),
                            meta.get("http-equiv")) if k]
        if any(k.lower() in META_KEYS or META_PATTERN.search(k) for k in keys):
            key = "/".join(keys)
            out.append(f"  meta {key}={short(meta.get('content') or '', 140)}")
    return out


def microdata_evidence(tree: _Element) -> list[str]:
    """Visible schema.org microdata (itemprop author/headline/date*/publisher) outside <meta>."""
    out: list[str] = []
    for el in tree.xpath("//*[@itemprop]"):
        prop = el.get("itemprop")
        if prop not in {"author", "datePublished", "dateModified", "headline", "name",
                        "publisher", "dateCreated"}:
            continue
        if el.tag == "meta":
            continue  # already shown with the other <meta>s
        value = el.get("content") or el.get("datetime") or el.text_content()
        if prop == "name" and el.getparent() is not None and \
                el.getparent().get("itemprop") not in {"author", "publisher"}:
            continue
        out.append(f"  itemprop {prop}<{el.tag}>={short(value, 120)}")
    return out[:20]


def time_evidence(tree: _Element) -> list[str]:
    """The first <time> elements: datetime attribute and displayed text."""
    out: list[str] = []
    for el in tree.xpath("//time")[:10]:
        out.append(f"  <time datetime={el.get('datetime')!r}> {short(el.text_content(), 80)}")
    return out


def class_evidence(tree: _Element, pattern: re.Pattern[str], label: str,
                   limit: int = 12) -> list[str]:
    """Short texts of elements whose class/id matches pattern (deduplicated)."""
    out: list[str] = []
    seen: set[str] = set()
    for el in tree.xpath("//body//*[@class or @id]"):
        if el.tag in {"script", "style", "noscript"}:
            continue
        attrs = f"{el.get('class') or ''} {el.get('id') or ''}"
        if not pattern.search(attrs):
            continue
        text = norm(el.text_content())
        if not text or len(text) > 200 or text in seen:
            continue
        seen.add(text)
        out.append(f"  {label} <{el.tag} {short(attrs, 50)!r}> {short(text, 150)}")
        if len(out) >= limit:
            break
    return out


def page_evidence(page_id: str, raw_html: str, truth: dict[str, str]) -> str:
    """The evidence block for one page (URL, lang, headings, metadata, bylines, body start)."""
    lines = [f"=== {page_id}", f"  url: {truth.get('url')}"]
    try:
        tree = lxml_html.document_fromstring(raw_html)
    except (ParserError, ValueError) as exc:
        return "\n".join(lines + [f"  <parse error {exc}>"])
    lines.append(f"  html lang={tree.get('lang')!r} xml:lang="
                 f"{tree.get('{http://www.w3.org/XML/1998/namespace}lang')!r}")
    for t in tree.xpath("//head/title | //title")[:1]:
        lines.append(f"  <title> {short(t.text_content(), 200)}")
    for tag in ("h1", "h2"):
        hs = [short(h.text_content(), 150) for h in tree.xpath(f"//body//{tag}")]
        hs = [h for h in hs if h][: 4 if tag == "h1" else 3]
        for h in hs:
            lines.append(f"  <{tag}> {h}")
    lines += meta_evidence(tree)
    lines += jsonld_evidence(tree)
    lines += microdata_evidence(tree)
    lines += time_evidence(tree)
    lines += [f"  rel=author: {short(a.text_content(), 80)} ({a.get('href')})"
              for a in tree.xpath('//a[@rel="author"]')[:4]]
    lines += class_evidence(tree, BYLINE_CLASS, "byline")
    lines += class_evidence(tree, DATE_CLASS, "datecls", limit=6)
    body = truth.get("articleBody", "")
    lines.append(f"  body[:300]: {short(body, 300)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the evidence blocks for all (or the selected) pages, sorted by id."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("ids", nargs="*", help="only pages whose id starts with one of these")
    args = parser.parse_args(argv)
    truth: dict[str, dict[str, str]] = json.loads(
        (args.corpus / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id in sorted(truth):
        if args.ids and not any(page_id.startswith(p) for p in args.ids):
            continue
        raw = gzip.decompress((args.corpus / "html" / f"{page_id}.html.gz").read_bytes())
        print(page_evidence(page_id, raw.decode("utf-8", errors="replace"), truth[page_id]))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
