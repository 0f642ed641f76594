"""The role of each line of a PDF page (title, heading, paragraph, running header, table
cell, ...), from what the whole document says: its body font size, the lines that repeat on
many pages, the pages that open a section, and what a deck knows about its slides.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace

from curate.core.text import normalize
from curate.document.layout import (
    DOT_LEADERS,
    RunningLines,
    grid_tables,
    is_caption,
    is_list_item,
    toc_rows,
    visual_rows,
    with_cells,
)
from curate.schemas import BlockRole, TextBlock
from curate.stages.sources.mupdf import pymupdf
from curate.stages.sources.pdf.lines import Line, read_lines

# The document pass keeps up to this many lines (about 1 KB each), with their roles, for the
# render pass; pages past it are read again rather than held (a 2000-page manual).
KEPT_LINES = 20_000
_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s")  # "3.4.1. BZ2_bzReadOpen": a section, not a title


@dataclass
class PageHints:
    """What a deck knows about a slide that its PDF does not say: the title, and the regions
    (in PDF points) holding a chart or a table."""

    title: str | None = None
    figures: list[tuple[float, float, float, float]] = field(default_factory=list)
    tables: list[tuple[float, float, float, float]] = field(default_factory=list)


@dataclass
class DocumentProfile:
    """What the whole document says about its pages' lines."""

    body_size: float = 0.0
    running: RunningLines = field(default_factory=RunningLines)
    sections: list[int] = field(default_factory=list)
    detail: str = ""
    # Pages' blocks (boxes in points) as the second pass found them, until rendered.
    blocks: dict[int, list[TextBlock]] = field(default_factory=dict, repr=False)

    def take_blocks(self, index: int) -> list[TextBlock] | None:
        """The page's blocks if this pass kept them, let go of here (each page renders once)."""
        return self.blocks.pop(index, None)


def read_profile(doc: pymupdf.Document, pages: int, hints: dict[int, PageHints]) -> DocumentProfile:
    """Two quick passes over the text: the body font size and the running lines, then the
    pages whose top opens a section (a heading in their upper third, or a new slide title).

    Each page's text is read once: the lines of the first pass, then their roles from the
    second, are kept for the render pass, up to `KEPT_LINES` (reading a page's text costs
    about a tenth of rendering it, and it was read three times).
    """
    profile = DocumentProfile()
    sizes: Counter = Counter()
    kept: dict[int, list[Line]] = {}
    room = KEPT_LINES
    for index in range(pages):
        page = doc.load_page(index)
        lines = read_lines(page)
        if len(lines) <= room:
            kept[index] = lines
            room -= len(lines)
        profile.running.add_page(((line.text, line.bbox) for line in lines), page.rect.height)
        for line in lines:
            sizes[line.size] += len(line.text)
    profile.body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    previous_title = None
    for index in range(pages):
        page = doc.load_page(index)
        lines = kept.pop(index, None)
        blocks = line_roles(
            read_lines(page) if lines is None else lines,
            profile,
            hints.get(index),
            page.rect.height,
        )
        if lines is not None:
            profile.blocks[index] = blocks
        title = (hints.get(index) or PageHints()).title
        opens = any(
            b.role in (BlockRole.TITLE, BlockRole.HEADING)
            and (b.bbox[1] + b.bbox[3]) / 2 < page.rect.height / 3
            for b in blocks
        )
        if title is not None:  # a deck: a new slide title opens a section
            opens = title != previous_title
            previous_title = title
        if opens:
            profile.sections.append(index)
    return profile


