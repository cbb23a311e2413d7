"""Chrome removal paragraph by paragraph (worker/core/boilerplate.py)."""

from __future__ import annotations

import pytest

from worker.core.boilerplate import clean, context, is_chrome

# --- whole chrome lines, many languages -------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Source link", "Related Articles", "Leave a Reply", "Back to top button", "Read more",
        "Read more…", "Advertisement", "ADVERTISEMENT", "Share this article", "Comments",
        "Your email address will not be published. Required fields are marked *",
        "You may also like...", "Story continues below advertisement", "Tell us what YOU think...",
        "Baca juga", "Iklan", "Bagikan", "Tinggalkan Balasan", "Kembali ke atas", "Berita",
        "Weiterlesen", "Anzeige", "Schreibe einen Kommentar", "Lesen Sie auch",
        "Leia também", "Publicidade", "Deixe um comentário", "Voltar ao topo",
        "Читайте также", "Реклама", "Поделиться",
        "Leggi anche", "Pubblicità", "Lascia un commento",
        "Leer más", "Publicidad", "Deja un comentario",
        "Lire aussi", "Publicité", "Laisser un commentaire",
        "関連記事", "広告", "관련기사", "댓글", "相关阅读",
        "\uff32\uff45\uff41\uff44 \uff4d\uff4f\uff52\uff45 \u00bb",  # full-width "Read more »"
        "\u2014 Related_Articles \u2014",
    ],
)  # fmt: skip
def test_chrome_lines_in_many_languages(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        "Baca juga: Pasukan Ukraina keluar dari wilayah Kursk",
        "Read more: Alibaba poised to launch record-breaking $13.4bn Hong Kong listing",
        "READ MORE: Hong Kong protests latest",
        "Related: From Big Bang to Present: Snapshots of Our Universe Through Time",
        "SEE MORE: Hong Kong protests: 800 students under siege in university",
        "Lesen Sie auch: Die Bahn erhöht die Preise",
        "Leia também: Como escolher brinquedos",
        "Читайте также: Новости дня",
        "Tempo de leitura: 1 minuto",
        "Filed under: Khawarij |",
        "Also on rt.com: Journalists threatened with arrests",
        "5 min read",
        "[Related: Salesforce Dreamforce Keynote: AI, Integration, Alicia Keys And Protestors]",
        "VEA TAMBIÉN: Entre heces y guaricha: la escuela del barrio",
        "(Le puede interesar: Buscan responsables de bus quemado en Anorí)",
        "Auch lesen: Diese 3 Sternzeichen verschenken ihr Herz",
        "Dowiedz się więcej: Kto jak głosował ws. unijnych funduszy?",
    ],
)
def test_pointer_lines_with_a_label(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        "Screenshot-2025-04-26-AT-11-21-31.png",
        "IMG_2041.JPG",
        "Foto Alexander Kazakov, Sputnik, Kremlin Pool via AP",
        "Photo: Getty Images",
        "(Image credit: NASA/JPL-Caltech)",
        "Image credit: All About Space",
        "Handout Kantor Presiden Ukraina",
        "REUTERS/Tyrone Siu",
        "© 2019 Example Media. All rights reserved.",
        "(Reporting by Greg Roumeliotis; Editing by Martin Howell)",
        "Reporting by Rodrigo Campos; additional reporting by Stephanie Kelly",
        "Keith Bradsher contributed reporting from Hong Kong.",
        "Follow The New York Times Opinion section on Facebook, Twitter (@NYTopinion) and "
        "Instagram.",
        "Get the latest updates right in your inbox. Subscribe to NJ.com's newsletters.",
        "Like this story? Share it with a friend!",
        "Updated at 1:23 p.m.",
        '[button link="http://example.com/submit/" type="big"] Send us YOUR review[/button]',
        "|---|---|---|",
        "* * *",
    ],
)
def test_credits_files_prompts_and_separators(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        "Jetzt unterstützen!", "Zum Newsletter anmelden", "Folgen Sie uns auf Twitter", "Liken Sie uns auf Facebook",
        "Abonnieren Sie unseren Newsletter", "Registrieren Sie sich jetzt kostenlos:",
        "Sie sind aktuell nicht eingeloggt.", "Um einen Kommentar zu hinterlassen, loggen Sie sich bitte ein.",
        "HAZTE MIEMBRO Y DISFRUTA DE BENEFICIOS EXCLUSIVOS", "Síguenos en Instagram",
        "Assine o jornal, apoie por Pix e inscreva-se no nosso canal", "Abonnez-vous à notre newsletter",
        "Subscribe now to our eNATION edition for the full story.",
        "For the latest stories and breaking news updates download the Nationnews apps for iOS and Android.",
        "Join our study group on Facebook to connect with fellow learners",
        "3 Kommentare", "0 comments", "Keine Kommentare (Kommentare erscheinen erst nach unserer Freigabe)",
        "No comments yet",
    ],
)  # fmt: skip
def test_calls_to_action_and_comment_counts_in_many_languages(line: str) -> None:
    """A call to action is chrome when it names what it sells (a newsletter, an app, a
    network, a membership, the comments) or is a short line; so is a count of comments."""
    assert is_chrome(line)


