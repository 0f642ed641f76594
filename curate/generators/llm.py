"""LLaVAR-2-style hybrid generation: image text + human-written context -> LLM -> QA.

Per image: a detail-enriched caption and extractive QA, each answer immediately followed by a
self-explain turn. Per sample: Leopard-style questions that need several images. Every
extractive answer must pass the grounding check; captions may not state numbers the text lacks;
multi-image questions must need two or more images; repeated questions are removed. What fails
is kept in `rejected_qa` with its reason, never silently lost.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from curate import storage
from curate.config import ConfigError, GeneratorOptions
from curate.conversation import build_conversation
from curate.generators.grounding import best_line, is_grounded, numbers_grounded
from curate.generators.llm_client import LLMClient
from curate.generators.prompts import prompt_version, render_messages
from curate.generators.template import EXPLAIN_QUESTIONS
from curate.schemas import LLMUsage, QAItem, SampleRecord, stable_id
from curate.schemas.reasons import RejectReason
from curate.text import normalize

NAME = "llm"

CAPTION_SCHEMA = {
    "type": "object",
    "properties": {"caption": {"type": "string", "minLength": 1, "maxLength": 600}},
    "required": ["caption"],
}
EXTRACTIVE_SCHEMA = {
    "type": "object",
    "properties": {
        "qa": {
            "type": "array",
            "minItems": 1,
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "minLength": 1, "maxLength": 200},
                    "answer": {"type": "string", "minLength": 1, "maxLength": 120},
                    "explanation": {"type": "string", "maxLength": 300},
                },
                "required": ["question", "answer", "explanation"],
            },
        }
    },
    "required": ["qa"],
}
MULTI_IMAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "questions": {
            "type": "array",
            "minItems": 1,
            "maxItems": 6,
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "minLength": 1, "maxLength": 250},
                    "answer": {"type": "string", "minLength": 1, "maxLength": 200},
                    "rationale": {"type": "string", "maxLength": 300},
                    "images": {"type": "array", "maxItems": 8, "items": {"type": "integer"}},
                },
                "required": ["question", "answer", "rationale", "images"],
            },
        }
    },
    "required": ["questions"],
}


def _with_max_items(schema: dict, items: int) -> dict:
    (key,) = schema["required"]
    array = {**schema["properties"][key], "maxItems": items}
    return {**schema, "properties": {key: array}}


def _title(sample: SampleRecord) -> str:
    for item in sample.context:
        if item.kind == "title":
            return item.text
    return sample.source_uri.rsplit("/", 1)[-1]


def _context(sample: SampleRecord, image: int | None) -> str:
    items = [c for c in sample.context if image is None or c.image_index in (image, -1)]
    return "\n".join(f"- {c.kind}: {c.text}" for c in items) or "(none)"


class _Collector:
    """Keeps accepted QA in order and rejected QA with reasons; removes repeated questions."""

    def __init__(self) -> None:
        self.qa: list[QAItem] = []
        self.rejected: list[QAItem] = []
        self._questions: set[str] = set()

    def reject(self, item: QAItem, reason: str) -> None:
        self.rejected.append(replace(item, reject_reason=reason))

    def accept(self, *items: QAItem) -> bool:
        key = normalize(items[0].question)
        if key in self._questions:
            self.reject(items[0], RejectReason.DUPLICATE_QUESTION)
            return False
        self._questions.add(key)
        self.qa.extend(items)
        return True


def _as_text(value: object) -> str:
    return " ".join(str(value or "").split())


def generate_llm_qa(
    sample: SampleRecord, client: LLMClient, options: GeneratorOptions
) -> SampleRecord:
    """The sample with LLM-written, checked QA; raises LLMCallError when a call fails for good."""
    llm = options.llm
    usage = LLMUsage()
    out = _Collector()
    rng = random.Random(stable_id(str(options.seed), sample.sample_id))
    title = _title(sample)

    def ask(task: str, schema: dict, items: int | None = None, **values: object) -> dict:
        if items is not None:  # ask for no more than we keep: short replies are not cut off
            schema = _with_max_items(schema, items)
        data, spent = client.complete_json(
            prompt_version(task), render_messages(task, **values), schema
        )
        usage.add(spent)
        return data

    def item(
        kind: str, task: str, question: str, answer: str, image: int, evidence: str = ""
    ) -> QAItem:
        return QAItem(kind, question, answer, image, evidence, NAME, prompt_version(task))

    for image, text in enumerate(sample.image_texts):
        n = image + 1
        shown = text[: llm.max_text_chars]
        if not shown.strip():
            continue
        context = _context(sample, image)
        if "caption" in llm.tasks:
            caption = _as_text(
                ask("caption", CAPTION_SCHEMA, title=title, context=context, text=shown).get(
                    "caption"
                )
            )
            entry = item("caption", "caption", f"Describe image {n} in detail.", caption, image)
            if not caption:
                out.reject(entry, RejectReason.EMPTY_ANSWER)
            elif not numbers_grounded(caption, text + "\n" + context):
                out.reject(entry, RejectReason.UNGROUNDED)
            else:
                out.accept(entry)
        if "extractive" in llm.tasks and options.max_qa_per_image > 0:
            data = ask(
                "extractive",
                EXTRACTIVE_SCHEMA,
                options.max_qa_per_image,
                title=title,
                context=context,
                text=shown,
                count=options.max_qa_per_image,
            )
            lines = text.splitlines()
            for raw in (data.get("qa") or [])[: options.max_qa_per_image]:
                question, answer = _as_text(raw.get("question")), _as_text(raw.get("answer"))
                explanation = _as_text(raw.get("explanation"))
                extractive = item("extractive", "extractive", question, answer, image)
                if not question or not answer:
                    out.reject(extractive, RejectReason.EMPTY_ANSWER)
                    continue
                if not is_grounded(answer, text, options.fuzzy_threshold):
                    out.reject(extractive, RejectReason.UNGROUNDED)
                    continue
                line = best_line(answer, lines)
                extractive.evidence = lines[line]
                if not explanation:
                    explanation = (
                        f'The answer "{answer}" is on image {n}, line {line + 1}: "{lines[line]}".'
                    )
                explain = item(
                    "self_explain",
                    "extractive",
                    rng.choice(EXPLAIN_QUESTIONS),
                    explanation,
                    image,
                    lines[line],
                )
                out.accept(extractive, explain)
    if "multi_image" in llm.tasks and sample.num_images >= 2 and options.cross_image_questions > 0:
        images = "\n\n".join(
            f"Image {i + 1}:\n{t[: llm.max_text_chars // sample.num_images]}"
            for i, t in enumerate(sample.image_texts)
        )
        data = ask(
            "multi_image",
            MULTI_IMAGE_SCHEMA,
            options.cross_image_questions,
            title=title,
            images=images,
            count=options.cross_image_questions,
            num_images=sample.num_images,
        )
        for raw in (data.get("questions") or [])[: options.cross_image_questions]:
            question, answer = _as_text(raw.get("question")), _as_text(raw.get("answer"))
            rationale = _as_text(raw.get("rationale"))
            full = f"{answer} {rationale}".strip() if rationale else answer
            entry = item("cross_image", "multi_image", question, full, -1, rationale)
            if not question or not answer:
                out.reject(entry, RejectReason.EMPTY_ANSWER)
                continue
            named = {
                int(i)
                for i in raw.get("images") or []
                if str(i).isdigit() and 1 <= int(i) <= sample.num_images
            }
            named |= {
                int(i)
                for i in re.findall(r"image\s*(\d+)", question.lower())
                if 1 <= int(i) <= sample.num_images
            }
            if len(named) < 2 and "images" not in question.lower():
                out.reject(entry, RejectReason.NOT_MULTI_IMAGE)
                continue
            out.accept(entry)

    return replace(
        sample,
        qa=out.qa,
        conversations=build_conversation(out.qa, sample.num_images),
        rejected_qa=out.rejected,
        llm_usage=usage,
        generator=NAME,
    )


class LLMGenerator:
    """An OpenAI-compatible endpoint: the user's, or SmolLM2 started beside the job (`serve`).

    One client per worker (setup); `llm.concurrency` samples are generated at once, which
    bounds the requests in flight per worker.
    """

    name = NAME

    def __init__(self, options: GeneratorOptions):
        self.options = options
        self.client: LLMClient | None = None

    @property
    def concurrency(self) -> int:
        return self.options.llm.concurrency

    def setup(self) -> None:
        llm = self.options.llm
        self.client = LLMClient(llm, llm.cache_dir, llm.structured_output)

    def teardown(self) -> None:
        self.client = None

    def generate(self, sample: SampleRecord) -> SampleRecord:
        return generate_llm_qa(sample, self.client, self.options)

    def why_no_qa(self, sample: SampleRecord) -> str:
        why = Counter(q.reject_reason for q in sample.rejected_qa)
        return f"no grounded extractive QA; rejected: {dict(why) or 'none returned'}"

    @staticmethod
    @contextmanager
    def serve(options: GeneratorOptions, output: str, remote: bool) -> Iterator[GeneratorOptions]:
        """The options with a ready endpoint: the user's, or SmolLM2 started here and stopped
        after the job. The request cache defaults to OUTPUT/llm_cache."""
        from curate.generators.embedded import MODEL_NAME, EmbeddedServer

        llm = options.llm
        updates: dict = {}
        if llm.cache_dir is None:
            updates["cache_dir"] = storage.join(output, "llm_cache")
        if llm.base_url:
            if not llm.model:
                raise ConfigError("--llm-model is required with --llm-base-url")
            if llm.structured_output == "auto":
                updates["structured_output"] = "json_schema"
            yield _with_llm(options, updates)
            return
        if remote:
            raise ConfigError(
                "remote workers cannot reach a local LLM; pass --llm-base-url "
                "(an OpenAI-compatible endpoint such as vLLM) for non-local runners"
            )
        updates["model"] = llm.model or MODEL_NAME
        if llm.structured_output == "auto":
            updates["structured_output"] = "json_object_schema"
        with EmbeddedServer() as server:
            yield _with_llm(options, {**updates, "base_url": server.base_url})


def _with_llm(options: GeneratorOptions, updates: dict) -> GeneratorOptions:
    return options.model_copy(update={"llm": options.llm.model_copy(update=updates)})
