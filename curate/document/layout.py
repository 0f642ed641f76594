"""A page's structure from its lines: roles, running headers, tables of contents, tables, and
the sections that sample windows follow.

Sources know the most and set roles first: fonts and table detection for PDFs, the DOM for
webpages, titles, tables and charts for decks. What they share, and what OCR'd pages fall back
on (boxes only), lives here. Everything works on `TextBlock`s with pixel boxes.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from curate.core.text import normalize
from curate.schemas import BlockRole, TextBlock

BAND = 0.09  # running headers and footers sit in the top and bottom 9% of a page
_DIGITS = re.compile(r"\d+")
PAGE_NUMBER = re.compile(r"^(page\s*)?[ivxlc\d]+(\s*(of|/)\s*\d+)?$", re.IGNORECASE)
BULLET = re.compile(r"^\s*(?:[•◦▪▫●○■□‣⁃∙·➢►✓✔]\s*|[–—*-]\s+|\(?\d{1,2}[.)]\s+|\(?[a-z][.)]\s+)\S")
CAPTION = re.compile(
    r"^\s*(figure|fig\.|table|chart|exhibit|image|photo|listing|algorithm|example)\s*[\dIVX]+[.:]?\s",
    re.IGNORECASE,
)
TOC_ENTRY = re.compile(r"(?:\.\s*){3,}\s*\d+\s*$|\s\d{1,4}$")
TOC_START = re.compile(r"^\d{1,4}\s+[^\W\d]")  # "54 Business Overview": the page number first
DOT_LEADERS = re.compile(r"^(?:\.\s*){3,}\d*\s*$")
CONTENT_ROLES = frozenset(
    {
        BlockRole.TITLE,
        BlockRole.HEADING,
        BlockRole.PARAGRAPH,
        BlockRole.LIST_ITEM,
        BlockRole.TABLE_CELL,
        BlockRole.CAPTION,
    }
)


def height(block: TextBlock) -> float:
    return max(block.bbox[3] - block.bbox[1], 1e-6)


def _vertical_overlap(a: TextBlock, b: TextBlock) -> float:
    top, bottom = max(a.bbox[1], b.bbox[1]), min(a.bbox[3], b.bbox[3])
    return max(0.0, bottom - top) / min(height(a), height(b))


def visual_rows(blocks: Sequence[TextBlock]) -> list[list[TextBlock]]:
    """Lines that share a baseline band, top to bottom, each row's cells left to right."""
    rows: list[list[TextBlock]] = []
    for block in sorted(blocks, key=lambda b: (b.bbox[1], b.bbox[0])):
        if rows and _vertical_overlap(rows[-1][0], block) > 0.5:
            rows[-1].append(block)
        else:
            rows.append([block])
    return [sorted(row, key=lambda b: b.bbox[0]) for row in rows]


def median_line_height(blocks: Sequence[TextBlock]) -> float:
    return statistics.median(height(b) for b in blocks) if blocks else 0.0


def reading_order(blocks: Sequence[TextBlock]) -> list[TextBlock]:
    """Lines (boxes only, as OCR gives them) in the order a reader takes them: columns of prose
    one after another, not rows across the page.

    A recursive XY cut. A band split by gutters into columns of prose is read column by column;
    otherwise it is cut at its widest horizontal gap, top part first. A gutter counts only
    between columns of several lines of several words, so a table is still read row by row.
    """
    blocks = list(blocks)
    if len(blocks) < 2:
        return blocks
    gutter = 0.2 * median_line_height(blocks)  # OCR boxes are padded: gutters look narrow
    columns = _cut(blocks, axis=0, least=gutter)
    if len(columns) > 1 and all(_prose(column) for column in columns):
        return [b for column in columns for b in reading_order(column)]
    bands = _cut(blocks, axis=1, least=0.0, widest_only=True)
    if len(bands) > 1:
        return [b for band in bands for b in reading_order(band)]
    return sorted(blocks, key=lambda b: (round(b.bbox[1] / 8), b.bbox[0]))


def _cut(
    blocks: list[TextBlock], axis: int, least: float, widest_only: bool = False
) -> list[list[TextBlock]]:
    """The blocks in groups along x (axis 0) or y (axis 1), split where no block covers a gap
    wider than `least`: at every such gap, or only at the widest."""
    ordered = sorted(blocks, key=lambda b: b.bbox[axis])
    gaps = []  # (width, index where the next group starts)
    reach = ordered[0].bbox[axis + 2]
    for i, block in enumerate(ordered[1:], start=1):
        if block.bbox[axis] - reach > least:
            gaps.append((block.bbox[axis] - reach, i))
        reach = max(reach, block.bbox[axis + 2])
    if widest_only and gaps:
        gaps = [max(gaps)]
    starts = [0, *sorted(i for _, i in gaps), len(ordered)]
    return [ordered[a:b] for a, b in zip(starts, starts[1:]) if b > a]


