"""A list under a heading, worked out: how many items it has (the follow-up names them), and
which item comes right after another.

A list is three to twelve bulleted or numbered items in a row, each a line or a few (a line
under an item, without a bullet of its own, goes on with it), under a heading that names it.
A list that runs to the foot of the page may go on over the page, so it is not counted."""

from __future__ import annotations

import re

from curate.document.layout import BULLET
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import trimmed, unspaced

MOST_ITEMS = 12
SHORT_ITEM = 10  # words: an item short enough to be asked for by name
_MARK = re.compile(r"^\s*(?:[•◦▪▫●○■□‣⁃∙·➢►✓✔]\s*|[–—*-]\s+|\(?(\d{1,2}|[a-z])[.)]\s+)")


def _runs(page: PageView) -> list[list[list[TextBlock]]]:
    """Items in a row: paragraphs opening on a bullet, one under the other, aligned."""
    runs: list[list[list[TextBlock]]] = []
    last: list[TextBlock] | None = None
    for lines in page._paragraphs:
        first = lines[0]
        item = first.role == BlockRole.LIST_ITEM and BULLET.match(first.text)
        height = first.bbox[3] - first.bbox[1]
        follows = (
            last is not None
            and runs
            and 0 <= first.bbox[1] - last[-1].bbox[3] < 2 * height
            and abs(first.bbox[0] - last[0].bbox[0]) < height
        )
        if item and follows:
            runs[-1].append(lines)
        elif item:
            runs.append([lines])
        last = lines if item else None
    return runs


def _numbered_in_order(marks: list[str]) -> bool:
    """Numbered items count up from the first (1, 2, 3 or a, b, c); bullets need nothing."""
    found = [_MARK.match(m) for m in marks]
    numbers = [m.group(1) for m in found if m and m.group(1)]
    if not numbers:
        return True
    if len(numbers) != len(marks):
        return False
    start = ord(numbers[0]) if numbers[0].isalpha() else int(numbers[0])
    values = [ord(n) if n.isalpha() else int(n) for n in numbers]
    return values == list(range(start, start + len(values)))


def find_lists(page: PageView) -> list[Candidate]:
    found = []
    for run in _runs(page):
        if not 3 <= len(run) <= MOST_ITEMS or not _numbered_in_order([r[0].text for r in run]):
            continue
        heading = page.heading_above(run[0][0])
        if heading is None or heading.bbox[3] < run[0][0].bbox[1] - 0.5 * page.height:
            continue  # no name for the list
        if run[-1][-1].bbox[3] > 0.92 * page.height:
            continue  # it may go on over the page
        items = [_MARK.sub("", " ".join(line.text for line in lines)).strip() for lines in run]
        firsts = [_MARK.sub("", lines[0].text).strip() for lines in run]
        label = heading.text.strip()
        named = ", ".join(f'"{_short(item)}"' for item in items)
        explain = f'The list under "{label}" on image {page.n} has {len(items)} items: {named}.'
        found.append(
            Candidate(
                "list_count",
                {"label": label},
                str(len(items)),
                run[0][0],
                explain,
                worked_out=True,
                figures=tuple(firsts),
            )
        )
        for i in range(len(items) - 1):
            item, after = items[i], items[i + 1]
            if max(len(item.split()), len(after.split())) > SHORT_ITEM or len(run[i]) > 1:
                continue
            if len(run[i + 1]) > 1:
                continue  # an item over lines: asked whole or not at all
            fields = {"label": label, "item": trimmed(item)}
            found.append(Candidate("list_next", fields, trimmed(after), run[i + 1][0]))
    return found


def _short(item: str, words: int = 8) -> str:
    """An item's first words (a CJK item's first 16 characters), to name it in a follow-up."""
    if unspaced(item):
        return item[:16] + (" ..." if len(item) > 16 else "")
    cut = item.split()
    return " ".join(cut[:words]) + (" ..." if len(cut) > words else "")


LISTS = QuestionKind(
    "list under a heading",
    find_lists,
    {
        "list_count": (
            'How many items does the list under "{label}" on image {n} have?',
            'On image {n}, how many points are listed under "{label}"?',
        ),
        "list_next": (
            'In the list under "{label}" on image {n}, which item comes right after "{item}"?',
            'On image {n}, what follows "{item}" in the list under "{label}"?',
        ),
    },
    follow_ups={"": ("Which are they?", "What are those items?")},
)
