"""Is an answer supported by the text of its image? The check every generator's output passes.

Normalisation: Unicode NFKC, case-folding, and collapsed whitespace. The template generator
takes answers verbatim from the text, so for it the check is a literal substring test.
"""

from __future__ import annotations

import unicodedata


def normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_grounded(answer: str, text: str) -> bool:
    """True when the normalised answer occurs in the normalised text."""
    needle = normalize(answer)
    return bool(needle) and needle in normalize(text)
