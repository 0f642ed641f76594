"""Tables: a cell by its row and column, and the row with the largest or smallest value of a
numeric column."""

from __future__ import annotations

from curate.core.text import normalize
from curate.document.layout import Table
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import numeric_value, trimmed


def find_table_cells(page: PageView) -> list[Candidate]:
    found = []
    for table in page.tables:
        header = [table.text(0, c) for c in range(table.columns)]
        if not all(any(ch.isalpha() for ch in name) for name in header[1:]):
            continue  # without a header of names ("0", or none known) a cell cannot be asked for
        for row in range(1, table.rows):
            label = table.text(row, 0)
            if not label or numeric_value(label) is not None:
                continue
            for column in range(1, table.columns):
                value, name = table.text(row, column), header[column]
                blocks = table.blocks(row, column)
                if not value or not name or not blocks or normalize(value) == normalize(name):
                    continue
                see = f'It is the cell in the row "{label}" and the column "{name}"'
                see += f" of the table on image {page.n}."
                found.append(
                    Candidate("table_cell", f"{label}\x00{name}", trimmed(value), blocks[0], see)
                )
        found += find_extremes(page, table, header)
    return found


def find_extremes(page: PageView, table: Table, header: list[str]) -> list[Candidate]:
    """Which row has the largest (smallest) value of a numeric column: a relation, not a lookup."""
    found = []
    for column in range(1, table.columns):
        values = [
            (table.text(r, 0), numeric_value(table.text(r, column)), r)
            for r in range(1, table.rows)
        ]
        values = [(label, v, r) for label, v, r in values if label and v is not None]
        if len(values) < 3 or not header[column]:
            continue
        for kind, pick in (("table_max", max), ("table_min", min)):
            best = pick(v for _, v, _ in values)
            winners = [(label, r) for label, v, r in values if v == best]
            if len(winners) != 1:
                continue
            label, row = winners[0]
            word = "largest" if kind == "table_max" else "smallest"
            see = (
                f'In the "{header[column]}" column of the table on image {page.n}, "{label}" has '
                f"{table.text(row, column)}, the {word} value of its {len(values)} rows."
            )
            found.append(Candidate(kind, header[column], label, table.blocks(row, 0)[0], see))
    return found


TABLES = QuestionKind(
    "table",
    find_table_cells,
    {
        "table_cell": (
            'In the table on image {n}, what is the "{column}" of "{row}"?',
            'What value does the table on image {n} give for "{row}" under "{column}"?',
            'Look at the table on image {n}: which entry stands in the row "{row}" and the column '
            '"{column}"?',
        ),
        "table_max": (
            'In the table on image {n}, which row has the highest "{column}"?',
            'Which entry of the table on image {n} has the largest "{column}" value?',
        ),
        "table_min": (
            'In the table on image {n}, which row has the lowest "{column}"?',
            'Which entry of the table on image {n} has the smallest "{column}" value?',
        ),
    },
)
