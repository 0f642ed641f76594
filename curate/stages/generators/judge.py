"""An optional LLM judge (`generator.judge`, issue 33): each accepted item of a sample is
marked 0-5 on correctness, usefulness for training, question quality and visual grounding,
by a model the user names (another endpoint or model family than the generator's, often).
The marks are scores (`scores.judge*`) to filter on (`curate filter --metric judge`), never a
drop: checks reject what rules can see; a judge sees wrong reasoning whose every word is on
the page."""

from __future__ import annotations

from dataclasses import replace
from statistics import fmean

from curate.schemas import LLMUsage, QAItem, SampleRecord
from curate.stages.generators.llm import _array_of, _index, shown_text
from curate.stages.generators.llm_client import LLMClient
from curate.stages.generators.prompts import prompt_version, render_messages

MARKS = ("correctness", "usefulness", "question", "grounding")
MAX_ITEMS = 64  # items marked in one request; a sample's QA is far fewer
PAGE_CHARS = 3000  # page text shown per image


def judge_schema(count: int) -> dict:
    mark = {"type": "integer", "minimum": 0, "maximum": 5}
    return _array_of("marks", {"item": {"type": "integer"}} | dict.fromkeys(MARKS, mark), count)


def _listed(item: QAItem) -> str:
    where = f"image {item.image_index + 1}" if item.image_index >= 0 else "several images"
    return f"[{item.kind}, {where}] Q: {item.question}\n   A: {item.answer}"


def _mark(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(5.0, max(0.0, number))


def judge_sample(sample: SampleRecord, client: LLMClient) -> tuple[SampleRecord, LLMUsage]:
    """The sample with its accepted items marked, and what the call cost. An item the reply
    leaves out keeps no mark; a failed call (LLMCallError) is the caller's to count, since a
    judge's failure drops nothing."""
    qa = sample.qa[:MAX_ITEMS]
    if not qa:
        return sample, LLMUsage()
    pages = "\n\n".join(
        f"Image {i + 1}:\n{shown_text(blocks, PAGE_CHARS)}"
        for i, blocks in enumerate(sample.image_blocks)
    )
    items = "\n".join(f"{n}. {_listed(item)}" for n, item in enumerate(qa, start=1))
    reply, usage = client.complete_json(
        prompt_version("judge"),
        render_messages("judge", pages=pages, items=items),
        judge_schema(len(qa)),
    )
    marked = list(sample.qa)
    for entry in reply["marks"]:
        index = _index(entry.get("item"), len(qa))
        marks = {name: _mark(entry.get(name)) for name in MARKS}
        if index is None or None in marks.values():
            continue
        item = marked[index - 1]
        scores = replace(
            item.scores,
            judge=round(fmean(marks.values()), 3),
            **{f"judge_{name}": value for name, value in marks.items()},
        )
        marked[index - 1] = replace(item, scores=scores)
    return with_sample_mark(replace(sample, qa=marked)), usage


def with_sample_mark(sample: SampleRecord) -> SampleRecord:
    """The sample's `scores.judge`: the mean mark of the items it keeps (None with none)."""
    judged = [q.scores.judge for q in sample.qa if q.scores.judge is not None]
    overall = round(fmean(judged), 3) if judged else None
    return replace(sample, scores=replace(sample.scores, judge=overall))
