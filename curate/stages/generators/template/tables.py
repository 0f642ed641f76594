"""Tables: what a reader works out from one, with the answer computed from its cells and the
follow-up showing the working.

Only tables whose structure is certain are asked about: every row named by a label in its first
column that no other row shares; and only the columns a header row names distinctly (a column
under a merged or empty header cell is never asked about). From such a table:

    table_extreme   which row has the largest (smallest) value of a column of figures
    table_change    how a row's figure changes from one period's column to the next
    table_compare   which of two rows has the larger figure in a column
    table_count     how many rows (regions, species, ...) the table lists
    table_lookup    the value in a row and a column

Every computed answer is worked out again from the cells it names before it is asked.
"""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.document.layout import PERIOD, Table
from curate.stages.generators.template.figures import Figure, figure, shown
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import BULLET_MARK, CJK, trimmed

MIN_ROWS_TO_RANK = 3  # fewer rows: "which is largest" is a comparison, asked as one


def _short(text: str) -> bool:
    """A column name or a row label: a few words, or a few CJK characters; a bullet opens a
    list item, never a cell."""
    words = len(text.split()) + len(CJK.findall(text)) // 2
    return words <= 6 and len(text) <= 32 and not _BULLET.match(text)


# a bullet; a dash right against a figure or a letter is no bullet but a sign or an option
# ("-1", "-s": bzip2's block-size flags label its table's rows)
_BULLET = re.compile(rf"(?!-\w|–\d){BULLET_MARK.pattern.lstrip('^')}")


def _names(text: str) -> bool:
    """A header cell that can name a column: two letters or more ("Cargo", "価格"), or a number
    ("2016", a level "2"); not one letter or a symbol, as a symbol table's ("∇", "ℓ", "ı")."""
    return sum(ch.isalpha() for ch in text) >= 2 or any(ch.isdigit() for ch in text)


class Grid:
    """A table as questions use it: column names, row labels, figures."""

    def __init__(self, table: Table):
        self.table = table
        self.names = [table.text(0, c) for c in range(table.columns)]
        self.rows = [r for r in range(1, table.rows) if table.text(r, 0)]

    @property
    def columns(self) -> list[int]:
        """The data columns a question may name: named, and by a name no other column has. A
        column under a merged or empty header cell is left out, not the whole table."""
        names = [normalize(n) for n in self.names]
        return [
            c
            for c in range(1, self.table.columns)
            if _names(names[c]) and names.count(names[c]) == 1 and _short(self.names[c])
        ]

    @property
    def certain(self) -> bool:
        """Some data column named, distinctly; every row labelled, distinctly; and a first
        row that names columns: a figure there that is no period ("41" where "2016" would be
        a name) makes it a row of data, in a table printed without a header."""
        labels = [normalize(self.label(r)) for r in self.rows]
        data_on_top = any(
            figure(name) is not None and not PERIOD.fullmatch(name.strip())
            for name in self.names[1:]
            if name.strip()
        )
        # a corner cell written like the row labels under it ("7C0" over "1984", "3E8"): the
        # first row is data too, a table of examples printed without a header
        corner = self.names[0].strip()
        coded = [bool(re.search(r"\d", label)) for label in labels]
        data_on_top |= (
            bool(re.search(r"\d", corner))
            and not re.search(r"[^\W\d_]{2}", corner)  # "Tier 1" is a name, "7C0" a code
            and not PERIOD.fullmatch(corner)
            and sum(coded) > 0.5 * len(coded)
        )
        return (
            bool(self.rows)
            and not data_on_top
            and bool(self.columns)
            and _short(self.names[0])
            and all(_short(self.label(r)) for r in self.rows)  # a name, not a sentence cut up
            and len(set(labels)) == len(labels) == self.table.rows - 1
        )

    def label(self, row: int) -> str:
        return self.table.text(row, 0)

    def figures(self, column: int) -> list[tuple[int, Figure]]:
        """The rows whose cell in the column is a figure, when most of the column is."""
        found = [(r, figure(self.table.text(r, column))) for r in self.rows]
        found = [(r, f) for r, f in found if f is not None]
        same_form = found and all(f.same_form(found[0][1]) for _, f in found)
        return found if same_form and len(found) >= 0.8 * len(self.rows) else []

    def numbered(self) -> bool:
        """The rows are named by figures (a time, a dose): asked as "at which ...", never
        compared by name."""
        return all(figure(self.label(r)) is not None for r in self.rows)

    def rows_are(self) -> str | None:
        """What the rows are, from the first column's name ("Region" -> "region"): a word, not
        a period or a code ("7C0")."""
        name = self.names[0].strip()
        return name if re.search(r"[^\W\d_]{2}", name) and not PERIOD.fullmatch(name) else None


