"""Is an answer supported by the text of its image? The check every generator's output passes.

Rule (docs/generation.md):
1. Normalise both sides: Unicode NFKC, case-folding, typographic dashes and quotes to ASCII,
   thousands separators dropped ("1,284" == "1284"), "12.7 %" == "12.7%", whitespace collapsed.
2. Grounded if the normalised answer occurs in the normalised text at token boundaries (so "37"
   does not match inside "1374").
3. Otherwise, for answers of 4+ characters, grounded if rapidfuzz's partial_ratio (best
   alignment of the answer against any stretch of the text, 0-100) reaches the threshold
   (default 90: one wrong character in a 10-character answer still passes, a different
   word does not). Threshold 100 means exact matches only (the template generator).
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032"), "'") | dict.fromkeys(
    map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"'
)
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f ](?=\d{3}(?!\d))")
_PERCENT = re.compile(r"(?<=\d)\s+%")
MIN_FUZZY_CHARS = 4


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES).casefold()
    text = " ".join(text.split())
    return _PERCENT.sub("%", _THOUSANDS.sub("", text))


def grounding_score(answer: str, text: str) -> float:
    """100 for an exact normalised match at token boundaries, else the fuzzy partial score."""
    needle, haystack = normalize(answer).strip(" .,;:"), normalize(text)
    if not needle:
        return 0.0
    pattern = rf"(?<!\w){re.escape(needle)}(?!\w)"
    if re.search(pattern, haystack):
        return 100.0
    if len(needle) < MIN_FUZZY_CHARS:
        return 0.0
    return float(fuzz.partial_ratio(needle, haystack))


def is_grounded(answer: str, text: str, threshold: float = 100.0) -> bool:
    return grounding_score(answer, text) >= threshold


def best_line(answer: str, lines: list[str]) -> int:
    """Index of the line that best supports the answer (for self-explain turns)."""
    scores = [grounding_score(answer, line) for line in lines]
    return max(range(len(lines)), key=lambda i: scores[i]) if lines else -1


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers_grounded(claim: str, text: str) -> bool:
    """Every number in a free-text claim (a caption) appears in the text: no invented figures."""
    available = set(_NUMBER.findall(normalize(text)))
    return all(number in available for number in _NUMBER.findall(normalize(claim)))
