"""The section a sentence opens: on a page with two or more sections, the first sentence of a
section, quoted, asked for the heading it stands under. Still a read-out (a blind audit, seed
46, judged it as mechanical as "what is the first heading?"), so it counts against the
read-outs' share; but one with a single answer, where the first heading may have two (a
running header, a bold line above it), and it is preferred to that.

Only the paragraph right below its heading is quoted (a bold line between them that the text
layer did not read as a heading would make the answer the wrong section), and only a heading
set at that paragraph's left edge (a title centred over two columns heads neither)."""

from __future__ import annotations

import re

from curate.core.text import normalize
from curate.schemas import BlockRole
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView, is_label, names_a_section
from curate.stages.generators.template.rules import (
    BULLET_MARK,
    URL,
    WHOLE_SENTENCE_WORDS,
    is_prose,
    sentence_spans,
    unspaced,
)

GAP_LINES = 2.5  # at most this many line heights between a heading and its first line


def find_sections(page: PageView) -> list[Candidate]:
    opened, seen = [], set()  # (heading, the paragraph right below it, its first line)
    for paragraph, first in page.paragraphs():
        heading = page.heading_above(first)
        if heading is None or heading.role != BlockRole.HEADING or id(heading) in seen:
            continue
        seen.add(id(heading))  # its first paragraph only: the one that opens the section
        if _opens(heading, first):
            opened.append((heading, paragraph, first))
    if len({normalize(heading.text) for heading, _, _ in opened}) < 2:
        # one section: every sentence stands under its heading (a chart's bold labels read
        # as headings head no text)
        return []
    found = []
    for heading, paragraph, first in opened:
        if is_label(heading.text) or not names_a_section(heading.text):
            continue
        if heading.text.strip()[:1].islower() or BULLET_MARK.match(paragraph):
            continue  # a slide's point set large, read as a heading; a list item under it
        spans = sentence_spans(paragraph)
        if not spans or spans[0][0] != 0:
            continue  # the paragraph opens mid-sentence: not the section's first sentence
        sentence = paragraph[: spans[0][1]]
        if not _quotable(sentence, heading.text, page):
            continue
        fields = {"sentence": " ".join(sentence.split())}
        found.append(Candidate("section", fields, " ".join(heading.text.split()), first))
    return found


def _opens(heading, first) -> bool:
    """The line stands right below the heading, flush with its left edge."""
    line = first.bbox[3] - first.bbox[1]
    gap = first.bbox[1] - heading.bbox[3]
    return -1 <= gap <= GAP_LINES * line and abs(first.bbox[0] - heading.bbox[0]) <= 2 * line


def _quotable(sentence: str, heading: str, page: PageView) -> bool:
    """A sentence of prose a reader can find: whole, not long, said once on the page, and not
    giving the heading away (its words all in the sentence)."""
    low, high = WHOLE_SENTENCE_WORDS
    if unspaced(sentence) or not low <= len(sentence.split()) <= high or "-\n" in sentence:
        return False
    if not is_prose(sentence) or URL.search(sentence) or not page.unique(sentence):
        return False  # a formula, program text, an address; said twice
    named = {w for w in re.findall(r"\w+", normalize(heading)) if not w.isdigit()}
    return not named <= set(re.findall(r"\w+", normalize(sentence)))


SECTIONS = QuestionKind(
    "section a sentence opens",
    find_sections,
    {
        "section": (
            'Under which heading of image {n} does the text say "{sentence}"?',
            'On image {n}, which section opens with "{sentence}"?',
        )
    },
    read_out=True,
)
