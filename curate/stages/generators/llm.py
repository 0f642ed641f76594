"""LLaVAR-2-style hybrid generation, with Leopard-style cross-image questions.

Per image, from its text and human-written context (and the image itself with `llm.vision`):
a detail-enriched caption, extractive QA, and for every accepted extractive pair a self-explain
follow-up that explains or reasons about the fact. Per sample: questions that compare,
aggregate, order or connect facts from several images, each answer citing a fact from every
image it uses. Every item passes the checks in `checks.py` (and, with `llm.verify`, a second
reading); what fails stays in `rejected_qa` with its reason, never silently lost.

A task whose call fails (the caption, say) is recorded as `task_failed` and the sample's other
tasks go on; only a sample whose extractive calls all failed becomes a failure row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

from curate.core.config import ConfigError, GeneratorOptions
from curate.core.text import normalize
from curate.document.conversation import build_conversation, name_image
from curate.document.layout import tables_of
from curate.io import storage
from curate.schemas import BlockRole, LLMUsage, QAItem, SampleRecord, TextBlock
from curate.schemas.reasons import RejectReason
from curate.stages.generators.checks import (
    answer_fits_question,
    answers_agree,
    arithmetic_checked,
    builds_on,
    cited_images,
    claims_grounded,
    copies_page,
    cut_short,
    derived_numbers,
    echoes,
    equations_hold,
    furniture_only,
    identifiers_on_page,
    is_question,
    location_only,
    mostly_from,
    section_neighbourhood,
    table_neighbourhood,
    used_images,
)
from curate.stages.generators.durations import without_durations
from curate.stages.generators.grounding import best_line, is_grounded
from curate.stages.generators.llm_client import LLMCallError, LLMClient, LLMEndpoint
from curate.stages.generators.prompts import prompt_version, render_messages

NAME = "llm"
MIN_CAPTION_WORDS = 6


def _array_of(key: str, item: dict, max_items: int) -> dict:
    required = list(item)
    return {
        "type": "object",
        "properties": {
            key: {
                "type": "array",
                "minItems": 1,
                "maxItems": max_items,
                "items": {"type": "object", "properties": item, "required": required},
            }
        },
        "required": [key],
    }


_TEXT = {"type": "string", "minLength": 1}
CAPTION_SCHEMA = {
    "type": "object",
    "properties": {"caption": {"type": "string", "minLength": 1, "maxLength": 600}},
    "required": ["caption"],
}


def extractive_schema(count: int) -> dict:
    return _array_of(
        "qa",
        {"question": _TEXT, "answer": {"type": "string", "minLength": 1, "maxLength": 120}},
        count,
    )


def self_explain_schema(count: int) -> dict:
    return _array_of(
        "follow_ups", {"pair": {"type": "integer"}, "question": _TEXT, "answer": _TEXT}, count
    )


def multi_image_schema(count: int) -> dict:
    evidence = {
        "type": "array",
        "minItems": 2,
        "items": {
            "type": "object",
            "properties": {"image": {"type": "integer"}, "fact": _TEXT},
            "required": ["image", "fact"],
        },
    }
    return _array_of("questions", {"question": _TEXT, "answer": _TEXT, "evidence": evidence}, count)


def verify_schema(count: int) -> dict:
    return _array_of("answers", {"pair": {"type": "integer"}, "answer": {"type": "string"}}, count)


def check_schema(count: int) -> dict:
    wrong = {"type": "array", "items": {"type": "string"}}
    return _array_of("checks", {"item": {"type": "integer"}, "wrong": wrong}, count)


CHECKED = ("caption", "self_explain", "cross_image")  # what `llm.verify` reads again


def _title(sample: SampleRecord) -> str:
    for item in sample.context:
        if item.kind == "title":
            return item.text
    return sample.source_uri.rsplit("/", 1)[-1]


def shown_text(blocks: list[TextBlock], limit: int) -> str:
    """An image's text as the model is shown it: a table's cells as rows ("ColA | ColB | ColC",
    the header row first), where the text has them one per line, far from their header; cut
    at the last line break (or space) before `limit` characters, never inside a word."""
    ids = sorted(
        {b.cell[0] for b in blocks if b.cell is not None and b.role == BlockRole.TABLE_CELL}
    )
    tables = dict(zip(ids, tables_of(blocks), strict=True))  # by the table number cells carry
    lines, done = [], set()
    for block in blocks:
        if block.cell is None or block.cell[0] not in tables:
            lines.append(block.text)
        elif block.cell[:2] not in done:
            done.add(block.cell[:2])
            table, row = tables[block.cell[0]], block.cell[1]
            cells = (table.text(row, column) for column in range(table.columns))
            lines.append(" | ".join(text for text in cells if text))
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit + 1)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit + 1)
    return text[: cut if cut > 0 else limit]


def _context(sample: SampleRecord, image: int | None) -> str:
    """What the source says of the images beyond their text; a slide's list is its text
    again, and is left out."""
    items = [
        c
        for c in sample.context
        if (image is None or c.image_index in (image, -1)) and c.kind not in ("list", "sublist")
    ]
    return "\n".join(f"- {c.kind}: {c.text}" for c in items) or "(none)"


def _copies_a_line(caption: str, text: str) -> bool:
    """The caption is one line of the page (its title, say) and nothing more."""
    key = normalize(caption).strip(" .")
    return any(normalize(line).strip(" .") == key for line in text.splitlines())


def _as_text(value: object) -> str:
    return " ".join(str(value or "").split())


def _index(value: object, upper: int) -> int | None:
    """A 1-based index the model gave, or None when it is not one of 1..upper."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= upper else None