def _prose(column: list[TextBlock]) -> bool:
    """Several lines of several words: text set in a column, not a table's cells."""
    return len(column) >= 3 and statistics.median(len(b.text.split()) for b in column) >= 3


def is_content(block: TextBlock) -> bool:
    """Text a question may be asked about (not headers, watermarks, code, figures, TOC)."""
    return block.role in CONTENT_ROLES


# ---------------------------------------------------------------- running headers and footers


def signature(text: str) -> str:
    """A line's text with its numbers blanked: "Chapter 3 · page 41" repeats as one signature."""
    return _DIGITS.sub("#", normalize(text))


def band_of(bbox: Sequence[float], page_height: float) -> str | None:
    centre = (bbox[1] + bbox[3]) / 2 / max(page_height, 1e-6)
    return "top" if centre < BAND else "bottom" if centre > 1 - BAND else None


class RunningLines:
    """Lines that repeat on a document's pages: running headers and footers at the top or
    bottom, and a deck's banner or footer set at one spot on most slides ("ASVS 4.0" down the
    side of every slide).

    Built from a cheap text-only pass over the document, before any page is rendered:
    `add_page` with each page's (text, box) lines and its height. A signature counts as running
    when it appears in the same band on at least `max(3, 30%)` of the pages, and the very same
    text in the same band on 3 pages whatever their share (a book heads each chapter's pages
    with its title: a few pages of a long book); a text, when it appears at the same spot
    (within SPOT points) on at least `max(4, 50%)` of them.
    """

    SPOT = 10.0

    def __init__(self) -> None:
        self.pages = 0
        self._seen: Counter = Counter()

    def _spot(self, bbox: Sequence[float]) -> tuple[int, int]:
        return round(bbox[0] / self.SPOT), round(bbox[1] / self.SPOT)

    def add_page(self, lines: Iterable[tuple[str, Sequence[float]]], page_height: float) -> None:
        self.pages += 1
        here = set()
        for text, bbox in lines:
            band = band_of(bbox, page_height)
            if band:
                here.add((band, signature(text)))
                here.add((band, "=" + normalize(text)))
            here.add((self._spot(bbox), normalize(text)))  # a banner is the same text
        self._seen.update(here)

    def is_running(self, text: str, bbox: Sequence[float], page_height: float) -> bool:
        band = band_of(bbox, page_height)
        if band is not None and PAGE_NUMBER.match(normalize(text).strip()):
            return True
        if band is not None and self.pages >= 3:
            if self._seen[(band, signature(text))] >= max(3, 0.3 * self.pages):
                return True
            if self._seen[(band, "=" + normalize(text))] >= 3:
                return True
        needed = max(4, 0.5 * self.pages)
        return self.pages >= 4 and self._seen[(self._spot(bbox), normalize(text))] >= needed


# ------------------------------------------------------------------- rows: TOC, lists, captions


def toc_rows(rows: Sequence[Sequence[TextBlock]]) -> set[int]:
    """Rows of a table of contents: at least 5 rows ending with a page number after their text,
    on a page that has dot leaders in three rows or a "Contents" heading. (A table whose last
    column holds numbers is not a table of contents.)"""
    texts = [" ".join(b.text for b in row) for row in rows]
    ending = [
        i
        for i, text in enumerate(texts)
        if any(ch.isalpha() for ch in text) and (TOC_ENTRY.search(text) or TOC_START.match(text))
    ]
    leaders = sum(1 for text in texts if re.search(r"(?:\.\s*){4,}", text))
    named = any(
        re.fullmatch(r"(table of )?contents|inhalt|sommaire|目次", normalize(t).strip())
        for t in texts
    )
    return set(ending) if len(ending) >= 5 and (leaders >= 3 or named) else set()


def is_list_item(text: str) -> bool:
    return bool(BULLET.match(text))


def is_caption(text: str) -> bool:
    return bool(CAPTION.match(text)) and len(text.split()) <= 60


# ------------------------------------------------------------------------- tables from geometry