def _row_noun(grid: Grid) -> str:
    """How a question names a row: by the first column's name, quoted, or as "row"."""
    what = grid.rows_are()
    return f'"{what}"' if what else "row"


def _described(values: list[tuple[str, Figure]], most: int = 6) -> str:
    """ "4.1 (Nordics), 5.3 (Benelux) and 3.2 (Iberia)", the first `most` of them."""
    parts = [f"{f.text} ({label})" for label, f in values[:most]]
    more = len(values) - len(parts)
    if more:
        parts.append(f"{more} more")
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]


def find_extremes(page: PageView, grid: Grid) -> list[Candidate]:
    found = []
    if len(grid.rows) < MIN_ROWS_TO_RANK:
        return found
    for column in grid.columns:
        values = grid.figures(column)
        if len(values) < MIN_ROWS_TO_RANK:
            continue
        for kind, pick, word in (("table_max", max, "largest"), ("table_min", min, "smallest")):
            best = pick(f.value for _, f in values)
            winners = [r for r, f in values if f.value == best]
            if len(winners) != 1:
                continue  # a tie has two answers
            row = winners[0]
            named = [(grid.label(r), f) for r, f in values]
            explain = (
                f'The "{grid.names[column]}" column of the table on image {page.n} gives '
                f"{_described(named)}; the {word} of these is "
                f'{grid.table.text(row, column)}, in the row "{grid.label(row)}".'
            )
            fields = {"column": grid.names[column], "rows": _row_noun(grid)}
            found.append(
                Candidate(
                    kind + "_at" if grid.numbered() else kind,
                    fields,
                    grid.label(row),
                    grid.table.blocks(row, 0)[0],
                    explain,
                    figures=tuple(f.text for _, f in values),
                )
            )
    return found


def find_changes(page: PageView, grid: Grid) -> list[Candidate]:
    """A row's figure in one period's column against the next period's: how much it changed."""
    found = []
    periods = [c for c in grid.columns if PERIOD.fullmatch(grid.names[c].strip())]
    for before, after in zip(periods, periods[1:], strict=False):
        a, b = dict(grid.figures(before)), dict(grid.figures(after))
        for row in grid.rows:
            if row not in a or row not in b or not a[row].same_form(b[row]):
                continue
            change = b[row].value - a[row].value
            points = " percentage points" if a[row].percent else ""
            amount = shown(abs(change), [a[row], b[row]])
            if change == 0:
                answer = "It did not change."
            else:
                answer = f"It {'rose' if change > 0 else 'fell'} by {amount}{points}."
            explain = (
                f'In the row "{grid.label(row)}", "{grid.names[before]}" gives {a[row].text} and '
                f'"{grid.names[after]}" gives {b[row].text}: {b[row].text} - {a[row].text} = '
                f"{shown(change, [a[row], b[row]], sign=True)}{points}."
            )
            fields = {
                "row": grid.label(row),
                "before": grid.names[before],
                "after": grid.names[after],
            }
            block = grid.table.blocks(row, after)[0]
            found.append(
                Candidate(
                    "table_change",
                    fields,
                    answer,
                    block,
                    explain,
                    worked_out=True,
                    figures=(a[row].text, b[row].text),
                )
            )
    return found


def find_comparisons(page: PageView, grid: Grid) -> list[Candidate]:
    """Two neighbouring rows' figures in a column: which is larger."""
    found = []
    if grid.numbered():
        return found  # "which is larger, 4 or 6?" reads as a question about the labels
    for column in grid.columns:
        values = grid.figures(column)
        for (r1, f1), (r2, f2) in zip(values, values[1:], strict=False):
            if f1.value == f2.value:
                continue
            bigger = grid.label(r1) if f1.value > f2.value else grid.label(r2)
            explain = (
                f'In the "{grid.names[column]}" column of the table on image {page.n}, '
                f'"{grid.label(r1)}" has {f1.text} and "{grid.label(r2)}" has {f2.text}; '
                f'{max(f1, f2, key=lambda f: f.value).text} is the larger, so "{bigger}".'
            )
            fields = {"column": grid.names[column], "first": grid.label(r1)}
            fields["second"] = grid.label(r2)
            found.append(
                Candidate(
                    "table_compare",
                    fields,
                    bigger,
                    grid.table.blocks(r1 if bigger == grid.label(r1) else r2, 0)[0],
                    explain,
                    figures=(f1.text, f2.text),
                )
            )
    return found


_PLURAL = (
    (re.compile(r"(?i)(s|x|z|ch|sh)$"), r"\1es"),
    (re.compile(r"(?i)([^aeiou])y$"), r"\1ies"),
)
_UNCOUNTED = frozenset("species series data information equipment".split())


