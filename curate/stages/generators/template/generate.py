"""Template QA for a sample: each image's candidates from every question kind, picked in order
of preference without repeating an answer, asked, then followed by their self-explain turns;
then the sample's cross-image questions."""

from __future__ import annotations

import random
from dataclasses import replace

from curate.core.config import GeneratorOptions
from curate.core.registry import Registry
from curate.core.text import normalize
from curate.document.conversation import build_conversation
from curate.schemas import QAItem, SampleRecord, stable_id
from curate.stages.generators.grounding import is_grounded
from curate.stages.generators.template.cross import cross_image_qa
from curate.stages.generators.template.kind import QuestionKind
from curate.stages.generators.template.page import Candidate, PageView
from curate.stages.generators.template.version import NAME, PROMPT_VERSION

# The question kinds, one module each; their order is the order of preference when a page offers
# more candidates than questions.
QUESTION_KINDS = Registry(
    "question kind",
    {
        "titles": "curate.stages.generators.template.titles:TITLES",
        "key_values": "curate.stages.generators.template.key_values:KEY_VALUES",
        "tables": "curate.stages.generators.template.tables:TABLES",
        "numbers": "curate.stages.generators.template.numbers:NUMBERS",
        "sections": "curate.stages.generators.template.sections:SECTIONS",
        "terms": "curate.stages.generators.template.terms:TERMS",
        "long_words": "curate.stages.generators.template.terms:LONG_WORDS",
    },
)
FOLLOW_UP = (
    "How do you know?",
    "Where on the page is that shown?",
    "What on the image supports that answer?",
    "How can a reader check that on the image?",
    "Why is that the answer?",
)


def _kinds() -> list[QuestionKind]:
    return [kind for _, kind in QUESTION_KINDS.items()]


def _asks() -> dict[str, tuple[str, ...]]:
    """Candidate kind -> phrasings, in the order candidates are preferred."""
    return {name: phrasings for kind in _kinds() for name, phrasings in kind.asks.items()}


def _question(candidate: Candidate, n: int, rng: random.Random) -> str:
    kind, subject = candidate.kind, candidate.subject
    template = rng.choice(_asks()[kind])
    if kind == "table_cell":
        row, column = subject.split("\x00")
        return template.format(n=n, row=row, column=column)
    fields = {"subject": subject, "key": subject, "column": subject, "cloze": subject}
    fields["snippet"] = subject
    return template.format(n=n, **fields)


def _pick(
    candidates: list[Candidate], limit: int, rng: random.Random, seen: set[str]
) -> list[Candidate]:
    """Up to `limit` candidates with answers new to the sample: one of each kind in order of
    preference, then round again; which one of a kind is chosen by the seeded generator."""
    by_kind: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, []).append(candidate)
    for group in by_kind.values():
        rng.shuffle(group)
    preferred = list(_asks())
    unknown = sorted(set(by_kind) - set(preferred))
    if unknown:  # a rule found candidates of a kind no QuestionKind asks
        raise ValueError(f"no question kind asks candidates of kind {unknown}")
    kinds = [kind for kind in preferred if kind in by_kind]
    picked: list[Candidate] = []
    while len(picked) < limit and any(by_kind.values()):
        for kind in kinds:
            while by_kind[kind] and len(picked) < limit:
                candidate = by_kind[kind].pop(0)
                key = normalize(candidate.answer)
                if key not in seen:
                    seen.add(key)
                    picked.append(candidate)
                    break
    return picked


def _pages(sample: SampleRecord) -> list[PageView]:
    return [
        PageView(blocks, size[1], i + 1)
        for i, (blocks, size) in enumerate(
            zip(sample.image_blocks, sample.image_sizes, strict=True)
        )
    ]


def generate_template_qa(sample: SampleRecord, options: GeneratorOptions) -> SampleRecord:
    """The sample with template QA and its conversation (no QA at all when nothing fits)."""
    rng = random.Random(stable_id(str(options.seed), sample.sample_id))
    qa: list[QAItem] = []
    answers: set[str] = set()
    questions: set[str] = set()
    pages = _pages(sample)
    for page in pages:
        kinds = _kinds()
        candidates = [c for k in kinds if not k.last_resort for c in k.find(page)]
        candidates = candidates or [c for k in kinds if k.last_resort for c in k.find(page)]
        for candidate in _pick(candidates, options.max_qa_per_image, rng, answers):
            question = _question(candidate, page.n, rng)
            if not is_grounded(candidate.answer, page.text) or normalize(question) in questions:
                continue  # never emit an answer the page does not contain, nor a repeat
            questions.add(normalize(question))
            qa.append(
                QAItem(
                    "extractive",
                    question,
                    candidate.answer,
                    page.n - 1,
                    candidate.evidence.text,
                    NAME,
                    PROMPT_VERSION,
                )
            )
            qa.append(
                QAItem(
                    "self_explain",
                    rng.choice(FOLLOW_UP),
                    candidate.explain,
                    page.n - 1,
                    candidate.evidence.text,
                    NAME,
                    PROMPT_VERSION,
                )
            )
    qa.extend(cross_image_qa(pages, options.cross_image_questions, rng))
    return replace(
        sample, qa=qa, conversations=build_conversation(qa, sample.num_images), generator=NAME
    )


def why_no_qa(sample: SampleRecord) -> str:
    """Which rules were tried on which images, for a sample that got no question."""
    pages = [p for p in _pages(sample) if p.text.strip()]
    if not pages:
        return "no text on any image (after OCR)"
    tried = ", ".join(kind.label for kind in _kinds())
    lines = sum(len(p.content) for p in pages)
    skipped = sum(len(p.blocks) - len(p.content) for p in pages)
    return (
        f"no question fits: tried {tried} on {len(pages)} image(s) with {lines} content line(s) "
        f"({skipped} running header, watermark, code, contents or chart line(s) left out)"
    )