def _listed(number: int, item: QAItem, pair: QAItem | None) -> str:
    """An item as the check prompt lists it; a follow-up with the pair it follows."""
    where = f"image {item.image_index + 1}" if item.image_index >= 0 else "several images"
    follows = f"\n   (follows Q: {pair.question} A: {pair.answer})" if pair else ""
    question = "" if item.kind == "caption" else f" Q: {item.question}"
    return f"{number}. [{item.kind}, {where}]{question}{follows}\n   A: {item.answer}"


class _Collector:
    """Keeps accepted QA in order and rejected QA with reasons; removes repeated questions."""

    def __init__(self) -> None:
        self.qa: list[QAItem] = []
        self.rejected: list[QAItem] = []
        self._questions: set[str] = set()

    def reject(self, item: QAItem, reason: str) -> None:
        self.rejected.append(replace(item, reject_reason=reason))

    def is_new(self, item: QAItem) -> bool:
        """Whether the question is new to the sample; it is then taken (no other turn may repeat
        it), and a repeat is rejected as a duplicate."""
        key = normalize(item.question)
        if key in self._questions:
            self.reject(item, RejectReason.DUPLICATE_QUESTION)
            return False
        self._questions.add(key)
        return True

    def accept(self, *items: QAItem) -> None:
        self.qa.extend(items)

    def withdraw(self, item: QAItem, reason: str) -> None:
        """An accepted item rejected after all, by a later reading."""
        self.qa = [q for q in self.qa if q is not item]
        self.reject(item, reason)


