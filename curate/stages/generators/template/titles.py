"""The title or first heading of an image: a read-out, asked once per image at most."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.schemas import BlockRole
from curate.stages.generators.grounding import is_grounded
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import (
    Candidate,
    PageView,
    is_label,
    names_a_section,
)
from curate.stages.generators.template.rules import CJK


def find_titles(page: PageView) -> list[Candidate]:
    """The title its source declares for the image (a slide's title placeholder), where the
    page shows it; else the page's first heading, only where it is plainly the page's title:
    set at least as large as any other line of its text (a watermark or a chart aside), in the
    upper part of the page. (Blind audits found a slide's bold fragment, a running header and
    an example's large type read out as "the first heading".)"""
    declared = (page.declared_title or "").strip()
    if declared:
        shown = [
            b for b in page.blocks if normalize(b.text) and normalize(b.text) in normalize(declared)
        ]
        if is_grounded(declared, page.text) and shown:
            # in the case the image shows it: a caps style prints "WHAT MAKES IT INTERESTING?"
            # for the placeholder's "What makes it interesting?" (blind audit, seed 45)
            as_shown = " ".join(b.text.strip() for b in shown)
            answer = as_shown if normalize(as_shown) == normalize(declared) else declared
            return [Candidate("title", {}, answer, shown[0])]
        return []  # the source names the image, but the page does not show that title
    if not page.headings:
        return []
    top = page.headings[0]
    if is_label(top.text) or _said_twice(top, page):
        return []
    text = [*page.content, *(b for b in page.blocks if b.role == BlockRole.HEADING)]
    tallest = max((_height(b) for b in text if b.text.strip()), default=0)
    if _height_of_line(top, page) < 0.95 * tallest or top.bbox[1] > 0.4 * page.height:
        return []
    top_third = (top.bbox[1] + top.bbox[3]) / 2 < page.height / 3
    kind = "title" if top.role == BlockRole.TITLE and top_third else "heading"
    if kind == "heading" and not _heads_text(top, page):
        return []  # a chart's bold label ("Sex" over a mosaic plot), not a heading
    if kind == "heading" and any(
        b.bbox[3] <= top.bbox[1] + 1 and _heading_like(b) for b in page.content
    ):
        return []  # "the first heading" may be a line above it that was not read as one
        # ("1.4.3 升级宏包的必要性" over "1.5 安装宏包": blind audit, seed 49)
    return [Candidate(kind, {}, top.text, top)]  # a read-out: nothing to explain


def _heads_text(heading, page: PageView, lines: float = 4) -> bool:
    """Below the heading, within `lines` of its height and under it, stands a line of three
    words or more, or a table's cell: what a heading heads. A plot's bold label ("Sex" over a
    mosaic plot, read as the page's first heading) heads one-word labels and numbers."""
    reach = heading.bbox[3] + lines * _height_of_line(heading, page)
    return any(
        heading.bbox[3] - 1 <= b.bbox[1] <= reach
        and min(b.bbox[2], heading.bbox[2]) > max(b.bbox[0], heading.bbox[0])
        and (
            b.role == BlockRole.TABLE_CELL
            or b.role not in (BlockRole.TITLE, BlockRole.HEADING)
            and len(b.text.split()) + len(CJK.findall(b.text)) // 3 >= 3
        )
        for b in page.content
    )


def _heading_like(block) -> bool:
    """A line that may be a heading whatever its role: numbered as a section, or short and not
    ending a sentence (a paragraph's last line ends on its stop)."""
    text = block.text.strip()
    if re.match(r"\d+(\.\d+)+\.?\s", text):
        return True
    if not names_a_section(text):
        return False  # "제 2 장" over a chapter's title: its number, no heading of its own
    short = len(text.split()) + len(CJK.findall(text)) // 2 <= 8
    return short and not text.endswith((".", "。", "!", "?", ":", ";", ",", "」", ")"))


def _name(text: str) -> str:
    return re.sub(r"^[\d.]+\s*", "", normalize(text)).strip()


def _said_twice(heading, page: PageView) -> bool:
    """Another line of the page gives the heading's words, its number aside: a running
    header that repeats the section's title ("큰 규모의 글쓰기" over "1.8 큰 규모의 글쓰기", blind
    audits, seeds 46 and 47). "The first heading" would have two answers."""
    name = _name(heading.text)
    return bool(name) and any(b is not heading and _name(b.text) == name for b in page.blocks)


def _height(block) -> float:
    return block.bbox[3] - block.bbox[1]


def _height_of_line(heading, page: PageView) -> float:
    """A heading wrapped over lines is joined into one box: the height of its first line."""
    first = [b for b in page.blocks if b.bbox[1] == heading.bbox[1] and b.role == heading.role]
    return _height(first[0]) if first else _height(heading)


TITLES = QuestionKind(
    "title or heading",
    find_titles,
    {
        "title": (
            "What is the title of image {n}?",
            "What title does image {n} have?",  # a slide's title may stand anywhere on it
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
