"""Where a section starts, as a table of contents gives it: the page number its entry's dotted
line ends with ("6.2.1 注册TeXPage . . . . . 43"). A contents page holds no running text, so
this is the question its structure answers; its lines are still never read as content."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.document.layout import visual_rows
from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView

# an entry: its number and title, three dot leaders or more, and an arabic page number
_ENTRY = re.compile(r"^(?P<title>.*?[^\W\d_].*?)\s*(?:\.\s*){3,}\s*(?P<page>\d{1,4})$")


def find_contents(page: PageView) -> list[Candidate]:
    """One candidate per entry whose title the page prints once (a title printed twice, as a
    chapter's and its first section's, has no one page to ask)."""
    found = []
    for row in visual_rows(page.blocks):
        first = next((b for b in row if b.role == BlockRole.TOC), None)
        if first is None:
            continue  # the page numbers may read as running footers; the entry's text may not
        entry = _ENTRY.match(" ".join(b.text.strip() for b in row))
        if entry is None:
            continue
        title = " ".join(entry["title"].split())
        if page.norm.count(normalize(title)) != 1:
            continue
        found.append(Candidate("contents_page", {"title": title}, entry["page"], first))
    return found


CONTENTS = QuestionKind(
    "table of contents entry",
    find_contents,
    {
        "contents_page": (
            'According to the table of contents on image {n}, on which page does "{title}" begin?',
            'On image {n}, which page does the table of contents give for "{title}"?',
        )
    },
    once=True,
)