def line_roles(
    lines: list[Line], profile: DocumentProfile, hints: PageHints | None, page_height: float
) -> list[TextBlock]:
    """The lines as text blocks (boxes in points) with their roles; tables by geometry."""
    hints = hints or PageHints()
    body = profile.body_size or (statistics.median([line.size for line in lines]) if lines else 0.0)
    blocks = [TextBlock(line.text, line.bbox, "native", unsure=list(line.unsure)) for line in lines]
    rows = visual_rows(blocks)
    toc = {id(b) for i in toc_rows(rows) for b in rows[i]}
    alone = {id(b) for row in rows for b in row if _stands_alone(b, row)}
    title = normalize(hints.title) if hints.title else None
    marked = []
    for line, block in zip(lines, blocks, strict=True):
        text = line.text.strip()
        centre = ((line.bbox[0] + line.bbox[2]) / 2, (line.bbox[1] + line.bbox[3]) / 2)
        words = len(text.split())
        if not line.horizontal or (line.faint and body and line.size >= 1.4 * body):
            role = BlockRole.WATERMARK
        elif line.cell is not None:
            role = BlockRole.TABLE_CELL  # a cell of a ruled table (pdf/tables.py)
        elif any(
            x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1 for x0, y0, x1, y1 in hints.figures
        ):
            role = BlockRole.FIGURE
        elif any(
            x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1 for x0, y0, x1, y1 in hints.tables
        ):
            role = BlockRole.PARAGRAPH  # a cell of a table the deck declares; see below
        elif profile.running.is_running(text, line.bbox, page_height):
            role = BlockRole.HEADER_FOOTER
        elif id(block) in toc or DOT_LEADERS.match(text):
            role = BlockRole.TOC
        elif title and _part_of(normalize(text), title):
            role = BlockRole.TITLE
        elif line.mono >= 0.8:
            role = BlockRole.CODE
        elif is_caption(text):
            role = BlockRole.CAPTION
        elif is_list_item(text):
            role = BlockRole.LIST_ITEM
        elif _heading(line, text, words, body, id(block) in alone):
            big = body and line.size >= 1.6 * body and not _NUMBERED.match(text)
            role = BlockRole.TITLE if big and centre[1] < page_height / 3 else BlockRole.HEADING
        else:
            role = BlockRole.PARAGRAPH
        cell = line.cell if role == BlockRole.TABLE_CELL else None
        marked.append(replace(block, role=role, cell=cell))
    marked = _wrapped_headings(lines, _call_outs(lines, marked))
    if not title:  # a deck's title comes from its slide, with no front matter under it
        marked = _front_matter(lines, marked)
    plain = [b for b in marked if b.role == BlockRole.PARAGRAPH]
    in_hinted = [
        [
            b
            for b in plain
            if x0 <= (b.bbox[0] + b.bbox[2]) / 2 <= x1 and y0 <= (b.bbox[1] + b.bbox[3]) / 2 <= y1
        ]
        for x0, y0, x1, y1 in hints.tables
    ]
    tables = [
        t for cells in in_hinted for t in grid_tables(visual_rows(cells), min_rows=2, strict=False)
    ]
    tables += grid_tables(
        visual_rows([b for b in plain if not any(b in cells for cells in in_hinted)])
    )
    ruled = 1 + max((b.cell[0] for b in marked if b.cell is not None), default=-1)
    return with_cells(marked, tables, first=ruled)


def _stands_alone(block: TextBlock, row: list[TextBlock]) -> bool:
    """Nothing else on its visual row nearby: a line of its own in its column (the next
    column is further than three line heights away)."""
    reach = 3 * (block.bbox[3] - block.bbox[1])
    return all(
        other is block
        or other.bbox[0] - block.bbox[2] > reach
        or block.bbox[0] - other.bbox[2] > reach
        for other in row
    )


def _part_of(line: str, title: str) -> bool:
    """The line is a line of the slide's title: whole words of it, not a table's "A"."""
    if not line or (len(line) < 3 and line != title):
        return False
    before = r"(?<!\w)" if line[0].isalnum() else ""
    after = r"(?!\w)" if line[-1].isalnum() else ""
    return re.search(before + re.escape(line) + after, title) is not None


