"""Where a section starts, as a table of contents gives it: the page number its entry's dotted
line ends with ("6.2.1 注册TeXPage . . . . . 43"). A contents page holds no running text, so
this is the question its structure answers; its lines are still never read as content."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.document.layout import visual_rows
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView

# an entry: its number and title, three dot leaders or more, and an arabic page number
ENTRY = re.compile(r"^(?P<title>.*?[^\W\d_].*?)\s*(?:\.\s*){3,}\s*(?P<page>\d{1,4})$")
LEADERS = re.compile(r"(?:\.\s*){3,}")
# a section's number first ("5.9.2", "第3章", "제 2 장", "Chapter 4", "附录 B"): an index, whose
# entries are terms set in two columns ("\bar ... 44 color ... 45", blind audit, seed 58), has
# none, and its pages point at where a term is mentioned, not where a section begins
NUMBERED = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.\d+(?:\.\d+)*|(?:第|제)\s*\d+\s*[章節节部장절부]"
    r"|(?:chapter|appendix|part|附录|附錄|付録|부록)\s*[\dA-Z]+)\s",
    re.IGNORECASE,
)


def find_contents(page: PageView) -> list[Candidate]:
    """One candidate per numbered entry whose title the page prints once (a title printed
    twice, as a chapter's and its first section's, has no one page to ask) and whose page is
    not the page of the entry before or after it (where every entry around gives 43, the
    answer is read off any of them: blind audit, seed 59)."""
    if not any(b.role == BlockRole.TOC for b in page.blocks):
        return []  # most pages: no rows to lay out
    entries: list[tuple[str, str, TextBlock]] = []  # (title, page, its first line)
    for row in visual_rows(page.blocks):
        first = next((b for b in row if b.role == BlockRole.TOC), None)
        if first is None:
            continue  # the page numbers may read as running footers; the entry's text may not
        text = " ".join(b.text.strip() for b in row)
        entry = ENTRY.match(text)
        if entry is None or len(LEADERS.findall(text)) != 1:
            continue  # two entries side by side: an index's columns
        entries.append((" ".join(entry["title"].split()), entry["page"], first))
    found = []
    kind = _listing(page)
    for i, (title, number, first) in enumerate(entries):
        around = {entries[j][1] for j in (i - 1, i + 1) if 0 <= j < len(entries)}
        if not NUMBERED.match(title) or number in around:
            continue
        if page.norm.count(normalize(title)) == 1:
            found.append(Candidate(kind, {"title": title}, number, first))
    return found


# a list of figures or of tables, set as a table of contents is ("그림 목록": a figure's entry
# was asked as the table of contents', blind audit, seed 74)
_FIGURES = re.compile(
    r"^(list of (figures|illustrations)|그림\s*(목록|목차|차례)|插?图(片)?目录|図目次)$", re.I
)
_TABLES = re.compile(r"^(list of tables|표\s*(목록|목차|차례)|表格?目录|表目次)$", re.I)


def _listing(page: PageView) -> str:
    """Which list the page's entries make, as its heading names it."""
    for block in page.blocks:
        text = block.text.strip()
        if _FIGURES.match(text):
            return "figures_page"
        if _TABLES.match(text):
            return "tables_page"
    return "contents_page"


CONTENTS = QuestionKind(
    "table of contents entry",
    find_contents,
    {
        "contents_page": (
            'According to the table of contents on image {n}, on which page does "{title}" begin?',
            'On image {n}, which page does the table of contents give for "{title}"?',
        ),
        "figures_page": (
            'According to the list of figures on image {n}, on which page is "{title}"?',
            'On image {n}, which page does the list of figures give for "{title}"?',
        ),
        "tables_page": (
            'According to the list of tables on image {n}, on which page is "{title}"?',
            'On image {n}, which page does the list of tables give for "{title}"?',
        ),
    },
    once=True,
)
