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

from rapidfuzz import fuzz

from curate.core.text import normalize

MIN_FUZZY_CHARS = 4


# a character that carries a word on: a letter or digit of a script written with spaces (in
# Chinese, Japanese and Korean every character is a token boundary: "2つ" holds the number 2)
_WORD_ON = r"[^\W\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"


# a decimal a PDF's text layer splits after its point ("467. 9" for 467.9)
_SPLIT_DECIMAL = re.compile(r"(?<=\d)\. (?=\d)")


# Chinese or Japanese split by a line break (a cell's "アプリ / ケーショ / ンによる"): these
# scripts put no space between words, so the break is none
_SPLIT_HAN_KANA = re.compile(
    r"(?<=[\u3040-\u30ff\u3400-\u9fff])\s+(?=[\u3040-\u30ff\u3400-\u9fff])"
)


def rejoined(text: str) -> str:
    """The text with what the text layer split joined again: decimals ("467. 9" -> "467.9")
    and Chinese or Japanese words broken over lines. Read as another version of the page,
    never instead of it ("Step 1. 2 cups" stays there too)."""
    return _SPLIT_HAN_KANA.sub("", _SPLIT_DECIMAL.sub(".", text))


def occurs(answer: str, text: str) -> bool:
    """The normalised answer occurs in the normalised text at token boundaries (or in the
    text with its split decimals joined: `rejoined`)."""
    needle = normalize(answer).strip(" .,;:")
    if not needle:
        return False
    pattern = re.compile(rf"(?<!{_WORD_ON}){re.escape(needle)}(?!{_WORD_ON})")
    haystack = normalize(text)
    return bool(pattern.search(haystack) or pattern.search(rejoined(haystack)))


def grounding_score(answer: str, text: str) -> float:
    """100 for an exact normalised match at token boundaries, else the fuzzy partial score
    (which can be 100 too: "match" aligns perfectly inside "matching")."""
    needle, haystack = normalize(answer).strip(" .,;:"), normalize(text)
    if not needle:
        return 0.0
    if occurs(answer, text):
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