def _heading(line: Line, text: str, words: int, body: float, alone: bool) -> bool:
    """A short line of words (no address in it), set larger than the body text or bold on a
    line of its own."""
    name = _NUMBERED.sub("", text)  # "7.5.1.3 HMAC-SHA1": the number does not count
    letters = sum(ch.isalpha() for ch in name)
    if (
        not (1 <= words <= 14)
        or letters < 2
        or not body
        or letters < 0.5 * len(name.replace(" ", ""))
    ):
        return False
    if is_list_item(text) or re.search(r"https?://|www\.|@\w", text):
        return False
    if line.size >= 1.15 * body:
        return True
    return alone and line.bold >= 0.9 and words <= 10 and not text.endswith((".", ",", ";"))


def _call_outs(lines: list[Line], blocks: list[TextBlock]) -> list[TextBlock]:
    """Consecutive heading lines of one size form a run: a run of more than 14 words is a
    sentence set large (a call-out), not a heading; a short run keeps its first line's role."""
    out = list(blocks)
    i = 0
    while i < len(out):
        if out[i].role not in (BlockRole.TITLE, BlockRole.HEADING):
            i += 1
            continue
        j = i + 1
        while (
            j < len(out)
            and out[j].role in (BlockRole.TITLE, BlockRole.HEADING)
            and abs(lines[j].size - lines[i].size) <= 0.5
            and -0.5 * (lines[j].bbox[3] - lines[j].bbox[1])  # tight leading: boxes overlap
            <= lines[j].bbox[1] - lines[j - 1].bbox[3]
            < 0.7 * (lines[j].bbox[3] - lines[j].bbox[1])
        ):
            j += 1
        words = sum(len(out[k].text.split()) for k in range(i, j))
        role = BlockRole.PARAGRAPH if words > 14 else out[i].role
        for k in range(i, j):
            out[k] = replace(out[k], role=role)
        i = j
    return out


def _wrapped_headings(lines: list[Line], blocks: list[TextBlock]) -> list[TextBlock]:
    """A bold heading's second line, right under it at its left edge in the same bold size,
    is a heading line too, though a narrow gutter put the next column's text on its visual
    row ("Related Service Information Under 1" / "CFR Part 51" was read as the heading's first
    line and the start of the paragraph below)."""
    out = list(blocks)
    for i in range(len(out) - 1):
        j = i + 1
        if out[i].role != BlockRole.HEADING or out[j].role != BlockRole.PARAGRAPH:
            continue
        height = lines[i].bbox[3] - lines[i].bbox[1]
        text = out[j].text.strip()
        if (
            lines[i].bold >= 0.9
            and lines[j].bold >= 0.9
            and abs(lines[j].size - lines[i].size) <= 0.5
            and abs(lines[j].bbox[0] - lines[i].bbox[0]) <= height
            and lines[j].bbox[2] <= lines[i].bbox[2] + height  # a wrapped line's tail
            and -0.5 * height <= lines[j].bbox[1] - lines[i].bbox[3] < 0.7 * height
            and 1 <= len(text.split()) <= 10
            and not text.endswith((".", ",", ";", ":"))
            and not out[i].text.rstrip().endswith((".", ":", ";"))
        ):
            out[j] = replace(out[j], role=BlockRole.HEADING)
    return out


def _front_matter(lines: list[Line], blocks: list[TextBlock]) -> list[TextBlock]:
    """The plain lines set large right under a title (authors, affiliations) are not
    headings: they introduce no section."""
    out = list(blocks)
    k = next((i for i, b in enumerate(out) if b.role == BlockRole.TITLE), None)
    if k is None:
        return out
    while k < len(out) and out[k].role == BlockRole.TITLE:
        k += 1
    while k < len(out) and out[k].role == BlockRole.HEADING and lines[k].bold < 0.5:
        out[k] = replace(out[k], role=BlockRole.PARAGRAPH)
        k += 1
    return out


def page_blocks(
    page: pymupdf.Page, profile: DocumentProfile, hints: PageHints | None, zoom: float
) -> list[TextBlock]:
    """Native text, one block per line with its role, boxes in rendered-image pixels."""
    blocks = profile.take_blocks(page.number)
    if blocks is None:
        blocks = line_roles(read_lines(page), profile, hints, page.rect.height)
    return [replace(b, bbox=tuple(v * zoom for v in b.bbox)) for b in blocks]
