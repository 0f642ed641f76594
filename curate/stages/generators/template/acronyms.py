"""What an abbreviation stands for, where the page spells it out once: "Universal Windows
Platform (UWP)", or the other way round, "UWP (Universal Windows Platform)"."""

from __future__ import annotations

import re

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView

# words an abbreviation usually skips ("Department of Energy (DOE)", "Bring Your Own Device")
_SKIPPED = frozenset("of for and the to in on a an de la le des du von und".split())
_WORDS = r"(?:[A-Za-z][\w'’-]*\s+){1,7}?[A-Za-z][\w'’-]*"
LONG_THEN_SHORT = re.compile(rf"(?P<long>{_WORDS})\s*\((?P<short>[A-Z][A-Za-z0-9&]{{1,9}})\)")
SHORT_THEN_LONG = re.compile(rf"\b(?P<short>[A-Z][A-Z0-9&]{{1,9}})\s*\((?P<long>{_WORDS})\)")


def spelled_out(long: str, short: str) -> str | None:
    """The words of `long` that `short` abbreviates: its last words whose initials (skipping
    "of", "and", ...) spell the capitals of `short`; None when they do not."""
    letters = [ch for ch in short if ch.isupper() or ch.isdigit()]
    words = long.split()
    for start in range(len(words) - 1, -1, -1):
        if words[start].lower() in _SKIPPED:
            continue
        tail = words[start:]
        chosen = [w for w in tail if w.lower() not in _SKIPPED]
        if len(chosen) > len(letters):
            return None
        for spelled in (chosen, tail):  # "Bring Your Own Device"; "Department of Energy"
            if [w[0].upper() for w in spelled] == letters and all(w[0].isupper() for w in chosen):
                return " ".join(tail)
    return None


def find_acronyms(page: PageView) -> list[Candidate]:
    found, seen = [], set()
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM, BlockRole.CAPTION):
            continue
        if page.cites(block):
            continue
        for pattern in (LONG_THEN_SHORT, SHORT_THEN_LONG):
            for match in pattern.finditer(block.text):
                short = match["short"]
                long = spelled_out(match["long"], short)
                if not long or short in seen or len(long.split()) < 2:
                    continue
                seen.add(short)
                letters = ", ".join(
                    word[0] for word in long.split() if word.lower() not in _SKIPPED
                )
                # as the page orders them: a blind audit (seed 50) found "writes the name
                # with the abbreviation beside it in brackets" said of "UWP (Universal ...)"
                shown = (
                    f'"{long}" with "{short}" beside it in brackets'
                    if pattern is LONG_THEN_SHORT
                    else f'"{short}" with "{long}" beside it in brackets'
                )
                explain = (
                    f"Image {page.n} writes {shown}: {short} is formed from the initials {letters}."
                )
                found.append(Candidate("acronym", {"short": short}, long, block, explain))
    return found


ACRONYMS = QuestionKind(
    "abbreviation spelled out",
    find_acronyms,
    {
        "acronym": (
            'On image {n}, what does "{short}" stand for?',
            'What is "{short}" short for, according to image {n}?',
        )
    },
    follow_ups={"": ("How can you tell?", "How is the abbreviation formed?")},
)
