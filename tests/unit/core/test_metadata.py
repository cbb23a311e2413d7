"""Signals and the metadata read from them (worker/core/signals.py, metadata.py, authors.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import html as lxml_html

from worker.core import metadata
from worker.core.authors import authors, is_name, split_byline
from worker.core.normalize import canonicalize_url, word_key
from worker.core.signals import Signals, read_signals

URL = "https://www.portalberita.example/internasional/2025/04/26/kursk"


def page(head: str = "", body: str = "", lang: str = "en") -> Signals:
    """The signals of a small page built from head and body markup."""
    return read_signals(
        lxml_html.document_fromstring(
            f'<html lang="{lang}"><head>{head}</head><body>{body}</body></html>'
        )
    )


def ld(obj: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


# --- signals ----------------------------------------------------------------------------------


def test_signals_read_jsonld_graph_meta_and_links() -> None:
    graph = {"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Portal"},
             {"@type": ["NewsArticle"], "headline": "H"}]}  # fmt: skip
    signals = page(
        ld(graph) + '<meta property="og:title" content="T"><link rel="canonical" href="/a">'
    )
    assert [o["@type"] for o in signals.jsonld] == ["WebSite", ["NewsArticle"]]
    assert signals.articles()[0]["headline"] == "H"
    assert signals.meta["og:title"] == ["T"] and signals.links["canonical"] == ["/a"]


def test_signals_survive_broken_jsonld_and_decode_entities() -> None:
    signals = page(
        '<script type="application/ld+json">{"@type": "NewsArticle",</script>'
        '<meta property="og:title" content="&amp;#8216;Quoted&amp;#8217;">'
    )
    assert signals.jsonld == []
    assert signals.meta["og:title"] == ["\u2018Quoted\u2019"]


def test_itemprop_and_rel_are_token_lists() -> None:
    """Microdata's itemprop and HTML's rel hold space-separated tokens: each token counts."""
    signals = page(
        '<meta itemprop="datePublished dateCreated" content="2024-03-14">',
        '<span itemprop="author creator">Anna Weber</span>'
        '<a rel="author external" href="/team/jo">Jo Lindqvist</a>',
    )
    assert signals.itemprops["author"] == signals.itemprops["creator"] == ["Anna Weber"]
    assert signals.meta["datepublished"] == signals.meta["datecreated"] == ["2024-03-14"]
    assert "Jo Lindqvist" in signals.bylines


def test_signals_collect_figures_captions_alts_and_shown_dates() -> None:
    body = (
        '<figure><img src="/a.jpg" alt="A bridge at dusk">'
        "<figcaption>The bridge. Photo: AP</figcaption></figure>"
        '<img src="/b.jpg" alt="The slimmer bezels">'
        '<p class="byline">By Ana Ribeiro, March 14, 2024</p>'
        '<time datetime="2024-03-14T08:00:00Z">March 14, 2024</time>'
    )
    signals = page(body=body)
    assert signals.figures == [("/a.jpg", "A bridge at dusk", "The bridge. Photo: AP")]
    assert "The slimmer bezels" in signals.captions and "The bridge. Photo: AP" in signals.captions
    assert signals.shown_dates[0] == "March 14, 2024"
    assert signals.times == [("2024-03-14T08:00:00Z", "")]
    assert signals.bylines == ["By Ana Ribeiro, March 14, 2024"]


@pytest.mark.parametrize(
    ("body", "shell"),
    [('<div id="root"></div>', True),
     ("<noscript>You need to enable JavaScript to run this app.</noscript>", True),
     ('<div id="root"><p>' + "Rendered text. " * 10 + "</p></div>", False),
     ("<p>Plain page</p>", False)],
)  # fmt: skip
def test_signals_spot_app_shells(body: str, shell: bool) -> None:
    assert page(body=body).app_shell is shell


# --- title ------------------------------------------------------------------------------------


def test_title_is_the_visible_h1_when_it_matches_a_declared_title() -> None:
    signals = page(
        "<title>Council approves barrier | Harbor Ledger</title>",
        "<h1>Council approves tidal barrier</h1>",
    )
    assert metadata.title(signals, "Harbor Ledger", URL) == "Council approves tidal barrier"


def test_title_drops_the_site_suffix_and_prefix() -> None:
    assert metadata.split_title("Kursk news - PortalBerita", [], URL) == (
        "Kursk news",
        "PortalBerita",
    )
    assert metadata.split_title("PortalBerita | Kursk news today", ["PortalBerita"], URL) == (
        "Kursk news today",
        "PortalBerita",
    )


def test_title_ignores_an_h1_that_is_the_site_logo_or_unrelated() -> None:
    signals = page(
        '<meta property="og:title" content="Pasukan Ukraina keluar dari Kursk">',
        "<h1>Portal Berita</h1>",
    )
    assert metadata.title(signals, "Portal Berita", URL) == "Pasukan Ukraina keluar dari Kursk"
    signals = page(
        '<meta property="og:title" content="Early reviews of the console are here">',
        "<h1>Why don't you go</h1>",
    )
    assert metadata.title(signals, None, URL) == "Early reviews of the console are here"


# --- site name --------------------------------------------------------------------------------


def test_site_name_from_og_site_name_without_tagline() -> None:
    signals = page(
        '<meta property="og:site_name" content="PortalBerita | Berita terkini Indonesia">'
    )
    assert metadata.site_name(signals, URL) == "PortalBerita"


def test_site_name_from_the_title_suffix_before_the_hostname() -> None:
    signals = page("<title>Pasukan Ukraina keluar dari wilayah Kursk - PortalBerita</title>")
    assert metadata.site_name(signals, URL) == "PortalBerita"
    assert metadata.site_name(page(), URL) == "portalberita"


def test_site_name_where_sources_agree_beats_an_edition_label() -> None:
    signals = page(
        '<meta property="og:site_name" content="U.S."><title>Oil falls - Reuters</title>'
    )
    assert metadata.site_name(signals, "https://www.reuters.com/article/x") == "Reuters"


def test_site_name_is_never_a_url() -> None:
    signals = page(
        ld({"@type": "NewsArticle", "publisher": {"@id": "https://news.example/#org"}})
        + ld({"@type": "Organization", "name": "Example News"})
    )
    assert metadata.site_name(signals, "https://news.example/a") == "Example News"


# --- canonical URL, images, description, categories, tags ---------------------------------------


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (
            "https://m.portalberita.example/internasional/kursk?utm_source=x",
            "https://m.portalberita.example/internasional/kursk",
        ),
        ("/internasional/kursk-2", "https://www.portalberita.example/internasional/kursk-2"),
        ("https://other-site.example/kursk", canonicalize_url(URL)),
        ("https://www.portalberita.example/", canonicalize_url(URL)),
        ("javascript:void(0)", canonicalize_url(URL)),
    ],
)
def test_canonical_url_only_on_a_sane_host(declared: str, expected: str) -> None:
    signals = page(f'<link rel="canonical" href="{declared}">')
    assert metadata.canonical_url(signals, URL, canonicalize_url) == expected


@pytest.mark.parametrize(
    ("own", "declared", "accepted"),
    [
        ("https://spam.github.io/a", "https://victim.github.io/story", False),
        ("https://spam.blogspot.com/a", "https://victim.blogspot.com/story", False),
        ("https://spam.herokuapp.com/a", "https://victim.herokuapp.com/story", False),
        ("https://www.bbc.co.uk/news/a", "https://other.co.uk/story", False),
        ("https://www.example.co.uk/a", "https://other.example.co.uk/story", True),
        ("https://blog.victim.github.io/a", "https://victim.github.io/story", True),
        ("http://192.168.0.1/a", "http://10.0.0.1/story", False),
        ("http://192.168.0.1/a", "http://192.168.0.1:8080/story", True),
        ("http://[::1]/a", "http://[::2]/story", False),
        ("http://localhost/a", "http://localhost:8000/story", True),
    ],
)
def test_canonical_url_stays_within_the_registrable_domain(
    own: str, declared: str, accepted: bool
) -> None:
    """A tenant of a shared host (github.io, blogspot.com...) cannot claim another's URL."""
    signals = page(f'<link rel="canonical" href="{declared}">')
    expected = canonicalize_url(declared if accepted else own)
    assert metadata.canonical_url(signals, own, canonicalize_url) == expected


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("news.Example.COM.", "example.com"),
        ("victim.github.io", "victim.github.io"),
        ("a.b.victim.github.io", "victim.github.io"),
        ("github.io", "github.io"),
        ("www.city.kobe.jp", "city.kobe.jp"),
        ("m.portalberita.example", "portalberita.example"),
        ("192.168.0.1", "192.168.0.1"),
        ("::1", "::1"),
        ("localhost", "localhost"),
        ("", ""),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert metadata.registrable_domain(host) == domain


