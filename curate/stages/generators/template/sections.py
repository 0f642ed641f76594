"""Which heading a sentence stands under: a relation between a fact and the page's structure."""

from __future__ import annotations

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView, is_label
from curate.stages.generators.template.rules import ANNOTATION, is_prose, sentence_at


def find_sections(page: PageView) -> list[Candidate]:
    """Which heading a sentence stands under: a relation between a fact and the page's structure."""
    found = []
    if len(page.headings) < 2:
        return found  # with one heading, "under which heading" is the title question again
    for block in page.content:
        if (
            block.role != BlockRole.PARAGRAPH
            or len(block.text.split()) < 5
            or not block.text[:1].isupper()
            or not is_prose(block.text)
            or ANNOTATION.match(block.text)  # "Note: All figures are for the year ..."
        ):
            continue
        heading = page.heading_above(block)
        snippet = " ".join(block.text.split()[:8])
        if heading and not is_label(heading.text) and page.unique(snippet):
            see = f'The line "{sentence_at(block.text, 0)}" stands below the heading '
            see += f'"{heading.text}" on image {page.n}.'
            found.append(Candidate("section", snippet, heading.text, heading, see))
    return found


SECTIONS = QuestionKind(
    "section of a sentence",
    find_sections,
    {
        "section": (
            'Under which heading does image {n} say "{snippet}"?',
            'In which section of image {n} is "{snippet}" written?',
        )
    },
)
