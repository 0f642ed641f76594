"""A numbered list under a heading, worked out: how many items it has, and, in a list of
steps, which item comes right after another.

A list is three to twelve items numbered 1, 2, 3 (or a, b, c) in a row, each a line or a few
(a line indented under an item goes on with it), under a heading that names it. Only numbered
lists are counted: their numbers confirm the count, where a blind audit found bullets miscounted
(sub-bullets, two columns, the next box's items). A list that runs to the foot of the page, or
whose numbering goes on further down, is not counted. An item is asked for by name only when
it is one short line that does not fill its column (so it is not cut at a wrap)."""

from __future__ import annotations

import re

from curate.document.layout import BULLET
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import CJK, trimmed

MOST_ITEMS = 12
SHORT_ITEM = 10  # words: an item short enough to be asked for by name
_NUMBER = re.compile(r"^\s*\(?(\d{1,2}|[a-z])[.)]\s+")


def _number(text: str) -> int | None:
    """The item's number: 1 for "1." or "a)"; None for a bullet."""
    match = _NUMBER.match(text)
    if not match:
        return None
    mark = match.group(1)
    return ord(mark) - ord("a") + 1 if mark.isalpha() else int(mark)


def _runs(page: PageView) -> list[list[list[TextBlock]]]:
    """Items in a row: paragraphs opening on a bullet, one under the other, aligned."""
    runs: list[list[list[TextBlock]]] = []
    last: list[TextBlock] | None = None
    for lines in page.paragraph_lines:
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


def _counted(run: list[list[TextBlock]], page: PageView) -> bool:
    """Numbered 1, 2, 3 ... from the first item to the last, and no item further down the
    page carries the numbering on (a sub-list or a box broke the run)."""
    numbers = [_number(lines[0].text) for lines in run]
    if numbers != list(range(1, len(run) + 1)):
        return False
    after = {id(b) for lines in run for b in lines}
    bottom = run[-1][-1].bbox[3]
    letters = _NUMBER.match(run[0][0].text).group(1).isalpha()
    following = chr(ord("a") + len(run)) if letters else str(len(run) + 1)
    # the next mark, whatever the line's role, even glued to its text ("10.Handle All
    # Errors": a slide's tenth point, not read as an item)
    goes_on = re.compile(rf"\s*\(?{following}[.)](?!\d)")
    return not any(
        goes_on.match(b.text) for b in page.blocks if id(b) not in after and b.bbox[1] >= bottom
    )


def _label_above(run: list[list[TextBlock]], page: PageView) -> TextBlock | None:
    """A short line right above the list's first item, at or left of its edge, that is no
    sentence nor a paragraph's last line: the list's name where no heading gives one (a
    changelog's "v2021.4.7" over the changes it lists)."""
    first = run[0][0]
    height = first.bbox[3] - first.bbox[1]
    index = next(i for i, b in enumerate(page.blocks) if b is first)
    if index == 0:
        return None
    above = page.blocks[index - 1]
    text = above.text.strip()
    words = len(text.split()) + len(CJK.findall(text)) // 2
    if (
        above.role not in (BlockRole.PARAGRAPH, BlockRole.HEADING)
        or above not in page.content
        or not 0 <= first.bbox[1] - above.bbox[3] <= 2 * height
        or above.bbox[0] > first.bbox[0] + 1
        or not 1 <= words <= 4
        or re.search(r"[.。,，、;；:：!?！？]$", text)
        or BULLET.match(text)
        or index > 1
        and _runs_into(page.blocks[index - 2], above)
    ):
        return None
    return above


def _runs_into(line: TextBlock, below: TextBlock) -> bool:
    """`below` is the last line of a paragraph `line` is in ("... to install / the following"),
    not a line of its own: right under it, at its left edge."""
    height = below.bbox[3] - below.bbox[1]
    return (
        0 <= below.bbox[1] - line.bbox[3] <= 0.6 * height
        and abs(below.bbox[0] - line.bbox[0]) <= 0.5 * height
    )


def _goes_on(run: list[list[TextBlock]], page: PageView) -> bool:
    """The list ends the page's content and the next page opens on its next number: it goes
    on over the page, though the page ends short of its foot (a changelog's "v2020.5.1" was
    counted 4 items on one page, with items 5 to 8 at the top of the next: blind audit, seed
    77)."""
    bottom = run[-1][-1].bbox[3]
    if any(b.bbox[1] >= bottom for b in page.content):
        return False
    return bool(re.match(rf"\(?{len(run) + 1}[.)]", page.next_page_opens.strip()))


def find_lists(page: PageView) -> list[Candidate]:
    found = []
    runs = _runs(page)
    under = [_label_above(run, page) or page.heading_above(run[0][0]) for run in runs]
    for run, heading in zip(runs, under, strict=True):
        if not 3 <= len(run) <= MOST_ITEMS or not _counted(run, page):
            continue
        if sum(other is heading for other in under) > 1:
            continue  # two lists under one heading: "the list under" it names neither
        if heading is None or heading.bbox[3] < run[0][0].bbox[1] - 0.5 * page.height:
            continue  # no name for the list
        if run[-1][-1].bbox[3] > 0.92 * page.height or _goes_on(run, page):
            continue  # it may go on over the page
        items = [_NUMBER.sub("", " ".join(line.text for line in lines)).strip() for lines in run]
        label = heading.text.strip()
        first, last = items[0], items[-1]
        explain = None
        if max(len(first.split()), len(last.split())) <= SHORT_ITEM:
            explain = (
                f'The list under "{label}" on image {page.n} numbers its items from 1 to '
                f'{len(items)}: item 1 is "{trimmed(first)}" and item {len(items)}, the last, is '
                f'"{trimmed(last)}". So it holds {len(items)} items.'
            )
        found.append(
            Candidate(
                "list_count",
                {"label": label},
                str(len(items)),
                run[0][0],
                explain,
                worked_out=True,
                figures=tuple(lines[0].text for lines in run),
            )
        )
        widest = max(b.bbox[2] - b.bbox[0] for lines in run for b in lines)
        for i in range(len(items) - 1 if PROCEDURE.search(label) else 0):
            item, after = run[i], run[i + 1]
            if len(item) > 1 or len(after) > 1:
                continue  # an item over lines: asked whole or not at all
            if after[0].bbox[2] - after[0].bbox[0] > 0.8 * widest:
                continue  # a line that fills its column may go on below, unindented
            if max(len(items[i].split()), len(items[i + 1].split())) > SHORT_ITEM:
                continue
            fields = {"label": label, "item": trimmed(items[i])}
            found.append(Candidate("list_next", fields, trimmed(items[i + 1]), after[0]))
    return found


# a heading that names steps to take in order: which item comes after another is worth asking
# only there (in a changelog's or a list of things to install, the order says nothing: blind
# audit, seed 76, both labellers)
PROCEDURE = re.compile(
    r"\b(steps?|procedures?|instructions?|how to|installing|installation|setting up|"
    r"getting started)\b|步骤|流程|安装方法|安装过程|순서|단계|방법|과정|절차|手順|ステップ|方法",
    re.IGNORECASE,
)


LISTS = QuestionKind(
    "numbered list under a heading",
    find_lists,
    {
        "list_count": (
            'How many items does the numbered list under "{label}" on image {n} have?',
            'On image {n}, how many points are listed under "{label}"?',
        ),
        "list_next": (
            'In the list under "{label}" on image {n}, which item comes right after "{item}"?',
            'On image {n}, what follows "{item}" in the list under "{label}"?',
        ),
    },
    follow_ups={"": ("How can you tell?", "How do you count them?")},
)
