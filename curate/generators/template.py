"""Offline, deterministic QA from page text: the no-LLM generator and the fallback.

Per image it asks extractive questions (main heading, "key: value" lines, table cells, numbers
in a sentence), each followed by a self-explain turn saying which image and line hold the
answer; per sample it adds cross-image questions. Answers are copied verbatim from the text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from curate.config import GeneratorOptions
from curate.conversation import build_conversation
from curate.generators.base import no_service
from curate.generators.grounding import is_grounded
from curate.generators.layout import headings, tables
from curate.schemas import QAItem, SampleRecord, TextBlock, stable_id
from curate.text import normalize

NAME = "template"
PROMPT_VERSION = "template-v1"
# The follow-up question of every self-explain turn, varied deterministically per sample.
EXPLAIN_QUESTIONS = (
    "How do you know? Point to where the answer appears.",
    "Explain where that answer comes from.",
    "Which part of the images supports that answer?",
)

_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][^:]{1,40}):\s*(?P<value>\S.{0,80})$")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?(?![\w])")


@dataclass
class _Candidate:
    kind: str
    question: str
    answer: str
    line: int  # 0-based index into the image's text blocks
    reason: str


def _position(block: TextBlock, height: int) -> str:
    centre = (block.bbox[1] + block.bbox[3]) / 2 / max(height, 1)
    return (
        "near the top"
        if centre < 1 / 3
        else "in the middle"
        if centre < 2 / 3
        else "near the bottom"
    )


def _candidates(blocks: list[TextBlock], n: int) -> list[_Candidate]:
    """Every extractive question this image's text supports, by kind."""
    index = {id(b): i for i, b in enumerate(blocks)}
    found: list[_Candidate] = []
    tops = headings(blocks)
    if tops:
        found.append(
            _Candidate(
                "heading",
                f"What is the main heading on image {n}?",
                tops[0].text,
                index[id(tops[0])],
                "It is set in the largest type at the top of its section, which marks it as a "
                "heading.",
            )
        )
    heading_ids = {id(b) for b in tops}
    for i, block in enumerate(blocks):
        match = None if id(block) in heading_ids else _KEY_VALUE.match(block.text)
        if match:
            key, value = match["key"].strip(), match["value"].strip()
            found.append(
                _Candidate(
                    "key_value",
                    f'According to image {n}, what is given for "{key}"?',
                    value,
                    i,
                    f'That line pairs the label "{key}" with the value after the colon.',
                )
            )
    for table in tables(blocks):
        header, *rows = table
        for row in rows:
            label = row[0].text
            for column, cell in zip(header[1:], row[1:], strict=False):
                found.append(
                    _Candidate(
                        "table_cell",
                        f'In the table on image {n}, what is the "{column.text}" entry for '
                        f'"{label}"?',
                        cell.text,
                        index[id(cell)],
                        f'It is the cell in the row "{label}" under the column "{column.text}".',
                    )
                )
    for i, block in enumerate(blocks):
        words = block.text.split()
        if len(words) < 6 or _KEY_VALUE.match(block.text):
            continue
        for match in _NUMBER.finditer(block.text):
            before = block.text[: match.start()].split()[-6:]
            after = block.text[match.end() :].split()[:3]
            if len(before) < 2:
                continue
            cloze = " ".join(before) + " ___" + (" " + " ".join(after) if after else "")
            found.append(
                _Candidate(
                    "number",
                    f'On image {n}, which number completes "{cloze}"?',
                    match.group(),
                    i,
                    f'The number stands right after "{" ".join(before)}" in that sentence.',
                )
            )
            break
    return found


def _pick(candidates: list[_Candidate], limit: int, rng: random.Random) -> list[_Candidate]:
    """Up to `limit` candidates with distinct answers, rotating through kinds for variety."""
    by_kind: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, []).append(candidate)
    for group in by_kind.values():
        if group[0].kind != "heading":
            rng.shuffle(group)
    picked, seen = [], set()
    while len(picked) < limit and any(by_kind.values()):
        for kind in list(by_kind):
            if by_kind[kind] and len(picked) < limit:
                candidate = by_kind[kind].pop(0)
                if normalize(candidate.answer) not in seen:
                    seen.add(normalize(candidate.answer))
                    picked.append(candidate)
    return picked