def plural(noun: str) -> str | None:
    """The plural of a one-word English noun ("Region" -> "regions"), or None for anything
    else (a phrase, a name, a unit)."""
    if not re.fullmatch(r"[A-Za-z]{3,}", noun):
        return None
    word = noun.lower()
    if word in _UNCOUNTED:
        return word
    for pattern, replacement in _PLURAL:
        if pattern.search(word):
            return pattern.sub(replacement, word)
    return word + "s"


def find_counts(page: PageView, grid: Grid) -> list[Candidate]:
    what = grid.rows_are()
    things = plural(what) if what and (what.istitle() or what.islower()) else None
    if not things or len(grid.rows) < 2 or grid.numbered():
        return []  # "offsets" 0, 1, 3: numbered rows count nothing a reader names
    labels = [grid.label(r) for r in grid.rows]
    listed = ", ".join(f'"{label}"' for label in labels[:-1]) + f' and "{labels[-1]}"'
    if len(labels) > 8:
        listed = f'"{labels[0]}" to "{labels[-1]}"'
    explain = (
        f"The table on image {page.n} has one row for each of its {things}: {listed}. "
        f"That is {len(labels)} rows."
    )
    answer = str(len(labels))
    return [
        Candidate(
            "table_count",
            {"things": things},
            answer,
            grid.table.blocks(grid.rows[0], 0)[0],
            explain,
            worked_out=True,
        )
    ]


def find_lookups(page: PageView, grid: Grid) -> list[Candidate]:
    found = []
    for row in grid.rows:
        label = grid.label(row)
        kind = "table_lookup"
        if figure(label) is not None and not PERIOD.fullmatch(label):
            if not grid.rows_are():
                continue  # a row named by a bare number, with nothing saying what it counts
            kind = "table_lookup_key"  # "the Meaning for Serial Type 4"
        for column in grid.columns:
            value, name = grid.table.text(row, column), grid.names[column]
            blocks = grid.table.blocks(row, column)
            if not value or not blocks or normalize(value) == normalize(name):
                continue
            named = f' names each row by its "{grid.rows_are()}";' if grid.rows_are() else ","
            explain = (
                f'The table on image {page.n}{named} the row "{label}" meets the column '
                f'"{name}" at {value}, so that is the "{name}" of "{label}".'
            )
            fields = {"row": label, "column": name, "key": grid.rows_are() or ""}
            found.append(Candidate(kind, fields, trimmed(value), blocks[0], explain))
    return found


def find_table_questions(page: PageView) -> list[Candidate]:
    found = []
    for table in page.tables:
        grid = Grid(table)
        if not grid.certain:
            continue
        for finder in (find_extremes, find_changes, find_comparisons, find_counts, find_lookups):
            found += finder(page, grid)
    return found


TABLES = QuestionKind(
    "table",
    find_table_questions,
    {
        "table_max": (
            'In the table on image {n}, which {rows} has the largest "{column}"?',
            'Which {rows} of the table on image {n} has the highest "{column}"?',
        ),
        "table_change": (
            'According to the table on image {n}, how did "{row}" change from "{before}" to '
            '"{after}"?',
            'In the table on image {n}, by how much does "{row}" differ between "{before}" and '
            '"{after}"?',
        ),
        "table_max_at": (
            'In the table on image {n}, at which {rows} is "{column}" highest?',
            'According to the table on image {n}, at which {rows} does "{column}" peak?',
        ),
        "table_lookup": (
            'In the table on image {n}, what is the "{column}" of "{row}"?',
            'What value does the table on image {n} give for "{row}" under "{column}"?',
        ),
        "table_lookup_key": (
            'In the table on image {n}, what is the "{column}" for "{key}" {row}?',
            'What does the table on image {n} give as the "{column}" where "{key}" is {row}?',
        ),
        "table_compare": (
            'In the table on image {n}, which has the larger "{column}": "{first}" or "{second}"?',
            'Does "{first}" or "{second}" have the higher "{column}" in the table on image {n}?',
        ),
        "table_count": (
            "How many {things} does the table on image {n} list?",
            "The table on image {n} lists how many {things}?",
        ),
        "table_min": (
            'In the table on image {n}, which {rows} has the smallest "{column}"?',
            'Which {rows} of the table on image {n} has the lowest "{column}"?',
        ),
        "table_min_at": (
            'In the table on image {n}, at which {rows} is "{column}" lowest?',
            'According to the table on image {n}, at which {rows} is "{column}" smallest?',
        ),
    },
    follow_ups={
        "table_lookup": (
            "Which row and column of the table give that?",
            "How do you find that in the table?",
        ),
        "table_lookup_key": (
            "Which row and column of the table give that?",
            "How do you find that in the table?",
        ),
        "table_change": ("How is that worked out?", "Show how you get that from the table."),
        "table_count": ("How do you count them?", "Which rows are they?"),
        "": ("How can you tell from the table?", "Which figures in the table give that?"),
    },
)
