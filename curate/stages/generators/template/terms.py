"""A distinctive term (an identifier, an acronym) of a sentence, blanked; a name (a capitalised
word inside a sentence) where a page offers nothing better."""

from __future__ import annotations

import re

from curate.schemas import BlockRole
from curate.stages.generators.template.acronyms import spelled_out
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    CJK,
    CJK_TERM,
    LONG_WORD,
    REFERENCE,
    TERM,
    cloze_of,
    is_prose,
    long_enough,
    trivial,
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
        if pattern is TERM and CJK.search(block.text):
            # "Non-Maintainer Upload (NMU) と判別される", "... (eps)나 PDF를": a term stands right
            # against its CJK words, on a line of mostly Latin letters too
            pattern_here = CJK_TERM
        else:
            pattern_here = pattern
        for match in pattern_here.finditer(block.text):
            if match.start() == 0 or trivial(match.group()) or not page.unique(match.group()):
                continue
            if block.text[match.end() :].lstrip().startswith("("):
                continue  # "struc_foo(), ___(), and ...": one of a list of function names
            before = block.text[: match.start()].rstrip()
            if before.endswith("(") and spelled_out(before[:-1], match.group()):
                continue  # "Content Security Policy (___)": the words before spell it out
            if kind == "long_word" and not _stands_alone(block.text, match.start(), match.end()):
                continue
            cloze = cloze_of(page, block, match.start(), match.end())
            if cloze:
                found.append(Candidate(kind, {"cloze": cloze}, match.group(), block))
                break
    return found


_YEAR_AFTER = re.compile(r"^\W*(?:\S+\s+){0,4}?\(?(1[5-9]|20)\d\d\b")


def _stands_alone(text: str, start: int, end: int) -> bool:
    """A word among lower-case words (three either side): not one word of a title, a name or a
    byline ("Achim ___, Kurt Hornik", "A Language and ___ for Statistical Computing"), not an
    author a citation names ("___ and Heagerty 2007"), not "Figure" or "Table"."""
    before, after = text[:start].split()[-3:], text[end:].split()[:3]
    capital = [w for w in before + after if w.strip("“\"'(,.;:")[:1].isupper()]
    # a capitalised Latin word right against it, even glued to CJK text before it ("填写在LaTeX
    # ___ 中": a label's second word, blind audit, seed 47)
    beside = re.search(r"[A-Za-z][\w-]*\s*$", text[:start])
    return (
        not capital
        and not (beside and re.search(r"[A-Z]", beside.group()))
        and not _YEAR_AFTER.match(text[end:])
        and not REFERENCE.search(text[start:end])
    )


def find_long_words(page: PageView) -> list[Candidate]:
    """The last resort of a text-rich page: a name inside a sentence, blanked."""
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
    "name inside a sentence",
    find_long_words,
    {
        "long_word": (  # "name" read oddly for a word such as "Unicode" (seed 47)
            'On image {n}, what word is missing from "{cloze}"?',
            'Which word completes "{cloze}" on image {n}?',
        )
    },
    last_resort=True,
    cloze=True,
)
