"""A kind of template question: where on a page it finds candidates, and how it asks them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from curate.stages.generators.template.page import Candidate, PageView


@dataclass(frozen=True)
class QuestionKind:
    """One kind of template question: where on a page it finds candidates, and how each kind
    of candidate it finds is asked. Candidates are preferred in the order of the registry, then
    of `asks`; a kind marked `last_resort` is tried only on a page where no other kind found a
    content question (a title to read out is none). `follow_ups` are how its follow-up question
    may be asked."""

    label: str  # what it looks for, as `why_no_qa` names it
    find: Callable[[PageView], list[Candidate]]
    asks: dict[str, tuple[str, ...]]  # candidate kind -> its phrasings
    last_resort: bool = False
    read_out: bool = False  # asks the page's furniture back (a title): a few per sample at most
    cloze: bool = False  # a blank cut from a sentence: one per image at most
    once: bool = False  # asked once per image at most (one contents entry: more are the same)
    # candidate kind ("" for any other) -> how its follow-up question may be asked
    follow_ups: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"": ("How do you know?", "Why is that the answer?")}
    )

    def follow_up(self, kind: str) -> tuple[str, ...]:
        return self.follow_ups.get(kind) or self.follow_ups[""]
