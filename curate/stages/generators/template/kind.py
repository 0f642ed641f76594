"""A kind of template question: where on a page it finds candidates, and how it asks them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from curate.stages.generators.template.page import Candidate, PageView


@dataclass(frozen=True)
class QuestionKind:
    """One kind of template question: where on a page it finds candidates, and how each kind
    of candidate it finds is asked. Candidates are preferred in the order of the registry, then
    of `asks`; a kind marked `last_resort` is tried only on a page no other kind found anything
    on."""

    label: str  # what it looks for, as `why_no_qa` names it
    find: Callable[[PageView], list[Candidate]]
    asks: dict[str, tuple[str, ...]]  # candidate kind -> its phrasings
    last_resort: bool = False
