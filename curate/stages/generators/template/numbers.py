"""A number in a sentence that only one place on the page fits, blanked."""

from __future__ import annotations

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    KEY_VALUE,
    NUMBER,
    REFERENCE,
    cloze_of,
    is_prose,
    sentence_at,
    trimmed,
)


def find_numbers(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM, BlockRole.CAPTION):
            continue
        if (
            len(block.text.split()) < 6
            or KEY_VALUE.match(block.text.strip())
            or not is_prose(block.text)
        ):
            continue
        for match in NUMBER.finditer(block.text):
            if REFERENCE.search(block.text[: match.start()]):
                continue  # "[31]": a citation or a page reference, not a fact
            if block.text[match.end() : match.end() + 1] == "-":
                continue  # "64-bit", "64-" broken at the line's end: part of a word
            answer = trimmed(match.group())
            cloze = cloze_of(page, block, match.start(), match.end())
            if cloze and answer:
                quote = sentence_at(block.text, match.start())
                see = f'The sentence {page.where(block)} reads "{quote}".'
                found.append(Candidate("number", cloze, answer, block, see))
                break
    return found


NUMBERS = QuestionKind(
    "number in an unambiguous sentence",
    find_numbers,
    {
        "number": (
            'On image {n}, which number completes "{cloze}"?',
            'What number is missing from "{cloze}" on image {n}?',
            'Fill in the blank from image {n}: "{cloze}"',
        )
    },
)