def grid_tables(
    rows: Sequence[Sequence[TextBlock]], min_rows: int = 3, strict: bool = True
) -> list[list[list[TextBlock]]]:
    """Runs of rows whose cells stand in the same columns: tables read from boxes alone.

    A row joins a run when it has as many cells as the run's columns and each cell overlaps its
    column horizontally (numbers are often right-aligned). Cells must be short (at most 8
    words, 4 on median: columns of prose are not a table); a run needs `min_rows` rows, two
    columns and, when `strict` (no deck says a table is there), a column of numbers or a
    three-column header without digits. The first row is the header when it looks like one;
    otherwise the returned table starts with an empty header row.
    """
    runs: list[list[list[TextBlock]]] = []
    current: list[list[TextBlock]] = []
    columns: list[list[float]] = []
    for row in [*rows, []]:
        short = len(row) >= 2 and all(len(b.text.split()) <= 8 for b in row)
        if short and current and _fits(row, columns):
            current.append(list(row))
            for column, block in zip(columns, row, strict=True):
                column[0], column[1] = min(column[0], block.bbox[0]), max(column[1], block.bbox[2])
            continue
        if len(current) >= min_rows and (not strict or _data_like(current)):
            runs.append(current if not strict or _has_header(current) else [[], *current])
        current = [list(row)] if short else []
        columns = [[b.bbox[0], b.bbox[2]] for b in row] if short else []
    return runs


# what heads a column of figures over time: "2019", "Q3 2025", "FY 2020", "2014-15", "H1 2024"
PERIOD = re.compile(
    r"(?:(?:Q[1-4]|H[12]|FY|CY)\s*)?(?:19|20)\d\d(?:\s*[-/–]\s*\d{2,4})?(?:\s*(?:Q[1-4]|H[12]))?",
    re.IGNORECASE,
)
VALUE = re.compile(r"[-+(]?[$€£¥₹]?[\d.,% ]+\)?[a-zA-Z%]{0,3}")


def is_value(text: str) -> bool:
    """A figure a table holds ("4.1", "+12%", "$85", "1,284"), not a period that names one."""
    text = text.strip()
    return bool(VALUE.fullmatch(text)) and not PERIOD.fullmatch(text)


def _has_header(rows: Sequence[Sequence[TextBlock]]) -> bool:
    """The first row names the columns: a few words each, no figures (a year or a quarter
    names a column: "Q3 2025"), over a body that holds figures. (In a table of text only, the
    first row may just as well be data: no header is claimed, and the table's rows are
    numbered from 1.)"""
    first, body = rows[0], rows[1:]
    named = all(len(b.text.split()) <= 4 and not is_value(b.text) for b in first)
    numbers = any(is_value(b.text) for row in body for b in row)
    return named and numbers


def _fits(row: Sequence[TextBlock], columns: Sequence[list[float]]) -> bool:
    if len(row) != len(columns):
        return False
    return all(b.bbox[0] < x1 and b.bbox[2] > x0 for b, (x0, x1) in zip(row, columns, strict=True))


