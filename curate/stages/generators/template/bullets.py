"""A slide's bulleted list, counted: how many points it has. Bullets alone do not confirm a
count (a blind audit found sub-bullets, two columns and the next box's points miscounted, see
lists.py), so a list is counted only where the deck and the image agree: the deck declares a
text box of three or more points, all at the first level, and the image shows a bullet for
each, one under the other, opening on its point's words. A box whose first paragraph has no
bullet (its heading, "防止方法" over the points) names the list; else the slide's title does,
where the slide has one list. Paragraphs without a bullet may introduce the points, never
stand among them (a sub-heading splits the list in two). Three or more sub-points under a
point, all one level down (in a text box, or a SmartArt diagram's data), are counted the same
way under that point, which the image shows right above them and further out, or in a box on
their left."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.checks import NUMBER_WORDS
from curate.stages.generators.grounding import is_grounded
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.lists import MOST_ITEMS
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import BULLET_MARK, CJK

QUOTED_WORDS = 6  # a point longer than this is quoted by its first words in the follow-up


def find_bullets(page: PageView) -> list[Candidate]:
    found = []
    for paragraphs in page.declared_lists:
        shown = _shown(paragraphs, page)
        if shown is None:
            continue
        label, points, first, _ = shown  # (what the line shows, the whole point) for each
        if not label and len(page.declared_lists) == 1 and page.declared_title:
            label = page.declared_title if is_grounded(page.declared_title, page.text) else ""
        if not label or not 3 <= len(points) <= MOST_ITEMS:
            continue  # "the points" of a slide with several lists names none of them
        quoted = ", ".join(f'"{_quote(line, point, page)}"' for line, point in points)
        explain = (
            f'Under "{label}", image {page.n} shows {len(points)} bullet points, one under '
            f"the other: {quoted}."
        )
        fields = {"label": label}
        count = str(len(points))
        lines = tuple(line for line, _ in points)
        found.append(Candidate("bullet_count", fields, count, first, explain, True, lines))
    for parent, *points in page.declared_sublists:
        shown = _shown_under(parent, tuple(points), page)
        if shown is None or not 3 <= len(points) <= MOST_ITEMS or _says_count(parent, len(points)):
            continue
        label, (sub_points, first) = parent.rstrip(" :："), shown
        quoted = ", ".join(f'"{_quote(line, point, page)}"' for line, point in sub_points)
        explain = (
            f'Under the point "{label}", image {page.n} shows {len(points)} sub-points, '
            f"one under the other: {quoted}."
        )
        lines = tuple(line for line, _ in sub_points)
        count = str(len(points))
        fields = {"label": label}
        found.append(Candidate("sub_point_count", fields, count, first, explain, True, lines))
    return found


def _says_count(point: str, count: int) -> bool:
    """The point says how many follow ("a site needs to do 3 things"): nothing to count."""
    words = re.findall(r"[^\W_]+", normalize(point))
    return any(NUMBER_WORDS.get(w, w) == str(count) for w in words)


def _shown_under(parent: str, points: tuple[str, ...], page: PageView):
    """((line, point) for each sub-point, the first point's line) where the image shows the
    parent point on a line of its own, short enough to name them, and each sub-point set in
    under it as `_shown` reads a list; None where it shows something else. A diagram may set
    the point beside its sub-points, in a box on their left (SmartArt's block lists)."""
    if not _names(parent) or not is_grounded(parent, page.text):
        return None
    shown = _shown(points, page)
    if shown is None or shown[0] or len(shown[1]) != len(points):
        return None  # a sub-point with no bullet of its own
    _, lines, first, last = shown
    key, height = _key(parent), first.bbox[3] - first.bbox[1]

    def placed(b: TextBlock) -> bool:
        above = b.bbox[0] < first.bbox[0] and (
            first.bbox[1] - 3 * height < b.bbox[3] <= first.bbox[1] + 1
        )
        beside = b.bbox[2] <= first.bbox[0] and first.bbox[1] - height < b.bbox[1] < last.bbox[3]
        return above or beside

    named = [
        b
        for b in page.blocks
        if (k := _key(BULLET_MARK.sub("", b.text.strip()))) and key.startswith(k) and placed(b)
    ]
    return (lines, first) if named else None  # else not right above them, further out


def _key(text: str) -> str:
    return normalize(text).replace(" ", "")


def _shown(paragraphs: tuple[str, ...], page: PageView):
    """(label, points, the first point's line) as the image shows the box: each point on a
    line of its own that opens on a bullet (each point as its line reads, and whole), the
    bullets one under the other, and no other bullet among them; the first paragraph, where
    it has no bullet, is the label. None where the image shows something else."""
    bullets = [b for b in page.blocks if BULLET_MARK.match(b.text.strip()) and _listed(b)]
    matched: list[TextBlock] = []
    points: list[tuple[str, str]] = []
    label = ""
    for i, paragraph in enumerate(paragraphs):
        key = _key(paragraph)
        line = next(
            (
                b
                for b in bullets
                if (k := _key(BULLET_MARK.sub("", b.text.strip()))) and key.startswith(k)
            ),
            None,
        )
        if line is None and i == 0 and _names(paragraph) and is_grounded(paragraph, page.text):
            label = paragraph.rstrip(" :：")  # the box's heading, no bullet before it
            continue
        if line is None and not matched and _key(paragraph)[:12] in _key(page.text):
            continue  # a line of introduction under the heading, before the first bullet
        if line is None or any(line is m for m in matched):
            return None
        matched.append(line)
        points.append((BULLET_MARK.sub("", line.text.strip()), paragraph))
    if not matched or [id(b) for b in matched] != [id(b) for b in sorted(matched, key=_top)]:
        return None  # not in the deck's order from the top
    height = matched[0].bbox[3] - matched[0].bbox[1]
    if any(abs(b.bbox[0] - matched[0].bbox[0]) > height for b in matched):
        return None  # not one under the other
    x, top, bottom = matched[0].bbox[0], matched[0].bbox[1], matched[-1].bbox[3]
    among = [
        b
        for b in bullets
        if top <= b.bbox[1] < bottom
        and abs(b.bbox[0] - x) <= 3 * height
        and not any(b is m for m in matched)
    ]
    if among:
        return None  # another bullet among the points: a level the deck did not declare
    return label, points, matched[0], matched[-1]


def _names(paragraph: str) -> bool:
    """Short enough to be the box's heading, not a sentence that introduces the points."""
    words = len(paragraph.split()) + len(CJK.findall(paragraph)) // 3
    return words <= 10 and not paragraph.rstrip().endswith((".", "。"))


def _top(block: TextBlock) -> float:
    return block.bbox[1]


def _listed(block: TextBlock) -> bool:
    """A line that may hold a point: a diagram's points side by side may read as a table."""
    return block.role in (BlockRole.LIST_ITEM, BlockRole.PARAGRAPH, BlockRole.TABLE_CELL)


def _quote(line: str, point: str, page: PageView) -> str:
    """The point as the follow-up quotes it: whole, or its first words where it is long; its
    first line and "..." where the page does not hold it whole (a blind audit found points
    quoted cut at their wrap, with nothing to say so)."""
    if not is_grounded(point, page.text):
        return line if _key(line) == _key(point) else f"{line} ..."
    words = point.split()
    return point if len(words) <= QUOTED_WORDS else " ".join(words[:QUOTED_WORDS]) + " ..."


BULLETS = QuestionKind(
    "a slide's bulleted list",
    find_bullets,
    {
        "bullet_count": (
            'How many bullet points are listed under "{label}" on image {n}?',
            'On image {n}, how many points does the list under "{label}" have?',
        ),
        "sub_point_count": (
            'How many sub-points does image {n} list under "{label}"?',
            'On image {n}, how many points are listed under the point "{label}"?',
        ),
    },
    follow_ups={"": ("How do you count them?", "How can you tell?")},
)
