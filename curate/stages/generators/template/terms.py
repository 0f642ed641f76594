"""A distinctive term (an identifier, an acronym) of a sentence, blanked; a long word where a
page offers nothing better."""

from __future__ import annotations

import re

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    CJK_TERM,
    LONG_WORD,
    TERM,
    cloze_of,
    is_cjk,
    is_prose,
    long_enough,
)


def find_terms(page: PageView, pattern: re.Pattern = TERM, kind: str = "term") -> list[Candidate]:
    """A distinctive term (an identifier, an acronym) in a sentence, blanked."""
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM) or not long_enough(
            block.text
        ):
            continue
        if not is_prose(block.text) or page.cites(block):
            continue  # code, a formula, a reference: no blank to fill in
        if pattern is TERM and is_cjk(block.text):
            pattern_here = CJK_TERM  # "Non-Maintainer Upload (NMU) と判別される"
        else:
            pattern_here = pattern
        for match in pattern_here.finditer(block.text):
            if match.start() == 0 or not page.unique(match.group()):
                continue
            if block.text[match.end() :].lstrip().startswith("("):
                continue  # "struc_foo(), ___(), and ...": one of a list of function names
            cloze = cloze_of(page, block, match.start(), match.end())
            if cloze:
                found.append(Candidate(kind, {"cloze": cloze}, match.group(), block))
                break
    return found


def find_long_words(page: PageView) -> list[Candidate]:
    """The last resort of a text-rich page: a long word of a sentence, blanked."""
    return find_terms(page, LONG_WORD, "long_word")


TERMS = QuestionKind(
    "distinctive term",
    find_terms,
    {
        "term": (
            'Which term completes "{cloze}" on image {n}?',
            'On image {n}, what term is missing from "{cloze}"?',
        )
    },
    cloze=True,
)
LONG_WORDS = QuestionKind(
    "long word of a sentence",
    find_long_words,
    {
        "long_word": (
            'On image {n}, what word is missing from "{cloze}"?',
            'Which word completes "{cloze}" on image {n}?',
        )
    },
    last_resort=True,
    cloze=True,
)
