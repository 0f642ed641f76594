"""A value printed after its label ("Total revenue: 18.4 million euros")."""

from __future__ import annotations

import re

from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.rules import (
    ADDRESS,
    CONTINUES,
    KEY_VALUE,
    MATH,
    NOT_A_KEY,
    STOP,
    TIME,
    trimmed,
)


def find_key_values(page: PageView) -> list[Candidate]:
    found = []
    for block in page.content:
        if block.role not in (BlockRole.PARAGRAPH, BlockRole.LIST_ITEM):
            continue
        match = KEY_VALUE.match(block.text.strip())
        if not match or TIME.search(block.text) or ADDRESS.search(block.text):
            continue
        if page.continues(block):
            continue  # "... if you know either k or x: those ..." is a sentence, not a label
        key, value = match["key"].strip(), trimmed(match["value"])
        words = key.split()
        if (
            sum(w.lower() in STOP for w in words) >= 0.5 * len(words)  # a phrase, not a label
            or MATH.search(value)
            or NOT_A_KEY.match(key)
            or re.search(r"\d$", key)  # "Listing 6", "Step 3": an enumerator, not a field
            or re.match(r"(//|https?:|www\.)", value)  # a URL is an address, not a value
            or len(words) > 4
            or len(value.split()) > 12
            or not value
            or value.split()[-1].lower() in STOP | CONTINUES  # "..., 1963, unless": cut short
            or match["value"].rstrip().endswith((",", "-"))
        ):
            continue
        see = f'Image {page.n} gives "{value}" right after the label "{key}", {page.where(block)}.'
        found.append(Candidate("key_value", key, value, block, see))
    return found


KEY_VALUES = QuestionKind(
    "labelled value",
    find_key_values,
    {
        "key_value": (
            'According to image {n}, what is given for "{key}"?',
            'What does image {n} list as the "{key}"?',
            'On image {n}, what value follows the label "{key}"?',
            'What is the "{key}" stated on image {n}?',
        )
    },
)
