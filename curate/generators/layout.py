"""Reading structure from text-line boxes: visual rows and table-like runs of rows.

Works the same for native, OCR and DOM text, since all three give lines with pixel boxes.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from curate.schemas import TextBlock


def _height(block: TextBlock) -> float:
    return max(block.bbox[3] - block.bbox[1], 1e-6)


def _vertical_overlap(a: TextBlock, b: TextBlock) -> float:
    top, bottom = max(a.bbox[1], b.bbox[1]), min(a.bbox[3], b.bbox[3])
    return max(0.0, bottom - top) / min(_height(a), _height(b))


def visual_rows(blocks: Sequence[TextBlock]) -> list[list[TextBlock]]:
    """Group lines that share a baseline band into rows, top to bottom, cells left to right."""
    rows: list[list[TextBlock]] = []
    for block in sorted(blocks, key=lambda b: (b.bbox[1], b.bbox[0])):
        if rows and _vertical_overlap(rows[-1][0], block) > 0.5:
            rows[-1].append(block)
        else:
            rows.append([block])
    return [sorted(row, key=lambda b: b.bbox[0]) for row in rows]


def median_line_height(blocks: Sequence[TextBlock]) -> float:
    return statistics.median(_height(b) for b in blocks) if blocks else 0.0


def headings(blocks: Sequence[TextBlock], ratio: float = 1.25) -> list[TextBlock]:
    """Short lines set noticeably taller than the page's typical line, top to bottom."""
    typical = median_line_height(blocks)
    found = [
        b
        for b in blocks
        if _height(b) >= ratio * typical
        and 1 <= len(b.text.split()) <= 14
        and any(ch.isalpha() for ch in b.text)
    ]
    return sorted(found, key=lambda b: b.bbox[1])


def tables(blocks: Sequence[TextBlock], min_columns: int = 3) -> list[list[list[TextBlock]]]:
    """Runs of consecutive rows with the same number (>= min_columns) of cells.

    The first row of a run is taken as the header. Cheap, and right for the simple ruled tables
    of reports and manuals; complex spanning headers are simply not matched.
    """
    runs: list[list[list[TextBlock]]] = []
    current: list[list[TextBlock]] = []
    for row in visual_rows(blocks):
        if len(row) >= min_columns and (not current or len(row) == len(current[0])):
            current.append(row)
            continue
        if len(current) >= 2:
            runs.append(current)
        current = [row] if len(row) >= min_columns else []
    if len(current) >= 2:
        runs.append(current)
    return runs
