"""The title or first heading of an image: a read-out, asked once per image at most."""

from __future__ import annotations

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView, is_label


def find_titles(page: PageView) -> list[Candidate]:
    if not page.headings:
        return []
    top = page.headings[0]
    if is_label(top.text):
        return []
    top_third = (top.bbox[1] + top.bbox[3]) / 2 < page.height / 3
    kind = "title" if top.role == BlockRole.TITLE and top_third else "heading"
    return [Candidate(kind, {}, top.text, top)]  # a read-out: nothing to explain


TITLES = QuestionKind(
    "title or heading",
    find_titles,
    {
        "title": (
            "What is the title of image {n}?",
            "Which title is printed at the top of image {n}?",
            "What does the title of image {n} say?",
        ),
        "heading": (
            "What is the first heading on image {n}?",
            "Which heading comes first on image {n}?",
            "What heading opens the text of image {n}?",
        ),
    },
    read_out=True,
)