def test_site_name_falls_back_to_the_tenant_on_a_shared_host() -> None:
    assert metadata.site_name(page(), "https://victim.github.io/story") == "victim"
    assert metadata.site_name(page(), "https://blog.comwrap.co.uk/a") == "comwrap"
    assert metadata.site_name(page(), "http://192.168.0.1/a") is None


def test_images_and_lead_image() -> None:
    body = (
        '<figure><img src="/img/a.jpg" alt="A"><figcaption>Cap</figcaption></figure>'
        '<figure><img src="data:image/png;base64,xx"></figure>'
        '<figure><img src="/icon.svg"></figure>'
    )
    signals = page('<meta property="og:image" content="https://cdn.example/lead.jpg">', body)
    assert metadata.lead_image(signals, URL) == "https://cdn.example/lead.jpg"
    assert metadata.images(signals, URL) == [
        {"src": "https://www.portalberita.example/img/a.jpg", "alt": "A", "caption": "Cap"}
    ]


def test_description_categories_and_tags() -> None:
    head = (ld({"@type": "NewsArticle", "articleSection": ["World"], "keywords": "Kursk, Ukraine"})
            + '<meta name="description" content="D"><meta property="article:tag" content="Russia">'
            '<meta name="keywords" content="ukraine, war">')  # fmt: skip
    signals = page(head)
    assert metadata.description(signals) == "D"
    assert metadata.categories(signals) == ["World"]
    assert metadata.tags(signals) == ["Kursk", "Ukraine", "Russia", "war"]


