"""Language identification of extracted text (ISO 639-1 codes, with a confidence)."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SAMPLE_CHARS = 5000
MIN_CHARS = 20


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """The py3langid model with normalized probabilities, loaded once per process."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """Return (ISO 639-1 code, confidence in [0, 1]) of a text, or (None, 0.0) if too short."""
    sample = text[:SAMPLE_CHARS]
    if len(sample.strip()) < MIN_CHARS:
        return None, 0.0
    code, confidence = _identifier().classify(sample)
    return str(code), round(float(confidence), 4)
