"""A number in a sentence that only one place on the page fits, blanked."""

from __future__ import annotations

import re

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView, opens_with_mark
from curate.stages.generators.template.rules import (
    CJK_NUMBER,
    CJK_REFERENCE_AFTER,
    CJK_REFERENCE_BEFORE,
    KEY_VALUE,
    NUMBER,
    REFERENCE,
    cloze_of,
    in_citation,
    is_cjk,
    is_prose,
    long_enough,
    part_of_name,
    part_of_range,
    trimmed,
    trivial,
)

_VERSION_AFTER = re.compile(r"\s*(?:(?:version|release)\b|버전|版本|バージョン|版)", re.IGNORECASE)
_VERSION_BEFORE = re.compile(r"(?:\b(?:version|release|v)|버전|版本|バージョン)\s*$", re.IGNORECASE)


def find_numbers(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM, BlockRole.CAPTION):
            continue
        if (
            not long_enough(block.text)
            or KEY_VALUE.match(block.text.strip())
            or not is_prose(block.text)
            or page.cites(block)
        ):
            continue
        numbers = CJK_NUMBER if is_cjk(block.text) else NUMBER
        for match in numbers.finditer(block.text):
            if REFERENCE.search(page.lead_in(block) + block.text[: match.start()]):
                continue  # "[31]", "14 CFR 11.43": a citation or a reference, not a fact
            if CJK_REFERENCE_AFTER.match(block.text[match.end() :]) or CJK_REFERENCE_BEFORE.search(
                block.text[: match.start()]
            ):
                continue  # "1.4절을 참고하라", "表 3": a section, page or table it points to
            if re.search(r"(#|\bNo\.|\bNr\.|№)\s*$", block.text[: match.start()]):
                continue  # "Scenario #2", "No. 3": what numbers an item, not a quantity
            if re.search(r"\b(?:base|radix)\s*$", block.text[: match.start()], re.I):
                continue  # "in base 10": a numeral system's name, not a fact (seed 68)
            if _VERSION_AFTER.match(block.text, match.end()) or _VERSION_BEFORE.search(
                block.text, 0, match.start()
            ):
                continue  # "the ___ version", "버전 ___": which release, incidental (seed 75)
            if _counts_on(block.text[: match.start()], match.group()):
                continue  # "1부, ___부": the next of a count, guessed from the one before
            if _marks_its_line(page, block, match.start()):
                continue  # "9 Microsoft CL 15.00 compiler": a footnote's or an item's mark
            if block.text[match.end() : match.end() + 1] == "-":
                continue  # "64-bit", "64-" broken at the line's end: part of a word
            if in_citation(block.text, match.start(), match.end()):
                continue  # "(Smith, 2010)": the year of a reference, not of a fact
            if part_of_range(block.text, match.start(), match.end()):
                continue  # "20–25": blanking one end leaves a range half asked
            # the name may end the line before: "... Windows" / "10 21H1 ..."
            lead = page.lead_in(block)
            if part_of_name(lead + block.text, len(lead) + match.start(), len(lead) + match.end()):
                continue  # "MAX–8", "14 CFR": a name's part, not a quantity
            answer = trimmed(match.group())
            if trivial(answer):
                continue
            cloze = cloze_of(page, block, match.start(), match.end())
            if cloze and _bare(cloze):
                continue  # "... 사용해야 한다. ___ MB/s.": an example's figure, no sentence
            if cloze and answer:
                found.append(Candidate("number", {"cloze": cloze}, answer, block))
                break
    return found


def _counts_on(before: str, number: str) -> bool:
    """The number comes right after the one before it in a list ("1부, 2부", "steps 3, 4"):
    guessed from its neighbour, no fact (blind audits, seeds 61 and 72)."""
    previous = re.search(r"(\d+)\s*(\S{0,3}?)\s*[,、，]\s*(?:and\s+|or\s+)?$", before)
    return bool(previous) and number.isdigit() and int(previous[1]) + 1 == int(number)


def _bare(cloze: str) -> bool:
    """The blank's own sentence says nothing but the blank and a word: an example set in the
    text ("___ MB/s."), not a sentence that states a figure."""
    before, _, after = cloze.partition("___")
    ends = r"(?<!\b[A-Za-z])[.!?](?:\s|$)|[。！？]"  # not "i.e. ", "e.g. "
    own = re.split(ends, before)[-1] + " " + re.split(ends, after)[0]
    return len(own.split()) + len(re.findall(r"[\u3400-\u9fff\uac00-\ud7af]", own)) // 2 < 2


def _marks_its_line(page: PageView, block, start: int) -> bool:
    """The number opens its line as the mark of a footnote or an item (`opens_with_mark`), as a
    text layer runs footnotes together ("... warm tables. / 9 Microsoft CL ..."), not a
    quantity the sentence states."""
    if block.text[:start].strip():
        return False
    index = next((i for i, b in enumerate(page.blocks) if b is block), 0)
    return opens_with_mark(block.text, page.blocks[index - 1].text if index else "")


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
    cloze=True,
)
