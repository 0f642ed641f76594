"""Offline, deterministic QA from page text and layout: the generator every new user sees first.

Per image, extractive questions come from the page's structure, as the sources marked it (roles,
tables). Each kind of question is one module and one `QuestionKind` in `QUESTION_KINDS`
(generate.py): titles and headings, labelled values, table cells and the extremes of a column,
numbers in sentences that only one place on the page fits, the section a sentence stands under,
and distinctive terms. `rules.py` holds the text rules they share, `page.py` the page as they
see it. Running headers, watermarks, code, tables of contents and chart text are never asked
about. Each answer is copied verbatim and followed by a self-explain turn. Per sample,
`cross.py` asks questions that compare values found on different images, order sections, or
find where a section continues.
"""

from curate.stages.generators.template.backend import TemplateGenerator
from curate.stages.generators.template.generate import (
    QUESTION_KINDS,
    generate_template_qa,
    why_no_qa,
)
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.version import NAME, PROMPT_VERSION

__all__ = [
    "NAME",
    "PROMPT_VERSION",
    "QUESTION_KINDS",
    "Candidate",
    "PageView",
    "QuestionKind",
    "TemplateGenerator",
    "generate_template_qa",
    "why_no_qa",
]
