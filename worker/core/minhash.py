"""MinHash signatures, LSH band keys and similarity estimates of cleaned texts. Pure.

A text is cut into shingles of `SHINGLE_WORDS` consecutive words of its dedup form
(`normalize.text_for_hash`; CJK characters count as words). Its signature keeps, for each of
`PERMUTATIONS` hash functions, the smallest hash of any shingle: two signatures agree at a
position with probability equal to the Jaccard similarity of the two shingle sets. The
signature is cut into `BANDS` bands of `ROWS` values; two texts that agree on a whole band share
that band's key and become candidates, with probability 1 - (1 - J^ROWS)^BANDS (0.87 at J=0.5,
0.985 at J=0.6, 0.9995 at J=0.7). Candidates are then verified on the whole signature.

Band keys are made from the full 32-bit values; what is stored and compared afterwards keeps
only the low `STORED_BITS` bits of each (b-bit minwise hashing, Li and Koenig 2010): 128 bytes
a signature instead of 512. Two values agree on their low 8 bits with probability
J + (1 - J) / 256, so the estimate is corrected for agreement by chance; the lowest band two
texts share (their pivot, `pivot`) is found on the stored bits too, where a band whose values
differ agrees by chance at most once in 256 times: such a pair then has no pivot predecessor
and both pages are published (never both dropped).

The parameters are part of the stored state (band keys in the tables): changing them needs a
new application id. BENCHMARKS.md has the measured precision/recall curve that chose them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import zlib
from dataclasses import dataclass

import numpy as np

from worker.core.normalize import text_for_hash

SHINGLE_WORDS = 3
PERMUTATIONS = 128
BANDS = 32
ROWS = 4
assert BANDS * ROWS == PERMUTATIONS

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|\w+")
_SEEDS = np.random.default_rng(20261202).integers(0, 2**64, size=(2, PERMUTATIONS), dtype=np.uint64)
_MULTIPLIERS = _SEEDS[0] | np.uint64(1)  # odd: multiply-shift hashing
_OFFSETS = _SEEDS[1]
_EMPTY = np.full(PERMUTATIONS, 2**32 - 1, dtype=np.uint32)
STORED_BITS = 8
_CHANCE = 2.0**-STORED_BITS
"""How often two different values agree on their stored bits."""


@dataclass(frozen=True, slots=True)
class Sketch:
    """What near-duplicate detection keeps of a text: its signature and shingle count."""

    signature: bytes
    """PERMUTATIONS little-endian uint32 values (a fresh sketch) or PERMUTATIONS bytes, their
    low bits (`compact`: what is stored)."""
    shingles: int
    """Number of distinct shingles (0 for a text without words)."""

    def encode(self) -> str:
        """The signature as base64 text, for JSON records and tables."""
        return base64.b64encode(self.signature).decode("ascii")

    @classmethod
    def decode(cls, signature: str, shingles: int) -> Sketch:
        """The inverse of `encode`."""
        return cls(base64.b64decode(signature), shingles)

    def values(self) -> np.ndarray:
        """The signature as an array of uint32 (a fresh sketch only)."""
        if len(self.signature) != 4 * PERMUTATIONS:
            raise ValueError("a compact sketch keeps only the low bits of its values")
        return np.frombuffer(self.signature, dtype="<u4")

    def low(self) -> np.ndarray:
        """The stored bits of each value, as an array of uint8."""
        if len(self.signature) == PERMUTATIONS:
            return np.frombuffer(self.signature, dtype=np.uint8)
        return (self.values() & 0xFF).astype(np.uint8)

    def compact(self) -> Sketch:
        """The sketch as it is stored: the low bits of each value."""
        return Sketch(self.low().tobytes(), self.shingles)


def shingles(text: str) -> np.ndarray:
    """The distinct shingle hashes (uint64) of a text's dedup form."""
    words = _WORD.findall(text_for_hash(text))
    if not words:
        return np.empty(0, dtype=np.uint64)
    crcs = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), np.uint64, len(words))
    hashes = (crcs + np.uint64(1)) * np.uint64(0xFF51AFD7ED558CCD)  # spread over 64 bits
    if len(hashes) < SHINGLE_WORDS:
        return np.unique(hashes[:1] ^ np.bitwise_xor.reduce(hashes))
    combined = hashes[: len(hashes) - SHINGLE_WORDS + 1].copy()
    for shift in range(1, SHINGLE_WORDS):  # order matters: rotate each word by its position
        following = hashes[shift : len(hashes) - SHINGLE_WORDS + 1 + shift]
        combined ^= (following << np.uint64(7 * shift)) | (following >> np.uint64(64 - 7 * shift))
        combined *= np.uint64(0x9E3779B97F4A7C15)
    return np.unique(combined)


def sketch(text: str) -> Sketch:
    """The MinHash sketch of a text."""
    found = shingles(text)
    if found.size == 0:
        return Sketch(_EMPTY.tobytes(), 0)
    with np.errstate(over="ignore"):
        mixed = _MULTIPLIERS[:, None] * found[None, :] + _OFFSETS[:, None]
    minimum = (mixed.min(axis=1) >> np.uint64(32)).astype("<u4")
    return Sketch(minimum.tobytes(), int(found.size))


def band_keys(sketch_: Sketch) -> list[str]:
    """One key per band: 16 hex characters naming the band's index and its values."""
    return list(_band_keys(sketch_.values().tobytes(), BANDS, ROWS))


@functools.lru_cache(maxsize=4096)
def _band_keys(raw: bytes, bands: int, rows: int) -> tuple[str, ...]:
    """(Cached: each dedup stage derives a page's keys again, several times per page.)"""
    width = rows * 4
    return tuple(
        hashlib.blake2b(
            bytes([band]) + raw[band * width : (band + 1) * width], digest_size=8
        ).hexdigest()
        for band in range(bands)
    )


def jaccard(a: Sketch, b: Sketch) -> float:
    """Estimated Jaccard similarity of the two shingle sets, from the stored bits, corrected
    for agreement by chance (1.0 for two empty texts)."""
    if a.shingles == 0 or b.shingles == 0:
        return float(a.shingles == b.shingles)
    agree = float(np.count_nonzero(a.low() == b.low())) / PERMUTATIONS
    return max(0.0, (agree - _CHANCE) / (1.0 - _CHANCE))


def pivot(a: Sketch, b: Sketch) -> int | None:
    """The lowest band whose values the two signatures share (on the stored bits), if any."""
    shared_bands = np.flatnonzero((a.low() == b.low()).reshape(BANDS, ROWS).all(axis=1))
    return int(shared_bands[0]) if shared_bands.size else None


def shared(a: Sketch, b: Sketch) -> float:
    """Estimated number of shingles the two texts have in common."""
    j = jaccard(a, b)
    return j * (a.shingles + b.shingles) / (1.0 + j)


def new_share(new: Sketch, old: Sketch) -> float:
    """How much of `new` is not in `old`, relative to the size of `old` (0 = nothing new)."""
    if old.shingles == 0:
        return 0.0 if new.shingles == 0 else 1.0
    return max(0.0, new.shingles - shared(new, old)) / old.shingles