# --- real sentences that contain the same words stay ------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Read more about the plan in the council's 200-page report, which was published on Friday.",
        "Advertisement spending rose 5 percent last year, the agency said.",
        "The advertisement, which ran for two weeks, drew hundreds of complaints.",
        "Readers can leave a reply on the forum, the editor said, but few do.",
        "Source code for the app was leaked on Tuesday, according to two people.",
        "Subscribe buttons were removed from the app last year, the company said.",
        "The photo, taken by a passer-by, shows the bridge minutes before it collapsed.",
        "Foto-foto itu diambil oleh warga sebelum jembatan runtuh.",
        "Related reports suggest the talks will resume next week in Geneva.",
        "Baca juga laporan lengkapnya di situs resmi kementerian, kata juru bicara itu.",
        "Getty Images, the photo agency, said on Monday it would cut 300 jobs in Seattle.",
        "He updated the figures at 10:30 on Monday after the count was corrected by the board.",
        "Comments made by the minister on Friday caused an uproar in parliament.",
        "Weiterlesen konnte sie nicht, weil der Strom ausfiel.",
        "Join us for the parade, the mayor told the crowd of thousands on the square.",
        "Abonnieren Sie eine Zeitung, riet der Lehrer seinen Schülern im Unterricht der Klasse.",
        "3 comments by the minister on Friday caused an uproar in parliament and the press.",
        "No comment.", "No comments were made by the minister.", "“Join us,” she said.",
        "(c) The tenant shall pay the rent on the first day of each month.",
        "Copyright law is changing, the minister said on Friday.",
    ],
)
def test_real_sentences_with_chrome_words_stay(sentence: str) -> None:
    assert not is_chrome(sentence)


def test_a_long_paragraph_is_never_chrome() -> None:
    long = "Read more: " + " ".join(["word"] * 60)
    assert not is_chrome(long)


# --- clean: captions, headline, kicker, byline ------------------------------------------------


def test_clean_removes_the_repeated_headline_and_kicker() -> None:
    page = context({"Pasukan Ukraina keluar dari Kursk"}, {"Berita Dunia", "PortalBerita"}, set())
    paragraphs = [
        "Internasional",
        "Pasukan Ukraina keluar dari Kursk",
        "Semua tentara telah keluar.",
        "Teks.",
    ]
    assert clean(paragraphs, page) == ["Semua tentara telah keluar.", "Teks."]


def test_clean_keeps_a_headline_quoted_later_in_the_text() -> None:
    page = context({"Council approves barrier"}, set(), set())
    paragraphs = [
        "After two years the council voted.",
        "More text.",
        "Still more.",
        "And more.",
        "Council approves barrier",
    ]
    assert clean(paragraphs, page) == paragraphs


def test_clean_removes_a_byline_naming_the_author() -> None:
    page = context({"Headline here"}, {"Maria Okafor"}, set())
    assert clean(["By Maria Okafor", "The text."], page) == ["The text."]


