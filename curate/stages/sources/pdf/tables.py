"""Ruled tables: the cells PyMuPDF's `find_tables()` finds where a page draws a grid, with the
page's text lines placed into them.

`find_tables()` costs 50 to 200 ms a page, so it runs only where the page's drawings hold
enough horizontal and vertical rules to make a grid. A table is kept only when its structure is
certain: a header row of distinct names over at least one row, no merged cell in its body, most
cells filled with text that does not repeat (a plot's labels do), and each text line inside
one cell. A doubtful table marks no cell; the geometry rules
(document/layout.py) may still read it, and a table no rule is sure of is never asked about.
"""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.stages.sources.mupdf import pymupdf

MIN_RULES = (3, 2)  # horizontal, vertical rules a page needs before tables are looked for
MIN_FILLED = 0.7  # share of a table's body cells that hold text
DOT_LEADERS = re.compile(r"\.{4,}|(\. ){3,}")


def has_rules(drawings: list[dict]) -> bool:
    """Whether the drawings could make a grid: enough long horizontal and vertical strokes (a
    filled box counts for both sides)."""
    across = down = 0
    for drawing in drawings:
        for item in drawing["items"]:
            if item[0] == "l":
                a, b = item[1], item[2]
                if abs(a.y - b.y) < 0.5 and abs(a.x - b.x) > 20:
                    across += 1
                elif abs(a.x - b.x) < 0.5 and abs(a.y - b.y) > 8:
                    down += 1
            elif item[0] == "re":
                box = item[1]
                if box.height < 2 and box.width > 20:
                    across += 1
                elif box.width < 2 and box.height > 8:
                    down += 1
                elif box.width > 20 and box.height > 8:
                    across, down = across + 2, down + 2
    return across >= MIN_RULES[0] and down >= MIN_RULES[1]


def ruled_cells(
    page: pymupdf.Page, lines: list[tuple[str, tuple[float, float, float, float]]]
) -> dict[int, tuple[int, int, int]]:
    """Index of a text line (its text and box, as rendered) -> (table, row, column), row 0 the
    header, for the page's ruled tables whose structure is certain."""
    boxes = [box for _, box in lines]
    try:
        # use_layout=False: by default the finder defers to PyMuPDF's layout model when
        # `pymupdf.layout` happens to be imported in the process (curate skips it; a notebook's
        # or a test's plain `import pymupdf` loads it), so the same page gave other tables
        found = page.find_tables(use_layout=False).tables
    except Exception:  # a page PyMuPDF's table finder cannot read: no ruled table
        return {}
    turn = page.rotation_matrix
    cells: dict[int, tuple[int, int, int]] = {}
    table_number = 0
    for table in found:
        grid = _grid(table, turn)
        if grid is None:
            continue
        placed = _place(grid, boxes)
        if placed is None or not _certain(grid, placed):
            continue
        names = [
            " ".join(lines[i][0] for i, (r, c) in sorted(placed.items()) if r == 0 and c == column)
            for column in range(1, len(grid[0]))
        ]
        body = [lines[i][0] for i, (r, _) in placed.items() if r > 0]
        if not distinct_names(names) or len(set(body)) < max(2, 0.5 * len(body)):
            continue  # a plot's repeated labels ("Adult", "Adult"), not a table
        if any(DOT_LEADERS.search(text) for text in body):
            continue  # dot leaders run several rows through one cell: which row is which?
        cells.update({line: (table_number, row, column) for line, (row, column) in placed.items()})
        table_number += 1
    return cells


def _grid(table, turn: pymupdf.Matrix) -> list[list[pymupdf.Rect | None]] | None:
    """The table's cell boxes as rendered, row by row, the header row first; None when the
    header lies outside the table in a form the cells do not give."""
    rows = [
        [None if c is None else pymupdf.Rect(c) * turn for c in row.cells] for row in table.rows
    ]
    header = table.header
    if header.external:
        if not header.cells or len(header.cells) != len(rows[0]):
            return None
        rows.insert(0, [None if c is None else pymupdf.Rect(c) * turn for c in header.cells])
    return rows


def _place(
    grid: list[list[pymupdf.Rect | None]], boxes: list[tuple[float, float, float, float]]
) -> dict[int, tuple[int, int]] | None:
    """Each line whose centre lies in the table -> its cell; None when a line straddles cells."""
    outline = pymupdf.Rect()
    for row in grid:
        for cell in row:
            if cell is not None:
                outline |= cell
    placed: dict[int, tuple[int, int]] = {}
    for index, (x0, y0, x1, y1) in enumerate(boxes):
        centre = pymupdf.Point((x0 + x1) / 2, (y0 + y1) / 2)
        if not outline.contains(centre):
            continue
        where = [
            (r, c)
            for r, row in enumerate(grid)
            for c, cell in enumerate(row)
            if cell is not None and cell.contains(centre)
        ]
        if len(where) != 1:
            return None
        r, c = where[0]
        line = pymupdf.Rect(x0, y0, x1, y1)
        width = max(line.width, 1e-6)
        if (line & grid[r][c]).width < 0.8 * width:  # it runs on into the next cell
            return None
        placed[index] = (r, c)
    return placed


def _certain(grid: list[list[pymupdf.Rect | None]], placed: dict[int, tuple[int, int]]) -> bool:
    """A header of distinct names, no merged body cell, most of the body filled."""
    rows, columns = len(grid), len(grid[0])
    if rows < 2 or columns < 2 or any(len(row) != columns for row in grid):
        return False
    if any(cell is None for row in grid[1:] for cell in row):
        return False  # a merged cell: which row or column a value belongs to is a guess
    filled = {cell for cell in placed.values()}
    header = [c for c in range(columns) if (0, c) in filled]
    if len(header) < columns - 1 or any((0, c) not in filled for c in range(1, columns)):
        return False  # every data column needs its name (the first may be unnamed)
    body = [(r, c) for r in range(1, rows) for c in range(columns)]
    return sum(cell in filled for cell in body) >= MIN_FILLED * len(body)


def distinct_names(names: list[str]) -> bool:
    """No two columns share a name (`Adult`, `Adult` is a plot's labels, not a header)."""
    keys = [normalize(name) for name in names if name]
    return len(keys) == len(set(keys))
