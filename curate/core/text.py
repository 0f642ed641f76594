"""Text normalisation shared by grounding checks and duplicate detection.

NFKC, case-folding, typographic dashes and quotes to ASCII, thousands separators dropped
("1,284" == "1284", and the Indian "17,81,841" == "1781841"), "12.7 %" == "12.7%", a hyphen
that ends a line joined to the next line's word ("Next-\nGen" == "Next-Gen"), whitespace
collapsed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032"), "'") | dict.fromkeys(
    map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"'
)
# A comma or a no-break space between digit groups; never a plain space, which separates the
# values of a table column ("78 210" is two numbers). Removed before NFKC, which turns no-break
# spaces into plain ones.
# Indian grouping too: "17,81,841" (two-digit groups before the last three) is 1781841.
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f](?=(?:\d\d,)*\d{3}(?!\d))")
_PERCENT = re.compile(r"(?<=\d)\s+%")
_LINE_HYPHEN = re.compile(r"(?<=\w)-[ \t]*\n\s*(?=\w)")


def normalize(text: str) -> str:
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", _THOUSANDS.sub("", text)))
    text = _LINE_HYPHEN.sub("-", text.translate(_DASHES).translate(_QUOTES))
    text = " ".join(text.casefold().split())
    return _PERCENT.sub("%", text)


_WORDS = re.compile(r"\d+(?:[.,]\d+)*|\w+")


def words(text: str) -> list[str]:
    """The normalised text's words: case folded, numbers written one way ("1,284" is "1284")
    and whole ("12.7" is one word, never "12" and "7")."""
    return _WORDS.findall(normalize(text))


def ngram_hash(gram: list[str]) -> int:
    """A 64-bit hash of a run of words: n-gram sets are sets of these."""
    return int.from_bytes(hashlib.blake2b(" ".join(gram).encode(), digest_size=8).digest())
