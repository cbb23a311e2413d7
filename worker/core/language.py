"""Language identification of extracted text (ISO 639-1 codes, with a confidence).

The text decides; the page's `lang` attribute is only a hint: it settles close calls between
languages the text could be (Indonesian or Malay, say) and names the language of a text too
short to identify. It never overrides a confident identification (templates often keep a
default `lang="en"`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SAMPLE_CHARS = 1000
MIN_CHARS = 20
CONFIDENT = 0.9
"""Above this the text's own verdict stands, whatever the hint says."""
HINT_MIN_SHARE = 0.1
"""Below it, the hint is taken only if it has at least this probability."""
LEGACY_CODES = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro"}
_HINT = re.compile(r"^\s*([a-zA-Z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """The py3langid model with normalized probabilities, loaded once per process."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def hint_code(lang: str | None) -> str | None:
    """The ISO 639-1 code of an HTML lang attribute ('en-US' -> 'en'), or None."""
    match = _HINT.match(lang or "")
    if match is None:
        return None
    code = match.group(1).lower()
    code = LEGACY_CODES.get(code, code)
    return code if len(code) == 2 else None


def detect_language(text: str, hint: str | None = None) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence in [0, 1]) of a text; the hint for short or close calls."""
    sample = text[:SAMPLE_CHARS]
    hinted = hint_code(hint)
    if len(sample.strip()) < MIN_CHARS:
        return hinted, 0.0
    ranked = _identifier().rank(sample)
    best, confidence = ranked[0]
    if hinted and hinted != best and confidence < CONFIDENT:
        share = dict(ranked).get(hinted, 0.0)
        if share >= HINT_MIN_SHARE:
            return hinted, round(float(share), 4)
    return str(best), round(float(confidence), 4)
