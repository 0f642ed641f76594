"""One image's lines as the template questions see them (`PageView`), and what a question kind
finds on it (`Candidate`)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from curate.core.text import normalize
from curate.document.layout import Table, is_content, tables_of
from curate.schemas import BlockRole, TextBlock
from curate.stages.generators.template.rules import (
    BULLET_MARK,
    CONTINUES,
    KEY_VALUE,
    PLACEHOLDER,
    REFERENCE_ENTRY,
    REFERENCE_HEADINGS,
    STOP,
    is_cjk,
    sentence_spans,
)

_GENERIC_HEADINGS = {
    "contents",
    "table of contents",
    "index",
    "references",
    "bibliography",
    "abstract",
    "appendix",
    "acknowledgements",
    "acknowledgments",
    "notes",
    "summary",
    # the same in Korean, Chinese and Japanese ("색인" read out: blind audit, seed 73). Not a
    # preface's ("서문"): read out, it is weak, but it keeps a page of prose with no other
    # question from being dropped
    *"목차,차례,색인,찾아보기,참고문헌,참고 문헌,부록,요약,감사의 글".split(","),
    *"目录 索引 参考文献 附录 摘要 致谢".split(),
    *"目次 参考文献 付録 概要 謝辞".split(),
}


@dataclass
class Candidate:
    """What a question kind found on a page: its kind (a key of the QuestionKind's `asks`),
    what the question names (the fields of its phrasing), the answer, the line it is read from,
    and the follow-up's answer: what the fact means or how it is worked out. A candidate with
    nothing to say beyond where its answer sits gets no follow-up (`explain` None).

    An answer is copied from the page, verbatim, unless `worked_out`: then it is computed from
    the `figures` it names (a difference, a count), each of which is on the page."""

    kind: str
    fields: dict[str, str]  # what the question names: a label, a column, a cloze, a row
    answer: str
    evidence: TextBlock  # the line the answer is read from
    explain: str | None = None
    worked_out: bool = False
    figures: tuple[str, ...] = ()


# a chapter's or part's number alone ("Chapter 5", "제 5 장", "第3章", "Part II", "附录 D"): it
# numbers a section, it does not name one
_NUMBER_ONLY = re.compile(
    r"^(?:(?:chapter|part|section|appendix|annex|chapitre|kapitel|teil)\s+[\divxlc]+[.:]?"
    r"|(?:appendix|annex|anhang|annexe)\s+[a-z][.:]?|(?:附录|附錄|付録|부록)\s*[a-z\d]+"
    r"|(?:第|제)?\s*[\d一二三四五六七八九十]+\s*(?:章|節|节|部|編|장|절|부|편))$",
    re.IGNORECASE,
)


def names_a_section(text: str) -> bool:
    """Words that can name a section: not generic, not a sentence's tail, not a chapter's
    number alone, mostly letters."""
    key = normalize(text).strip(" .:")
    if _NUMBER_ONLY.match(key):
        return False
    name = re.sub(r"^\d+(\.\d+)*\.?\s", "", text)  # a section number does not count
    letters = sum(ch.isalpha() for ch in name)
    fragment = text[:1].islower() and text.rstrip().endswith((".", ","))
    return (
        key not in _GENERIC_HEADINGS
        and not fragment
        and letters >= 0.5 * len(name.replace(" ", ""))
    )


def is_label(text: str) -> bool:
    """A heading that ends with a colon introduces what follows it ("Affiliation:", "FOR
    FURTHER INFORMATION CONTACT:"): a label of the text below, not the name of a section, and
    asked as one it is answered with its colon."""
    return text.rstrip().endswith(":")


def _wraps(line: TextBlock, below: TextBlock) -> bool:
    """The line below carries the same heading on: same role and size, right under it, in
    the same column."""
    height = below.bbox[3] - below.bbox[1]
    if re.match(r"\d+(\.\d+)+\.?\s", below.text):
        return False  # "7.1.2.1 STREEBOG512" opens a heading of its own
    return (
        line.role == below.role
        and 0 <= below.bbox[1] - line.bbox[3] < 1.2 * height
        and abs((line.bbox[3] - line.bbox[1]) - height) < 0.15 * height
        and min(line.bbox[2], below.bbox[2]) > max(line.bbox[0], below.bbox[0])
    )


def _carries_on(line: TextBlock, below: TextBlock) -> bool:
    """The line below goes on with the line's paragraph: right under it (their boxes may
    overlap a little), in its column, no bullet of its own; neither is a "label: value" line,
    which stands alone."""
    height = line.bbox[3] - line.bbox[1]
    return (
        -0.5 * height <= below.bbox[1] - line.bbox[3] < 0.8 * height
        and not KEY_VALUE.match(line.text.strip())
        and not KEY_VALUE.match(below.text.strip())
        and min(line.bbox[2], below.bbox[2]) > max(line.bbox[0], below.bbox[0])
        and abs(below.bbox[0] - line.bbox[0]) < 3 * height
        and not BULLET_MARK.match(below.text)
        and not re.match(r"\(?\d+[.)]\s", below.text)
        and not opens_with_mark(below.text, line.text)
    )


def opens_with_mark(text: str, before: str) -> bool:
    """The line opens with a footnote's or an item's mark ("9 Microsoft CL ...", "2[역주] ..."):
    a number and a space or a bracket after a line that ended its sentence. A line that opens
    with a number mid-sentence ("... cost" / "42 million dollars") carries the sentence on."""
    ended = not before.strip() or before.rstrip().endswith((".", "!", "?", ":", "。"))
    return ended and bool(re.match(r"\d{1,3}(?:\s+\S|\[)", text.strip()))


def _in_item(first: TextBlock, below: TextBlock) -> bool:
    """A list item goes on only on lines indented past its bullet; any other paragraph on any
    line that carries it on."""
    height = first.bbox[3] - first.bbox[1]
    return first.role != BlockRole.LIST_ITEM or below.bbox[0] > first.bbox[0] + 0.3 * height


def _join_wrapped(first: str, second: str) -> str:
    """Two lines of one heading: "Next-" + "Gen" is "Next-Gen" (normalize() reads the page's
    line-break hyphen the same way, so the answer stays verbatim)."""
    if re.search(r"\w-$", first) and second[:1].isalnum():
        return first + second
    return f"{first} {second}"


def position_on(block: TextBlock, height: int) -> str:
    centre = (block.bbox[1] + block.bbox[3]) / 2 / max(height, 1)
    return (
        "near the top"
        if centre < 1 / 3
        else "in the middle"
        if centre < 2 / 3
        else "near the bottom"
    )


class PageView:
    """One image's lines, with the structure the template questions need."""

    def __init__(
        self,
        blocks: list[TextBlock],
        height: int,
        n: int,
        declared_title: str | None = None,
        declared_lists: tuple[tuple[str, ...], ...] = (),
        declared_sublists: tuple[tuple[str, ...], ...] = (),
        next_page_opens: str = "",
    ):
        self.blocks, self.height, self.n = blocks, height, n
        self.declared_title = declared_title  # what the source names the image (a slide title)
        self.declared_lists = declared_lists  # the points of a slide's one-level bulleted lists
        self.declared_sublists = declared_sublists  # a slide's point, then its sub-points
        # the first line of the next page's content, where the sample holds that page too
        self.next_page_opens = next_page_opens
        self.text = "\n".join(b.text for b in blocks)
        self.norm = normalize(self.text)
        self.content = [
            b
            for b in blocks
            if is_content(b) and not PLACEHOLDER.search(b.text) and not self._footnote(b)
        ]
        self.headings = self._headings()
        self.tables = [
            t
            for t in (_head_joined(t, blocks) for t in tables_of(blocks))
            if t is not None and t.rows >= 2 and t.columns >= 2
        ]
        self.references = self._references()

    def _footnote(self, line: TextBlock) -> bool:
        """A footnote in the page's lower part: its mark set right against its first word
        ("18Windows 10 ...", "1在Windows") or a bracket ("5[역주] ...", a translator's note:
        blind audit, seed 49), which the text layer reads as one."""
        low = line.bbox[1] > 0.6 * self.height
        return low and bool(re.match(r"\d{1,2}(?=[^\W\d_]|\[)", line.text.strip()))

    def _headings(self) -> list[TextBlock]:
        """Title and heading lines, a heading wrapped over several lines joined into one; not
        generic ones ("Contents"), fragments of a sentence, or codes (a UUID)."""
        found: list[TextBlock] = []
        last_line: list[TextBlock] = []  # per heading found, the line it ends with
        lines = sorted(
            (b for b in self.blocks if b.role in (BlockRole.TITLE, BlockRole.HEADING)),
            key=lambda b: (b.bbox[1], b.bbox[0]),
        )
        for block in lines:
            into = next(
                (i for i in range(len(found) - 1, -1, -1) if _wraps(last_line[i], block)), None
            )
            if into is None:
                found.append(block)
                last_line.append(block)
                continue
            head = found[into]
            box = (
                min(head.bbox[0], block.bbox[0]),
                head.bbox[1],
                max(head.bbox[2], block.bbox[2]),
                block.bbox[3],
            )
            found[into] = replace(head, text=_join_wrapped(head.text, block.text), bbox=box)
            last_line[into] = block
        return [h for h in found if names_a_section(h.text) and not self._in_figure(h)]

    def _in_figure(self, line: TextBlock) -> bool:
        """The line is set inside a chart or drawing (a plot's title, in a larger font than its
        ticks): within the box of the figure's own text, or just above it."""
        figure = [b for b in self.blocks if b.role == BlockRole.FIGURE]
        if len(figure) < 3:
            return False
        x0, y0 = min(b.bbox[0] for b in figure), min(b.bbox[1] for b in figure)
        x1, y1 = max(b.bbox[2] for b in figure), max(b.bbox[3] for b in figure)
        margin = 2 * (line.bbox[3] - line.bbox[1])
        return (
            x0 - margin <= line.bbox[0]
            and line.bbox[2] <= x1 + margin
            and y0 - margin <= line.bbox[1]
            and line.bbox[3] <= y1 + margin
        )

    def _references(self) -> set[int]:
        """The lines of a reference list: under a "References" heading, or all of a page whose
        lines mostly open like entries ("Zeileis A, Hornik K (2007)."), since a list goes on
        over pages with no heading of its own."""
        entries = sum(bool(REFERENCE_ENTRY.match(b.text)) for b in self.content)
        if self.content and entries >= 0.4 * len(self.content):
            return {id(b) for b in self.blocks}
        found, inside = set(), False
        entry: TextBlock | None = None  # the entry whose lines are read, and its last line
        last: TextBlock | None = None
        for block in self.blocks:
            if block.role in (BlockRole.TITLE, BlockRole.HEADING):
                inside, entry = bool(REFERENCE_HEADINGS.match(block.text.strip())), None
            elif inside or REFERENCE_ENTRY.match(block.text):
                found.add(id(block))
                entry = last = block
            elif entry is not None and last is not None and _set_in_under(entry, last, block):
                found.add(id(block))  # "[16] ... 타원을 그" / "려주는 Java ...": blind audit,
                last = block  # seed 72, a reference's second line quoted as a sentence
            else:
                entry = None
        return found

    def cites(self, block: TextBlock) -> bool:
        """The line belongs to a reference list: its years and titles are no facts to ask."""
        return id(block) in self.references

    def continues(self, block: TextBlock) -> bool:
        """The line carries on a sentence from the line before it: it starts in lower case
        after no stop, or that line ends on a word no sentence ends with ("Alice and")."""
        index = next((i for i, b in enumerate(self.blocks) if b is block), 0)
        if index == 0:
            return False
        before = self.blocks[index - 1].text.split()
        if before and before[-1].lower() in STOP | CONTINUES:
            return True
        ends = before and before[-1].endswith((".", ":", ";", "!", "?"))
        return block.text[:1].islower() and not ends

    def runs_on(self, block: TextBlock) -> bool:
        """The next line carries the line's sentence on ("DATES: The FAA must receive comments"
        / "on this proposed AD by ..."): the line alone is cut short."""
        index = next((i for i, b in enumerate(self.blocks) if b is block), -1)
        if index < 0 or index + 1 >= len(self.blocks):
            return False
        after, text = self.blocks[index + 1], block.text.rstrip()
        if text.endswith((".", "!", "?", ";", ":", "。", "！", "？", "」", "）")):
            return False
        if is_cjk(text):  # no capitals tell a new sentence: a line that stops short goes on
            gap = after.bbox[1] - block.bbox[3]
            return after.role == block.role and gap < block.bbox[3] - block.bbox[1]
        return self.continues(after)

    def lead_in(self, block: TextBlock) -> str:
        """The line before, when the line carries on its sentence ("... found in 14 CFR" /
        "11.43 and 11.45, by any ..."): what a reference's words may stand on."""
        index = next((i for i, b in enumerate(self.blocks) if b is block), 0)
        if index == 0:
            return ""
        before = self.blocks[index - 1].text.rstrip()
        return "" if before.endswith((".", "!", "?", ";", ":")) else before + " "

    def hyphen_before(self, block: TextBlock) -> bool:
        """The line starts with the tail of a word broken on the line before."""
        index = next((i for i, b in enumerate(self.blocks) if b is block), 0)
        return index > 0 and bool(re.search(r"\w-$", self.blocks[index - 1].text.rstrip()))

    def heading_above(self, block: TextBlock) -> TextBlock | None:
        """The nearest heading above the line in its own column."""
        above = [
            h
            for h in self.headings
            if h.bbox[3] <= block.bbox[1] + 1
            and min(h.bbox[2], block.bbox[2]) > max(h.bbox[0], block.bbox[0])
        ]
        return max(above, key=lambda h: h.bbox[3]) if above else None

    def paragraphs(self) -> list[tuple[str, TextBlock]]:
        """The page's running text, its lines joined into paragraphs (a line right below
        another in the same column, as the source read them), each with its first line: what
        a question built from a whole sentence reads. A list's bullet opens a paragraph of its
        own. Lines are joined by a newline, so that a word broken at a line's end ("-\\n")
        can be told from a hyphen of its own."""
        return [("\n".join(b.text for b in lines), lines[0]) for lines in self.paragraph_lines]

    @functools.cached_property
    def paragraph_lines(self) -> list[list[TextBlock]]:
        """The lines of each paragraph (see `paragraphs`), in reading order."""
        found: list[list[TextBlock]] = []
        last: TextBlock | None = None
        content = {id(b) for b in self.content}
        for block in self.blocks:
            prose = id(block) in content and block.role in (
                BlockRole.PARAGRAPH,
                BlockRole.LIST_ITEM,
            )
            if not prose or self.cites(block):
                last = None
                continue
            if last is not None and _carries_on(last, block) and _in_item(found[-1][0], block):
                found[-1].append(block)
            else:
                found.append([block])
            last = block
        return found

    def sentence_around(self, block: TextBlock, start: int, end: int) -> tuple[str, int, int]:
        """The whole sentence that holds [start:end] of the line, and where that span stands
        in it; ("", 0, 0) when the line's paragraph does not hold it whole."""
        for lines in self.paragraph_lines:
            if not any(line is block for line in lines):
                continue
            paragraph = "\n".join(line.text for line in lines)
            offset = sum(
                len(line.text) + 1 for line in lines[: [id(x) for x in lines].index(id(block))]
            )
            for s, e in sentence_spans(paragraph):
                if s <= offset + start and offset + end <= e:
                    return paragraph[s:e], offset + start - s, offset + end - s
        return "", 0, 0

    def unique(self, phrase: str) -> bool:
        key = normalize(phrase)
        return bool(key) and self.norm.count(key) == 1

    def where(self, block: TextBlock) -> str:
        heading = self.heading_above(block)
        under = f', under the heading "{heading.text}"' if heading else ""
        return f"{position_on(block, self.height)} of image {self.n}{under}"


def _set_in_under(entry: TextBlock, last: TextBlock, line: TextBlock) -> bool:
    """The line goes on with a reference list's entry: right under its last line, set in
    from the entry's mark as a hanging indent sets it."""
    height = last.bbox[3] - last.bbox[1]
    return line.bbox[0] > entry.bbox[0] + height / 2 and -1 <= line.bbox[1] - last.bbox[3] < height


def _head_joined(table: Table, blocks: list[TextBlock]) -> Table | None:
    """The table, or None where text right above it, set over two or more of its columns, is
    its head, cut off (a rule between a table's head and body split them), so that its first
    row of data was read as the columns' names ("the "Linux/Win" of "软件类型"", blind audits,
    seeds 41-44). But a head set over two lines, only its second taken into the table, is
    joined: one line right above the names, tight against them, a word over each named column
    and none over the row labels' ("Decompress" over "-s usage", nothing over "Flag")."""
    cells = [b for column in table.cells.values() for b in column]
    mine = {id(b) for b in cells}
    top = min(b.bbox[1] for b in cells)
    line = sorted(b.bbox[3] - b.bbox[1] for b in cells)[len(cells) // 2]
    spans = {}
    for (_, column), held in table.cells.items():
        x0, x1 = spans.get(column, (float("inf"), float("-inf")))
        spans[column] = (min(x0, *(b.bbox[0] for b in held)), max(x1, *(b.bbox[2] for b in held)))
    over: dict[int, list[TextBlock]] = {}
    for block in blocks:
        if id(block) in mine or not top - 2.5 * line <= block.bbox[3] <= top + 0.1 * line:
            continue
        if len(block.text.split()) > 6 or block.text.rstrip().endswith((".", "。")):
            continue  # the last line of the paragraph above, not a head
        # the column it stands over most, by a third of its width at least
        width = max(block.bbox[2] - block.bbox[0], 1e-6)
        shared = {
            c: min(x1, block.bbox[2]) - max(x0, block.bbox[0]) for c, (x0, x1) in spans.items()
        }
        column = max(shared, key=shared.get)
        if shared[column] >= width / 3:
            over.setdefault(column, []).append(block)
    if len(over) < 2:
        return table
    above = [b for held in over.values() for b in held]
    wrapped = (
        0 not in over
        and all(len(held) == 1 for held in over.values())
        and all(top - 0.7 * line <= b.bbox[3] <= top + 0.1 * line for b in above)
        and all(table.text(0, c) and len(b.text.split()) <= 3 for c, (b,) in over.items())
    )
    if not wrapped:
        return None
    joined = dict(table.cells)
    for c, (b,) in over.items():
        joined[(0, c)] = [b, *table.cells[(0, c)]]
    return Table(joined)