class _Generation:
    """The calls and checks for one sample."""

    def __init__(
        self,
        sample: SampleRecord,
        client: LLMClient,
        options: GeneratorOptions,
        pool: ThreadPoolExecutor,
    ):
        self.sample, self.client, self.options, self.llm = sample, client, options, options.llm
        self.pool = pool  # where calls run; the client bounds the requests in flight
        self.usage = LLMUsage()
        self.out = _Collector()
        self.title = _title(sample)
        self.extractive_errors: list[LLMCallError] = []
        self.threshold = options.fuzzy_threshold

    def send(self, task: str, schema: dict, see: list[int] = (), **values: object) -> Future:
        """One task's call, started now on the sample's pool; `see` are the 0-based images its
        `[[image N]]` marks stand for. `take` gives its reply."""
        data = [self.sample.images[i].bytes for i in see] if self.llm.vision else None
        return self.pool.submit(
            self.client.complete_json,
            prompt_version(task),
            render_messages(task, **values),
            schema,
            data,
        )

    def take(self, call: Future) -> dict:
        """The reply of a call `send` started, its spending counted; raises LLMCallError."""
        try:
            reply, spent = call.result()
        except LLMCallError as err:
            self.usage.add(err.usage)  # failed calls were sent, and are paid for, too
            raise
        self.usage.add(spent)
        return reply

    def ask(self, task: str, schema: dict, see: list[int] = (), **values: object) -> dict:
        """One task's reply, for a call that depends on earlier replies."""
        return self.take(self.send(task, schema, see, **values))

    def item(
        self, kind: str, task: str, question: str, answer: str, image: int, evidence: str = ""
    ) -> QAItem:
        return QAItem(kind, question, answer, image, evidence, NAME, prompt_version(task))

    def page(self, image: int) -> str:
        """The page text as shown to the model (with the image's mark when it sees images)."""
        text = shown_text(self.sample.image_blocks[image], self.llm.max_text_chars)
        return f"[[image 1]]\n{text}" if self.llm.vision else text

    # tasks ---------------------------------------------------------------------------------

    def send_caption(self, image: int) -> Future:
        return self.send(
            "caption",
            CAPTION_SCHEMA,
            [image],
            title=self.title,
            context=_context(self.sample, image),
            text=self.page(image),
        )

    def caption(self, image: int, call: Future) -> None:
        text = self.sample.image_texts[image]
        context = _context(self.sample, image)
        entry = self.item("caption", "caption", f"Describe image {image + 1} in detail.", "", image)
        try:
            reply = self.take(call)
        except LLMCallError:
            self.out.reject(entry, RejectReason.TASK_FAILED)
            return
        entry.answer = _as_text(reply.get("caption"))
        if not entry.answer:
            self.out.reject(entry, RejectReason.EMPTY_ANSWER)
        elif len(entry.answer.split()) < MIN_CAPTION_WORDS or _copies_a_line(entry.answer, text):
            self.out.reject(entry, RejectReason.CAPTION_TOO_SHORT)
        elif not mostly_from(entry.answer, f"{text}\n{context}\n{self.title}"):
            self.out.reject(entry, RejectReason.CAPTION_OFF_PAGE)
        elif not claims_grounded(entry.answer, f"{text}\n{context}\n{self.title}"):
            self.out.reject(entry, RejectReason.UNGROUNDED)
        elif self.out.is_new(entry):
            self.out.accept(entry)

    def send_extractive(self, image: int) -> Future:
        count = self.options.max_qa_per_image
        return self.send(
            "extractive", extractive_schema(count), [image], title=self.title,
            context=_context(self.sample, image), text=self.page(image), count=count,
        )  # fmt: skip

    def extractive(self, image: int, call: Future) -> tuple[list[QAItem], Future | None]:
        """Extractive pairs for one image that pass the checks, and the call asking their
        self-explain turns, already sent (`explained` judges it)."""
        text, count = self.sample.image_texts[image], self.options.max_qa_per_image
        lines = text.splitlines()
        try:
            reply = self.take(call)
        except LLMCallError as err:
            self.extractive_errors.append(err)
            self.out.reject(
                self.item("extractive", "extractive", "", "", image), RejectReason.TASK_FAILED
            )
            return [], None
        accepted: list[QAItem] = []
        for raw in (reply.get("qa") or [])[:count]:
            question, answer = (
                _as_text(raw.get("question")),
                _as_text(raw.get("answer")).strip(" .,;:"),
            )
            entry = self.item("extractive", "extractive", question, answer, image)
            if not question or not answer:
                self.out.reject(entry, RejectReason.EMPTY_ANSWER)
            elif not is_question(question):
                self.out.reject(entry, RejectReason.NOT_A_QUESTION)
            elif not is_grounded(answer, text, self.threshold) or not identifiers_on_page(
                answer, text
            ):
                self.out.reject(entry, RejectReason.UNGROUNDED)
            elif cut_short(answer):
                self.out.reject(entry, RejectReason.ANSWER_CUT)
            elif furniture_only(answer, self.sample.image_blocks[image]):
                self.out.reject(entry, RejectReason.PAGE_FURNITURE)
            elif echoes(question, answer) or not answer_fits_question(
                question, answer, lines, self.threshold,
                table_neighbourhood(answer, self.sample.image_blocks[image]),
                section_neighbourhood(answer, self.sample.image_blocks[image]),
            ):  # fmt: skip
                self.out.reject(entry, RejectReason.ANSWER_OFF_QUESTION)
            else:  # named before the repeat check: "this page" of image 1 and of image 2 differ
                entry.question = name_image(question, image, self.sample.num_images)
                if self.out.is_new(entry):
                    entry.evidence = lines[best_line(answer, lines)]
                    accepted.append(entry)
        if self.llm.verify:
            accepted = self.verified(image, accepted)
        return accepted, self.send_self_explain(image, accepted)

    def explained(self, image: int, pairs: list[QAItem], call: Future | None) -> None:
        """The image's pairs accepted, each followed by its self-explain turn if one passed."""
        explains = self.self_explain(image, pairs, call) if call else {}
        for entry in pairs:
            follow = explains.get(id(entry))
            self.out.accept(entry, *([follow] if follow else []))

    def verified(self, image: int, pairs: list[QAItem]) -> list[QAItem]:
        """The pairs a second, independent reading of the page text answers the same way."""
        if not pairs:
            return pairs
        questions = "\n".join(f"{i}. {pair.question}" for i, pair in enumerate(pairs, start=1))
        try:
            reply = self.ask(
                "verify",
                verify_schema(len(pairs)),
                [image],
                text=self.page(image),
                questions=questions,
            )
        except LLMCallError:
            for pair in pairs:
                self.out.reject(pair, RejectReason.TASK_FAILED)
            return []
        answers = {
            _index(raw.get("pair"), len(pairs)): _as_text(raw.get("answer"))
            for raw in reply.get("answers") or []
        }
        kept = []
        for i, pair in enumerate(pairs, start=1):
            if answers_agree(answers.get(i, ""), pair.answer):
                kept.append(pair)
            else:
                self.out.reject(pair, RejectReason.VERIFICATION_DISAGREES)
        return kept

    def checked(self) -> None:
        """With `llm.verify`: the accepted captions, follow-ups and cross-image answers read
        again against the pages, statement by statement. One the reading finds a false or
        unsupported statement in (a wrong conclusion, reasoning whose words are all on the
        page) is rejected, and so is one it leaves unchecked; a follow-up's pair stays."""
        listed, after = [], None
        for item in self.out.qa:
            if item.kind in CHECKED:
                listed.append((item, after if item.kind == "self_explain" else None))
            after = item
        if not listed:
            return
        pages = "\n\n".join(
            f"Image {i + 1}:\n{shown_text(blocks, self.llm.max_text_chars)}"
            for i, blocks in enumerate(self.sample.image_blocks)
        )
        items = "\n".join(_listed(n, item, pair) for n, (item, pair) in enumerate(listed, 1))
        try:
            reply = self.ask(
                "check", check_schema(len(listed)), list(range(self.sample.num_images)),
                pages=pages, items=items,
            )  # fmt: skip
        except LLMCallError:
            for item, _ in listed:
                self.out.withdraw(item, RejectReason.TASK_FAILED)
            return
        wrong = {}
        for raw in reply.get("checks") or []:
            index = _index(raw.get("item"), len(listed))
            if index is not None and isinstance(raw.get("wrong"), list):
                wrong[index] = [_as_text(w) for w in raw["wrong"] if _as_text(w)]
        for n, (item, _) in enumerate(listed, start=1):
            if wrong.get(n) != []:
                self.out.withdraw(item, RejectReason.VERIFICATION_FOUND_ERROR)

    def send_self_explain(self, image: int, pairs: list[QAItem]) -> Future | None:
        if not pairs:
            return None
        listed = "\n".join(
            f"{i}. Q: {p.question}\n   A: {p.answer}" for i, p in enumerate(pairs, start=1)
        )
        return self.send(
            "self_explain", self_explain_schema(len(pairs)), [image], title=self.title,
            context=_context(self.sample, image), text=self.page(image), pairs=listed,
        )  # fmt: skip

    def self_explain(self, image: int, pairs: list[QAItem], call: Future) -> dict[int, QAItem]:
        """For each extractive pair (by id), its accepted self-explain turn."""
        text, context = self.sample.image_texts[image], _context(self.sample, image)
        try:
            reply = self.take(call)
        except LLMCallError:
            self.out.reject(
                self.item("self_explain", "self_explain", "", "", image), RejectReason.TASK_FAILED
            )
            return {}
        found: dict[int, QAItem] = {}
        for raw in reply.get("follow_ups") or []:
            index = _index(raw.get("pair"), len(pairs))
            if index is None or id(pairs[index - 1]) in found:
                continue
            pair = pairs[index - 1]
            question, answer = _as_text(raw.get("question")), _as_text(raw.get("answer"))
            entry = self.item(
                "self_explain", "self_explain", question, answer, image, pair.evidence
            )
            source = f"{text}\n{context}\n{pair.question}\n{pair.answer}"
            worked = without_durations(answer, source, f"{question}\n{answer}\n{pair.answer}")
            if not question or not answer:
                self.out.reject(entry, RejectReason.EMPTY_ANSWER)
            elif not is_question(question):
                self.out.reject(entry, RejectReason.NOT_A_QUESTION)
            elif not builds_on(f"{question} {answer}", pair.answer):
                self.out.reject(entry, RejectReason.SELF_EXPLAIN_OFF_ANSWER)
            elif (
                worked is None
                or not arithmetic_checked(worked, source)
                or not claims_grounded(question, source)
            ):
                self.out.reject(entry, RejectReason.UNGROUNDED)
            elif location_only(answer, pair.answer, question):
                self.out.reject(entry, RejectReason.LOCATION_ONLY)
            elif copies_page(answer, text):
                self.out.reject(entry, RejectReason.REPEATS_PAGE)
            elif self.out.is_new(entry):
                found[id(pair)] = entry
        return found

    def send_cross_image(self) -> Future:
        sample, count = self.sample, self.options.cross_image_questions
        share = self.llm.max_text_chars // sample.num_images
        mark = (lambda i: f"[[image {i + 1}]]\n") if self.llm.vision else (lambda i: "")
        shown = "\n\n".join(
            f"Image {i + 1}:\n{mark(i)}{shown_text(sample.image_blocks[i], share)}"
            for i in range(sample.num_images)
        )
        return self.send(
            "multi_image", multi_image_schema(count), list(range(sample.num_images)),
            title=self.title, images=shown, count=count,
        )  # fmt: skip

    def cross_image(self, call: Future) -> None:
        sample, count = self.sample, self.options.cross_image_questions
        try:
            reply = self.take(call)
        except LLMCallError:
            self.out.reject(
                self.item("cross_image", "multi_image", "", "", -1), RejectReason.TASK_FAILED
            )
            return
        all_text = "\n".join(sample.image_texts)
        for raw in (reply.get("questions") or [])[:count]:
            question, answer = _as_text(raw.get("question")), _as_text(raw.get("answer"))
            evidence = [
                (image, _as_text(cited.get("fact")))
                for cited in raw.get("evidence") or []
                if isinstance(cited, dict)
                and (image := _index(cited.get("image"), sample.num_images))
            ]
            cited = cited_images(evidence, sample.image_texts, self.threshold)
            facts = [f for i, f in evidence if i in cited]
            entry = self.item("cross_image", "multi_image", question, answer, -1, " | ".join(facts))
            worked = without_durations(answer, all_text, "\n".join([question, answer, *facts]))
            if not question or not answer:
                self.out.reject(entry, RejectReason.EMPTY_ANSWER)
            elif not is_question(question):
                self.out.reject(entry, RejectReason.NOT_A_QUESTION)
            elif len(cited) < 2 or len(used_images(evidence, cited, f"{question} {answer}")) < 2:
                self.out.reject(entry, RejectReason.NOT_MULTI_IMAGE)
            elif (
                worked is None
                or not equations_hold(answer)
                or not claims_grounded(worked, f"{all_text}\n{' '.join(derived_numbers(facts))}")
            ):
                self.out.reject(entry, RejectReason.UNGROUNDED)  # totals and differences may be new
            elif self.out.is_new(entry):
                cites = "; ".join(
                    f'image {i} says "{f}"' for i, f in sorted(evidence) if i in cited
                )
                entry.answer = f"{answer.rstrip('.')}. {cites[0].upper()}{cites[1:]}."
                self.out.accept(entry)


