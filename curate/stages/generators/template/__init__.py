"""Offline, deterministic QA from page text and layout: the generator every new user sees first.

Per image, questions come from the page's structure, as the sources marked it (roles, tables).
Each kind of question is one module and one `QuestionKind` in `QUESTION_KINDS` (generate.py):
what a table gives and what can be worked out from it, labelled values, the terms of a
description list, numbered lists counted, abbreviations spelled out, quantities a sentence
states, what a sentence says its subject is, a blank number, term or name where only one place
on the page fits it, the page a table of contents gives a section or an index a term, and
(a few) titles and headings. `rules.py` holds the text rules they
share, `page.py` the page as they see it, `figures.py` arithmetic on printed figures. Running
headers, watermarks, code, tables of contents (but for where their entries start), reference
lists, placeholder text and chart text are never asked about. A follow-up explains an answer
where there is something to explain: the row and column, the working. `cross.py` asks
questions only several images answer together.
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