def test_clean_removes_a_leading_dateline() -> None:
    page = context(set(), set(), set())
    assert clean(["sexta-feira, 22 de outubro de 2010 às 20:13", "O texto."], page) == ["O texto."]


def test_clean_removes_captions_and_alt_texts_anywhere() -> None:
    caption = (
        "Presiden Rusia Vladimir Putin mendengarkan laporan Jenderal Valery Gerasimov, "
        "Sabtu, 26 April 2025."
    )
    page = context(set(), set(), {caption, "The slimmer bezels of the new laptop"})
    paragraphs = [
        "First paragraph of text.",
        caption,
        "Second paragraph.",
        "The slimmer bezels of the new laptop",
    ]
    assert clean(paragraphs, page) == ["First paragraph of text.", "Second paragraph."]


def test_clean_keeps_text_when_nothing_matches() -> None:
    paragraphs = ["One real paragraph.", "Another real paragraph."]
    assert clean(paragraphs, context(set(), set(), set())) == paragraphs


# --- what follows the text: links to other articles, contacts, sources ----------------------

STORY = [f"Paragraph {n} of the story tells what happened and why it matters to the readers here." for n in range(6)]


@pytest.mark.parametrize(
    "heading",
    ["Related articles", "Weitere Themen", "Das könnte Sie auch interessieren:", "NOTAS RELACIONADAS",
     "Le puede interesar:", "Czytaj też:", "Читайте также", "Baca juga", "Lesen Sie auch die folgenden Beiträge:",
     "You might also like", "Auch auf example.de", "Pressekontakt:", "Quellen", "About the author",
     "Über diese Reihe"],
)  # fmt: skip
def test_a_tail_heading_in_the_second_half_ends_the_text_with_what_follows(heading: str) -> None:
    teasers = ["- Ten ways to fix your bike", "The mayor resigns after a long week of protests in the city centre"]
    assert clean([*STORY, heading, *teasers], context(set(), set(), set())) == STORY


def test_a_tail_heading_then_prose_is_an_inline_box_and_the_text_goes_on() -> None:
    """The box's teaser was extracted away: the paragraph after the heading is the story's."""
    prose = " ".join(["The show goes on with boat tours, kayaks and test drives for the visitors."] * 3)
    paragraphs = [*STORY, "Auch interessant", prose, "Opening hours are from ten to six."]
    assert clean(paragraphs, context(set(), set(), set())) == [*STORY, prose, "Opening hours are from ten to six."]


def test_a_tail_heading_in_the_first_half_does_not_end_the_text() -> None:
    paragraphs = [STORY[0], "Read also:", "- A teaser title", *STORY[1:]]
    assert clean(paragraphs, context(set(), set(), set())) == [STORY[0], "- A teaser title", *STORY[1:]]


@pytest.mark.parametrize(
    "line",
    [
        "*Werbung. Dieser Beitrag enthält Werbung für eine Marke.", "Anzeige, enthält Affiliate Links",
        "We recommend the best products through an independent review process, and advertisers do not influence our picks.",
        "As an Amazon Associate we earn from qualifying purchases.", "(Alle Angaben ohne Gewähr)",
        "Die mit Sternchen gekennzeichneten Links sind sogenannte Affiliate-Links.",
    ],
)  # fmt: skip
def test_advertising_and_affiliate_disclosures(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        "ANZEIGE - Heute mal ausgehen? Wie wäre es mit:", "Anzeige: Dieser Beitrag entstand mit einer Marke",
        "© 2022, News.example. This article is the copyrighted property of News Example. Written permission must be obtained.",
        "Copyright 2023 Example Television Corp. All rights reserved. This material may not be published or broadcast.",
        "Vervielfältigung nur mit Genehmigung", "| Weitere Artikel zum Thema |", "Originalpublikation",
    ],
)  # fmt: skip
def test_ad_labels_rights_notices_and_tail_headings_alone(line: str) -> None:
    assert is_chrome(line)


def test_prose_about_licences_that_quotes_a_rights_notice_stays() -> None:
    assert not is_chrome(
        "Nach dem Motto some rights reserved stehen die Lizenzen zwischen dem Copyright (all rights reserved) und der Public Domain."
    )