def generate_llm_qa(
    sample: SampleRecord, client: LLMClient, options: GeneratorOptions
) -> SampleRecord:
    """The sample with LLM-written, checked QA; raises LLMCallError when no extractive call
    succeeded (a failure row: a re-run asks again, and pays only for what it had not got)."""
    tasks = options.llm.tasks
    images = [i for i, text in enumerate(sample.image_texts) if text.strip()]
    captions = "caption" in tasks
    extractive = "extractive" in tasks and options.max_qa_per_image > 0
    cross = "multi_image" in tasks and sample.num_images >= 2 and options.cross_image_questions > 0
    # the calls that depend on no reply are all sent at once, then each image's follow-ups as
    # soon as its pairs are judged (the client bounds how many are in flight); replies are
    # judged in one fixed order, so the output does not depend on timing
    calls = (captions + 2 * extractive) * len(images) + cross
    with ThreadPoolExecutor(max(1, calls), thread_name_prefix="curate-llm-call") as pool:
        run = _Generation(sample, client, options, pool)
        first = {}
        for image in images:
            if captions:
                first["caption", image] = run.send_caption(image)
            if extractive:
                first["extractive", image] = run.send_extractive(image)
        if cross:
            first["cross"] = run.send_cross_image()
        # each image's pairs are judged, and their follow-ups sent, before any is taken
        judged = {
            image: run.extractive(image, first["extractive", image])
            for image in (images if extractive else [])
        }
        for image in images:
            if captions:
                run.caption(image, first["caption", image])
            if extractive:
                run.explained(image, *judged[image])
        if cross:
            run.cross_image(first["cross"])
        if options.llm.verify:
            run.checked()
    if run.extractive_errors and not any(q.kind == "extractive" for q in run.out.qa):
        error = run.extractive_errors[0]
        error.usage = run.usage  # the whole sample's spending goes with its failure row
        raise error
    return replace(
        sample,
        qa=run.out.qa,
        conversations=build_conversation(run.out.qa, sample.num_images),
        rejected_qa=run.out.rejected,
        llm_usage=run.usage,
        generator=NAME,
    )