# --- authors ----------------------------------------------------------------------------------


def test_authors_from_jsonld_people_not_organizations() -> None:
    obj = {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Maria Okafor"},
           {"@type": "Organization", "name": "Harbor Ledger"}]}  # fmt: skip
    assert authors(page(ld(obj)), "Harbor Ledger", []) == ["Maria Okafor"]


def test_a_byline_fragment_is_not_an_author() -> None:
    signals = page(body='<div class="byline">PortalBerita example · Internasional ·</div>')
    assert authors(signals, "PortalBerita example", ["Internasional"]) == []


@pytest.mark.parametrize(
    "value",
    ["Associated Press", "AFP", "admin", "Staff Writer", "March 14, 2024", "https://example.com/u/ana",
     "ana@example.com", "The Water Coolest", "IGN StaffUpdated", "Internasional", "Redaksi"],
)  # fmt: skip
def test_not_names(value: str) -> None:
    assert not is_name(value, {"internasional"})


@pytest.mark.parametrize(
    "value", ["Maria Okafor", "Trevor J. Mitchell", "Ana de la Cruz", "정덕현", "Венера Ерофеева"]
)
def test_names(value: str) -> None:
    assert is_name(value, set())


def test_a_site_or_agency_name_written_differently_is_not_a_name() -> None:
    assert not is_name("Harbor Ledger", {word_key("Harbor-Ledger")})
    assert not is_name("Agence France-Presse", set())


def test_bylines_are_split_and_cut_at_the_date() -> None:
    assert split_byline("By Mike Wuerthele and Malcolm Owen Monday, November 18, 2019") == [
        "Mike Wuerthele",
        "Malcolm Owen",
    ]
    assert split_byline("Finian Cunningham. Sputnik International") == [
        "Finian Cunningham",
        "Sputnik International",
    ]


def test_the_visible_byline_wins_when_it_names_more_people() -> None:
    obj = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Stefan Becket"}}
    signals = page(ld(obj), '<p class="byline">By Stefan Becket, Kathryn Watson, Grace Segers</p>')
    assert authors(signals, None, []) == ["Stefan Becket", "Kathryn Watson", "Grace Segers"]


def test_meta_author_that_is_a_url_is_ignored() -> None:
    signals = page('<meta property="article:author" content="https://www.facebook.com/example">')
    assert authors(signals, None, []) == []


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Carrie ArnoldNovember 19, 2019", ["Carrie Arnold"]),
        ("Heiko SauerDo 9 Apr 2020", ["Heiko Sauer"]),
        ("Von Tomas Spahn Fr, 18. Oktober 2019", ["Tomas Spahn"]),
        ("Von Jörn Mecher am 08.12.2022", ["Jörn Mecher"]),
        ("Par Kab Niang Le 17/02/2020", ["Kab Niang"]),
        ("Isabel Caro y José Miguel WilsonHace 13 horas", ["Isabel Caro", "José Miguel Wilson"]),
        ("By John Walk - January 10, 2020", ["John Walk"]),
    ],
)
def test_date_and_weekday_words_are_split_from_names(byline: str, names: list[str]) -> None:
    assert split_byline(byline) == names


