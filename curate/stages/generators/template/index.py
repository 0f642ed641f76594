"""Where a book's index sends the reader for a term: the page number its entry's dotted line
ends with ("HKDF . . . . . 69", "분철 ....... 17"). An index page holds no running text, so
this is the question its structure answers (it was dropped with no question at all). The
entries are read one line at a time, never across a row, since an index sets its terms in
two or more columns (a row read across ran two entries together: blind audit, seed 58)."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.contents import ENTRY, LEADERS, NUMBERED
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView

MOST_ENTRIES = 8  # fewer lines of term and page: no index to speak of
# an index's heading, or the running header of its pages ("Function and Concept Index")
INDEX_HEADING = re.compile(r"^(?:[\w ]*\bindex|색인|찾아보기|索引|さくいん)$", re.IGNORECASE)


def find_index(page: PageView) -> list[Candidate]:
    """One candidate per entry whose term the page prints once (not "pbkdf2" beside
    "pbkdf2_hmac_sha1"), that stands at its column's edge (an entry set in under another is
    a sub-entry: "가로선" under "선" names no term alone), whose term is whole (not cut at an
    open bracket) and whose page is not the page of the entry above or below it (where each
    gives 70, the answer is read off any of them). Only on a page headed as an index, or
    under an index's running header."""
    if not any(INDEX_HEADING.match(b.text.strip()) for b in page.blocks):
        return []  # a contents page's titles, their numbers set apart, read as terms too
    entries = []  # (term, page number, its line)
    for block in page.blocks:
        if block.role not in (BlockRole.TOC, BlockRole.PARAGRAPH):
            continue
        entry = ENTRY.match(block.text.strip())
        if entry and len(LEADERS.findall(block.text)) == 1:
            entries.append((" ".join(entry["title"].split()), entry["page"], block))
    numbered = sum(bool(NUMBERED.match(term)) for term, _, _ in entries)
    if len(entries) < MOST_ENTRIES or numbered > 0.2 * len(entries):
        return []  # no index: too few entries, or a table of contents (numbered sections)
    found = []
    for term, number, line in entries:
        column = sorted(
            (e for e in entries if _same_column(e[2], line)), key=lambda e: e[2].bbox[1]
        )
        at = next(i for i, e in enumerate(column) if e[2] is line)
        around = {column[j][1] for j in (at - 1, at + 1) if 0 <= j < len(column)}
        edge = min(e[2].bbox[0] for e in column)
        if (
            number in around
            or line.bbox[0] > edge + 0.5 * (line.bbox[3] - line.bbox[1])
            or term.count("(") != term.count(")")
            or page.norm.count(normalize(term)) != 1
        ):
            continue
        found.append(Candidate("index_page", {"term": term}, number, line))
    return found


def _same_column(a: TextBlock, b: TextBlock) -> bool:
    """Two lines of one column: they overlap across most of the narrower one."""
    overlap = min(a.bbox[2], b.bbox[2]) - max(a.bbox[0], b.bbox[0])
    return overlap > 0.5 * min(a.bbox[2] - a.bbox[0], b.bbox[2] - b.bbox[0])


INDEX = QuestionKind(
    "index entry",
    find_index,
    {
        "index_page": (
            'According to the index on image {n}, on which page is "{term}" found?',
            'On image {n}, which page does the index give for "{term}"?',
        )
    },
    once=True,
)