class LLMGenerator:
    """An OpenAI-compatible endpoint: the user's, or SmolLM2 started beside the job (`serve`).

    One client per worker (setup), with at most `llm.most_in_flight` requests in flight;
    half as many samples are generated at once (each sends up to three requests at once), so
    the endpoint is kept busy without holding many samples' images in memory.
    """

    name = NAME

    def __init__(self, options: GeneratorOptions, endpoint: LLMEndpoint | None = None):
        self.options = options
        self.endpoint = endpoint or LLMEndpoint.configured(options.llm)
        self.client: LLMClient | None = None

    @property
    def concurrency(self) -> int:
        return self.options.llm.most_in_flight

    def setup(self) -> None:
        self.client = LLMClient(self.options.llm, self.endpoint)

    def teardown(self) -> None:
        self.client = None

    def generate(self, sample: SampleRecord) -> SampleRecord:
        return generate_llm_qa(sample, self.client, self.options)

    def why_no_qa(self, sample: SampleRecord) -> str:
        why = Counter(q.reject_reason for q in sample.rejected_qa)
        return f"no grounded extractive QA; rejected: {dict(why) or 'none returned'}"

    @staticmethod
    @contextmanager
    def serve(options: GeneratorOptions, output: str, remote: bool) -> Iterator[LLMEndpoint]:
        """The endpoint of this run: the user's, or SmolLM2 started here and stopped after the
        job. The request cache defaults to OUTPUT/llm_cache."""
        from curate.stages.generators.embedded import (
            GGUF_NAME,
            MODEL_NAME,
            EmbeddedServer,
            EmbeddedServerError,
            crash_report,
        )

        llm = options.llm
        cache_dir = llm.cache_dir or storage.join(output, "llm_cache")
        if llm.base_url:
            if not llm.model:
                raise ConfigError("--llm-model is required with --llm-base-url")
            yield LLMEndpoint.configured(llm, cache_dir)  # `auto` negotiates on first use
            return
        if remote:
            raise ConfigError(
                "remote workers cannot reach a local LLM; pass --llm-base-url "
                "(an OpenAI-compatible endpoint such as vLLM) for non-local runners"
            )
        # llama-cpp-python's server takes json_object_schema; replies are cached under the
        # model file's name, the same on every run whatever the port
        style = "json_object_schema" if llm.structured_output == "auto" else llm.structured_output
        with EmbeddedServer() as server:
            yield LLMEndpoint(
                server.base_url,
                llm.model or MODEL_NAME,
                style,
                cache_dir,
                cache_name=f"embedded:{GGUF_NAME}",
                server_status=server.status_file,
                stream=False,  # its streamed replies carry no token counts; crashes are watched
            )
            if server.dead:  # crashed twice: the job's calls failed fast; say why, exit non-zero
                raise EmbeddedServerError(
                    crash_report(server.status_file) or "the local LLM server died"
                )