def _unique_phrases(sample: SampleRecord) -> list[tuple[int, str]]:
    """(image index, phrase) where the phrase occurs in that image's text and no other."""
    texts = [normalize(t) for t in sample.image_texts]
    unique = []
    for i, blocks in enumerate(sample.image_blocks):
        preferred = headings(blocks) + [b for b in blocks if len(b.text.split()) >= 3]
        for block in preferred:
            phrase = block.text if len(block.text) <= 60 else " ".join(block.text.split()[:6])
            key = normalize(phrase)
            if sum(key in t for t in texts) == 1:
                unique.append((i, phrase))
                break
    return unique


def _cross_image(sample: SampleRecord, limit: int, rng: random.Random) -> list[QAItem]:
    if sample.num_images < 2 or limit == 0:
        return []
    phrases = _unique_phrases(sample)
    items: list[QAItem] = []
    if phrases:
        image, phrase = rng.choice(phrases)
        items.append(
            QAItem(
                kind="cross_image",
                question=f'Which of the {sample.num_images} images contains the text "{phrase}"?',
                answer=f"Image {image + 1}.",
                evidence=phrase,
                generator=NAME,
                prompt_version=PROMPT_VERSION,
            )
        )
    if len(phrases) >= 2 and len(items) < limit:
        (i, first), (j, second) = sorted(rng.sample(phrases, 2))
        items.append(
            QAItem(
                kind="cross_image",
                question=f'Which comes first in the document: "{second}" or "{first}"?',
                answer=f'"{first}" (image {i + 1}) comes before "{second}" (image {j + 1}).',
                evidence=f"{first} | {second}",
                generator=NAME,
                prompt_version=PROMPT_VERSION,
            )
        )
    return items


def generate_template_qa(sample: SampleRecord, options: GeneratorOptions) -> SampleRecord:
    """The sample with template QA and its conversation (no QA at all when nothing fits)."""
    rng = random.Random(stable_id(str(options.seed), sample.sample_id))
    qa: list[QAItem] = []
    for image, blocks in enumerate(sample.image_blocks):
        n = image + 1
        text = sample.image_texts[image]
        for candidate in _pick(_candidates(blocks, n), options.max_qa_per_image, rng):
            if not is_grounded(candidate.answer, text):
                continue  # never emit an answer the page does not contain
            block = blocks[candidate.line]
            where = _position(block, sample.image_sizes[image][1])
            qa.append(
                QAItem(
                    kind="extractive",
                    question=candidate.question,
                    answer=candidate.answer,
                    image_index=image,
                    evidence=block.text,
                    generator=NAME,
                    prompt_version=PROMPT_VERSION,
                )
            )
            qa.append(
                QAItem(
                    kind="self_explain",
                    question=rng.choice(EXPLAIN_QUESTIONS),
                    answer=f'The answer "{candidate.answer}" is on image {n}, line '
                    f'{candidate.line + 1}, {where}: "{block.text}". {candidate.reason}',
                    image_index=image,
                    evidence=block.text,
                    generator=NAME,
                    prompt_version=PROMPT_VERSION,
                )
            )
    qa.extend(_cross_image(sample, options.cross_image_questions, rng))
    return replace(
        sample, qa=qa, conversations=build_conversation(qa, sample.num_images), generator=NAME
    )


class TemplateGenerator:
    """The offline backend: no model, no network, deterministic per seed."""

    name = NAME
    concurrency = 1
    serve = staticmethod(no_service)

    def __init__(self, options: GeneratorOptions):
        self.options = options

    def setup(self) -> None:
        pass

    def teardown(self) -> None:
        pass

    def generate(self, sample: SampleRecord) -> SampleRecord:
        return generate_template_qa(sample, self.options)

    def why_no_qa(self, sample: SampleRecord) -> str:
        return "no heading, key-value line, table cell or number found in the text"
