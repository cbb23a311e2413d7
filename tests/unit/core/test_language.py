"""Language identification with the lang attribute as a hint (worker/core/language.py)."""

from __future__ import annotations

import pytest

from worker.core.language import detect_language, hint_code

ID = (
    "Pejabat Ukraina tidak mengonfirmasi klaim tersebut. Dalam pembaruan pagi hari Sabtu, staf umum "
    "Ukraina mengatakan bahwa pasukannya terus menahan serangan di sektor tersebut."
)
EN = "The council approved the tidal barrier on Wednesday night after two years of public hearings."


@pytest.mark.parametrize(("lang", "code"), [("en-US", "en"), ("id_ID", "id"), ("in", "id"), ("PT-br", "pt"), ("", None), ("x", None), ("und", None)])
def test_hint_codes(lang: str, code: str | None) -> None:
    assert hint_code(lang) == code


def test_the_text_decides_over_a_template_default_lang() -> None:
    language, confidence = detect_language(ID, hint="en")
    assert language == "id" and confidence > 0.5


def test_a_confident_text_ignores_the_hint() -> None:
    assert detect_language(EN, hint="de")[0] == "en"


def test_the_hint_names_a_text_too_short_to_identify() -> None:
    assert detect_language("Ok.", hint="pt-BR") == ("pt", 0.0)
    assert detect_language("Ok.") == (None, 0.0)
