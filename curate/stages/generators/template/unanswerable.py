"""Near misses (`generator.unanswerable`): a question one image of a sample cannot answer,
about a labelled value or a table row that another image of the sample gives, answered by
saying so. Trained on, they teach a model to say "not given" instead of inventing a value;
off by default, and counted as their own QA kind ("unanswerable")."""

from __future__ import annotations

import random
import re

from curate.core.text import normalize
from curate.schemas import QAItem
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.version import NAME, PROMPT_VERSION

KIND = "unanswerable"
# candidate kinds a near miss can borrow: a value asked by its label, a cell by its row
_BORROWED = ("key_value", "table_lookup")


def _absent(phrase: str, page: PageView) -> bool:
    """The page does not print the phrase, as words of its own (not inside another word)."""
    key = normalize(phrase)
    return bool(key) and not re.search(rf"(?<!\w){re.escape(key)}(?!\w)", page.norm)


def _near_miss(page: PageView, other: PageView, candidate: Candidate) -> tuple[str, str] | None:
    """(question, answer) asking `page` what `candidate` of `other` gives; None when `page`
    might answer it."""
    if candidate.kind == "key_value":
        label = candidate.fields["key"]
        if not _absent(label, page):
            return None
        return (
            f'According to image {page.n}, what is the "{label}"?',
            f'Image {page.n} does not give the "{label}"; image {other.n} gives it as '
            f"{candidate.answer}.",
        )
    row, column = candidate.fields["row"], candidate.fields["column"]
    # the nearest miss: a table with the same column that lacks the row
    if not page.tables or _absent(column, page) or not _absent(row, page):
        return None
    return (
        f'In the table on image {page.n}, what is the "{column}" of "{row}"?',
        f'The table on image {page.n} has no row "{row}", so it does not give its "{column}"; '
        f"the table on image {other.n} gives it as {candidate.answer}.",
    )


def near_misses(
    pages: list[PageView],
    found: dict[int, list[Candidate]],
    share: float,
    rng: random.Random,
) -> list[QAItem]:
    """For about `share` of the images, one question it cannot answer, borrowed from what
    another image gives (`found`: each image's candidates, by its number). Its answer needs
    both images (`image_index` -1). A one-image sample gets none: nothing shows what its page
    lacks."""
    items = []
    for page in pages:
        if len(pages) < 2 or rng.random() >= share:
            continue
        borrowed = [
            (other, c)
            for other in pages
            if other.n != page.n
            for c in found.get(other.n, [])
            if c.kind in _BORROWED
        ]
        rng.shuffle(borrowed)
        for other, candidate in borrowed:
            asked = _near_miss(page, other, candidate)
            if asked:
                question, answer = asked
                evidence = candidate.evidence.text
                items.append(QAItem(KIND, question, answer, -1, evidence, NAME, PROMPT_VERSION))
                break
    return items