def _data_like(rows: Sequence[Sequence[TextBlock]]) -> bool:
    words = sorted(len(b.text.split()) for row in rows for b in row)
    if words[len(words) // 2] > 4:
        return False
    body = rows[1:]
    for column in range(len(rows[0])):
        values = [row[column].text.strip() for row in body]
        numeric = sum(
            1 for v in values if re.fullmatch(r"[-+(]?[$€£]?[\d.,% ]+\)?[a-zA-Z%]{0,3}", v)
        )
        if numeric >= 0.6 * len(values):
            return True
    header = rows[0]
    return len(header) >= 3 and all(not any(ch.isdigit() for ch in b.text) for b in header)


def with_cells(
    blocks: list[TextBlock], tables: list[list[list[TextBlock]]], first: int = 0
) -> list[TextBlock]:
    """The blocks with table cells marked: role table_cell and (table, row, column), tables
    numbered from `first` (after the tables a source marked already)."""
    where = {
        id(b): (t, r, c)
        for t, table in enumerate(tables, start=first)
        for r, row in enumerate(table)
        for c, b in enumerate(row)
    }
    return [
        replace(b, role=BlockRole.TABLE_CELL, cell=where[id(b)])
        if id(b) in where and b.role in CONTENT_ROLES
        else b
        for b in blocks
    ]


@dataclass
class Table:
    """A page's table, rebuilt from its blocks' `cell` positions; row 0 is the header."""

    cells: dict[tuple[int, int], list[TextBlock]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return 1 + max((r for r, _ in self.cells), default=-1)

    @property
    def columns(self) -> int:
        return 1 + max((c for _, c in self.cells), default=-1)

    def text(self, row: int, column: int) -> str:
        return " ".join(b.text for b in self.cells.get((row, column), [])).strip()

    def blocks(self, row: int, column: int) -> list[TextBlock]:
        return self.cells.get((row, column), [])


def tables_of(blocks: Sequence[TextBlock]) -> list[Table]:
    """The page's tables, in table order; a cell may span several lines (blocks)."""
    tables: dict[int, Table] = {}
    for block in blocks:
        if block.cell is not None and block.role == BlockRole.TABLE_CELL:
            table, row, column = block.cell
            tables.setdefault(table, Table()).cells.setdefault((row, column), []).append(block)
    return [tables[t] for t in sorted(tables)]


# ------------------------------------------------------------------- roles without fonts (OCR)


def geometric_roles(blocks: list[TextBlock], page_height: float) -> list[TextBlock]:
    """Roles for lines that carry no font information (OCR): page numbers in the margins,
    tables of contents, list items, captions, tables by alignment, and headings only on strong
    evidence (a short line near the top, set much taller than the body)."""
    rows = visual_rows(blocks)
    toc = toc_rows(rows)
    typical = median_line_height(blocks)
    role: dict[int, str] = {}
    for i, row in enumerate(rows):
        for block in row:
            text = block.text.strip()
            if band_of(block.bbox, page_height) and PAGE_NUMBER.match(normalize(text)):
                role[id(block)] = BlockRole.HEADER_FOOTER
            elif i in toc:
                role[id(block)] = BlockRole.TOC
            elif is_caption(text):
                role[id(block)] = BlockRole.CAPTION
            elif is_list_item(text):
                role[id(block)] = BlockRole.LIST_ITEM
            elif (
                len(row) == 1
                and height(block) >= 1.6 * typical
                and 1 <= len(text.split()) <= 10
                and sum(ch.isalpha() for ch in text) >= 3
                and (block.bbox[1] + block.bbox[3]) / 2 < 0.5 * page_height
            ):
                role[id(block)] = BlockRole.HEADING
    _wrapped_headings(blocks, role)
    marked = [replace(b, role=role.get(id(b), BlockRole.PARAGRAPH)) for b in blocks]
    return with_cells(
        marked, grid_tables(visual_rows([b for b in marked if b.role == BlockRole.PARAGRAPH]))
    )


def _wrapped_headings(blocks: list[TextBlock], role: dict[int, str]) -> None:
    """A heading's other lines: right above or below it, as tall, in the same column."""
    ordered = sorted(blocks, key=lambda b: b.bbox[1])
    changed = True
    while changed:
        changed = False
        for line in ordered:
            if role.get(id(line)) != BlockRole.HEADING:
                continue
            tall = height(line)
            for other in ordered:
                if id(other) in role or not 1 <= len(other.text.split()) <= 10:
                    continue
                gap = max(other.bbox[1] - line.bbox[3], line.bbox[1] - other.bbox[3])
                if (
                    abs(height(other) - tall) <= 0.15 * tall
                    and -0.3 * tall <= gap < 0.6 * tall
                    and min(line.bbox[2], other.bbox[2]) > max(line.bbox[0], other.bbox[0])
                ):
                    role[id(other)] = BlockRole.HEADING
                    changed = True


# ------------------------------------------------------------------------------------ sections


def plan_section_windows(section_starts: Sequence[bool], max_images: int) -> list[tuple[int, int]]:
    """Windows of consecutive pages that never cut through a section that fits in one: whole
    sections (a page opening a section: a heading at its top, a new slide title) are packed into
    windows of at most `max_images` pages, and a longer section is split into balanced windows.
    Without any section starts, balanced fixed windows."""
    count = len(section_starts)
    if count == 0:
        return []
    starts = [0] + [i for i in range(1, count) if section_starts[i]]
    windows: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for start, end in zip(starts, [*starts[1:], count], strict=True):
        if end - start > max_images:
            windows += [current] if current else []
            current = None
            windows += balanced(start, end, max_images)
        elif current and end - current[0] <= max_images:
            current = (current[0], end)
        else:
            windows += [current] if current else []
            current = (start, end)
    return windows + ([current] if current else [])


def balanced(start: int, end: int, max_images: int) -> list[tuple[int, int]]:
    """[start, end) cut into contiguous windows of near-equal size, each at most `max_images`."""
    length = end - start
    if length <= 0:
        return []
    pieces = -(-length // max_images)
    base, extra = divmod(length, pieces)
    windows, at = [], start
    for i in range(pieces):
        size = base + (1 if i < extra else 0)
        windows.append((at, at + size))
        at += size
    return windows