@pytest.mark.parametrize(
    ("byline", "name"),
    [
        ("By Jane Example", "Jane Example"),
        ("Veröffentlicht vonChris Jung", "Chris Jung"),
        ("Eingestellt von Anna Weber", "Anna Weber"),
        ("AuthorAndreas Kalt", "Andreas Kalt"),
        ("Post author By Helge Fahrnberger", "Helge Fahrnberger"),
        ("Par Marie Dupont", "Marie Dupont"),
        ("Por Alberto Ávila", "Alberto Ávila"),
        ("Scritto da Luca Bianchi", "Luca Bianchi"),
        ("Текст: Венера Ерофеева", "Венера Ерофеева"),
        ("Oleh Budi Santoso", "Budi Santoso"),
        ("Door Jan de Vries", "Jan de Vries"),
        ("Text & Fotos: Ivan Valetny", "Ivan Valetny"),
        ("8. Januar 2020 · by Ana Ruiz · in Gefühle", "Ana Ruiz"),
        ("Johanna Kropfitsch Alle Artikel", "Johanna Kropfitsch"),
    ],
)
def test_credit_words_are_stripped_in_every_listed_language(byline: str, name: str) -> None:
    assert authors(page(body=f'<p class="byline">{byline}</p>'), None, []) == [name]


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Kevin McCoy USA TODAY", ["Kevin McCoy"]),
        ("Harbor Ledger - Ana Ruiz", ["Ana Ruiz"]),
        ("Ana Ruiz Harbor Ledger", ["Ana Ruiz"]),
        ("John Smith III", ["John Smith III"]),
        ("ALLY MUTNICK", ["ALLY MUTNICK"]),
    ],
)
def test_outlet_and_site_names_are_removed_from_names(byline: str, names: list[str]) -> None:
    signals = page(body=f'<p class="byline">{byline}</p>')
    assert authors(signals, "Harbor Ledger", []) == names


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Analysis by Chris Cillizza, CNN Editor-at-large", ["Chris Cillizza"]),
        ("Tom Krisher, AP Auto Writer", ["Tom Krisher"]),
        ("FOCUS-Online-Experte Robin Tschöpe", ["Robin Tschöpe"]),
        ("Mathilda Trausch, Online-Redaktion", ["Mathilda Trausch"]),
        ("Sarah Hinger, Director of Education Equity", ["Sarah Hinger"]),
        ("Mark Newton, Übersetzung Sarah Jungblut", ["Mark Newton"]),
        ("Redaktion Polizeiticker Schweiz", []),
        ("Expertin für Neue Arbeit", []),
        ("Die Zeitung Heute", []),
        ("Deutscher Caritasverband e. V.", []),
    ],
)
def test_roles_departments_and_organizations_are_never_names(byline: str, names: list[str]) -> None:
    assert authors(page(body=f'<p class="byline">{byline}</p>'), None, []) == names


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("von gnaddrig", ["gnaddrig"]),
        ("by freeman1984", ["freeman1984"]),
        ("Par Aureliana", ["Aureliana"]),
        ("Heiko", []),  # a lone word without a credit: a comment author, a label...
        ("by wordpressadmin", []),  # a site account
        ("By CNN", []),  # an all-caps word: an outlet
        ("by Harbor", []),  # the site
    ],
)
def test_a_lone_word_is_a_name_only_when_credited(byline: str, names: list[str]) -> None:
    assert authors(page(body=f'<p class="byline">{byline}</p>'), "Harbor", []) == names


def test_a_lone_word_yields_to_a_full_name_and_a_declared_person_counts() -> None:
    person = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Regan"}}
    assert authors(page(ld(person)), None, []) == ["Regan"]
    slug = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "ana.ruiz"}}
    assert authors(page(ld(slug) + '<meta name="author" content="Ana Ruiz">'), None, []) == [
        "Ana Ruiz"
    ]
    signals = page(body='<p class="byline">by marc</p><p class="byline">By Ana Ruiz</p>')
    assert authors(signals, None, []) == ["Ana Ruiz"]


def test_a_final_period_stays_after_an_initial_or_jr() -> None:
    assert authors(page(body='<p class="byline">By Perry Bacon Jr.</p>'), None, []) == [
        "Perry Bacon Jr."
    ]
    assert authors(page(body='<p class="byline">By Joe S.</p>'), None, []) == ["Joe S."]


def test_a_declared_body_is_read_as_paragraphs_without_markup_and_only_when_long() -> None:
    long_ = " ".join(["word"] * 160)
    ld = {"@type": "NewsArticle", "articleBody": f"<p>{long_}</p><p>Second <em>and</em> &amp; last.<br>End</p>"}
    signals = read_signals(lxml_html.document_fromstring(
        f"<html><head><script type='application/ld+json'>{json.dumps(ld)}</script></head><body></body></html>"
    ))  # fmt: skip
    assert metadata.declared_body(signals) == [long_, "Second and & last.", "End"]
    assert metadata.far_fuller([long_], ["a few words"]) and not metadata.far_fuller([long_], [long_[:400]])
    short = {"@type": "NewsArticle", "articleBody": "A teaser of the story."}
    teaser = read_signals(lxml_html.document_fromstring(
        f"<html><head><script type='application/ld+json'>{json.dumps(short)}</script></head><body></body></html>"
    ))  # fmt: skip
    assert metadata.declared_body(teaser) == []
