"""Cross-image questions (Leopard): values that two images give for the same label compared,
the order of sections across images, and where a section continues."""

from __future__ import annotations

import random

from curate.core.text import normalize
from curate.schemas import BlockRole, QAItem
from curate.stages.generators.template.key_values import find_key_values
from curate.stages.generators.template.page import PageView, is_label
from curate.stages.generators.template.rules import numeric_value
from curate.stages.generators.template.version import NAME, PROMPT_VERSION


def labelled_numbers(page: PageView) -> dict[str, tuple[str, float]]:
    """Normalised label -> (label as written, value) for "label: number" lines and table cells."""
    found: dict[str, tuple[str, float]] = {}
    for candidate in find_key_values(page):
        value = numeric_value(candidate.answer)
        if value is not None:
            found[normalize(candidate.subject)] = (candidate.subject, value)
    for table in page.tables:
        for row in range(1, table.rows):
            for column in range(1, table.columns):
                value = numeric_value(table.text(row, column))
                label = f"{table.text(row, 0)} {table.text(0, column)}".strip()
                if value is not None and table.text(row, 0):
                    found.setdefault(normalize(label), (label, value))
    return found


def cross_image_qa(pages: list[PageView], limit: int, rng: random.Random) -> list[QAItem]:
    if len(pages) < 2 or limit == 0:
        return []
    found: list[QAItem] = []
    numbers = [labelled_numbers(p) for p in pages]
    for i in range(len(pages)):
        for j in range(i + 1, len(pages)):
            for key in sorted(set(numbers[i]) & set(numbers[j])):
                (label, a), (_, b) = numbers[i][key], numbers[j][key]
                if a == b:
                    continue
                bigger = i if a > b else j
                question = (
                    f'Which image gives the larger "{label}": image {i + 1} or image {j + 1}?'
                )
                answer = (
                    f"Image {bigger + 1}. Image {i + 1} gives {shown(a)} and image {j + 1} gives "
                    f"{shown(b)} "
                    f'for "{label}".'
                )
                found.append(
                    QAItem(
                        "cross_image",
                        question,
                        answer,
                        -1,
                        f"{label}: {a} | {b}",
                        NAME,
                        PROMPT_VERSION,
                    )
                )
    heads = [(p.n, h) for p in pages for h in p.headings[:1] if not is_label(h.text)]
    for (m, first), (k, second) in zip(heads, heads[1:], strict=False):
        if m != k and normalize(first.text) != normalize(second.text):
            pair = [first.text, second.text]
            rng.shuffle(pair)
            question = f'Which section comes first in the document: "{pair[0]}" or "{pair[1]}"?'
            answer = f'"{first.text}", on image {m}; "{second.text}" follows on image {k}.'
            found.append(
                QAItem(
                    "cross_image",
                    question,
                    answer,
                    -1,
                    f"{first.text} | {second.text}",
                    NAME,
                    PROMPT_VERSION,
                )
            )
    for previous, page in zip(pages, pages[1:], strict=False):
        opens = page.headings and (  # a new heading at the top, or a slide's own title
            (page.headings[0].bbox[1] + page.headings[0].bbox[3]) / 2 < page.height / 3
            or any(h.role == BlockRole.TITLE for h in page.headings)
        )
        sections = [h for h in previous.headings if h.role == BlockRole.HEADING]
        last = sections[-1] if sections and not is_label(sections[-1].text) else None
        # text that starts low on a page (a manual's copyright page) continues nothing
        body = [
            b for b in page.blocks if b.role not in (BlockRole.HEADER_FOOTER, BlockRole.WATERMARK)
        ]
        top = min(((b.bbox[1] + b.bbox[3]) / 2 for b in body), default=page.height)
        if last and not opens and page.content and top < page.height / 3:
            question = f"The text at the top of image {page.n} continues which section of image "
            question += f"{previous.n}?"
            answer = f'The section "{last.text}", the last heading on image {previous.n}.'
            found.append(
                QAItem("cross_image", question, answer, -1, last.text, NAME, PROMPT_VERSION)
            )
    rng.shuffle(found)
    found.sort(
        key=lambda q: 0 if q.question.startswith("Which image gives") else 1
    )  # comparisons first
    return found[:limit]


def shown(value: float) -> str:
    return f"{value:g}"
